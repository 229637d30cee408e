"""Session records and the session policy as pure functions (no I/O).

Every decision about a session is made here, once: :class:`gatepass.Sessions` and
:class:`gatepass.AsyncSessions` call these functions, and so do all four backends between a read
and the conditional (compare-and-set) write that applies the decision. No policy is duplicated in
Lua or SQL; the conformance tests check every backend against these functions.

Tokens are ``"<tag>.<secret>"``: ``secret`` is ``secrets.token_urlsafe(32)`` (256 bits) and ``tag``
is :func:`routing_tag` of the user id, four base64url characters that put all of one user's keys in
one Redis Cluster slot. Stores keep only ``sha256(token)``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, NamedTuple, NoReturn

from gatepass.errors import ConfigurationError

JSONDict = dict[str, Any]

TAG_LENGTH = 4
_SECRET_LENGTH = 43  # len(secrets.token_urlsafe(32))
TOKEN_LENGTH = TAG_LENGTH + 1 + _SECRET_LENGTH
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

MAX_USER_ID = 255
MAX_METADATA_BYTES = 2048
MAX_DATA_BYTES = 4096

_READ_ONLY = (
    "session records are read-only snapshots: copy with dict(...) / list(...), "
    "or change the session through Sessions.update"
)


class FrozenDict(dict[str, Any]):
    """A JSON object that cannot be changed: ``metadata`` and ``data`` of every record.

    Records are shared (the memory store keeps and returns the very record it holds; the SQL
    stores share decoded JSON through :func:`load_json_object`'s cache), so a caller that
    mutated ``record.data`` would change the session for everyone without a write, a check or
    a size limit. Every mutator raises ``TypeError`` instead; nested objects and arrays are
    frozen too (:func:`freeze`). A guard against accidents, not a sandbox: calling ``dict``'s
    own methods on it (``dict.__setitem__(d, ...)``) still works, as for any Python object.

    A ``dict`` subclass rather than ``types.MappingProxyType`` so that it still compares equal
    to a dict, ``json.dumps`` and ``pickle`` it as one (a mapping proxy does neither), and
    ``dict(record.data)`` is the usual way to get a mutable copy.
    """

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(_READ_ONLY)

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _read_only
    __ior__ = _read_only

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self


class FrozenList(list[Any]):
    """A JSON array that cannot be changed (see :class:`FrozenDict`); equal to the same list."""

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(_READ_ONLY)

    __setitem__ = __delitem__ = append = extend = insert = pop = remove = _read_only
    clear = sort = reverse = _read_only
    __iadd__ = __imul__ = _read_only

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenList, (list(self),))

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenList:
        return self


#: The shared empty ``metadata`` / ``data`` (most sessions have no data).
EMPTY: FrozenDict = FrozenDict()


def freeze(value: Any) -> Any:
    """``value`` with every JSON object and array replaced by its frozen twin (deeply).

    Takes ownership: a plain ``dict`` passed in may be modified (its nested values replaced), so
    pass only a fresh copy (a ``json.loads`` result), never a caller's object.
    """
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(item) is dict or type(item) is list:
                value[key] = freeze(item)
        return FrozenDict(value) if value else EMPTY
    if kind is list:
        return FrozenList([freeze(item) for item in value])
    return value


class SessionRecord(NamedTuple):
    """One server-side session as stored; the token itself is never part of it.

    ``id`` is a random public identifier for "your devices" pages: showing or logging it
    reveals nothing about the token. ``expires_at`` is the current idle deadline (never later
    than ``absolute_expires_at``); all times are seconds since the epoch of the sessions' clock.
    A snapshot, immutable all the way down: ``metadata`` and ``data`` are :class:`FrozenDict`
    (changing them raises ``TypeError``); change a session through :class:`gatepass.Sessions`
    (``record._replace`` makes a modified copy that is never written back). A ``NamedTuple``
    rather than a frozen dataclass because it is built on every ``get`` and costs a fifth as
    much to construct.
    """

    id: str
    user_id: str
    created_at: float
    authenticated_at: float
    last_seen_at: float
    expires_at: float
    absolute_expires_at: float
    remember: bool = False
    metadata: Mapping[str, Any] = EMPTY
    data: Mapping[str, Any] = EMPTY


@dataclass(frozen=True, slots=True)
class Lifetimes:
    """The timeouts of one :class:`Sessions` configuration, in seconds."""

    idle: float
    absolute: float
    idle_remember: float
    absolute_remember: float
    touch_interval: float

    def __post_init__(self) -> None:
        for name in ("idle", "absolute", "idle_remember", "absolute_remember"):
            if not getattr(self, name) > 0:
                raise ConfigurationError(f"{name} timeout must be positive")
        if self.touch_interval < 0:
            raise ConfigurationError("touch_interval must not be negative")
        if self.idle > self.absolute or self.idle_remember > self.absolute_remember:
            raise ConfigurationError(
                "an idle timeout longer than the absolute lifetime is unusable"
            )


#: What a store needs to decide, on its side, whether a read is live and also renews the session:
#: ``(now, touch_before, idle, idle_remember, absolute, absolute_remember)``, where
#: ``touch_before = now - touch_interval`` (a live session last seen at or before it is renewed)
#: and the four lifetimes let a store reproduce :func:`liveness` exactly. A plain tuple, not a
#: ``NamedTuple``: one is built on every ``get``, and constructing a tuple subclass costs about
#: 0.3 µs, as much as the rest of the memory store's lookup. Read it by unpacking, or with the
#: index constants below (``spec[NOW]``).
TouchSpec = tuple[float, float, float, float, float, float]
NOW, TOUCH_BEFORE, IDLE, IDLE_REMEMBER, ABSOLUTE, ABSOLUTE_REMEMBER = range(6)


def touch_spec(lifetimes: Lifetimes, now: float) -> TouchSpec:
    return spec_maker(lifetimes)(now)


def spec_maker(lifetimes: Lifetimes) -> Callable[[float], TouchSpec]:
    """``touch_spec`` for one configuration, with everything but the time read once."""
    interval = lifetimes.touch_interval
    idle, idle_remember = lifetimes.idle, lifetimes.idle_remember
    absolute, absolute_remember = lifetimes.absolute, lifetimes.absolute_remember

    def make(now: float) -> TouchSpec:
        return (now, now - interval, idle, idle_remember, absolute, absolute_remember)

    return make


def idle_for(spec: TouchSpec, remember: bool) -> float:
    return spec[IDLE_REMEMBER] if remember else spec[IDLE]


def absolute_for(spec: TouchSpec, remember: bool) -> float:
    return spec[ABSOLUTE_REMEMBER] if remember else spec[ABSOLUTE]


#: The results of :func:`liveness`.
DEAD, LIVE, DUE = 0, 1, 2


def liveness(record: SessionRecord, spec: TouchSpec) -> int:
    """The one decision of every read: ``DEAD``, ``LIVE``, or ``DUE`` (live, and the throttled
    sliding renewal is due).

    Live means not idle-expired and not past its absolute lifetime, by the record *and* by the
    current configuration (so shortening a timeout takes effect on existing sessions at once).
    Renewal is throttled: due only when last seen at or before ``touch_before``, so a busy
    session causes at most one write per ``touch_interval``. A dead session is never renewed.
    """
    now, touch_before, idle, idle_remember, absolute, absolute_remember = spec
    if record.remember:
        idle, absolute = idle_remember, absolute_remember
    last_seen = record.last_seen_at
    if (
        now < record.expires_at
        and now < record.absolute_expires_at
        and now < last_seen + idle
        and now < record.created_at + absolute
    ):
        return DUE if last_seen <= touch_before else LIVE
    return DEAD


def is_live(record: SessionRecord, spec: TouchSpec) -> bool:
    """Not expired by either timeout (see :func:`liveness`)."""
    return liveness(record, spec) != DEAD


def touch_due(record: SessionRecord, spec: TouchSpec) -> bool:
    """Live and due for the throttled renewal (see :func:`liveness`)."""
    return liveness(record, spec) == DUE


def next_expiry(record: SessionRecord, spec: TouchSpec) -> float:
    """The idle deadline after a touch at ``spec[NOW]``, capped by the absolute lifetime."""
    return min(spec[NOW] + idle_for(spec, record.remember), record.absolute_expires_at)


def touched(record: SessionRecord, spec: TouchSpec) -> SessionRecord:
    """The record after a renewal at ``spec[NOW]`` (callers check :func:`liveness` first)."""
    return record._replace(last_seen_at=spec[NOW], expires_at=next_expiry(record, spec))


def rotated(record: SessionRecord, spec: TouchSpec, auth_time: float | None) -> SessionRecord:
    """The record after moving to a new token at ``spec[NOW]`` (a rotation also renews it)."""
    return record._replace(
        last_seen_at=spec[NOW],
        expires_at=next_expiry(record, spec),
        authenticated_at=record.authenticated_at if auth_time is None else auth_time,
    )


def ttl_ms(record: SessionRecord, now: float) -> int:
    """Milliseconds until the idle deadline: the native TTL of the Redis key (at least 1)."""
    return max(1, math.ceil((record.expires_at - now) * 1000))


def new_record(
    user_id: str,
    lifetimes: Lifetimes,
    now: float,
    *,
    remember: bool,
    metadata: Mapping[str, Any] | None,
) -> SessionRecord:
    idle = lifetimes.idle_remember if remember else lifetimes.idle
    absolute = lifetimes.absolute_remember if remember else lifetimes.absolute
    return SessionRecord(
        id=secrets.token_urlsafe(16),
        user_id=check_user_id(user_id),
        created_at=now,
        authenticated_at=now,
        last_seen_at=now,
        expires_at=now + min(idle, absolute),
        absolute_expires_at=now + absolute,
        remember=bool(remember),
        metadata=check_json(metadata or {}, MAX_METADATA_BYTES, "metadata"),
        data=EMPTY,
    )


# --- tokens ---------------------------------------------------------------------------------------


def routing_tag(user_id: str) -> str:
    """Four base64url characters from the user id: the Redis Cluster hash tag of the user's slot.

    Not secret and not meant to be: anyone holding a token could at most confirm a guess of its
    user (24 bits), and only the user (or a thief who already holds the session) has the token.
    """
    digest = hashlib.sha256(b"gatepass/slot\x00" + user_id.encode()).digest()
    return base64.urlsafe_b64encode(digest[:3]).decode()


def new_token(user_id: str) -> str:
    return token_for_tag(routing_tag(user_id))


def token_for_tag(tag: str) -> str:
    """A fresh token in the slot ``tag`` (rotation keeps the user's tag)."""
    return f"{tag}.{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def token_tag(token: object) -> str | None:
    """The tag of a well-formed token, or None: malformed input never reaches a store.

    Only the shape and the tag's alphabet are checked (the tag becomes part of a Redis key); the
    secret part needs no check: any other string simply hashes to nothing stored. Ordered for
    the hot path: C-level string methods first; ``isalnum`` settles most tags (those without
    ``-`` or ``_``) before the set test. Measured faster than one compiled regex.
    """
    if (
        type(token) is not str
        or len(token) != TOKEN_LENGTH
        or token[TAG_LENGTH] != "."
        or not token.isascii()
    ):
        return None
    tag = token[:TAG_LENGTH]
    if tag.isalnum() or _TOKEN_CHARS.issuperset(tag):
        return tag
    return None


def parse_token(token: object) -> tuple[bytes, str] | None:
    """``(sha256, tag)`` of a well-formed token (see :func:`token_tag`), or None."""
    tag = token_tag(token)
    if tag is None or not isinstance(token, str):
        return None
    return sha256(token.encode()).digest(), tag


def check_user_id(user_id: object) -> str:
    if not isinstance(user_id, str) or not user_id or len(user_id) > MAX_USER_ID:
        raise ConfigurationError(f"user_id must be a non-empty str of at most {MAX_USER_ID} chars")
    return user_id


def dump_json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def check_json(value: Mapping[str, Any], limit: int, what: str) -> FrozenDict:
    """A frozen JSON-object copy of ``value`` (str keys, JSON values), at most ``limit`` bytes
    encoded. Frozen (:func:`freeze`): it becomes part of a record, which is shared."""
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ConfigurationError(f"session {what} must be a mapping with str keys")
    try:
        text = dump_json(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"session {what} must be JSON-serialisable: {exc}") from None
    if len(text.encode()) > limit:
        raise ConfigurationError(f"session {what} is larger than {limit} bytes")
    result: FrozenDict = freeze(json.loads(text))
    return result


#: The C scanner behind ``json.loads`` without its Python wrappers: only for our own stored JSON.
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
#: Decoded, frozen JSON objects keyed by their stored text. Safe to share because they are
#: deeply immutable; bounded (entries and text length) so it never holds more than a few MB.
LOADED_JSON: dict[str, FrozenDict] = {"{}": EMPTY}
LOADED_JSON_MAX_ENTRIES = 1024
LOADED_JSON_MAX_TEXT = 1024


def load_json_object(text: object) -> FrozenDict:
    """A stored ``metadata`` / ``data`` column (JSON text) as a frozen mapping.

    Every SQL ``get`` decodes two such columns, and a session's metadata never changes, so the
    decoded value is cached by its text: a hit costs one dict lookup instead of a JSON decode
    and a freeze. Anything that is not a JSON object decodes to the empty mapping.
    """
    if type(text) is not str:  # bytes, or already decoded by a driver (a fresh object: ours)
        if isinstance(text, bytes | bytearray | memoryview):
            return load_json_object(bytes(text).decode())
        return freeze(text) if type(text) is dict else EMPTY
    found = LOADED_JSON.get(text)
    if found is not None:
        return found
    decoded = _scan(text, 0)[0]
    result: FrozenDict = freeze(decoded) if type(decoded) is dict else EMPTY
    if len(text) <= LOADED_JSON_MAX_TEXT:
        if len(LOADED_JSON) >= LOADED_JSON_MAX_ENTRIES:
            LOADED_JSON.clear()  # rare, and safe under threads (unlike evicting while iterating)
            LOADED_JSON["{}"] = EMPTY
        LOADED_JSON[text] = result
    return result


def merge_data(data: Mapping[str, Any], patch: Mapping[str, Any]) -> JSONDict:
    """Top-level merge; a ``None`` value deletes the key (as in RFC 7386 JSON merge patch)."""
    merged = dict(data)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
