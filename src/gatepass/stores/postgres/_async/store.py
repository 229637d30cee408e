"""``postgresql://...`` (or ``postgres://``): the PostgreSQL store.

One class composed of one part per concern (sessions, refresh families, revocations) over one
``psycopg_pool`` pool; the schema and statements are in :mod:`gatepass.stores.postgres.sql`.
"""

from __future__ import annotations

import time

from gatepass.stores.limits import point_in_time
from gatepass.stores.postgres._async.families import AsyncPostgresFamilies
from gatepass.stores.postgres._async.proofs import AsyncPostgresProofs
from gatepass.stores.postgres._async.revocations import AsyncPostgresRevocations
from gatepass.stores.postgres._async.sessions import AsyncPostgresSessions


class AsyncPostgresStore(
    AsyncPostgresSessions, AsyncPostgresFamilies, AsyncPostgresRevocations, AsyncPostgresProofs
):
    """Every protocol of :mod:`gatepass.stores.protocols` on one PostgreSQL schema."""

    async def purge_expired(
        self, now: float | None = None, *, sessions_before: float | None = None
    ) -> int:
        when = time.time() if now is None else point_in_time(now, "purge time")
        cut = when if sessions_before is None else point_in_time(sessions_before, "purge time")
        removed = await self.purge_sessions(cut)
        removed += await self.purge_families(when) + await self.purge_revocations(when)
        return removed + await self.purge_proofs(when)
