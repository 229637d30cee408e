"""``sqlite:///path/to.db``: the embedded default, safe across threads and processes.

WAL journal (readers never block the writer), ``synchronous=NORMAL`` (a committed transaction
survives a crash of the process; ``?synchronous=full`` also survives power loss), a busy timeout
so that concurrent writers queue instead of failing. One connection per thread; multi-statement
writes run in ``BEGIN IMMEDIATE`` transactions, single-statement ones are atomic by themselves.
Reads are one primary-key SELECT; the throttled touch is a compare-and-set UPDATE that only runs
when due, so a revoked (deleted) row can never be written back.

``sqlite://:memory:`` is a private database held by one connection behind a lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal, TypeVar

from gatepass.errors import ConfigurationError, StoreUnavailable
from gatepass.stores._sql import SESSION_COLUMNS, cas_touch, check_identifier
from gatepass.stores.base import (
    purge_time,
    registered_purges,
    registered_schemas,
    translate_errors,
)
from gatepass.stores.records import (
    DEAD,
    LIVE,
    MAX_DATA_BYTES,
    MAX_WAIT_SECONDS,
    SessionRecord,
    TouchSpec,
    check_json,
    check_seconds,
    dump_json,
    from_row,
    is_live,
    liveness,
    merge_data,
    rotated,
)

T = TypeVar("T")

_PURGE_EVERY = 1000
_SYNCHRONOUS = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})
#: Rows per purge transaction: the write lock is held for one batch (tens of ms), not the purge.
_PURGE_BATCH = 5000
#: The longest pause between purge batches. SQLite has no queue of waiting writers: each one
#: polls from its busy handler, sleeping at most 100 ms between tries, so a pause this long lets
#: every waiting writer in, whatever the phase of its sleeps.
_PURGE_PAUSE = 0.1


class SQLiteStore:
    """See :mod:`gatepass.stores.base` for the stable attributes (``path``, ``connection()``...)."""

    kind: Literal["sqlite"] = "sqlite"

    def __init__(
        self,
        path: str,
        *,
        prefix: str = "gatepass_",
        busy_timeout: float = 5.0,
        synchronous: str = "NORMAL",
    ) -> None:
        self.path = path
        self._private = path == ":memory:"
        self.prefix = check_identifier(prefix, "table prefix", allow_empty=True)
        self.busy_timeout = check_seconds(
            busy_timeout, "busy_timeout", allow_zero=True, maximum=MAX_WAIT_SECONDS
        )
        if not isinstance(synchronous, str) or synchronous.upper() not in _SYNCHRONOUS:
            raise ConfigurationError(
                f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}"
            )
        self.synchronous = synchronous.upper()
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._shared: sqlite3.Connection | None = None
        self._shared_lock = threading.RLock()
        self._closed = False
        # A random start: a process creating fewer than _PURGE_EVERY sessions (a CLI tool, a
        # serverless function, a test) still purges with probability n/1000, so across processes
        # a purge runs on average once per 1000 creations; one store purges once in every 1000.
        self._creates = secrets.randbelow(_PURGE_EVERY)
        self._errors = translate_errors("sqlite")
        t = self.table("sessions")
        self._sql_get = f"SELECT {SESSION_COLUMNS} FROM {t} WHERE token_hash = ?"
        self._sql_touch = (
            f"UPDATE {t} SET last_seen_at = ?, expires_at = ? "
            "WHERE token_hash = ? AND last_seen_at = ?"
        )
        self._sql_insert = (
            f"INSERT INTO {t} (token_hash, {SESSION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
        )

    # --- contract ------------------------------------------------------------------------------

    def table(self, name: str) -> str:
        return f'"{self.prefix}{check_identifier(name, "table name")}"'

    def errors(self) -> contextlib.AbstractContextManager[None]:
        return self._errors

    def connect(self) -> sqlite3.Connection:
        """A new connection with gatepass's settings (autocommit; WAL; busy timeout)."""
        with translate_errors("sqlite"):
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            if self.path != ":memory:":
                self._use_wal(conn)
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            return conn

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL (persistent: a file already in WAL needs no write).

        Several first connections switching a fresh file at once deadlock on the lock upgrade,
        and SQLite answers SQLITE_BUSY at once instead of calling the busy handler, so
        concurrent ``setup()`` calls from threads or processes failed with "database is locked".
        Retried here, with a short backoff, for as long as the busy timeout.
        """
        deadline = time.monotonic() + self.busy_timeout
        delay = 0.001
        while True:
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    @contextlib.contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """The calling thread's connection (``:memory:``: the shared one, under its lock)."""
        if self._closed:
            raise StoreUnavailable("sqlite: the store is closed")
        if self.path == ":memory:":
            with self._shared_lock:
                if self._shared is None:
                    self._shared = self.connect()
                yield self._shared
            return
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self.connect()
            with self._all_lock:
                self._all.append(conn)
        yield conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` (take the write lock first: no upgrade deadlocks), then COMMIT."""
        with translate_errors("sqlite"), self.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def setup(self) -> None:
        t = self.table("sessions")
        statements = [
            f"""CREATE TABLE IF NOT EXISTS {t} (
                token_hash BLOB PRIMARY KEY,
                id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                created_at REAL NOT NULL,
                authenticated_at REAL NOT NULL,
                last_seen_at REAL NOT NULL,
                expires_at REAL NOT NULL,
                absolute_expires_at REAL NOT NULL,
                remember INTEGER NOT NULL,
                metadata TEXT NOT NULL,
                data TEXT NOT NULL
            ) WITHOUT ROWID""",
            f'CREATE INDEX IF NOT EXISTS "{self.prefix}sessions_user" ON {t} (user_id, id)',
            f'CREATE INDEX IF NOT EXISTS "{self.prefix}sessions_expiry" ON {t} (expires_at)',
        ]
        for _name, ddl in registered_schemas(self.kind):
            statements.extend(ddl(self.table))
        with self.transaction() as conn:
            for statement in statements:
                conn.execute(statement)

    def purge_expired(self, now: float | None = None) -> int:
        when = purge_time(now)
        removed = self.delete_expired(self.table("sessions"), "token_hash", when)
        for step in registered_purges(self.kind):
            removed += step(self, when)
        return removed

    def delete_expired(self, table: str, key: str, when: float, condition: str = "") -> int:
        """Delete the rows of ``table`` (quoted, from :meth:`table`) whose ``expires_at <= when``
        (and ``condition``, SQL on the same table), ``_PURGE_BATCH`` per transaction; ``key`` is
        its primary key column(s). Every purge goes through here, the registered steps too.

        The automatic purge runs inside some user's ``session_create``, and every other writer
        (in this process or another) waits for the write lock meanwhile: one unbounded DELETE
        of a large backlog would outlast their busy timeout (``StoreUnavailable``). Each batch
        picks its rows through the expiry index (``LIMIT``) and deletes them by primary key;
        between batches the lock is free for as long as the batch held it (at most
        ``_PURGE_PAUSE``), so waiting writers get in: they poll, SQLite does not queue them.
        """
        where = f"expires_at <= ?{f' AND {condition}' if condition else ''}"
        sql = (
            f"DELETE FROM {table} WHERE ({key}) IN "
            f"(SELECT {key} FROM {table} WHERE {where} LIMIT {_PURGE_BATCH})"
        )
        removed = 0
        while True:
            started = time.monotonic()
            with self.transaction() as conn:
                count: int = conn.execute(sql, (when,)).rowcount
            removed += count
            if count < _PURGE_BATCH:
                return removed
            time.sleep(min(time.monotonic() - started, _PURGE_PAUSE))

    def close(self) -> None:
        self._closed = True
        with self._all_lock:
            conns, self._all = self._all, []
        if self._shared is not None:
            conns.append(self._shared)
            self._shared = None
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    # --- sessions ------------------------------------------------------------------------------

    def session_create(self, token_hash: bytes, record: SessionRecord, tag: str) -> None:
        r = record
        row = (
            token_hash,
            r.id,
            r.user_id,
            r.created_at,
            r.authenticated_at,
            r.last_seen_at,
            r.expires_at,
            r.absolute_expires_at,
            int(r.remember),
            dump_json(r.metadata),
            dump_json(r.data),
        )
        with translate_errors("sqlite"), self.connection() as conn:
            conn.execute(self._sql_insert, row)
        self._creates += 1
        if self._creates % _PURGE_EVERY == 0:
            self.purge_expired(record.created_at)

    def session_get(self, token_hash: bytes, tag: str, touch: TouchSpec) -> SessionRecord | None:
        # The hot path, kept flat (in context every Python call is ~3% of a get): this thread's
        # own cursor (a new cursor per execute costs 0.3 µs), no ``with`` block and no closed
        # check: the first use on a thread (no cursor yet) and a closed store both land in
        # _get_slowly through the exception. fetchone() of a primary-key lookup steps the
        # statement to its end, which resets it: the cursor holds no read snapshot between calls.
        try:
            row = self._local.cursor.execute(self._sql_get, (token_hash,)).fetchone()
        except Exception as exc:
            return self._get_slowly(token_hash, touch, exc)
        if row is None:
            return None
        record = from_row(row)
        if liveness(record, touch) == LIVE:
            return record
        with self._errors:
            return self._settle(self._local.cursor.connection, token_hash, record, touch)

    def _get_slowly(
        self, token_hash: bytes, touch: TouchSpec, exc: Exception
    ) -> SessionRecord | None:
        """``session_get`` when the hot path raised: a thread's first read, or a real error."""
        if self._closed:
            raise StoreUnavailable("sqlite: the store is closed") from exc
        if not isinstance(exc, AttributeError):  # AttributeError: no cursor on this thread yet
            self._errors.reraise(exc)
        with self._errors, self.connection() as conn:
            if not self._private:
                self._local.cursor = conn.cursor()
            row = conn.execute(self._sql_get, (token_hash,)).fetchone()
            return None if row is None else self._settle(conn, token_hash, from_row(row), touch)

    def _settle(
        self, conn: sqlite3.Connection, token_hash: bytes, record: SessionRecord, touch: TouchSpec
    ) -> SessionRecord | None:
        """A read's outcome off the hot path: live, dead, or renewed by the compare-and-set."""
        state = liveness(record, touch)
        if state == DEAD:
            return None
        if state == LIVE:
            return record
        return cas_touch(
            conn, self._sql_touch, self._sql_get, token_hash=token_hash, record=record, touch=touch
        )

    def session_rotate(
        self, old_hash: bytes, new_hash: bytes, tag: str, touch: TouchSpec, auth_time: float | None
    ) -> SessionRecord | None:
        with self.transaction() as conn:
            row = conn.execute(self._sql_get, (old_hash,)).fetchone()
            if row is None:
                return None
            record = from_row(row)
            if not is_live(record, touch):
                return None
            moved = rotated(record, touch, auth_time)
            conn.execute(
                f"UPDATE {self.table('sessions')} SET token_hash = ?, last_seen_at = ?, "
                "expires_at = ?, authenticated_at = ? WHERE token_hash = ?",
                (new_hash, moved.last_seen_at, moved.expires_at, moved.authenticated_at, old_hash),
            )
        return moved

    def session_update(
        self, token_hash: bytes, tag: str, patch: Mapping[str, Any], touch: TouchSpec
    ) -> SessionRecord | None:
        with self.transaction() as conn:
            row = conn.execute(self._sql_get, (token_hash,)).fetchone()
            if row is None:
                return None
            record = from_row(row)
            if not is_live(record, touch):
                return None
            data = check_json(merge_data(record.data, patch), MAX_DATA_BYTES, "data")
            conn.execute(
                f"UPDATE {self.table('sessions')} SET data = ? WHERE token_hash = ?",
                (dump_json(data), token_hash),
            )
        return record._replace(data=data)

    def session_revoke(self, token_hash: bytes, tag: str) -> bool:
        with translate_errors("sqlite"), self.connection() as conn:
            sql = f"DELETE FROM {self.table('sessions')} WHERE token_hash = ?"
            return bool(conn.execute(sql, (token_hash,)).rowcount)

    def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool:
        with translate_errors("sqlite"), self.connection() as conn:
            sql = f"DELETE FROM {self.table('sessions')} WHERE user_id = ? AND id = ?"
            return bool(conn.execute(sql, (user_id, public_id)).rowcount)

    def session_revoke_user(self, user_id: str, tag: str, keep_hash: bytes | None) -> int:
        with translate_errors("sqlite"), self.connection() as conn:
            sql = f"DELETE FROM {self.table('sessions')} WHERE user_id = ? AND token_hash IS NOT ?"
            return int(conn.execute(sql, (user_id, keep_hash)).rowcount)

    def session_list(self, user_id: str, tag: str, now: float) -> list[SessionRecord]:
        with translate_errors("sqlite"), self.connection() as conn:
            sql = (
                f"SELECT {SESSION_COLUMNS} FROM {self.table('sessions')} "
                "WHERE user_id = ? AND expires_at > ? ORDER BY created_at"
            )
            return [from_row(row) for row in conn.execute(sql, (user_id, now))]


class AsyncSQLiteStore:
    """Runs a :class:`SQLiteStore` (``self.sync``) in worker threads; SQLite has no async API."""

    kind: Literal["sqlite"] = "sqlite"

    def __init__(self, sync: SQLiteStore) -> None:
        self.sync = sync
        self.prefix = sync.prefix
        self.path = sync.path

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    def table(self, name: str) -> str:
        return self.sync.table(name)

    def errors(self) -> contextlib.AbstractContextManager[None]:
        return translate_errors("sqlite")

    async def setup(self) -> None:
        await self.run(self.sync.setup)

    async def close(self) -> None:
        self.sync.close()

    async def purge_expired(self, now: float | None = None) -> int:
        return await self.run(self.sync.purge_expired, purge_time(now))

    async def session_create(self, token_hash: bytes, record: SessionRecord, tag: str) -> None:
        await self.run(self.sync.session_create, token_hash, record, tag)

    async def session_get(
        self, token_hash: bytes, tag: str, touch: TouchSpec
    ) -> SessionRecord | None:
        return await self.run(self.sync.session_get, token_hash, tag, touch)

    async def session_rotate(
        self, old_hash: bytes, new_hash: bytes, tag: str, touch: TouchSpec, auth_time: float | None
    ) -> SessionRecord | None:
        return await self.run(self.sync.session_rotate, old_hash, new_hash, tag, touch, auth_time)

    async def session_update(
        self, token_hash: bytes, tag: str, patch: Mapping[str, Any], touch: TouchSpec
    ) -> SessionRecord | None:
        return await self.run(self.sync.session_update, token_hash, tag, patch, touch)

    async def session_revoke(self, token_hash: bytes, tag: str) -> bool:
        return await self.run(self.sync.session_revoke, token_hash, tag)

    async def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool:
        return await self.run(self.sync.session_revoke_id, user_id, public_id, tag)

    async def session_revoke_user(self, user_id: str, tag: str, keep_hash: bytes | None) -> int:
        return await self.run(self.sync.session_revoke_user, user_id, tag, keep_hash)

    async def session_list(self, user_id: str, tag: str, now: float) -> list[SessionRecord]:
        return await self.run(self.sync.session_list, user_id, tag, now)
