# GENERATED from gatepass/stores/postgres/_async/store.py by scripts/unasync.py: do not edit.
# Change the asyncio source, then run `python scripts/unasync.py`.
"""``postgresql://...`` (or ``postgres://``): the PostgreSQL store.

One class composed of one part per concern (sessions, refresh families, revocations) over one
``psycopg_pool`` pool; the schema and statements are in :mod:`gatepass.stores.postgres.sql`.
"""

from __future__ import annotations

import time

from gatepass.stores.limits import point_in_time
from gatepass.stores.postgres._sync.families import PostgresFamilies
from gatepass.stores.postgres._sync.proofs import PostgresProofs
from gatepass.stores.postgres._sync.revocations import PostgresRevocations
from gatepass.stores.postgres._sync.sessions import PostgresSessions


class PostgresStore(PostgresSessions, PostgresFamilies, PostgresRevocations, PostgresProofs):
    """Every protocol of :mod:`gatepass.stores.protocols` on one PostgreSQL schema."""

    def purge_expired(
        self, now: float | None = None, *, sessions_before: float | None = None
    ) -> int:
        when = time.time() if now is None else point_in_time(now, "purge time")
        cut = when if sessions_before is None else point_in_time(sessions_before, "purge time")
        removed = self.purge_sessions(cut)
        removed += self.purge_families(when) + self.purge_revocations(when)
        return removed + self.purge_proofs(when)
