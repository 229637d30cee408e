"""``redis://host:port/db``, ``rediss://...``, ``redis+cluster://host:port``: sessions in Redis.

The hot-path ``get`` is one plain ``GET`` (the floor: one round trip, one bulk reply, one
``json.loads``). Every decision is made in Python by :mod:`gatepass.stores.records`; every write
is one EVALSHA of a compare-and-set Lua script (:mod:`gatepass.stores._redis_lua`) that applies
only if the session still holds the value the decision was based on, so nothing is ever written
back over a revoked or concurrently changed session. A due touch (at most once per touch
interval per session) costs that one extra EVALSHA. Expiry is Redis's own TTL (``PX`` at the idle
deadline), so dead sessions disappear by themselves; per-user indexes expire after the longest
absolute lifetime of their sessions and are pruned of dangling entries by ``list``,
``revoke_all`` and ``purge_expired``.

Key layout (``prefix`` defaults to ``gatepass:``; ``T`` = :func:`routing_tag` of the user)::

    gatepass:{T}:s:<sha256 hex>   STRING  JSON array of the SessionRecord fields, TTL = idle
    gatepass:{T}:u:<user id>      HASH    public id -> sha256 hex of that user's sessions

All keys of a user share the hash tag ``{T}``, hence one Cluster slot, and every script names
every key it touches in ``KEYS`` (see :mod:`gatepass.stores._redis_lua` for why). Round trips:

=================  ==============================================================================
``get``            1 ``GET`` (+1 EVALSHA when the throttled touch is due)
``create``         1 EVALSHA
``rotate``         ``GET`` + EVALSHA; ``update`` the same
``revoke``         EVALSHA (take the session) + EVALSHA (drop its index entry); 1 if unknown
``revoke`` by id   ``HGET`` of the index + EVALSHA; 1 if unknown
``revoke_all``     ``HGETALL`` + EVALSHA; again if the index changed meanwhile
``list``           ``HGETALL`` + EVALSHA; 1 if the user has none; again if the index changed
``purge_expired``  ``SCAN``, then ``HGETALL`` + EVALSHA per user index
=================  ==============================================================================

In Redis Cluster, a command whose declared keys a slot migration has split fails with
``TRYAGAIN`` (or is redirected with ``ASK``); redis-py's cluster client follows ``ASK`` and
retries ``TRYAGAIN`` for a while (16 attempts, about 0.4 s), then raises, which becomes
:class:`~gatepass.errors.StoreUnavailable`. So an operation either completes on keys that are all
in one place or fails closed: it never reports success over sessions it could not see.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from typing import Any, Literal, NoReturn, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from gatepass.errors import ConfigurationError, MissingDependency, StoreError
from gatepass.stores import _redis_lua as lua
from gatepass.stores.base import (
    purge_time,
    registered_async_purges,
    registered_purges,
    translate_errors,
    url_with_query,
)
from gatepass.stores.records import (
    DUE,
    LIVE,
    MAX_DATA_BYTES,
    NOW,
    SessionRecord,
    TouchSpec,
    check_json,
    freeze,
    is_live,
    is_tag,
    liveness,
    merge_data,
    rotated,
    routing_tag,
    touched,
    ttl_ms,
)

_DEFAULT_PREFIX = "gatepass:"
_CAS_ATTEMPTS = 100

_T = TypeVar("_T")
#: A sans-I/O step generator: yields (script, keys, args) or (client method, *args), receives
#: each result, returns the operation's result.
Steps = Generator[tuple[Any, ...], Any, _T]
_OUR_OPTIONS = ("prefix", "cluster", "pool_timeout")
#: Connections per pool (per node on a cluster) unless the URL says ``max_connections=``. When all
#: are busy, a command waits up to ``pool_timeout`` seconds (URL option, default 5) for one, then
#: raises ``StoreUnavailable``: redis-py's default pool would fail the 101st concurrent command
#: at once with "Too many connections".
_MAX_CONNECTIONS = 100
_POOL_TIMEOUT = 5.0


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
    driver_url = url_with_query(parts._replace(scheme=scheme), urlencode(rest))
    return driver_url, prefix, cluster


def pool_timeout(url: str) -> float:
    """The ``pool_timeout`` URL option: seconds to wait for a free pooled connection."""
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if key == "pool_timeout":
            try:
                timeout = float(value)
            except ValueError:
                raise ConfigurationError(f"bad redis pool_timeout: {value!r}") from None
            if not timeout >= 0:
                raise ConfigurationError("redis pool_timeout must not be negative")
            return timeout
    return _POOL_TIMEOUT


def _retry() -> Any:
    """One quick retry (a pooled connection may be stale after a restart), then fail closed."""
    _import_redis()
    from redis.backoff import ExponentialBackoff  # noqa: PLC0415
    from redis.retry import Retry  # noqa: PLC0415

    return Retry(ExponentialBackoff(cap=0.05, base=0.01), 1)


def _not_json(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


#: The C scanner behind json.loads, without its Python wrappers; ``NaN`` / ``Infinity`` (which
#: ``encode`` never writes) are refused rather than read as numbers.
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder(  # type: ignore[attr-defined]
    parse_constant=_not_json
).scan_once
_NUMBER = (float, int)  # JSON numbers as json.loads gives them (never bool: ``type`` is exact)
_MALFORMED = (
    "redis: the value stored at a session key is not a gatepass session record ({}); "
    "it is damaged or was written by something else"
)


def encode(record: SessionRecord) -> str:
    """The stored value: the record's fields as a JSON array (floats round-trip exactly)."""
    # list(): the decoded fields, whatever the record's class (a StoredRow keeps raw slots).
    return json.dumps(list(record), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def decode(value: bytes) -> SessionRecord:
    """The record stored at a session key; :class:`StoreError` for anything :func:`encode` does
    not write (not UTF-8, not JSON, trailing data, not exactly the 10 fields in their JSON types:
    2 strings, 5 numbers, a boolean, 2 objects). Every path that reads a session decodes here,
    so a damaged or foreign value never escapes as a driver or parser exception."""
    try:
        text = value.decode()
        fields, end = _scan(text, 0)
    except (UnicodeDecodeError, StopIteration, ValueError, RecursionError):
        raise StoreError(_MALFORMED.format("not UTF-8 JSON")) from None
    if not (
        end == len(text)
        and type(fields) is list
        and len(fields) == 10
        and type(fields[0]) is str
        and type(fields[1]) is str
        and type(fields[2]) in _NUMBER
        and type(fields[3]) in _NUMBER
        and type(fields[4]) in _NUMBER
        and type(fields[5]) in _NUMBER
        and type(fields[6]) in _NUMBER
        and type(fields[7]) is bool
        and type(fields[8]) is dict
        and type(fields[9]) is dict
    ):
        raise StoreError(_MALFORMED.format("wrong shape"))
    fields[8] = freeze(fields[8])  # records are immutable snapshots: metadata and data frozen
    fields[9] = freeze(fields[9])
    return SessionRecord._make(fields)


def _snapshot(
    index: str | bytes,
    session_prefix: bytes,
    entries: Iterable[tuple[bytes, bytes]],
    head: tuple[bytes, bytes] = (b"", b""),
) -> tuple[list[str | bytes], list[bytes]]:
    """KEYS and ARGV of the snapshot scripts (see :mod:`gatepass.stores._redis_lua`): the index,
    then each session key; ARGV ``head`` then each entry's public id and hash hex."""
    keys: list[str | bytes] = [index]
    args = list(head)
    for public_id, hexh in entries:
        keys.append(session_prefix + hexh)
        args.append(public_id)
        args.append(hexh)
    return keys, args


def _glob_escape(text: str) -> str:
    """``text`` matched literally by a SCAN ``MATCH`` pattern."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


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
        self.pool_timeout = pool_timeout(url)
        self._scripts: dict[str, _Script] = {}
        self._errors = translate_errors("redis")
        self._create = self.script(lua.CREATE)
        self._cas = self.script(lua.CAS)
        self._rotate = self.script(lua.ROTATE)
        self._take = self.script(lua.TAKE)
        self._unindex = self.script(lua.UNINDEX)
        self._revoke_id = self.script(lua.REVOKE_ID)
        self._revoke_user = self.script(lua.REVOKE_USER)
        self._list = self.script(lua.LIST)
        self._prune = self.script(lua.PRUNE)
        self._index_pattern = f"{_glob_escape(self.prefix)}{{*}}:u:*"

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

    def _index_tag(self, key: bytes) -> str | None:
        """The tag of a user index found by SCAN (``<prefix>{T}:u:<user>``); None for a key that
        merely matches the pattern (its session keys could not be named)."""
        head = len(self.prefix.encode())
        if key[head : head + 1] != b"{" or key[head + 5 : head + 9] != b"}:u:":
            return None
        try:
            tag = key[head + 1 : head + 5].decode("ascii")
        except UnicodeDecodeError:
            return None
        return tag if is_tag(tag) else None

    def _create_args(
        self, token_hash: bytes, r: SessionRecord, tag: str
    ) -> tuple[list[str], list[Any]]:
        keys = [self._skey(token_hash, tag), self._ipfx(tag) + r.user_id]
        index_ttl = max(1, int((r.absolute_expires_at - r.created_at) * 1000) + 1)
        args = [encode(r), ttl_ms(r, r.created_at), index_ttl, r.id, token_hash.hex()]
        return keys, args

    # Each operation below is a sans-I/O generator of steps: ``(script, keys, args)`` for an
    # EVALSHA, or ``(method, *args)`` for one plain client command (``"get"``, ``"hget"``,
    # ``"hgetall"``); it receives each result (or, thrown in, the StoreError the step raised) and
    # returns the operation's result. The sync and async stores share every line of logic and
    # differ only in how a step is awaited. Writes are "decide in Python on the value read, then
    # compare-and-set"; operations over a user's sessions read the index, then run one script
    # with every key declared and a guard on the index (see _redis_lua).

    def _touch_steps(
        self, key: str, value: bytes, record: SessionRecord, touch: TouchSpec
    ) -> Steps[SessionRecord | None]:
        """The due renewal after a hot-path GET (at most once per touch interval)."""
        new = touched(record, touch)
        if (yield (self._cas, [key], [value, encode(new), ttl_ms(new, touch[NOW])])):
            return new
        value = yield ("get", key)  # touched, rotated or revoked meanwhile: report that state
        if value is None:
            return None
        current = decode(value)
        return current if liveness(current, touch) else None

    def _rotate_steps(
        self, old: bytes, new: bytes, tag: str, touch: TouchSpec, auth_time: float | None
    ) -> Steps[SessionRecord | None]:
        old_key, new_key = self._skey(old, tag), self._skey(new, tag)
        for _attempt in range(_CAS_ATTEMPTS):
            value = yield ("get", old_key)
            if value is None:
                return None
            record = decode(value)
            if not is_live(record, touch):
                return None
            moved = rotated(record, touch, auth_time)
            keys = [old_key, new_key, self._ipfx(tag) + record.user_id]
            args = [value, encode(moved), ttl_ms(moved, touch[NOW]), record.id, new.hex()]
            if (yield (self._rotate, keys, args)):
                return moved
        raise StoreError("redis: the session kept changing during rotation")

    def _update_steps(
        self, token_hash: bytes, tag: str, patch: Mapping[str, Any], touch: TouchSpec
    ) -> Steps[SessionRecord | None]:
        key = self._skey(token_hash, tag)
        for _attempt in range(_CAS_ATTEMPTS):
            value = yield ("get", key)
            if value is None:
                return None
            record = decode(value)
            if not is_live(record, touch):
                return None
            data = check_json(merge_data(record.data, patch), MAX_DATA_BYTES, "data")
            new = record._replace(data=data)
            if (yield (self._cas, [key], [value, encode(new), ""])):
                return new
        raise StoreError("redis: the session kept changing during update")

    def _revoke_steps(self, token_hash: bytes, tag: str) -> Steps[bool]:
        """Delete the session (one atomic TAKE on its key), then drop its index entry.

        The user index is named by the user id inside the value, so it can only be declared
        after the value is read; the entry is dropped only if it still points at this hash.
        Should that second step fail, the session is revoked all the same and the dangling entry
        is harmless (``list``, ``revoke_all`` and ``purge_expired`` prune it), as is one left by
        a damaged value, which is deleted like any other.
        """
        value = yield (self._take, [self._skey(token_hash, tag)], [])
        if value is None:
            return False
        with contextlib.suppress(StoreError):
            record = decode(value)
            yield (self._unindex, [self._ipfx(tag) + record.user_id], [record.id, token_hash.hex()])
        return True

    def _revoke_id_steps(self, user_id: str, public_id: str, tag: str) -> Steps[bool]:
        index = self._ipfx(tag) + user_id
        prefix = self._spfx(tag).encode()
        for _attempt in range(_CAS_ATTEMPTS):
            hexh = yield ("hget", index, public_id)
            if hexh is None:
                return False
            done = yield (self._revoke_id, [index, prefix + hexh], [public_id, hexh])
            if done >= 0:
                return bool(done)
        raise StoreError("redis: the session kept changing during revocation")

    def _revoke_user_steps(self, user_id: str, tag: str, keep_hash: bytes | None) -> Steps[int]:
        index = self._ipfx(tag) + user_id
        prefix = self._spfx(tag).encode()
        keep = b"" if keep_hash is None else keep_hash.hex().encode()
        removed = 0
        for _attempt in range(_CAS_ATTEMPTS):
            entries: dict[bytes, bytes] = yield ("hgetall", index)
            keep_id = b""
            doomed: list[tuple[bytes, bytes]] = []
            for public_id, hexh in entries.items():
                if keep and hexh == keep:
                    keep_id = public_id
                else:
                    doomed.append((public_id, hexh))
            if not doomed:
                return removed  # the index held nothing else at the moment it was read
            keys, args = _snapshot(index, prefix, doomed, (keep, keep_id))
            deleted, left = yield (self._revoke_user, keys, args)
            removed += int(deleted)
            if not left:  # at that moment the index held nothing but the kept session
                return removed
        raise StoreError("redis: the user's sessions kept changing during revoke_all")

    def _list_steps(self, user_id: str, tag: str) -> Steps[list[SessionRecord]]:
        index = self._ipfx(tag) + user_id
        prefix = self._spfx(tag).encode()
        for _attempt in range(_CAS_ATTEMPTS):
            entries: dict[bytes, bytes] = yield ("hgetall", index)
            if not entries:
                return []
            values = yield (self._list, *_snapshot(index, prefix, entries.items()))
            if values is not None:
                return self._records(values)
        raise StoreError("redis: the user's sessions kept changing during list")

    def _prune_steps(self, index: bytes, tag: str) -> Steps[int]:
        prefix = self._spfx(tag).encode()
        entries: dict[bytes, bytes] = yield ("hgetall", index)
        if not entries:
            return 0
        return int((yield (self._prune, *_snapshot(index, prefix, entries.items()))))

    @staticmethod
    def _records(values: Sequence[bytes]) -> list[SessionRecord]:
        return sorted((decode(v) for v in values), key=lambda r: r.created_at)


class RedisStore(_RedisBase):
    """Blocking Redis store; ``client`` is a ``redis.Redis`` or ``redis.cluster.RedisCluster``."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        redis = _import_redis()
        blocking = functools.partial(
            redis.BlockingConnectionPool,
            timeout=self.pool_timeout,
            max_connections=_MAX_CONNECTIONS,
        )
        with translate_errors("redis"):
            if self.cluster:
                from redis.cluster import RedisCluster  # noqa: PLC0415

                self.client: Any = RedisCluster.from_url(
                    self.driver_url, retry=_retry(), connection_pool_class=blocking
                )
            else:
                pool = redis.BlockingConnectionPool.from_url(
                    self.driver_url,
                    retry=_retry(),
                    timeout=self.pool_timeout,
                    max_connections=_MAX_CONNECTIONS,
                )
                self.client = redis.Redis.from_pool(pool)  # closing the client closes the pool

    def _eval(self, script: _Script, keys: Sequence[str | bytes], args: Sequence[Any]) -> Any:
        with self._errors:
            try:
                return self.client.evalsha(script.sha, len(keys), *keys, *args)
            except _no_script():
                return self.client.eval(script.source, len(keys), *keys, *args)

    def eval_script(self, source: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run a Lua script by EVALSHA (EVAL on NOSCRIPT), errors translated. Keys: one slot."""
        return self._eval(self.script(source), keys, args)

    def setup(self) -> None:
        """Redis needs no schema: checks that the server answers and loads the Lua scripts (on
        every primary of a cluster), so that the first writes need no NOSCRIPT fallback."""
        with self._errors:
            self.client.ping()
            for script in list(self._scripts.values()):
                self.client.script_load(script.source)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()

    def purge_expired(self, now: float | None = None) -> int:
        """Sessions expire by TTL; this prunes per-user indexes of entries Redis already dropped,
        then runs the purge steps other modules registered (e.g. the revocation index)."""
        when = purge_time(now)  # checked before anything is deleted
        removed = 0
        with self._errors:
            keys = list(self.client.scan_iter(match=self._index_pattern, count=1000))
        for key in keys:
            tag = self._index_tag(key)
            if tag is not None:
                removed += self._run(self._prune_steps(key, tag))
        for step in registered_purges(self.kind):
            removed += step(self, when)
        return removed

    def _run(self, steps: Steps[_T]) -> _T:
        """Drive a step generator with blocking I/O."""
        try:
            step = next(steps)
            while True:
                op = step[0]
                try:
                    if type(op) is str:
                        with self._errors:
                            result = getattr(self.client, op)(*step[1:])
                    else:
                        result = self._eval(*step)
                except StoreError as exc:
                    step = steps.throw(exc)  # the operation may handle it (or it propagates)
                    continue
                step = steps.send(result)
        except StopIteration as stop:
            done: _T = stop.value
            return done

    def session_create(self, token_hash: bytes, record: SessionRecord, tag: str) -> None:
        self._eval(self._create, *self._create_args(token_hash, record, tag))

    def session_get(self, token_hash: bytes, tag: str, touch: TouchSpec) -> SessionRecord | None:
        if not is_tag(tag):  # unchecked on the get path (Sessions.get): it becomes a key
            return None
        key = f"{self.prefix}{{{tag}}}:s:{token_hash.hex()}"
        with self._errors:
            value = self.client.get(key)  # the hot path: one GET
        if value is None:
            return None
        record = decode(value)
        state = liveness(record, touch)
        if state == LIVE:
            return record
        if state != DUE:
            return None
        return self._run(self._touch_steps(key, value, record, touch))

    def session_rotate(
        self, old_hash: bytes, new_hash: bytes, tag: str, touch: TouchSpec, auth_time: float | None
    ) -> SessionRecord | None:
        return self._run(self._rotate_steps(old_hash, new_hash, tag, touch, auth_time))

    def session_update(
        self, token_hash: bytes, tag: str, patch: Mapping[str, Any], touch: TouchSpec
    ) -> SessionRecord | None:
        return self._run(self._update_steps(token_hash, tag, patch, touch))

    def session_revoke(self, token_hash: bytes, tag: str) -> bool:
        return self._run(self._revoke_steps(token_hash, tag))

    def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool:
        return self._run(self._revoke_id_steps(user_id, public_id, tag))

    def session_revoke_user(self, user_id: str, tag: str, keep_hash: bytes | None) -> int:
        return self._run(self._revoke_user_steps(user_id, tag, keep_hash))

    def session_list(self, user_id: str, tag: str, now: float) -> list[SessionRecord]:
        return self._run(self._list_steps(user_id, tag))


class AsyncRedisStore(_RedisBase):
    """asyncio Redis store; ``client`` is ``redis.asyncio.Redis`` or its ``RedisCluster``."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        _import_redis()
        with translate_errors("redis"):
            if self.cluster:
                # redis-py's asyncio cluster client keeps its own per-node connection lists (at
                # most max_connections=100 each, then MaxConnectionsError -> StoreUnavailable);
                # it has no blocking pool to plug in.
                from redis.asyncio.cluster import RedisCluster  # noqa: PLC0415

                self.client: Any = RedisCluster.from_url(self.driver_url, retry=_retry())
            else:
                from redis.asyncio import BlockingConnectionPool, Redis  # noqa: PLC0415

                pool = BlockingConnectionPool.from_url(
                    self.driver_url,
                    retry=_retry(),
                    timeout=self.pool_timeout,
                    max_connections=_MAX_CONNECTIONS,
                )
                self.client = Redis.from_pool(pool)  # closing the client closes the pool

    async def _eval(self, script: _Script, keys: Sequence[str | bytes], args: Sequence[Any]) -> Any:
        with self._errors:
            try:
                return await self.client.evalsha(script.sha, len(keys), *keys, *args)
            except _no_script():
                return await self.client.eval(script.source, len(keys), *keys, *args)

    async def eval_script(self, source: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        return await self._eval(self.script(source), keys, args)

    async def setup(self) -> None:
        with self._errors:
            await self.client.ping()
            for script in list(self._scripts.values()):
                await self.client.script_load(script.source)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.aclose()

    async def purge_expired(self, now: float | None = None) -> int:
        """As :meth:`RedisStore.purge_expired`, with the registered asyncio purge steps."""
        when = purge_time(now)  # checked before anything is deleted
        removed = 0
        with self._errors:
            keys = [k async for k in self.client.scan_iter(match=self._index_pattern, count=1000)]
        for key in keys:
            tag = self._index_tag(key)
            if tag is not None:
                removed += await self._run(self._prune_steps(key, tag))
        for step in registered_async_purges(self.kind):
            removed += await step(self, when)
        return removed

    async def _run(self, steps: Steps[_T]) -> _T:
        """Drive a step generator with asyncio I/O."""
        try:
            step = next(steps)
            while True:
                op = step[0]
                try:
                    if type(op) is str:
                        with self._errors:
                            result = await getattr(self.client, op)(*step[1:])
                    else:
                        result = await self._eval(*step)
                except StoreError as exc:
                    step = steps.throw(exc)  # the operation may handle it (or it propagates)
                    continue
                step = steps.send(result)
        except StopIteration as stop:
            done: _T = stop.value
            return done

    async def session_create(self, token_hash: bytes, record: SessionRecord, tag: str) -> None:
        await self._eval(self._create, *self._create_args(token_hash, record, tag))

    async def session_get(
        self, token_hash: bytes, tag: str, touch: TouchSpec
    ) -> SessionRecord | None:
        if not is_tag(tag):  # unchecked on the get path (Sessions.get): it becomes a key
            return None
        key = f"{self.prefix}{{{tag}}}:s:{token_hash.hex()}"
        with self._errors:
            value = await self.client.get(key)
        if value is None:
            return None
        record = decode(value)
        state = liveness(record, touch)
        if state == LIVE:
            return record
        if state != DUE:
            return None
        return await self._run(self._touch_steps(key, value, record, touch))

    async def session_rotate(
        self, old_hash: bytes, new_hash: bytes, tag: str, touch: TouchSpec, auth_time: float | None
    ) -> SessionRecord | None:
        return await self._run(self._rotate_steps(old_hash, new_hash, tag, touch, auth_time))

    async def session_update(
        self, token_hash: bytes, tag: str, patch: Mapping[str, Any], touch: TouchSpec
    ) -> SessionRecord | None:
        return await self._run(self._update_steps(token_hash, tag, patch, touch))

    async def session_revoke(self, token_hash: bytes, tag: str) -> bool:
        return await self._run(self._revoke_steps(token_hash, tag))

    async def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool:
        return await self._run(self._revoke_id_steps(user_id, public_id, tag))

    async def session_revoke_user(self, user_id: str, tag: str, keep_hash: bytes | None) -> int:
        return await self._run(self._revoke_user_steps(user_id, tag, keep_hash))

    async def session_list(self, user_id: str, tag: str, now: float) -> list[SessionRecord]:
        return await self._run(self._list_steps(user_id, tag))
