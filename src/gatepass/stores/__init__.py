"""Where login state lives: one store protocol, four backends, chosen by URL.

==================================  ===========================================================
``memory://``                       dicts behind a lock; one process only
``sqlite:///path/to.db``            the embedded default: WAL, threads and processes
``sqlite://:memory:``               a private in-memory SQLite database (tests)
``redis://host:port/db``            redis-py; ``rediss://`` for TLS
``redis+cluster://host:port``       Redis Cluster (also ``redis://...?cluster=1``)
``postgresql://...``                psycopg 3 with a connection pool (``postgres://`` too)
==================================  ===========================================================

Options every backend understands: ``?prefix=`` (key or table prefix). The contract other
modules may rely on is documented in :mod:`gatepass.stores.base`; user documentation in
``docs/stores.md``. Redis and PostgreSQL drivers are optional extras imported on first use.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from gatepass.errors import ConfigurationError

# Refresh-token families and revocation state register their schema and purge steps with the
# store layer on import; importing them here means ``store.setup()`` always creates every table,
# whatever the application imported first.
from gatepass.stores import refresh_state, revocation_state  # noqa: F401
from gatepass.stores.base import AsyncStore, Store, translate_errors

__all__ = ["AsyncStore", "Store", "open_async_store", "open_store", "translate_errors"]


def _sqlite_args(url: str) -> tuple[str, dict[str, Any]]:
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query))
    if parts.netloc == ":memory:" or parts.path in {"/:memory:", ":memory:"}:
        path = ":memory:"
    elif parts.netloc:
        raise ConfigurationError(
            "sqlite URLs have three slashes: sqlite:///relative.db or sqlite:////absolute.db"
        )
    else:
        path = unquote(parts.path[1:]) if parts.path.startswith("/") else unquote(parts.path)
        if not path:
            raise ConfigurationError("sqlite URL without a path: use sqlite:///path/to.db")
    kwargs: dict[str, Any] = {}
    if "prefix" in options:
        kwargs["prefix"] = options["prefix"]
    if "synchronous" in options:
        kwargs["synchronous"] = options["synchronous"]
    if "busy_timeout" in options:
        kwargs["busy_timeout"] = float(options["busy_timeout"])
    return path, kwargs


def _scheme(url: str) -> str:
    if not isinstance(url, str) or "://" not in url:
        raise ConfigurationError(f"a store URL looks like 'sqlite:///sessions.db', got {url!r}")
    return url.split("://", 1)[0].lower()


def open_store(url: str) -> Any:
    """Open a blocking store from its URL (see the table above). Does not create tables:
    call ``store.setup()`` once (it is idempotent)."""
    scheme = _scheme(url)
    if scheme == "memory":
        from gatepass.stores.memory import MemoryStore  # noqa: PLC0415

        options = dict(parse_qsl(urlsplit(url).query))
        return MemoryStore(prefix=options.get("prefix", "gatepass:"))
    if scheme == "sqlite":
        from gatepass.stores.sqlite import SQLiteStore  # noqa: PLC0415

        path, kwargs = _sqlite_args(url)
        return SQLiteStore(path, **kwargs)
    if scheme.startswith(("redis", "rediss", "unix")):
        from gatepass.stores.redis import RedisStore  # noqa: PLC0415

        return RedisStore(url)
    if scheme in {"postgresql", "postgres"}:
        from gatepass.stores.postgres import PostgresStore  # noqa: PLC0415

        return PostgresStore(url)
    raise ConfigurationError(f"unknown store URL scheme {scheme!r}")


def open_async_store(url: str) -> Any:
    """The asyncio twin of :func:`open_store`: same URLs, awaitable methods.

    Opening is not itself awaited; connections are made on first use.
    """
    scheme = _scheme(url)
    if scheme == "memory":
        from gatepass.stores.memory import AsyncMemoryStore  # noqa: PLC0415

        options = dict(parse_qsl(urlsplit(url).query))
        return AsyncMemoryStore(prefix=options.get("prefix", "gatepass:"))
    if scheme == "sqlite":
        from gatepass.stores.sqlite import AsyncSQLiteStore, SQLiteStore  # noqa: PLC0415

        path, kwargs = _sqlite_args(url)
        return AsyncSQLiteStore(SQLiteStore(path, **kwargs))
    if scheme.startswith(("redis", "rediss", "unix")):
        from gatepass.stores.redis import AsyncRedisStore  # noqa: PLC0415

        return AsyncRedisStore(url)
    if scheme in {"postgresql", "postgres"}:
        from gatepass.stores.postgres import AsyncPostgresStore  # noqa: PLC0415

        return AsyncPostgresStore(url)
    raise ConfigurationError(f"unknown store URL scheme {scheme!r}")
