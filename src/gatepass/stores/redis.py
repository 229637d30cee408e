"""``redis://host:port/db``, ``rediss://...``, ``redis+cluster://host:port``: sessions in Redis.

Every operation is one EVALSHA of a Lua script (:mod:`gatepass.stores._redis_lua`), so it is
atomic and costs one round trip; the hot-path ``get`` renews the session inside the same script
only when the throttle says it is due. Expiry is Redis's own TTL (``PEXPIRE`` to the idle
deadline), so dead sessions disappear by themselves; per-user indexes expire after the longest
absolute lifetime of their sessions and are pruned of dangling entries by ``list``,
``revoke_all`` and ``purge_expired``.

Key layout (``prefix`` defaults to ``gatepass:``; ``T`` = :func:`routing_tag` of the user)::

    gatepass:{T}:s:<sha256 hex>   HASH  one session (fields in _redis_lua.FIELDS)
    gatepass:{T}:u:<user id>      HASH  public id -> sha256 hex of that user's sessions

All keys of a user share the hash tag ``{T}``, hence one Cluster slot.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from gatepass.errors import ConfigurationError, MissingDependency, StoreError
from gatepass.stores import _redis_lua as lua
from gatepass.stores.base import registered_purges, translate_errors
from gatepass.stores.records import (
    MAX_DATA_BYTES,
    SessionRecord,
    TouchSpec,
    check_json,
    dump_json,
    merge_data,
    routing_tag,
)

_DEFAULT_PREFIX = "gatepass:"
_OUR_OPTIONS = ("prefix", "cluster")


def _import_redis() -> Any:
    try:
        import redis  # noqa: PLC0415 - optional dependency, imported on first use
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MissingDependency(
            "the redis store needs redis-py: pip install 'gatepass[redis]'"
        ) from exc
    return redis


def _no_script() -> type[Exception]:
    from redis.exceptions import NoScriptError  # noqa: PLC0415 - cached by the import system

    cls: type[Exception] = NoScriptError
    return cls


def parse_url(url: str) -> tuple[str, str, bool]:
    """``(driver_url, prefix, cluster)``: strips gatepass's own options from the URL."""
    parts = urlsplit(url)
    scheme = parts.scheme
    cluster = False
    if scheme.endswith("+cluster"):
        cluster = True
        scheme = scheme.removesuffix("+cluster")
    if scheme not in {"redis", "rediss", "unix"}:
        raise ConfigurationError(f"not a redis URL scheme: {parts.scheme!r}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = {k: v for k, v in query if k in _OUR_OPTIONS}
    rest = [(k, v) for k, v in query if k not in _OUR_OPTIONS]
    if options.get("cluster", "").lower() in {"1", "true", "yes"}:
        cluster = True
    prefix = options.get("prefix", _DEFAULT_PREFIX)
    if "{" in prefix or "}" in prefix:
        raise ConfigurationError("a redis key prefix must not contain '{' or '}' (hash tags)")
    names = {k for k, _ in rest}
    if "socket_timeout" not in names:
        rest.append(("socket_timeout", "5"))
    if "socket_connect_timeout" not in names:
        rest.append(("socket_connect_timeout", "2"))
    driver_url = urlunsplit((scheme, parts.netloc, parts.path, urlencode(rest), parts.fragment))
    return driver_url, prefix, cluster


def _retry() -> Any:
    """One quick retry (a pooled connection may be stale after a restart), then fail closed."""
    _import_redis()
    from redis.backoff import ExponentialBackoff  # noqa: PLC0415
    from redis.retry import Retry  # noqa: PLC0415

    return Retry(ExponentialBackoff(cap=0.05, base=0.01), 1)


def spec_args(touch: TouchSpec) -> list[str]:
    return [
        repr(touch.now),
        repr(touch.touch_before),
        repr(touch.idle),
        repr(touch.idle_remember),
        repr(touch.absolute),
        repr(touch.absolute_remember),
    ]


def fields_to_record(v: Sequence[Any]) -> SessionRecord:
    import json  # noqa: PLC0415 - cheap, cached

    return SessionRecord(
        v[1].decode(),
        v[0].decode(),
        float(v[2]),
        float(v[3]),
        float(v[4]),
        float(v[5]),
        float(v[6]),
        v[7] == b"1",
        json.loads(v[8]),
        json.loads(v[9]),
    )


class _Script:
    """A Lua script called by SHA1 (EVALSHA), loaded with EVAL on NOSCRIPT.

    Stable: ``.sha`` (hex SHA1) and ``.source``.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


class _RedisBase:
    """Key building and argument packing shared by the sync and async Redis stores."""

    kind: Literal["redis"] = "redis"

    def __init__(self, url: str) -> None:
        _import_redis()
        self.url = url
        self.driver_url, self.prefix, self.cluster = parse_url(url)
        self._scripts: dict[str, _Script] = {}
        self._errors = translate_errors("redis")
        self._get = self.script(lua.GET)
        self._create = self.script(lua.CREATE)
        self._rotate = self.script(lua.ROTATE)
        self._set_data = self.script(lua.SET_DATA)
        self._revoke = self.script(lua.REVOKE)
        self._revoke_id = self.script(lua.REVOKE_ID)
        self._revoke_user = self.script(lua.REVOKE_USER)
        self._list = self.script(lua.LIST)
        self._prune = self.script(lua.PRUNE)

    def script(self, source: str) -> _Script:
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = _Script(source)
        return script

    @staticmethod
    def routing_tag(user_id: str) -> str:
        return routing_tag(user_id)

    def key(self, tag: str, *parts: str) -> str:
        return f"{self.prefix}{{{tag}}}:{':'.join(parts)}"

    def errors(self) -> contextlib.AbstractContextManager[None]:
        return self._errors

    def _skey(self, token_hash: bytes, tag: str) -> str:
        return f"{self.prefix}{{{tag}}}:s:{token_hash.hex()}"

    def _spfx(self, tag: str) -> str:
        return f"{self.prefix}{{{tag}}}:s:"

    def _ipfx(self, tag: str) -> str:
        return f"{self.prefix}{{{tag}}}:u:"

    def _create_args(
        self, token_hash: bytes, r: SessionRecord, tag: str
    ) -> tuple[list[str], list[Any]]:
        keys = [self._skey(token_hash, tag), self._ipfx(tag) + r.user_id]
        ttl = max(1, int((r.expires_at - r.created_at) * 1000) + 1)
        index_ttl = max(1, int((r.absolute_expires_at - r.created_at) * 1000) + 1)
        args: list[Any] = [
            r.user_id,
            r.id,
            repr(r.created_at),
            repr(r.authenticated_at),
            repr(r.last_seen_at),
            repr(r.expires_at),
            repr(r.absolute_expires_at),
            "1" if r.remember else "0",
            dump_json(r.metadata),
            dump_json(r.data),
            ttl,
            index_ttl,
            token_hash.hex(),
        ]
        return keys, args

    def _rotate_args(
        self, old: bytes, new: bytes, tag: str, touch: TouchSpec, auth_time: float | None
    ) -> tuple[list[str], list[Any]]:
        keys = [self._skey(old, tag), self._skey(new, tag)]
        auth = "" if auth_time is None else repr(auth_time)
        return keys, [*spec_args(touch), auth, self._ipfx(tag), new.hex()]

    @staticmethod
    def _merged(current: bytes, patch: Mapping[str, Any]) -> str:
        import json  # noqa: PLC0415

        data = check_json(merge_data(json.loads(current), patch), MAX_DATA_BYTES, "data")
        return dump_json(data)

    @staticmethod
    def _records(rows: Sequence[Sequence[Any]]) -> list[SessionRecord]:
        return sorted((fields_to_record(v) for v in rows), key=lambda r: r.created_at)


class RedisStore(_RedisBase):
    """Blocking Redis store; ``client`` is a ``redis.Redis`` or ``redis.cluster.RedisCluster``."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        redis = _import_redis()
        with translate_errors("redis"):
            if self.cluster:
                from redis.cluster import RedisCluster  # noqa: PLC0415

                self.client: Any = RedisCluster.from_url(self.driver_url, retry=_retry())
            else:
                self.client = redis.Redis.from_url(self.driver_url, retry=_retry())

    def _eval(self, script: _Script, keys: Sequence[str], args: Sequence[Any]) -> Any:
        with self._errors:
            try:
                return self.client.evalsha(script.sha, len(keys), *keys, *args)
            except _no_script():
                return self.client.eval(script.source, len(keys), *keys, *args)

    def eval_script(self, source: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run a Lua script by EVALSHA (EVAL on NOSCRIPT), errors translated. Keys: one slot."""
        return self._eval(self.script(source), keys, args)

    def setup(self) -> None:
        """Redis needs no schema; checks that the server answers."""
        with translate_errors("redis"):
            self.client.ping()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()

    def purge_expired(self, now: float | None = None) -> int:
        """Sessions expire by TTL; this prunes per-user indexes of entries Redis already dropped."""
        removed = 0
        pattern = f"{self.prefix}{{*}}:u:*"
        with translate_errors("redis"):
            keys = list(self.client.scan_iter(match=pattern, count=1000))
        for key in keys:
            text = key.decode()
            tag = text[len(self.prefix) + 1 : len(self.prefix) + 1 + 4]
            removed += int(self._eval(self._prune, [text], [self._spfx(tag)]))
        when = 0.0 if now is None else now
        for step in registered_purges(self.kind):
            removed += step(self, when)
        return removed

    def session_create(self, token_hash: bytes, record: SessionRecord, tag: str) -> None:
        self._eval(self._create, *self._create_args(token_hash, record, tag))

    def session_get(self, token_hash: bytes, tag: str, touch: TouchSpec) -> SessionRecord | None:
        v = self._eval(self._get, [self._skey(token_hash, tag)], spec_args(touch))
        return None if v is None else fields_to_record(v)

    def session_rotate(
        self, old_hash: bytes, new_hash: bytes, tag: str, touch: TouchSpec, auth_time: float | None
    ) -> SessionRecord | None:
        v = self._eval(self._rotate, *self._rotate_args(old_hash, new_hash, tag, touch, auth_time))
        return None if v is None else fields_to_record(v)

    def session_update(
        self, token_hash: bytes, tag: str, patch: Mapping[str, Any], touch: TouchSpec
    ) -> SessionRecord | None:
        key = self._skey(token_hash, tag)
        for _attempt in range(50):
            with translate_errors("redis"):
                current = self.client.hget(key, "d")
            if current is None:
                return None
            new = self._merged(current, patch)
            v = self._eval(self._set_data, [key], [*spec_args(touch), current, new])
            if v != 0:
                return None if v is None else fields_to_record(v)
        raise StoreError("redis: session data kept changing during update")

    def session_revoke(self, token_hash: bytes, tag: str) -> bool:
        return bool(self._eval(self._revoke, [self._skey(token_hash, tag)], [self._ipfx(tag)]))

    def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool:
        keys = [self._ipfx(tag) + user_id]
        return bool(self._eval(self._revoke_id, keys, [public_id, self._spfx(tag)]))

    def session_revoke_user(self, user_id: str, tag: str, keep_hash: bytes | None) -> int:
        keep = "" if keep_hash is None else keep_hash.hex()
        keys = [self._ipfx(tag) + user_id]
        return int(self._eval(self._revoke_user, keys, [self._spfx(tag), keep]))

    def session_list(self, user_id: str, tag: str, now: float) -> list[SessionRecord]:
        rows = self._eval(self._list, [self._ipfx(tag) + user_id], [self._spfx(tag)])
        return self._records(rows)


class AsyncRedisStore(_RedisBase):
    """asyncio Redis store; ``client`` is ``redis.asyncio.Redis`` or its ``RedisCluster``."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        _import_redis()
        with translate_errors("redis"):
            if self.cluster:
                from redis.asyncio.cluster import RedisCluster  # noqa: PLC0415

                self.client: Any = RedisCluster.from_url(self.driver_url, retry=_retry())
            else:
                from redis.asyncio import Redis  # noqa: PLC0415

                self.client = Redis.from_url(self.driver_url, retry=_retry())

    async def _eval(self, script: _Script, keys: Sequence[str], args: Sequence[Any]) -> Any:
        with self._errors:
            try:
                return await self.client.evalsha(script.sha, len(keys), *keys, *args)
            except _no_script():
                return await self.client.eval(script.source, len(keys), *keys, *args)

    async def eval_script(self, source: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        return await self._eval(self.script(source), keys, args)

    async def setup(self) -> None:
        with translate_errors("redis"):
            await self.client.ping()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.aclose()

    async def purge_expired(self, now: float | None = None) -> int:
        removed = 0
        pattern = f"{self.prefix}{{*}}:u:*"
        with translate_errors("redis"):
            keys = [key async for key in self.client.scan_iter(match=pattern, count=1000)]
        for key in keys:
            text = key.decode()
            tag = text[len(self.prefix) + 1 : len(self.prefix) + 1 + 4]
            removed += int(await self._eval(self._prune, [text], [self._spfx(tag)]))
        return removed

    async def session_create(self, token_hash: bytes, record: SessionRecord, tag: str) -> None:
        await self._eval(self._create, *self._create_args(token_hash, record, tag))

    async def session_get(
        self, token_hash: bytes, tag: str, touch: TouchSpec
    ) -> SessionRecord | None:
        v = await self._eval(self._get, [self._skey(token_hash, tag)], spec_args(touch))
        return None if v is None else fields_to_record(v)

    async def session_rotate(
        self, old_hash: bytes, new_hash: bytes, tag: str, touch: TouchSpec, auth_time: float | None
    ) -> SessionRecord | None:
        keys, args = self._rotate_args(old_hash, new_hash, tag, touch, auth_time)
        v = await self._eval(self._rotate, keys, args)
        return None if v is None else fields_to_record(v)

    async def session_update(
        self, token_hash: bytes, tag: str, patch: Mapping[str, Any], touch: TouchSpec
    ) -> SessionRecord | None:
        key = self._skey(token_hash, tag)
        for _attempt in range(50):
            with translate_errors("redis"):
                current = await self.client.hget(key, "d")
            if current is None:
                return None
            new = self._merged(current, patch)
            v = await self._eval(self._set_data, [key], [*spec_args(touch), current, new])
            if v != 0:
                return None if v is None else fields_to_record(v)
        raise StoreError("redis: session data kept changing during update")

    async def session_revoke(self, token_hash: bytes, tag: str) -> bool:
        keys = [self._skey(token_hash, tag)]
        return bool(await self._eval(self._revoke, keys, [self._ipfx(tag)]))

    async def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool:
        keys = [self._ipfx(tag) + user_id]
        return bool(await self._eval(self._revoke_id, keys, [public_id, self._spfx(tag)]))

    async def session_revoke_user(self, user_id: str, tag: str, keep_hash: bytes | None) -> int:
        keep = "" if keep_hash is None else keep_hash.hex()
        keys = [self._ipfx(tag) + user_id]
        return int(await self._eval(self._revoke_user, keys, [self._spfx(tag), keep]))

    async def session_list(self, user_id: str, tag: str, now: float) -> list[SessionRecord]:
        rows = await self._eval(self._list, [self._ipfx(tag) + user_id], [self._spfx(tag)])
        return self._records(rows)
