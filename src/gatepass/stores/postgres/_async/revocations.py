"""Access-token revocations in PostgreSQL, and their change feed over ``LISTEN``/``NOTIFY``.

A write is one statement (an upsert and ``pg_notify`` in one CTE), so the notification is sent
exactly when the row commits.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from gatepass.stores.postgres._async.client import AsyncPostgresClient
from gatepass.stores.records import RevocationEntry, RevocationLookup, entry
from gatepass.stores.sqlrows import lookup_from_rows

#: The feed proves its connection alive at least this often (seconds): ``SELECT 1``.
HEARTBEAT = 1.0


class AsyncPostgresRevocations(AsyncPostgresClient):
    """:class:`~gatepass.stores.protocols.AsyncRevocationStore` on PostgreSQL."""

    async def revocation_add(self, entry: RevocationEntry, now: float) -> None:
        args = (entry.kind, entry.key, entry.value, entry.expires_at, self.sql.channel)
        await self.execute(self.sql.revocation_add, args)

    async def revocation_lookup(
        self, jti: str, sid: str | None, user: str, now: float
    ) -> RevocationLookup:
        rows: Any = await self.fetch(self.sql.revocation_lookup, (now, jti, sid or "", user))
        if sid is None:
            rows = [row for row in rows if row[0] != "sid"]
        return lookup_from_rows(rows)

    async def revocation_snapshot(self, now: float) -> list[RevocationEntry]:
        rows: Any = await self.fetch(self.sql.revocation_snapshot, (now,))
        return [entry(*row) for row in rows]

    def revocation_feed(self) -> AsyncPostgresFeed:
        return AsyncPostgresFeed(self)

    async def purge_revocations(self, before: float) -> int:
        return await self.execute(self.sql.revocation_purge, (before,))


class AsyncPostgresFeed:
    """``LISTEN`` on a connection of its own (outside the pool: it must stay on one backend)."""

    def __init__(self, store: AsyncPostgresRevocations) -> None:
        self.store = store
        self.listener: str | None = None
        self._conn: Any = None
        self._next_ping = 0.0

    async def start(self, now: float) -> list[RevocationEntry]:
        from psycopg import sql  # noqa: PLC0415

        store = self.store
        with store.errors:
            self._conn = await store.connect()
            await self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(store.sql.channel)))
        self.listener = str(self._conn.info.backend_pid)
        self._next_ping = 0.0
        return await store.revocation_snapshot(now)

    async def changes(self, timeout: float) -> list[RevocationEntry] | None:
        found: list[RevocationEntry] = []
        alive = False
        with self.store.errors:
            # Back at the first notification (the ones queued behind it come with it): waiting
            # out the timeout would delay every change by up to ``timeout``.
            wait = timeout
            while True:
                got = False
                async for notify in self._conn.notifies(timeout=wait, stop_after=1):
                    got = alive = True
                    # Not ours when it does not decode: ignored (a reload would not help either).
                    with contextlib.suppress(ValueError):
                        found.append(RevocationEntry.decode(notify.payload))
                if not got:
                    break
                wait = 0.0  # drain what has already arrived, without waiting
            if time.monotonic() >= self._next_ping:
                await self._conn.execute("SELECT 1")  # proves the connection alive
                self._next_ping = time.monotonic() + HEARTBEAT
                alive = True
        return found if alive else None

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()
