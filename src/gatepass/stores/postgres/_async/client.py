"""The PostgreSQL pool every PostgreSQL concern shares: psycopg 3 and ``psycopg_pool``.

URL options gatepass consumes (the rest goes to libpq): ``prefix`` (table prefix, default
``gatepass_``), ``schema`` (default ``public``; created by ``setup()``), ``pool_min_size`` (1),
``pool_max_size`` (10), ``pool_timeout`` (seconds to wait for a connection before
``StoreUnavailable``, default 5). Connections are autocommit and prepare every statement on first
use (the hot path is one prepared statement per ``get``).
"""

from __future__ import annotations

import asyncio  # async-only
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from gatepass.errors import ConfigurationError, MissingDependency
from gatepass.stores.driver_errors import translate_errors
from gatepass.stores.postgres.sql import DDL_LOCK_KEY, Statements
from gatepass.stores.urls import postgres_parts

#: The longest a caller waits for one statement, in seconds: a refresh rotation's write that
#: reaches the server later than this after its read changes nothing (see ``family_advance``).
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
    first use: it must be opened inside the running event loop)."""

    kind = "postgres"
    purges_itself = False
    operation_timeout = OPERATION_TIMEOUT

    def __init__(self, url: str) -> None:
        _import_psycopg()
        from psycopg_pool import AsyncConnectionPool  # noqa: PLC0415

        self.url = url
        self.conninfo, options = postgres_parts(url)
        self.sql = Statements(options.get("schema", "public"), options.get("prefix", "gatepass_"))
        self.schema, self.prefix = self.sql.schema, self.sql.prefix
        try:
            self.pool_min_size = int(options.get("pool_min_size", "1"))
            self.pool_max_size = int(options.get("pool_max_size", "10"))
            self.pool_timeout = float(options.get("pool_timeout", "5"))
        except ValueError as exc:
            raise ConfigurationError(f"bad postgres pool option: {exc}") from None
        self.errors = translate_errors("postgres")
        with self.errors:
            self.pool: Any = AsyncConnectionPool(
                self.conninfo,
                min_size=self.pool_min_size,
                max_size=self.pool_max_size,
                timeout=self.pool_timeout,
                kwargs={"autocommit": True, "prepare_threshold": 0},
                open=False,  # async-only
                # sync-only: open=True,
                name="gatepass",
            )
        self._opened = False  # async-only
        self._open_lock = asyncio.Lock()  # async-only

    async def open(self) -> None:
        """Open the pool (once; the blocking pool opens when it is built)."""
        if self._opened:  # async-only
            return  # async-only
        async with self._open_lock:  # async-only
            if not self._opened:  # async-only
                with self.errors:  # async-only
                    await self.pool.open(wait=False)  # async-only
                self._opened = True  # async-only

    async def execute(self, sql: str, args: tuple[object, ...]) -> int:
        """One statement on a pooled connection; the number of rows it changed."""
        if not self._opened:  # async-only
            await self.open()  # async-only
        with self.errors:
            async with self.pool.connection() as conn:
                count: int = (await conn.execute(sql, args)).rowcount
        return count

    async def fetch(self, sql: str, args: tuple[object, ...]) -> list[tuple[object, ...]]:
        """Every row of one statement on a pooled connection."""
        if not self._opened:  # async-only
            await self.open()  # async-only
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
        if not self._opened:  # async-only
            await self.open()  # async-only
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
        with self.errors:
            await self.pool.close()
