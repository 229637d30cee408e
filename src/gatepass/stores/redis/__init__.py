"""The Redis store, blocking and asyncio (the blocking modules are generated: ``_sync``)."""

from __future__ import annotations

from gatepass.stores.redis._async.store import AsyncRedisStore
from gatepass.stores.redis._sync.store import RedisStore

__all__ = ["AsyncRedisStore", "RedisStore"]
