"""DPoP proofs already accepted, in PostgreSQL: one ``INSERT ... ON CONFLICT DO NOTHING``."""

from __future__ import annotations

from gatepass.stores.postgres._async.client import AsyncPostgresClient
from gatepass.stores.postgres.sql import PURGE_BATCH


class AsyncPostgresProofs(AsyncPostgresClient):
    """:class:`~gatepass.stores.protocols.AsyncProofStore` on PostgreSQL: the primary key makes
    the insert the atomic "record unless present" for every process on the database."""

    async def proof_add(self, proof_id: str, expires_at: float) -> bool:
        return await self.execute(self.sql.proof_add, (proof_id, expires_at)) == 1

    async def purge_proofs(self, before: float) -> int:
        removed = 0
        while True:
            count = await self.execute(self.sql.proof_purge, (before,))
            removed += count
            if count < PURGE_BATCH:
                return removed
