"""``redis://host:port/db``, ``rediss://...``, ``redis+cluster://host:port``: the Redis store.

One class composed of one part per concern (sessions, refresh families, revocations) over one
client; the layout and the scripts are in :mod:`gatepass.stores.redis.keys`. Sessions and
families expire by native TTL (``purges_itself``); ``purge_expired`` only prunes per-user
indexes of entries Redis already dropped and the revocation index of expired members.
"""

from __future__ import annotations

import time

from gatepass.stores.limits import point_in_time
from gatepass.stores.redis._async.families import AsyncRedisFamilies
from gatepass.stores.redis._async.proofs import AsyncRedisProofs
from gatepass.stores.redis._async.revocations import AsyncRedisRevocations
from gatepass.stores.redis._async.sessions import AsyncRedisSessions


class AsyncRedisStore(
    AsyncRedisSessions, AsyncRedisFamilies, AsyncRedisRevocations, AsyncRedisProofs
):
    """Every protocol of :mod:`gatepass.stores.protocols` on one Redis (or Redis Cluster)."""

    async def purge_expired(
        self, now: float | None = None, *, sessions_before: float | None = None
    ) -> int:
        when = time.time() if now is None else point_in_time(now, "purge time")
        if sessions_before is not None:
            point_in_time(sessions_before, "purge time")  # sessions expire by their own TTL
        return await self.prune_indexes() + await self.purge_revocations(when)
