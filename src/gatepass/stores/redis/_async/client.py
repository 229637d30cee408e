"""The Redis connection every Redis concern shares: one client (or Cluster client), its error
translation and the compare-and-set scripts, registered with redis-py (EVALSHA, loaded on
NOSCRIPT by redis-py itself)."""

from __future__ import annotations

from typing import Any

from gatepass.errors import MissingDependency
from gatepass.stores.driver_errors import translate_errors
from gatepass.stores.redis.keys import SCRIPTS, Keys
from gatepass.stores.urls import redis_parts

#: Connections per pool (per node on a cluster). When all are busy, a command waits up to
#: ``pool_timeout`` seconds (URL option, default 5) for one, then raises ``StoreUnavailable``:
#: redis-py's default pool would fail the 101st concurrent command at once.
_MAX_CONNECTIONS = 100


def _import_redis() -> None:
    try:
        import redis  # noqa: F401, PLC0415 - optional dependency, imported on first use
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MissingDependency(
            "the redis store needs redis-py: pip install 'gatepass[redis]'"
        ) from exc


def _retry() -> Any:
    """One quick retry (a pooled connection may be stale after a restart), then fail closed."""
    from redis.asyncio.retry import Retry  # noqa: PLC0415
    from redis.backoff import ExponentialBackoff  # noqa: PLC0415

    return Retry(ExponentialBackoff(cap=0.05, base=0.01), 1)


class AsyncRedisClient:
    """URL options, the client, the scripts. ``client`` is ``redis.asyncio.Redis`` (or its
    ``RedisCluster``), ``decode_responses=False``."""

    kind = "redis"
    #: Sessions and families expire by native TTL; only per-user indexes and the revocation
    #: index need pruning, which ``purge_expired`` does on demand.
    purges_itself = True

    def __init__(self, url: str) -> None:
        _import_redis()
        self.url = url
        parts = redis_parts(url)
        self.driver_url, self.prefix, self.cluster, self.pool_timeout, self.socket_timeout = parts
        self.keys = Keys(self.prefix)
        self.errors = translate_errors("redis")
        with self.errors:
            self.client: Any = self._connect()
        self.scripts = {name: self.client.register_script(src) for name, src in SCRIPTS.items()}

    def _connect(self) -> Any:
        from redis.asyncio import BlockingConnectionPool, Redis  # noqa: PLC0415
        from redis.asyncio.cluster import RedisCluster  # noqa: PLC0415

        if self.cluster:
            # The asyncio cluster client keeps its own per-node connection lists (at most
            # max_connections each, then MaxConnectionsError: StoreUnavailable).
            # The blocking one takes a pool class: a blocking pool per node, as for one server.
            return RedisCluster.from_url(self.driver_url, retry=_retry())  # async-only
            # sync-only: import functools
            # sync-only: node_pool = functools.partial(
            # sync-only:     BlockingConnectionPool,
            # sync-only:     timeout=self.pool_timeout,
            # sync-only:     max_connections=_MAX_CONNECTIONS,
            # sync-only: )
            # sync-only: return RedisCluster.from_url(
            # sync-only:     self.driver_url, retry=_retry(), connection_pool_class=node_pool
            # sync-only: )
        pool = BlockingConnectionPool.from_url(
            self.driver_url,
            retry=_retry(),
            timeout=self.pool_timeout,
            max_connections=_MAX_CONNECTIONS,
        )
        return Redis.from_pool(pool)  # closing the client closes the pool

    async def run_script(self, name: str, keys: list[Any], args: list[Any]) -> Any:
        """Run one of :data:`~gatepass.stores.redis.keys.SCRIPTS`, errors translated."""
        with self.errors:
            return await self.scripts[name](keys=keys, args=args)

    async def setup(self) -> None:
        """Redis needs no schema: checks that the server answers and loads the scripts (on
        every primary of a cluster), so that no first write pays for a NOSCRIPT round trip."""
        with self.errors:
            await self.client.ping()
            for source in SCRIPTS.values():
                await self.client.script_load(source)

    async def close(self) -> None:
        with self.errors:
            await self.client.aclose()
