# GENERATED from gatepass/stores/redis/_async/store.py by scripts/unasync.py: do not edit.
# Change the asyncio source, then run `python scripts/unasync.py`.
"""``redis://host:port/db``, ``rediss://...``, ``redis+cluster://host:port``: the Redis store.

One class composed of one part per concern (sessions, refresh families, revocations) over one
client; the layout and the scripts are in :mod:`gatepass.stores.redis.keys`. Sessions and
families expire by native TTL (``purges_itself``); ``purge_expired`` only prunes per-user
indexes of entries Redis already dropped and the revocation index of expired members.
"""

from __future__ import annotations

import time

from gatepass.stores.limits import point_in_time
from gatepass.stores.redis._sync.families import RedisFamilies
from gatepass.stores.redis._sync.proofs import RedisProofs
from gatepass.stores.redis._sync.revocations import RedisRevocations
from gatepass.stores.redis._sync.sessions import RedisSessions


class RedisStore(RedisSessions, RedisFamilies, RedisRevocations, RedisProofs):
    """Every protocol of :mod:`gatepass.stores.protocols` on one Redis (or Redis Cluster)."""

    def purge_expired(
        self, now: float | None = None, *, sessions_before: float | None = None
    ) -> int:
        when = time.time() if now is None else point_in_time(now, "purge time")
        if sessions_before is not None:
            point_in_time(sessions_before, "purge time")  # sessions expire by their own TTL
        return self.prune_indexes() + self.purge_revocations(when)
