"""The PostgreSQL pool every PostgreSQL concern shares: psycopg 3 and ``psycopg_pool``.

URL options gatepass consumes (the rest goes to libpq): ``prefix`` (table prefix, default
``gatepass_``), ``schema`` (default ``public``; created by ``setup()``), ``pool_min_size`` (1),
``pool_max_size`` (10), ``pool_timeout`` (seconds to wait for a connection before
``StoreUnavailable``, default 5), ``timeout`` (seconds one round trip to the server may take
before ``StoreUnavailable``, default 5). Connections are autocommit and prepare every statement on
first use (the hot path is one prepared statement per ``get``).

Bounds, each from the library that owns the wait: a pooled connection is waited for at most
``pool_timeout`` (the pool's ``timeout``); a new connection at most ``connect_timeout`` (libpq's,
defaulted to ``timeout``; libpq rounds it up to whole seconds, at least 2); each round trip at
most ``timeout`` (psycopg's wait, see :mod:`.connection`), and the server abandons a statement
at the same bound (``statement_timeout``), so it does not finish, holding its locks, work
nobody waits for. A call therefore ends within ``pool_timeout + timeout`` even when the server
is frozen (the store's first call, which connects once itself, within ``connect_timeout`` more),
and a connection that timed out is closed, never lent again. No ``check`` callback
on the pool: it would add a round trip to every call, and a connection that died while idle
costs one call (``StoreUnavailable``, at once or within ``timeout``) before the pool replaces it.

The pool opens on first use, and only once one connection has been made directly: psycopg_pool
connects in background threads that log a refusal (a wrong database, role or password) and
retry, while the caller only sees a generic ``PoolTimeout`` after ``pool_timeout``. Connecting
once in the caller first reports the server's own words at once (``database "x" does not
exist``, ``Connection refused``) as ``StoreUnavailable``, and a store that never connected has
started no thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from gatepass.errors import ConfigurationError, MissingDependency, StoreUnavailable
from gatepass.stores.driver_errors import translate_errors
from gatepass.stores.postgres.sql import DDL_LOCK_KEY, Statements
from gatepass.stores.urls import postgres_connect_options, postgres_parts

#: The default bound, in seconds, on one round trip (``?timeout=``). A refresh rotation's write
#: that reaches the server later than this after its read changes nothing (``family_advance``).
OPERATION_TIMEOUT = 5.0


def _import_psycopg() -> None:
    try:
        import psycopg  # noqa: F401, PLC0415 - optional dependency
        import psycopg_pool  # noqa: F401, PLC0415
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MissingDependency(
            "the postgres store needs psycopg 3 and psycopg-pool: pip install 'gatepass[postgres]'"
        ) from exc


class AsyncPostgresClient:
    """URL options, the statements and the pool (``psycopg_pool.AsyncConnectionPool``, opened on
    first use, after one direct connection succeeded: see the module docstring)."""

    kind = "postgres"
    purges_itself = False

    def __init__(self, url: str) -> None:
        _import_psycopg()
        from psycopg_pool import AsyncConnectionPool  # noqa: PLC0415

        from gatepass.stores.postgres._async.connection import (  # noqa: PLC0415
            AsyncBoundedConnection,
        )

        self.url = url
        self.conninfo, options = postgres_parts(url)
        self.sql = Statements(options.get("schema", "public"), options.get("prefix", "gatepass_"))
        self.schema, self.prefix = self.sql.schema, self.sql.prefix
        try:
            self.pool_min_size = int(options.get("pool_min_size", "1"))
            self.pool_max_size = int(options.get("pool_max_size", "10"))
            self.pool_timeout = float(options.get("pool_timeout", "5"))
            self.timeout = float(options.get("timeout", str(OPERATION_TIMEOUT)))
        except ValueError as exc:
            raise ConfigurationError(f"bad postgres pool option: {exc}") from None
        #: How long a caller waits for one statement (the rotation's write deadline uses it).
        self.operation_timeout = self.timeout
        self.errors = translate_errors("postgres")
        self.connection_class = AsyncBoundedConnection
        with self.errors:
            self.connect_kwargs: dict[str, Any] = {
                "autocommit": True,
                "prepare_threshold": 0,
                **postgres_connect_options(self.conninfo, self.timeout),
            }
            self.pool: Any = AsyncConnectionPool(
                self.conninfo,
                min_size=self.pool_min_size,
                max_size=self.pool_max_size,
                timeout=self.pool_timeout,
                kwargs=self.connect_kwargs,
                connection_class=AsyncBoundedConnection,
                configure=self._configure,
                open=False,
                name="gatepass",
            )
        self._opened = False
        self._closed = False

    async def _configure(self, conn: Any) -> None:
        conn.bound = self.timeout

    async def connect(self) -> Any:
        """A new connection outside the pool, with the pool's bounds (``LISTEN``, the probe)."""
        conn = await self.connection_class.connect(self.conninfo, **self.connect_kwargs)
        conn.bound = self.timeout
        return conn

    async def open(self) -> None:
        """Connect once directly, then open the pool (idempotent; see the module docstring).

        Callers that arrive together each make that first connection: bounded, once per
        process, and no lock to queue behind a server that does not answer.
        """
        if self._opened:
            return
        if self._closed:
            raise StoreUnavailable("postgres: the store is closed")
        with self.errors:
            probe = await self.connect()
            await probe.close()
            await self.pool.open(wait=False)
        self._opened = True

    async def execute(self, sql: str, args: tuple[object, ...]) -> int:
        """One statement on a pooled connection; the number of rows it changed."""
        if not self._opened:
            await self.open()
        with self.errors:
            async with self.pool.connection() as conn:
                count: int = (await conn.execute(sql, args)).rowcount
        return count

    async def fetch(self, sql: str, args: tuple[object, ...]) -> list[tuple[object, ...]]:
        """Every row of one statement on a pooled connection."""
        if not self._opened:
            await self.open()
        with self.errors:
            async with self.pool.connection() as conn:
                rows: list[tuple[object, ...]] = await (await conn.execute(sql, args)).fetchall()
        return rows

    async def fetch_one(self, sql: str, args: tuple[object, ...]) -> tuple[object, ...] | None:
        """The first row of one statement (None if none) on a pooled connection."""
        rows = await self.fetch(sql, args)
        return rows[0] if rows else None

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A pooled connection, errors translated: for statements of one's own on the store's
        schema (tests, tooling)."""
        if not self._opened:
            await self.open()
        with self.errors:
            async with self.pool.connection() as conn:
                yield conn

    def table(self, name: str) -> str:
        return self.sql.table(name)

    async def setup(self) -> None:
        await self.open()
        with self.errors:
            async with self.pool.connection() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK_KEY,))
                for statement in self.sql.ddl():
                    await conn.execute(statement)

    async def close(self) -> None:
        self._closed = True
        with self.errors:
            await self.pool.close()
