"""What the comparison asks of a Redis or PostgreSQL server beyond gatepass's store API: a
private place to write, the server's version for the report, and removing that place again.

A comparison writes only under names it invents for this run (a Redis key prefix, a PostgreSQL
schema) and removes exactly those at the end, so it can run against a server other things use.
The drivers are the store extras' own (``redis``, ``psycopg``), imported only here and only
when such a server is measured.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Query options gatepass reads from a PostgreSQL URL; libpq must not see them.
_GATEPASS_PG_OPTIONS = {"prefix", "schema", "pool_min_size", "pool_max_size", "pool_timeout"}


def _with_options(url: str, **options: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(options)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _without_query(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(query=""))


def private_name() -> str:
    """A name no one else uses: ``gpcompare_`` and 48 random bits in hex."""
    return f"gpcompare_{secrets.token_hex(6)}"


def private_redis_url(url: str, name: str) -> str:
    """``url`` writing under the key prefix ``<name>:`` only."""
    return _with_options(url, prefix=f"{name}:")


def private_postgres_url(url: str, name: str) -> str:
    """``url`` writing into the schema ``name`` only (created by ``store.setup()``)."""
    return _with_options(url, schema=name)


def _is_cluster(url: str) -> bool:
    parts = urlsplit(url)
    flag = dict(parse_qsl(parts.query)).get("cluster", "0").lower()
    return parts.scheme.lower().endswith("+cluster") or flag in {"1", "true", "yes"}


def _redis_client(url: str) -> object:
    import redis  # noqa: PLC0415 - the redis extra, only when Redis is measured

    plain = _without_query(url).replace("+cluster", "", 1)
    if _is_cluster(url):
        from redis.cluster import RedisCluster  # noqa: PLC0415

        return RedisCluster.from_url(plain, socket_timeout=5)
    db = dict(parse_qsl(urlsplit(url).query)).get("db")
    extra = {"db": int(db)} if db is not None and db.isdigit() else {}
    return redis.Redis.from_url(plain, socket_timeout=5, socket_connect_timeout=2, **extra)


def redis_version(url: str) -> str:
    import redis  # noqa: PLC0415

    client = _redis_client(url)
    try:
        info: Any = client.info("server")  # type: ignore[attr-defined]
        version = info.get("redis_version")
        if version is None and info:  # a cluster answers per node
            version = next(iter(info.values())).get("redis_version")
        return f"{version or 'version unknown'} (redis-py {redis.__version__})"
    finally:
        client.close()  # type: ignore[attr-defined]


def drop_redis_prefix(url: str, prefix: str) -> int:
    """Delete every key under ``prefix`` (this run's only); returns how many went."""
    client = _redis_client(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))  # type: ignore[attr-defined]
        for key in keys:  # one by one: on a cluster the keys live in many slots
            client.unlink(key)  # type: ignore[attr-defined]
        return len(keys)
    finally:
        client.close()  # type: ignore[attr-defined]


def _libpq_url(url: str) -> str:
    parts = urlsplit(url)
    kept = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in _GATEPASS_PG_OPTIONS
    ]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def postgres_version(url: str) -> str:
    import psycopg  # noqa: PLC0415 - the postgres extra, only when PostgreSQL is measured

    with psycopg.connect(_libpq_url(url), connect_timeout=5, autocommit=True) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    version = str(row[0]).split()[0] if row else "version unknown"
    return f"{version} (psycopg {psycopg.__version__})"


def drop_postgres_schema(url: str, schema: str) -> None:
    """Drop this run's private schema and everything in it."""
    import psycopg  # noqa: PLC0415
    from psycopg import sql  # noqa: PLC0415

    with psycopg.connect(_libpq_url(url), connect_timeout=5, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
