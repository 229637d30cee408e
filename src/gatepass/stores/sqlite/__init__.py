"""``sqlite:///path/to.db``: the embedded default, safe across threads and processes.

One store class composed of one part per concern (sessions, refresh families, revocations) over
shared connection handling (:mod:`gatepass.stores.sqlite.connection`). Every read is one
statement; every write is a compare-and-set statement or a short ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import time

from gatepass.stores.limits import point_in_time
from gatepass.stores.sqlite.families import SQLiteFamilies, family_ddl, family_upgrade
from gatepass.stores.sqlite.proofs import SQLiteProofs, proof_ddl
from gatepass.stores.sqlite.revocations import SQLiteRevocations, revocation_ddl
from gatepass.stores.sqlite.sessions import SQLiteSessions, session_ddl
from gatepass.stores.threaded import ThreadedAsyncStore


class SQLiteStore(SQLiteSessions, SQLiteFamilies, SQLiteRevocations, SQLiteProofs):
    """Every protocol of :mod:`gatepass.stores.protocols` on one SQLite database."""

    def setup(self) -> None:
        statements = [
            *session_ddl(self),
            *family_ddl(self),
            *revocation_ddl(self),
            *proof_ddl(self),
        ]
        with self.transaction() as conn:
            for statement in statements:
                conn.execute(statement)
            family_upgrade(self, conn)

    def purge_expired(
        self, now: float | None = None, *, sessions_before: float | None = None
    ) -> int:
        when = time.time() if now is None else point_in_time(now, "purge time")
        cut = when if sessions_before is None else point_in_time(sessions_before, "purge time")
        removed = self.delete_expired(self.table("sessions"), "token_hash", cut)
        removed += self.purge_families(when) + self.purge_revocations(when)
        return removed + self.purge_proofs(when)


class AsyncSQLiteStore(ThreadedAsyncStore[SQLiteStore]):
    """Runs a :class:`SQLiteStore` (``self.sync``) in worker threads; SQLite has no async API."""

    def __init__(self, sync: SQLiteStore) -> None:
        super().__init__(sync)
        self.path = sync.path

    def table(self, name: str) -> str:
        return self.sync.table(name)


__all__ = ["AsyncSQLiteStore", "SQLiteStore"]
