"""Access-token revocations in SQLite, and their change feed: a polled sequence number.

Every write bumps a counter row (``kind = '#'``) in the same ``BEGIN IMMEDIATE`` transaction and
stamps the entry with it, so another process polls ``WHERE seq > ?``: an index range scan that
returns nothing when nothing changed.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time

from gatepass.stores.records import RevocationEntry, RevocationLookup, entry
from gatepass.stores.sqlite.connection import SQLiteConnections
from gatepass.stores.sqlrows import lookup_from_rows, lookup_sql

_COUNTER_EXPIRES = 1e300  # the counter row never expires


def revocation_ddl(db: SQLiteConnections) -> list[str]:
    t = db.table("revocations")
    return [
        f"""CREATE TABLE IF NOT EXISTS {t} (
            kind TEXT NOT NULL, key TEXT NOT NULL, value INTEGER NOT NULL,
            expires_at REAL NOT NULL, seq INTEGER NOT NULL,
            PRIMARY KEY (kind, key)) WITHOUT ROWID""",
        f"CREATE INDEX IF NOT EXISTS {db.index('revocations_seq')} ON {t} (seq)",
        f"CREATE INDEX IF NOT EXISTS {db.index('revocations_exp')} ON {t} (expires_at)",
    ]


class SQLiteRevocations(SQLiteConnections):
    """:class:`~gatepass.stores.protocols.RevocationStore` on SQLite."""

    #: Seconds between two polls of the change counter: the propagation bound between processes.
    poll_interval = 0.05

    def revocation_add(self, entry: RevocationEntry, now: float) -> None:
        t = self.table("revocations")
        with self.transaction() as conn:
            seq = conn.execute(
                f"INSERT INTO {t} (kind, key, value, expires_at, seq) VALUES ('#', 'seq', 1, ?, 0) "
                "ON CONFLICT (kind, key) DO UPDATE SET value = value + 1 RETURNING value",
                (_COUNTER_EXPIRES,),
            ).fetchall()[0][0]
            conn.execute(
                f"INSERT INTO {t} AS r (kind, key, value, expires_at, seq) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET value = max(r.value, excluded.value), "
                "expires_at = max(r.expires_at, excluded.expires_at), seq = excluded.seq",
                (entry.kind, entry.key, entry.value, entry.expires_at, seq),
            )

    def revocation_lookup(
        self, jti: str, sid: str | None, user: str, now: float
    ) -> RevocationLookup:
        sql = lookup_sql(self.table("revocations"), "?")
        with self.errors, self.connection() as conn:
            rows = conn.execute(sql, (now, jti, sid or "", user)).fetchall()
        if sid is None:
            rows = [row for row in rows if row[0] != "sid"]
        return lookup_from_rows(rows)

    def revocation_snapshot(self, now: float) -> list[RevocationEntry]:
        return self.snapshot_since(now)[0]

    def snapshot_since(self, now: float) -> tuple[list[RevocationEntry], int]:
        """Every live entry, and the change counter to poll from."""
        t = self.table("revocations")
        with self.errors, self.connection() as conn:
            counter = conn.execute(f"SELECT value FROM {t} WHERE kind = '#'").fetchone()
            rows = conn.execute(
                f"SELECT kind, key, value, expires_at FROM {t} "
                "WHERE kind != '#' AND expires_at > ?",
                (now,),
            ).fetchall()
        return [entry(*row) for row in rows], 0 if counter is None else int(counter[0])

    def revocation_feed(self) -> SQLiteFeed:
        return SQLiteFeed(self)

    def purge_revocations(self, before: float) -> int:
        # The change counter row ('#') never expires.
        return self.delete_expired(self.table("revocations"), "kind, key", before, "kind != '#'")


class SQLiteFeed:
    """Polls the change counter on a connection of its own (the shared one for ``:memory:``)."""

    listener: str | None = None

    def __init__(self, store: SQLiteRevocations) -> None:
        self.store = store
        self._since = 0
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def start(self, now: float) -> list[RevocationEntry]:
        entries, self._since = self.store.snapshot_since(now)
        if not self.store.private:
            self._conn = self.store.connect()
        return entries

    def changes(self, timeout: float) -> list[RevocationEntry]:
        time.sleep(min(timeout, self.store.poll_interval))
        t = self.store.table("revocations")
        sql = f"SELECT kind, key, value, expires_at, seq FROM {t} WHERE seq > ? ORDER BY seq"
        with self._lock, self.store.errors, contextlib.ExitStack() as stack:
            conn = self._conn or stack.enter_context(self.store.connection())
            rows = conn.execute(sql, (self._since,)).fetchall()
        self._since = max([self._since, *(int(row[4]) for row in rows)])
        return [entry(*row[:4]) for row in rows if row[0] != "#"]

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
