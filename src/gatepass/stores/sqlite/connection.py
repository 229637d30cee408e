"""SQLite connections: one per thread, WAL, a busy timeout, ``BEGIN IMMEDIATE`` transactions.

A thread's connection is closed when the thread ends (a finalizer on an object only that
thread's ``threading.local`` holds), so thread-per-request servers do not pile up connections
and their file descriptors (three each in WAL mode: database, ``-wal``, ``-shm``); ``close()``
closes the connections of the threads still alive.

WAL journal (readers never block the writer), ``synchronous=NORMAL`` by default (a committed
transaction survives a crash of the process; ``?synchronous=full`` also survives power loss), and
a busy timeout so that concurrent writers queue instead of failing. ``:memory:`` is a private
database held by one connection behind a lock.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator

from gatepass.errors import ConfigurationError, StoreUnavailable
from gatepass.stores.driver_errors import translate_errors
from gatepass.stores.limits import MAX_WAIT_SECONDS, check_seconds
from gatepass.stores.sqlrows import check_identifier

_SYNCHRONOUS = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})
#: Rows per purge transaction: the write lock is held for one batch (tens of ms), not the purge.
_PURGE_BATCH = 5000
#: The longest pause between purge batches. SQLite has no queue of waiting writers: each one
#: polls from its busy handler, sleeping at most 100 ms between tries, so a pause this long lets
#: every waiting writer in, whatever the phase of its sleeps.
_PURGE_PAUSE = 0.1


class _Owner:
    """Held by one thread's ``threading.local`` only: when the thread ends, its local state is
    dropped, this object with it, and the finalizer closes the thread's connection."""

    __slots__ = ("__weakref__", "close")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.close = weakref.finalize(self, _close_quietly, conn)


def _close_quietly(conn: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):
        conn.close()


class _ThreadState(threading.local):
    """This thread's connection, its reusable cursor and their owner (None until the thread's
    first call)."""

    conn: sqlite3.Connection | None = None
    cursor: sqlite3.Cursor | None = None
    owner: _Owner | None = None


class SQLiteConnections:
    """The connection handling every SQLite concern shares (see the module docstring)."""

    kind = "sqlite"
    purges_itself = False

    def __init__(
        self,
        path: str,
        *,
        prefix: str = "gatepass_",
        busy_timeout: float = 5.0,
        synchronous: str = "NORMAL",
    ) -> None:
        self.path = path
        self.private = path == ":memory:"
        self.prefix = check_identifier(prefix, "table prefix", allow_empty=True)
        self.busy_timeout = check_seconds(
            busy_timeout, "busy_timeout", allow_zero=True, maximum=MAX_WAIT_SECONDS
        )
        if not isinstance(synchronous, str) or synchronous.upper() not in _SYNCHRONOUS:
            raise ConfigurationError(
                f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}"
            )
        self.synchronous = synchronous.upper()
        self.errors = translate_errors("sqlite")
        self._thread = _ThreadState()
        #: The owners of the live threads' connections (a thread that ends drops its own).
        self._owners: weakref.WeakSet[_Owner] = weakref.WeakSet()
        self._owners_lock = threading.Lock()
        self._shared: sqlite3.Connection | None = None
        self._shared_lock = threading.RLock()
        self._closed = False

    def table(self, name: str) -> str:
        """The quoted table name (``"gatepass_sessions"`` for ``"sessions"``)."""
        return f'"{self.prefix}{check_identifier(name, "table name")}"'

    def index(self, name: str) -> str:
        return f'"{self.prefix}{check_identifier(name, "index name")}"'

    def _check_folder(self) -> None:
        """A database in a directory that does not exist is a configuration error, named as
        such (SQLite itself only says "unable to open database file")."""
        folder = os.path.dirname(os.path.abspath(self.path))
        if not self.private and not os.path.isdir(folder):
            raise ConfigurationError(
                f"sqlite: cannot open {self.path!r}: the directory {folder!r} does not exist"
            )

    def connect(self) -> sqlite3.Connection:
        """A new connection with gatepass's settings (autocommit; WAL; busy timeout)."""
        self._check_folder()
        with self.errors:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            if not self.private:
                self._use_wal(conn)
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            return conn

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL (persistent: a file already in WAL needs no write).

        Several first connections switching a fresh file at once deadlock on the lock upgrade,
        and SQLite answers SQLITE_BUSY at once instead of calling the busy handler; retried
        here, with a short backoff, for as long as the busy timeout.
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
        if self.private:
            with self._shared_lock:
                if self._shared is None:
                    self._shared = self.connect()
                yield self._shared
            return
        yield self._thread.conn or self._new_thread_connection()

    def _new_thread_connection(self) -> sqlite3.Connection:
        conn = self.connect()
        owner = _Owner(conn)
        with self._owners_lock:
            if self._closed:  # close() ran meanwhile: it would not see this connection
                owner.close()
                raise StoreUnavailable("sqlite: the store is closed")
            self._owners.add(owner)
        state = self._thread
        state.conn, state.cursor, state.owner = conn, conn.cursor(), owner
        return conn

    def thread_cursor(self) -> sqlite3.Cursor:
        """This thread's reusable cursor (file databases only): a new cursor per statement
        costs 0.3 µs, a twentieth of a ``get`` (``bench/bench_sessions.py``)."""
        cursor = self._thread.cursor
        if cursor is None:
            if self._closed:
                raise StoreUnavailable("sqlite: the store is closed")
            self._new_thread_connection()
            cursor = self._thread.cursor
            assert cursor is not None
        return cursor

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` (take the write lock first: no upgrade deadlocks), then COMMIT."""
        with self.errors, self.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def execute(self, sql: str, args: tuple[object, ...] = ()) -> sqlite3.Cursor:
        """One autocommit statement on this thread's connection, errors translated."""
        with self.errors, self.connection() as conn:
            return conn.execute(sql, args)

    def delete_expired(self, table: str, key: str, when: float, condition: str = "") -> int:
        """Delete the rows of ``table`` whose ``expires_at <= when`` (and ``condition``),
        ``_PURGE_BATCH`` per transaction; ``key`` is its primary key column(s).

        One unbounded DELETE of a large backlog would hold the write lock longer than other
        writers' busy timeout (``StoreUnavailable`` for them). Each batch picks its rows through
        the expiry index and deletes them by primary key; between batches the lock is free for
        as long as the batch held it (at most ``_PURGE_PAUSE``), so waiting writers get in.
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
        with self._owners_lock:
            self._closed = True
            owners = list(self._owners)
        for owner in owners:
            owner.close()
        with self._shared_lock:
            shared, self._shared = self._shared, None
        if shared is not None:
            _close_quietly(shared)
