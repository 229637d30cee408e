"""``postgresql://...`` (or ``postgres://``): sessions in PostgreSQL via psycopg 3 and a pool.

The hot-path ``get`` is one prepared primary-key SELECT on an autocommit connection: one round
trip. Every decision is made in Python (:mod:`gatepass.stores.records`); writes are single
compare-and-set statements that apply only if the row is still the one the decision was based on
(``UPDATE ... WHERE token_hash = %s AND last_seen_at = %s``), so a revoked (deleted) row is never
written back and of many concurrent rotations exactly one matches. A due touch (at most once per
touch interval per session) adds that one UPDATE. ``update`` (merging session data) uses a short
``SELECT ... FOR UPDATE`` transaction.

URL options gatepass consumes (the rest goes to libpq): ``prefix`` (table prefix, default
``gatepass_``), ``schema`` (default ``public``; created by ``setup()``), ``pool_min_size`` (1),
``pool_max_size`` (10), ``pool_timeout`` (seconds to wait for a connection before
``StoreUnavailable``, default 5).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from gatepass.errors import ConfigurationError, MissingDependency, StoreError, StoreUnavailable
from gatepass.stores._sql import (
    SESSION_COLUMNS,
    after_lost_touch,
    cas_touch,
    check_identifier,
    touch_plan,
)
from gatepass.stores.base import (
    purge_time,
    registered_async_purges,
    registered_purges,
    registered_schemas,
    translate_errors,
    url_with_query,
)
from gatepass.stores.records import (
    DUE,
    LIVE,
    MAX_DATA_BYTES,
    SessionRecord,
    TouchSpec,
    check_json,
    dump_json,
    from_row,
    is_live,
    liveness,
    merge_data,
    rotated,
)

_OUR_OPTIONS = ("prefix", "schema", "pool_min_size", "pool_max_size", "pool_timeout")
_PURGE_EVERY = 1000
_CAS_ATTEMPTS = 100
_PURGE_BATCH = 10000
#: The hot path keeps at most this many idle connections out of the pool (see PostgresStore)...
_PARKED_MAX = 8
#: ...and hands them all back to the pool at least this often, so that the pool's own upkeep
#: (``max_lifetime``, ``max_idle``, replacing broken connections) still reaches every one.
_PARK_SECONDS = 30.0
#: ``pgconn.transaction_status`` of an idle connection (``psycopg.pq.TransactionStatus.IDLE``).
_IDLE = 0


def _import_psycopg() -> Any:
    try:
        import psycopg  # noqa: PLC0415 - optional dependency
        import psycopg_pool  # noqa: PLC0415, F401 - checked here, used by the stores
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MissingDependency(
            "the postgres store needs psycopg 3 and psycopg-pool: pip install 'gatepass[postgres]'"
        ) from exc
    return psycopg


def parse_url(url: str) -> tuple[str, dict[str, str]]:
    """``(conninfo, gatepass_options)``."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgresql", "postgres"}:
        raise ConfigurationError(f"not a postgresql URL scheme: {parts.scheme!r}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = {k: v for k, v in query if k in _OUR_OPTIONS}
    rest = [(k, v) for k, v in query if k not in _OUR_OPTIONS]
    conninfo = url_with_query(parts._replace(fragment=""), urlencode(rest))
    return conninfo, options


class _PostgresBase:
    """URL parsing and SQL text shared by the sync and async PostgreSQL stores."""

    kind: Literal["postgres"] = "postgres"

    def __init__(self, url: str) -> None:
        _import_psycopg()
        self.url = url
        self.conninfo, options = parse_url(url)
        self.prefix = check_identifier(
            options.get("prefix", "gatepass_"), "table prefix", allow_empty=True
        )
        self.schema = check_identifier(options.get("schema", "public"), "schema")
        try:
            self.pool_min_size = int(options.get("pool_min_size", "1"))
            self.pool_max_size = int(options.get("pool_max_size", "10"))
            self.pool_timeout = float(options.get("pool_timeout", "5"))
        except ValueError as exc:
            raise ConfigurationError(f"bad postgres pool option: {exc}") from None
        # A random start: a process creating fewer than _PURGE_EVERY sessions (a CLI tool, a
        # serverless function, a test) still purges with probability n/1000, so across
        # processes a purge runs on average once per 1000 creations (and once in every 1000
        # consecutive creations of one store).
        self._creates = secrets.randbelow(_PURGE_EVERY)
        self._errors = translate_errors("postgres")
        t = self.table("sessions")
        cols = SESSION_COLUMNS
        # Reads return the two jsonb columns as text: decoded (once per distinct text, cached)
        # and frozen by records.load_json_object instead of json.loads per column per row.
        read = cols.replace("metadata, data", "metadata::text, data::text")
        self.sql_get = f"SELECT {read} FROM {t} WHERE token_hash = %s"
        self.sql_touch = (
            f"UPDATE {t} SET last_seen_at = %s, expires_at = %s "
            "WHERE token_hash = %s AND last_seen_at = %s"
        )
        self.sql_insert = (
            f"INSERT INTO {t} (token_hash, {cols}) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb)"
        )
        self.sql_rotate = (
            f"UPDATE {t} SET token_hash = %s, last_seen_at = %s, expires_at = %s, "
            "authenticated_at = %s WHERE token_hash = %s AND last_seen_at = %s"
        )
        self.sql_lock = f"SELECT {read} FROM {t} WHERE token_hash = %s FOR UPDATE"
        self.sql_set_data = f"UPDATE {t} SET data = %s::jsonb WHERE token_hash = %s"
        self.sql_revoke = f"DELETE FROM {t} WHERE token_hash = %s"
        self.sql_revoke_id = f"DELETE FROM {t} WHERE user_id = %s AND id = %s"
        self.sql_revoke_user = (
            f"DELETE FROM {t} WHERE user_id = %s AND token_hash IS DISTINCT FROM %s::bytea"
        )
        self.sql_list = (
            f"SELECT {read} FROM {t} WHERE user_id = %s AND expires_at > %s ORDER BY created_at"
        )
        self.sql_purge = (
            f"DELETE FROM {t} WHERE token_hash IN (SELECT token_hash FROM {t} "
            f"WHERE expires_at <= %s LIMIT {_PURGE_BATCH})"
        )

    def table(self, name: str) -> str:
        return f'"{self.schema}"."{self.prefix}{check_identifier(name, "table name")}"'

    def errors(self) -> contextlib.AbstractContextManager[None]:
        return self._errors

    def ddl(self) -> list[str]:
        t = self.table("sessions")
        statements = [
            f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"',
            f"""CREATE TABLE IF NOT EXISTS {t} (
                token_hash bytea PRIMARY KEY,
                id text NOT NULL,
                user_id text NOT NULL,
                created_at double precision NOT NULL,
                authenticated_at double precision NOT NULL,
                last_seen_at double precision NOT NULL,
                expires_at double precision NOT NULL,
                absolute_expires_at double precision NOT NULL,
                remember boolean NOT NULL,
                metadata jsonb NOT NULL,
                data jsonb NOT NULL
            )""",
            f'CREATE INDEX IF NOT EXISTS "{self.prefix}sessions_user" ON {t} (user_id, id)',
            f'CREATE INDEX IF NOT EXISTS "{self.prefix}sessions_expiry" ON {t} (expires_at)',
        ]
        for _name, ddl in registered_schemas(self.kind):
            statements.extend(ddl(self.table))
        return statements

    @staticmethod
    def insert_args(token_hash: bytes, r: SessionRecord) -> tuple[Any, ...]:
        return (
            token_hash,
            r.id,
            r.user_id,
            r.created_at,
            r.authenticated_at,
            r.last_seen_at,
            r.expires_at,
            r.absolute_expires_at,
            r.remember,
            dump_json(r.metadata),
            dump_json(r.data),
        )

    def _count_create(self) -> bool:
        self._creates += 1
        return self._creates % _PURGE_EVERY == 0

    @staticmethod
    def _pool_kwargs() -> dict[str, Any]:
        # prepare_threshold=0: prepare every statement on first use (the hot path is one
        # prepared statement execution per get).
        return {"autocommit": True, "prepare_threshold": 0}


# Serialises concurrent ``CREATE ... IF NOT EXISTS`` from several processes (PostgreSQL can
# raise unique violations on its catalogs when two sessions race to create the same object).
_DDL_LOCK_KEY = 0x67617465  # "gate"


class PostgresStore(_PostgresBase):
    """Blocking PostgreSQL store; ``pool`` is a ``psycopg_pool.ConnectionPool``.

    ``get`` borrows its connection through a small lock-free front of the pool: a
    ``collections.deque`` of idle connections checked out of the pool earlier (``pop`` and
    ``append`` are atomic, so each connection is used by one thread at a time). Checking a
    connection out of ``psycopg_pool`` and back in costs 4-10 µs of Python (locks, logging
    calls, statistics) per call; the deque costs 0.1 µs. Correctness stays with the pool:

    * an empty deque falls back to ``pool.getconn()``; at most ``min(8, pool_max_size - 1)``
      connections are parked, so ``store.connection()`` (sessions' writes, refresh families,
      the denylist) always has the rest, and ``pool_max_size=1`` disables the front entirely;
    * a connection that saw any error, or is not idle, goes back to the pool, which rolls it
      back, or discards and replaces it (a store outage still raises ``StoreUnavailable`` and
      recovers exactly as before);
    * every ``_PARK_SECONDS`` all parked connections are handed back, so the pool's
      ``max_lifetime`` / ``max_idle`` upkeep still applies to them; ``close()`` returns them
      before closing the pool.
    """

    def __init__(self, url: str) -> None:
        super().__init__(url)
        from psycopg_pool import ConnectionPool  # noqa: PLC0415

        with translate_errors("postgres"):
            self.pool: Any = ConnectionPool(
                self.conninfo,
                min_size=self.pool_min_size,
                max_size=self.pool_max_size,
                timeout=self.pool_timeout,
                kwargs=self._pool_kwargs(),
                open=True,
                name="gatepass",
            )
        self._parked: deque[Any] = deque()
        self._parked_max = max(0, min(_PARKED_MAX, self.pool_max_size - 1))
        self._unpark_at = time.monotonic() + _PARK_SECONDS
        self._closed = False

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        with translate_errors("postgres"), self.pool.connection() as conn:
            yield conn

    def setup(self) -> None:
        with self.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_DDL_LOCK_KEY,))
            for statement in self.ddl():
                conn.execute(statement)

    def close(self) -> None:
        self._closed = True
        self._unpark()
        with contextlib.suppress(Exception):
            self.pool.close()

    # --- the hot path's front of the pool ------------------------------------------------------

    def _park(self, conn: Any) -> None:
        """Return a connection after a successful ``get``: parked if there is room, else pooled."""
        now = time.monotonic()
        if now >= self._unpark_at:  # time for the pool to see every connection again
            self._unpark_at = now + _PARK_SECONDS
            self.pool.putconn(conn)
            self._unpark()
        elif len(self._parked) >= self._parked_max or conn.pgconn.transaction_status != _IDLE:
            self.pool.putconn(conn)
        else:
            self._parked.append(conn)
            if self._closed:  # close() ran meanwhile: do not leave this one behind
                self._unpark()

    def _unpark(self) -> None:
        """Hand every parked connection back to the pool (which closes them if it is closed)."""
        while True:
            try:
                conn = self._parked.pop()
            except IndexError:
                return
            with contextlib.suppress(Exception):
                self.pool.putconn(conn)

    def purge_expired(self, now: float | None = None) -> int:
        when = purge_time(now)
        removed: int = 0
        with self.connection() as conn:
            while True:
                count: int = conn.execute(self.sql_purge, (when,)).rowcount
                removed += count
                if count < _PURGE_BATCH:
                    break
        for step in registered_purges(self.kind):
            removed += step(self, when)
        return removed

    def session_create(self, token_hash: bytes, record: SessionRecord, tag: str) -> None:
        with self.connection() as conn:
            conn.execute(self.sql_insert, self.insert_args(token_hash, record))
        if self._count_create():
            self.purge_expired(record.created_at)

    def session_get(self, token_hash: bytes, tag: str, touch: TouchSpec) -> SessionRecord | None:
        parked = self._parked
        try:
            conn = parked.pop()  # a parked connection, else one from the pool
        except IndexError:
            try:
                conn = self.pool.getconn()
            except Exception as exc:
                self._errors.reraise(exc)
        record: SessionRecord | None
        try:
            row = conn.execute(self.sql_get, (token_hash,)).fetchone()  # the hot path
            if row is None:
                record = None
            else:
                record = from_row(row)
                state = liveness(record, touch)
                if state == DUE:
                    record = self._touch(conn, token_hash, record, touch)
                elif state != LIVE:
                    record = None
        except BaseException as exc:
            with contextlib.suppress(Exception):
                self.pool.putconn(conn)  # the pool checks it: rolls back, or replaces it
            if isinstance(exc, Exception):
                self._errors.reraise(exc)
            raise
        if (
            len(parked) < self._parked_max
            and conn.pgconn.transaction_status == _IDLE
            and time.monotonic() < self._unpark_at
        ):
            parked.append(conn)  # the common case of _park, inlined
            if self._closed:  # close() ran meanwhile: do not leave this one behind
                self._unpark()
        else:
            self._park(conn)
        return record

    def _touch(
        self, conn: Any, token_hash: bytes, record: SessionRecord, touch: TouchSpec
    ) -> SessionRecord | None:
        return cas_touch(
            conn, self.sql_touch, self.sql_get, token_hash=token_hash, record=record, touch=touch
        )

    def session_rotate(
        self, old_hash: bytes, new_hash: bytes, tag: str, touch: TouchSpec, auth_time: float | None
    ) -> SessionRecord | None:
        with self.connection() as conn:
            for _attempt in range(_CAS_ATTEMPTS):
                row = conn.execute(self.sql_get, (old_hash,)).fetchone()
                if row is None:
                    return None
                record = from_row(row)
                if not is_live(record, touch):
                    return None
                moved = rotated(record, touch, auth_time)
                args = (
                    new_hash,
                    moved.last_seen_at,
                    moved.expires_at,
                    moved.authenticated_at,
                    old_hash,
                    record.last_seen_at,
                )
                if conn.execute(self.sql_rotate, args).rowcount == 1:
                    return moved
        raise StoreError("postgres: the session kept changing during rotation")

    def session_update(
        self, token_hash: bytes, tag: str, patch: Mapping[str, Any], touch: TouchSpec
    ) -> SessionRecord | None:
        with self.connection() as conn, conn.transaction():
            row = conn.execute(self.sql_lock, (token_hash,)).fetchone()
            if row is None:
                return None
            record = from_row(row)
            if not is_live(record, touch):
                return None
            data = check_json(merge_data(record.data, patch), MAX_DATA_BYTES, "data")
            conn.execute(self.sql_set_data, (dump_json(data), token_hash))
        return record._replace(data=data)

    def session_revoke(self, token_hash: bytes, tag: str) -> bool:
        with self.connection() as conn:
            return bool(conn.execute(self.sql_revoke, (token_hash,)).rowcount)

    def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool:
        with self.connection() as conn:
            return bool(conn.execute(self.sql_revoke_id, (user_id, public_id)).rowcount)

    def session_revoke_user(self, user_id: str, tag: str, keep_hash: bytes | None) -> int:
        with self.connection() as conn:
            count: int = conn.execute(self.sql_revoke_user, (user_id, keep_hash)).rowcount
            return count

    def session_list(self, user_id: str, tag: str, now: float) -> list[SessionRecord]:
        with self.connection() as conn:
            rows = conn.execute(self.sql_list, (user_id, now)).fetchall()
        return [from_row(row) for row in rows]


