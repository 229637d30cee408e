# GENERATED from gatepass/stores/postgres/_async/revocations.py by scripts/unasync.py: do not edit.
# Change the asyncio source, then run `python scripts/unasync.py`.
"""Access-token revocations in PostgreSQL, and their change feed over ``LISTEN``/``NOTIFY``.

A write is one statement (an upsert and ``pg_notify`` in one CTE), so the notification is sent
exactly when the row commits.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from gatepass.stores.postgres._sync.client import PostgresClient
from gatepass.stores.records import RevocationEntry, RevocationLookup, entry
from gatepass.stores.sqlrows import lookup_from_rows

#: The feed proves its connection alive at least this often (seconds): ``SELECT 1``.
HEARTBEAT = 1.0


class PostgresRevocations(PostgresClient):
    """:class:`~gatepass.stores.protocols.RevocationStore` on PostgreSQL."""

    def revocation_add(self, entry: RevocationEntry, now: float) -> None:
        args = (entry.kind, entry.key, entry.value, entry.expires_at, self.sql.channel)
        self.execute(self.sql.revocation_add, args)

    def revocation_lookup(
        self, jti: str, sid: str | None, user: str, now: float
    ) -> RevocationLookup:
        rows: Any = self.fetch(self.sql.revocation_lookup, (now, jti, sid or "", user))
        if sid is None:
            rows = [row for row in rows if row[0] != "sid"]
        return lookup_from_rows(rows)

    def revocation_snapshot(self, now: float) -> list[RevocationEntry]:
        rows: Any = self.fetch(self.sql.revocation_snapshot, (now,))
        return [entry(*row) for row in rows]

    def revocation_feed(self) -> PostgresFeed:
        return PostgresFeed(self)

    def purge_revocations(self, before: float) -> int:
        return self.execute(self.sql.revocation_purge, (before,))


class PostgresFeed:
    """``LISTEN`` on a connection of its own (outside the pool: it must stay on one backend)."""

    def __init__(self, store: PostgresRevocations) -> None:
        self.store = store
        self.listener: str | None = None
        self._conn: Any = None
        self._next_ping = 0.0

    def start(self, now: float) -> list[RevocationEntry]:
        from psycopg import sql  # noqa: PLC0415

        store = self.store
        with store.errors:
            self._conn = store.connect()
            self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(store.sql.channel)))
        self.listener = str(self._conn.info.backend_pid)
        self._next_ping = 0.0
        return store.revocation_snapshot(now)

    def changes(self, timeout: float) -> list[RevocationEntry] | None:
        found: list[RevocationEntry] = []
        alive = False
        with self.store.errors:
            # Back at the first notification (the ones queued behind it come with it): waiting
            # out the timeout would delay every change by up to ``timeout``.
            wait = timeout
            while True:
                got = False
                for notify in self._conn.notifies(timeout=wait, stop_after=1):
                    got = alive = True
                    # Not ours when it does not decode: ignored (a reload would not help either).
                    with contextlib.suppress(ValueError):
                        found.append(RevocationEntry.decode(notify.payload))
                if not got:
                    break
                wait = 0.0  # drain what has already arrived, without waiting
            if time.monotonic() >= self._next_ping:
                self._conn.execute("SELECT 1")  # proves the connection alive
                self._next_ping = time.monotonic() + HEARTBEAT
                alive = True
        return found if alive else None

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()
