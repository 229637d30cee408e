"""The Redis connection every Redis concern shares: one client (or Cluster client), its error
translation and the compare-and-set scripts, registered with redis-py (EVALSHA, loaded on
NOSCRIPT by redis-py itself)."""

from __future__ import annotations

import inspect
import sys
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from gatepass.errors import ConfigurationError, MissingDependency, quote_prefix
from gatepass.stores.driver_errors import translate_errors
from gatepass.stores.redis.keys import Keys
from gatepass.stores.redis.scripts import SCRIPTS
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


def _retry(*, cluster: bool) -> Any:
    """How often a command is sent again after a failure, so that a call ends within the
    documented bound (``socket_timeout``) and fails closed.

    One server: one quick retry of a connection error (a pooled connection may be stale after a
    restart: the server closed it, and a new one answers at once). A timeout is not retried: a
    server that did not answer within ``socket_timeout`` (frozen, overloaded, or the network
    black-holed) would make the retry wait as long again.

    Cluster: no retry. The cluster client retries every connection error *and* timeout it is
    allowed to (its own list, whatever ``Retry`` says) after refreshing the slot map, which
    still names the frozen node; redirections (``MOVED``, ``ASK``, ``TRYAGAIN``) are followed
    within the one attempt all the same, and a connection the server closed is replaced when it
    is taken from the pool.

    The asyncio client gets ``redis.asyncio.retry.Retry`` (a blocking ``Retry`` would be
    converted, with a warning).
    """
    from redis.asyncio.retry import Retry  # noqa: PLC0415
    from redis.backoff import ExponentialBackoff  # noqa: PLC0415
    from redis.exceptions import ConnectionError as RedisConnectionError  # noqa: PLC0415

    backoff = ExponentialBackoff(cap=0.05, base=0.01)
    return Retry(backoff, 0 if cluster else 1, supported_errors=(RedisConnectionError,))


def _parameters(cls: type) -> set[str]:
    """The names ``cls(...)`` takes as keywords (``**kwargs`` excepted)."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    params = inspect.signature(cls).parameters.values()
    return {p.name for p in params if p.kind in kinds}


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
        self._check_driver_options()
        with self.errors:
            self.client: Any = self._connect()
        self.scripts = {name: self.client.register_script(src) for name, src in SCRIPTS.items()}

    def _check_driver_options(self) -> None:
        """Every option left for redis-py must be one it reads, with a value it can parse: an
        unknown one would be a ``TypeError`` on first use (one server) or silently dropped (a
        blocking cluster client). The names are the keyword parameters of the classes this
        flavour's client hands them to, asked of redis-py itself."""
        from redis.asyncio import connection  # noqa: PLC0415
        from redis.asyncio.cluster import RedisCluster  # noqa: PLC0415

        try:
            connection.parse_url(self.driver_url)  # type: ignore[no-untyped-call,unused-ignore]
        except ValueError as exc:
            raise ConfigurationError(f"redis URL: {exc}") from None
        if self.cluster:
            module = sys.modules[RedisCluster.__module__]
            accepted = _parameters(RedisCluster)
            accepted |= set(getattr(module, "REDIS_ALLOWED_KEYS", ()))
        else:
            # Only the connection classes of this URL's scheme: an ``ssl_*`` option on a plain
            # ``redis://`` URL (or ``socket_keepalive`` on ``unix://``) is a TypeError when the
            # first connection is made.
            scheme = urlsplit(self.driver_url).scheme
            classes: list[type] = [connection.AbstractConnection, connection.BlockingConnectionPool]
            if scheme == "unix":
                classes.append(connection.UnixDomainSocketConnection)
            else:
                classes.append(connection.Connection)
            if scheme == "rediss":
                classes.append(connection.SSLConnection)
            accepted = set().union(*map(_parameters, classes))
        for name, _value in parse_qsl(urlsplit(self.driver_url).query, keep_blank_values=True):
            if name not in accepted:
                raise ConfigurationError(
                    f"unknown redis URL option {quote_prefix(name)}: neither gatepass "
                    "(prefix, cluster, pool_timeout) nor redis-py reads it in a "
                    f"{urlsplit(self.driver_url).scheme}:// URL"
                )

    def _connect(self) -> Any:
        from redis.asyncio import BlockingConnectionPool, Redis  # noqa: PLC0415
        from redis.asyncio.cluster import RedisCluster  # noqa: PLC0415

        if self.cluster:
            # The asyncio cluster client keeps its own per-node connection lists (at most
            # max_connections each, then MaxConnectionsError: StoreUnavailable).
            # The blocking one takes a pool class: a blocking pool per node, as for one server.
            return RedisCluster.from_url(self.driver_url, retry=_retry(cluster=True))  # async-only
            # sync-only: import functools
            # sync-only: node_pool = functools.partial(
            # sync-only:     BlockingConnectionPool,
            # sync-only:     timeout=self.pool_timeout,
            # sync-only:     max_connections=_MAX_CONNECTIONS,
            # sync-only: )
            # sync-only: return RedisCluster.from_url(
            # sync-only:     self.driver_url,
            # sync-only:     retry=_retry(cluster=True),
            # sync-only:     connection_pool_class=node_pool,
            # sync-only: )
        pool = BlockingConnectionPool.from_url(
            self.driver_url,
            retry=_retry(cluster=False),
            timeout=self.pool_timeout,
            max_connections=_MAX_CONNECTIONS,
        )
        return Redis.from_pool(pool)  # closing the client closes the pool

    async def run_script(self, name: str, keys: list[Any], args: list[Any]) -> Any:
        """Run one of :data:`~gatepass.stores.redis.scripts.SCRIPTS`, errors translated."""
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