class AsyncPostgresStore(_PostgresBase):
    """asyncio PostgreSQL store; ``pool`` is a ``psycopg_pool.AsyncConnectionPool``.

    The pool opens on first use (it must be opened inside the running event loop).
    """

    def __init__(self, url: str) -> None:
        super().__init__(url)
        from psycopg_pool import AsyncConnectionPool  # noqa: PLC0415

        self.pool: Any = AsyncConnectionPool(
            self.conninfo,
            min_size=self.pool_min_size,
            max_size=self.pool_max_size,
            timeout=self.pool_timeout,
            kwargs=self._pool_kwargs(),
            open=False,
            name="gatepass-async",
        )
        self._opened = False
        self._open_lock: asyncio.Lock | None = None

    async def _ensure_open(self) -> None:
        if self._opened:
            return
        if self._open_lock is None:
            self._open_lock = asyncio.Lock()
        async with self._open_lock:
            if not self._opened:
                with translate_errors("postgres"):
                    await self.pool.open(wait=False)
                self._opened = True

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        if not self._opened:
            await self._ensure_open()
        with translate_errors("postgres"):
            async with self.pool.connection() as conn:
                yield conn

    async def setup(self) -> None:
        async with self.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_DDL_LOCK_KEY,))
            for statement in self.ddl():
                await conn.execute(statement)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.pool.close()

    async def purge_expired(self, now: float | None = None) -> int:
        when = purge_time(now)
        removed: int = 0
        async with self.connection() as conn:
            while True:
                count: int = (await conn.execute(self.sql_purge, (when,))).rowcount
                removed += count
                if count < _PURGE_BATCH:
                    break
        # The refresh-family and revocation steps, written with await (see register_purge).
        for step in registered_async_purges(self.kind):
            removed += await step(self, when)
        return removed

    async def session_create(self, token_hash: bytes, record: SessionRecord, tag: str) -> None:
        async with self.connection() as conn:
            await conn.execute(self.sql_insert, self.insert_args(token_hash, record))
        if self._count_create():
            await self.purge_expired(record.created_at)

    async def session_get(
        self, token_hash: bytes, tag: str, touch: TouchSpec
    ) -> SessionRecord | None:
        async with self.connection() as conn:
            row = await (await conn.execute(self.sql_get, (token_hash,))).fetchone()
            if row is None:
                return None
            record = from_row(row)
            state = liveness(record, touch)
            if state == LIVE:
                return record
            if state != DUE:
                return None
            # cas_touch awaited: the same compare-and-set, the same reading of a lost race.
            new, args = touch_plan(token_hash, record, touch)
            if (await conn.execute(self.sql_touch, args)).rowcount == 1:
                return new
            row = await (await conn.execute(self.sql_get, (token_hash,))).fetchone()
            return after_lost_touch(row, touch)

    async def session_rotate(
        self, old_hash: bytes, new_hash: bytes, tag: str, touch: TouchSpec, auth_time: float | None
    ) -> SessionRecord | None:
        async with self.connection() as conn:
            for _attempt in range(_CAS_ATTEMPTS):
                row = await (await conn.execute(self.sql_get, (old_hash,))).fetchone()
                if row is None:
                    return None
                record = from_row(row)
                if not is_live(record, touch):
                    return None
                moved = rotated(record, touch, auth_time)
                args = (
                    new_hash,
                    moved.last_seen_at,
                    moved.expires_at,
                    moved.authenticated_at,
                    old_hash,
                    record.last_seen_at,
                )
                if (await conn.execute(self.sql_rotate, args)).rowcount == 1:
                    return moved
        raise StoreError("postgres: the session kept changing during rotation")

    async def session_update(
        self, token_hash: bytes, tag: str, patch: Mapping[str, Any], touch: TouchSpec
    ) -> SessionRecord | None:
        async with self.connection() as conn, conn.transaction():
            row = await (await conn.execute(self.sql_lock, (token_hash,))).fetchone()
            if row is None:
                return None
            record = from_row(row)
            if not is_live(record, touch):
                return None
            data = check_json(merge_data(record.data, patch), MAX_DATA_BYTES, "data")
            await conn.execute(self.sql_set_data, (dump_json(data), token_hash))
        return record._replace(data=data)

    async def session_revoke(self, token_hash: bytes, tag: str) -> bool:
        async with self.connection() as conn:
            return bool((await conn.execute(self.sql_revoke, (token_hash,))).rowcount)

    async def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool:
        async with self.connection() as conn:
            cur = await conn.execute(self.sql_revoke_id, (user_id, public_id))
            return bool(cur.rowcount)

    async def session_revoke_user(self, user_id: str, tag: str, keep_hash: bytes | None) -> int:
        async with self.connection() as conn:
            cur = await conn.execute(self.sql_revoke_user, (user_id, keep_hash))
            count: int = cur.rowcount
            return count

    async def session_list(self, user_id: str, tag: str, now: float) -> list[SessionRecord]:
        async with self.connection() as conn:
            rows = await (await conn.execute(self.sql_list, (user_id, now))).fetchall()
        return [from_row(row) for row in rows]


__all__ = ["AsyncPostgresStore", "PostgresStore", "StoreUnavailable"]
