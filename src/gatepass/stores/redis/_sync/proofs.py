# GENERATED from gatepass/stores/redis/_async/proofs.py by scripts/unasync.py: do not edit.
# Change the asyncio source, then run `python scripts/unasync.py`.
"""DPoP proofs already accepted, in Redis: one ``SET NX PX`` per proof, expired by Redis."""

from __future__ import annotations

import time

from gatepass.stores.redis._sync.client import RedisClient
from gatepass.stores.redis.keys import ttl_ms


class RedisProofs(RedisClient):
    """:class:`~gatepass.stores.protocols.ProofStore` on Redis (or Redis Cluster).

    ``SET key 1 NX PX ttl`` is the atomic "record unless present" in one round trip, and the TTL
    is the purge: an entry lives until its proof would be refused as too old. The TTL is relative,
    so only this process's clock (the verifier's) matters, not the server's.
    """

    def proof_add(self, proof_id: str, expires_at: float) -> bool:
        key = self.keys.proof(proof_id)
        ttl = ttl_ms(expires_at, time.time())
        with self.errors:
            return bool(self.client.set(key, b"1", nx=True, px=ttl))
