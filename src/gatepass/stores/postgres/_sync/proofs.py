# GENERATED from gatepass/stores/postgres/_async/proofs.py by scripts/unasync.py: do not edit.
# Change the asyncio source, then run `python scripts/unasync.py`.
"""DPoP proofs already accepted, in PostgreSQL: one ``INSERT ... ON CONFLICT DO NOTHING``."""

from __future__ import annotations

from gatepass.stores.postgres._sync.client import PostgresClient
from gatepass.stores.postgres.sql import PURGE_BATCH


class PostgresProofs(PostgresClient):
    """:class:`~gatepass.stores.protocols.ProofStore` on PostgreSQL: the primary key makes
    the insert the atomic "record unless present" for every process on the database."""

    def proof_add(self, proof_id: str, expires_at: float) -> bool:
        return self.execute(self.sql.proof_add, (proof_id, expires_at)) == 1

    def purge_proofs(self, before: float) -> int:
        removed = 0
        while True:
            count = self.execute(self.sql.proof_purge, (before,))
            removed += count
            if count < PURGE_BATCH:
                return removed
