"""Where login state lives: one store per backend, chosen by URL, typed by concern.

==================================  ===========================================================
``memory://``                       dicts behind a lock; one process only
``sqlite:///path/to.db``            the embedded default: WAL, threads and processes
``sqlite://:memory:``               a private in-memory SQLite database (tests)
``redis://host:port/db``            redis-py; ``rediss://`` for TLS
``redis+cluster://host:port``       Redis Cluster (also ``redis://...?cluster=1``)
``postgresql://...``                psycopg 3 with a connection pool (``postgres://`` too)
==================================  ===========================================================

Options every backend understands: ``?prefix=`` (key or table prefix). What a store offers is
:mod:`gatepass.stores.protocols` (sessions, refresh families, revocations, each sync and async);
user documentation in ``docs/stores.md``. Redis and PostgreSQL drivers are optional extras
imported on first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from gatepass.errors import ConfigurationError, GatepassError
from gatepass.stores.driver_errors import translate_errors
from gatepass.stores.limits import storable_text
from gatepass.stores.protocols import AsyncStore, Store
from gatepass.stores.urls import check_postgres_url, check_redis_url, memory_prefix, sqlite_args

__all__ = ["AsyncStore", "Store", "open_async_store", "open_store", "translate_errors"]

T = TypeVar("T")

#: ``user:password@`` in a URL a driver quotes back in its message.
_CREDENTIALS = re.compile(r"//[^/@\s]*@")


def _build(backend: str, make: Callable[[], T]) -> T:
    """``make()``, with a driver's ``ValueError`` / ``TypeError`` / ``OverflowError`` about its
    arguments (redis-py parsing the URL, psycopg-pool checking sizes) as ``ConfigurationError``.

    Only these: ``StoreUnavailable`` / ``StoreError`` (a Redis Cluster client connects while
    it is built) and every other gatepass error pass through unchanged.
    """
    try:
        return make()
    except GatepassError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        reason = _CREDENTIALS.sub("//<credentials>@", str(exc))[:200]
        raise ConfigurationError(f"bad {backend} store URL: {reason}") from exc


def _scheme(url: str) -> str:
    """The URL's scheme, once the URL is known to be text every driver reads: a raw NUL or a
    lone surrogate (``UnicodeEncodeError`` in libpq's and redis-py's URL handling, or a table
    prefix or key that cannot be written) is refused here, for every backend alike."""
    if not isinstance(url, str) or "://" not in url:
        raise ConfigurationError(f"a store URL looks like 'sqlite:///sessions.db', got {url!r}")
    if not storable_text(url):
        raise ConfigurationError(
            "a store URL must be valid Unicode text without NUL (percent-encode other bytes)"
        )
    return url.split("://", 1)[0].lower()


def open_store(url: str) -> Store:
    """Open a blocking store from its URL (see the table above). Does not create tables:
    call ``store.setup()`` once (it is idempotent).

    A malformed URL or option raises ``ConfigurationError`` naming it; ``StoreUnavailable``
    only if opening already needs the server (a Redis Cluster client reads the cluster layout).
    """
    scheme = _scheme(url)
    if scheme == "memory":
        from gatepass.stores.memory import MemoryStore  # noqa: PLC0415

        return MemoryStore(prefix=memory_prefix(url))
    if scheme == "sqlite":
        from gatepass.stores.sqlite import SQLiteStore  # noqa: PLC0415

        path, kwargs = sqlite_args(url)
        return _build("sqlite", lambda: SQLiteStore(path, **kwargs))
    if scheme.startswith(("redis", "rediss", "unix")):
        from gatepass.stores.redis import RedisStore  # noqa: PLC0415

        check_redis_url(url)
        return _build("redis", lambda: RedisStore(url))
    if scheme in {"postgresql", "postgres"}:
        from gatepass.stores.postgres import PostgresStore  # noqa: PLC0415

        check_postgres_url(url)
        return _build("postgresql", lambda: PostgresStore(url))
    raise ConfigurationError(f"unknown store URL scheme {scheme!r}")


def open_async_store(url: str) -> AsyncStore:
    """The asyncio twin of :func:`open_store`: same URLs, same checks, awaitable methods.

    Opening is not itself awaited; connections are made on first use.
    """
    scheme = _scheme(url)
    if scheme == "memory":
        from gatepass.stores.memory import AsyncMemoryStore  # noqa: PLC0415

        return AsyncMemoryStore(prefix=memory_prefix(url))
    if scheme == "sqlite":
        from gatepass.stores.sqlite import AsyncSQLiteStore, SQLiteStore  # noqa: PLC0415

        path, kwargs = sqlite_args(url)
        return _build("sqlite", lambda: AsyncSQLiteStore(SQLiteStore(path, **kwargs)))
    if scheme.startswith(("redis", "rediss", "unix")):
        from gatepass.stores.redis import AsyncRedisStore  # noqa: PLC0415

        check_redis_url(url)
        return _build("redis", lambda: AsyncRedisStore(url))
    if scheme in {"postgresql", "postgres"}:
        from gatepass.stores.postgres import AsyncPostgresStore  # noqa: PLC0415

        check_postgres_url(url)
        return _build("postgresql", lambda: AsyncPostgresStore(url))
    raise ConfigurationError(f"unknown store URL scheme {scheme!r}")
