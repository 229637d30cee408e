"""Helpers shared by the store-backed test packages (importable: tests/ is on sys.path)."""

from __future__ import annotations

from typing import Any


def drop_redis_prefix(url: str) -> None:
    """Delete every key a test wrote under its private prefix (single server or Cluster)."""
    import redis
    from redis.cluster import RedisCluster

    from gatepass.stores.redis import parse_url

    driver, prefix, cluster = parse_url(url)
    client: Any = RedisCluster.from_url(driver) if cluster else redis.Redis.from_url(driver)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for key in keys:
            client.delete(key)
    finally:
        client.close()


def drop_postgres_schema(url: str) -> None:
    """Drop the private schema (``?schema=`` of ``url``) a test created, with everything in it."""
    import psycopg
    from psycopg import sql

    base, _, query = url.partition("?")
    schema = dict(part.split("=", 1) for part in query.split("&"))["schema"]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
