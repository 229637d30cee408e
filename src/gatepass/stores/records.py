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
import decimal
import functools
import hashlib
import importlib
import json
import math
import numbers
import re
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, NoReturn, Protocol

from gatepass.errors import ConfigurationError, StoreError

JSONDict = dict[str, Any]

TAG_LENGTH = 4
_SECRET_LENGTH = 43  # len(secrets.token_urlsafe(32))
TOKEN_LENGTH = TAG_LENGTH + 1 + _SECRET_LENGTH
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

MAX_USER_ID = 255
MAX_METADATA_BYTES = 2048
MAX_DATA_BYTES = 4096
#: Objects and arrays nest at most this deep in ``metadata`` / ``data`` (the top-level object
#: counts as 1). Far beyond any real session data, and far below the recursion limits that
#: ``json``, :func:`freeze` and the stores' decoders would otherwise hit on hostile input.
MAX_JSON_DEPTH = 32
#: No timeout may exceed 100 years: every backend stores such a deadline exactly (Redis keeps
#: the TTL in integer milliseconds, which overflows long before a float does) and it stays a
#: plain number of seconds everywhere. "Never expires" is not a session lifetime.
MAX_TIMEOUT = 100 * 365.25 * 86400
#: The longest wait a store option may ask for (a lock, a pooled connection, a socket): longer
#: than a day is a hang, and larger values overflow the drivers (SQLite keeps the busy timeout
#: in int32 milliseconds, ``socket`` rejects an infinite timeout).
MAX_WAIT_SECONDS = 86400.0

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
    much to construct. The SQL stores hand out :class:`StoredRow`, a subclass that decodes its
    JSON when read; it behaves exactly like this class.
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


_REMEMBER = 7
#: The stored slots under names of their own (C-level getters, as fast as any field): they stay
#: the raw slots on :class:`StoredRow`, whose public fields are properties.
SessionRecord._slot_remember = SessionRecord.remember  # type: ignore[attr-defined]
SessionRecord._slot_metadata = SessionRecord.metadata  # type: ignore[attr-defined]
SessionRecord._slot_data = SessionRecord.data  # type: ignore[attr-defined]


class StoredRow(SessionRecord):
    """A :class:`SessionRecord` built straight from an SQL row, one C call (:data:`from_row`):
    ``remember`` may hold SQLite's ``0``/``1`` and ``metadata`` / ``data`` their stored JSON
    text, decoded (through the shared cache of :func:`load_json_object`) when first read.

    Most requests read ``user_id`` and never the device metadata, so a ``get`` of a session whose
    JSON is not in the cache does not pay for a decode it does not use. Everything the
    ``NamedTuple`` API shows is the decoded value: the attributes, iteration and unpacking,
    indexing and slicing, ``in``, ``count``/``index``, ``+``/``*``, ``==`` (with any record:
    Python asks the subclass first), ``repr``, ``_asdict``, pickling (which gives a plain
    :class:`SessionRecord`) and copying. ``_replace`` keeps the undecoded slots it does not
    change. A row whose JSON was damaged outside gatepass raises ``StoreError`` when the damaged
    field is read.
    """

    __slots__ = ()

    @property
    def remember(self) -> bool:
        return bool(self._slot_remember)  # type: ignore[attr-defined]  # True, or SQLite's 1

    @property
    def metadata(self) -> Mapping[str, Any]:
        value = self._slot_metadata  # type: ignore[attr-defined]
        if type(value) is FrozenDict:
            return value
        found = _cached(value) if type(value) is str else None  # the common case, inlined
        return _decoded(value) if found is None else found

    @property
    def data(self) -> Mapping[str, Any]:
        value = self._slot_data  # type: ignore[attr-defined]
        if type(value) is FrozenDict:
            return value
        found = _cached(value) if type(value) is str else None
        return _decoded(value) if found is None else found

    def decoded(self) -> SessionRecord:
        """The same record as a plain :class:`SessionRecord` (every field decoded once)."""
        return SessionRecord._make(self)

    def __iter__(self) -> Iterator[Any]:
        stored = tuple.__iter__(self)
        for _ in range(_REMEMBER):
            yield next(stored)
        yield self.remember
        yield self.metadata
        yield self.data

    def _replace(self, /, **changes: Any) -> StoredRow:
        stored = list(tuple.__iter__(self))
        for index, name in enumerate(self._fields):
            if name in changes:
                stored[index] = changes.pop(name)
        if changes:
            raise ValueError(f"got unexpected field names: {list(changes)!r}")
        return tuple.__new__(StoredRow, stored)

    def __getitem__(self, index: Any) -> Any:
        return tuple(self)[index]

    def __contains__(self, value: object) -> bool:
        return value in tuple(self)

    def count(self, value: Any) -> int:
        return tuple(self).count(value)

    def index(self, value: Any, *bounds: Any) -> int:
        return tuple(self).index(value, *bounds)

    def __add__(self, other: Any) -> Any:
        return tuple(self) + other

    def __mul__(self, times: Any) -> Any:
        return tuple(self) * times

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, tuple):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None  # type: ignore[assignment]  # holds mappings: unhashable, as before

    def __repr__(self) -> str:
        return repr(self.decoded())

    def __reduce__(self) -> tuple[Any, ...]:
        return (SessionRecord._make, (tuple(self),))

    def __copy__(self) -> StoredRow:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> StoredRow:
        return self


def _decoded(value: object) -> Mapping[str, Any]:
    if type(value) is str or isinstance(value, bytes | bytearray | memoryview):
        return load_json_object(value)
    return value if isinstance(value, Mapping) else EMPTY


#: A row in :data:`gatepass.stores._sql.SESSION_COLUMNS` order as a record, with no Python in
#: between (``tuple.__new__`` bound by a C ``partial``): the SQL stores' hot path.
from_row: Callable[[Sequence[Any]], StoredRow] = functools.partial(tuple.__new__, StoredRow)


#: The :class:`Lifetimes` fields as the :class:`gatepass.Sessions` arguments that set them.
_TIMEOUT_NAMES = {
    "idle": "idle_timeout",
    "absolute": "absolute_timeout",
    "idle_remember": "remember_idle_timeout",
    "absolute_remember": "remember_absolute_timeout",
    "touch_interval": "touch_interval",
}


def finite_real(value: object) -> float | None:
    """``value`` as a finite ``float`` if it is a real number (``int``, ``float``, ``Fraction``,
    ``Decimal``; not a ``bool``), else None: the one check behind every number of seconds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | decimal.Decimal):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        return None  # e.g. an int too large for a float
    return seconds if math.isfinite(seconds) else None


def check_seconds(
    value: object, name: str, *, allow_zero: bool = False, maximum: float = MAX_TIMEOUT
) -> float:
    """``value`` as a duration in seconds: a finite real number (see :func:`finite_real`),
    positive (or zero if ``allow_zero``), at most ``maximum``; ``ConfigurationError`` otherwise.

    Checked, not coerced: ``float("30")`` would accept a string, ``float(True)`` a flag, and a
    NaN compares false with everything, so ``touch_interval=nan`` silently disabled renewal
    and an infinite timeout made the Redis store overflow on its integer TTL.
    """
    seconds = finite_real(value)
    if seconds is None or seconds > maximum:
        raise ConfigurationError(
            f"{name} must be a finite number of seconds of at most {maximum:.0f}, not {value!r:.40}"
        )
    if seconds < 0 or (seconds == 0 and not allow_zero):
        limit = "must not be negative" if allow_zero else "must be positive"
        raise ConfigurationError(f"{name} {limit}")
    return seconds


@dataclass(frozen=True, slots=True)
class Lifetimes:
    """The timeouts of one :class:`Sessions` configuration, in seconds.

    Every field is checked by :func:`check_seconds` and stored as a ``float`` (whatever real
    number was passed), so every user of a ``Lifetimes`` gets the same validation: the four
    lifetimes positive, ``touch_interval`` zero or more and shorter than both idle timeouts.
    """

    idle: float
    absolute: float
    idle_remember: float
    absolute_remember: float
    touch_interval: float

    def __post_init__(self) -> None:
        for field, name in _TIMEOUT_NAMES.items():
            allow_zero = field == "touch_interval"
            value = check_seconds(getattr(self, field), name, allow_zero=allow_zero)
            object.__setattr__(self, field, value)  # frozen: the documented way to normalise
        if self.idle > self.absolute or self.idle_remember > self.absolute_remember:
            raise ConfigurationError(
                "an idle timeout longer than the absolute lifetime is unusable"
            )
        if self.touch_interval >= min(self.idle, self.idle_remember):
            raise ConfigurationError("touch_interval must be shorter than the idle timeouts")


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
    return spec_maker(lifetimes, lambda: now)()


def spec_maker(lifetimes: Lifetimes, clock: Callable[[], float]) -> Callable[[], TouchSpec]:
    """``touch_spec`` at ``clock()``, for one configuration: everything but the time is read
    once, so the hot path makes one call (a closure building a plain tuple) per ``get``."""
    interval = lifetimes.touch_interval
    idle, idle_remember = lifetimes.idle, lifetimes.idle_remember
    absolute, absolute_remember = lifetimes.absolute, lifetimes.absolute_remember

    def make() -> TouchSpec:
        now = clock()
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
    if record._slot_remember:  # type: ignore[attr-defined]  # True or 1, at C speed
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
        id=secrets.token_urlsafe(PUBLIC_ID_BYTES),
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


class _Digest(Protocol):
    def digest(self) -> bytes: ...


_ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # FIPS 180-2 B.1


def _fastest_sha256() -> Callable[[bytes], _Digest]:
    """CPython's own SHA-256 (``_sha2`` from 3.12, ``_sha256`` before), else ``hashlib``'s.

    Every ``get`` hashes one token. ``hashlib.sha256`` is OpenSSL's, and with OpenSSL 3 each call
    sets up a fresh digest context through the provider layer: measured at 0.4 µs alone but 1 µs
    inside the SQLite hot path and 6 µs of CPU beside a PostgreSQL round trip, against 0.5 µs for
    the built-in implementation (``bench/bench_sessions.py`` prints both). Same function, same
    bytes; the result is checked against the FIPS 180-2 test vector before it is trusted, and
    ``hashlib`` remains the fallback on interpreters built without the module.
    """
    for name in ("_sha2", "_sha256"):
        try:
            candidate = getattr(importlib.import_module(name), "sha256", None)
        except ImportError:
            continue
        if callable(candidate):
            try:
                if candidate(b"abc").hexdigest() == _ABC_SHA256:
                    return candidate  # type: ignore[no-any-return]
            except Exception:  # noqa: S112 - an unusable candidate is skipped, never trusted
                continue
    return hashlib.sha256


#: SHA-256 of token bytes (see :func:`_fastest_sha256`): ``sha256(data).digest()``.
sha256 = _fastest_sha256()


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
    return sha256(token.encode()).digest()


def is_tag(tag: str) -> bool:
    """Whether ``tag`` is a well-formed routing tag: four base64url characters (it becomes part
    of a Redis key, so nothing else may pass). ``isalnum`` settles most tags (those without
    ``-`` or ``_``) before the set test."""
    return (
        len(tag) == TAG_LENGTH and tag.isascii() and (tag.isalnum() or _TOKEN_CHARS.issuperset(tag))
    )


def token_tag(token: object) -> str | None:
    """The tag of a well-formed token, or None: malformed input never reaches a store.

    Only the shape and the tag's alphabet are checked (the tag becomes part of a Redis key); the
    secret part needs no check: any other string simply hashes to nothing stored.
    ``Sessions.get`` checks only the type, the length and ``isascii`` on its hot path (see there)
    and leaves the tag to the one backend that builds a key from it: Redis calls :func:`is_tag`.
    """
    if (
        type(token) is not str
        or len(token) != TOKEN_LENGTH
        or token[TAG_LENGTH] != "."
        or not token.isascii()  # also keeps lone surrogates (unencodable) away from encode()
    ):
        return None
    tag = token[:TAG_LENGTH]
    return tag if is_tag(tag) else None


def parse_token(token: object) -> tuple[bytes, str] | None:
    """``(sha256, tag)`` of a well-formed token (see :func:`token_tag`), or None."""
    tag = token_tag(token)
    if tag is None or not isinstance(token, str):
        return None
    return sha256(token.encode()).digest(), tag


#: A public id is ``secrets.token_urlsafe(16)``: 128 random bits, 22 base64url characters.
PUBLIC_ID_BYTES = 16
PUBLIC_ID_LENGTH = 22


def is_public_id(value: object) -> bool:
    """Whether ``value`` could be a session's public ``id`` (anything else matches nothing, so
    ``revoke(id, user_id=...)`` answers False without I/O instead of handing a driver NUL bytes
    or unencodable text)."""
    return (
        type(value) is str
        and len(value) == PUBLIC_ID_LENGTH
        and value.isascii()
        and _TOKEN_CHARS.issuperset(value)
    )


def check_user_id(user_id: object) -> str:
    """``user_id`` as a plain ``str`` that every backend stores and indexes identically.

    Non-empty, at most :data:`MAX_USER_ID` characters, encodable as UTF-8 (a lone surrogate
    such as ``"\\ud800"`` is not: it would fail in :func:`routing_tag` and in every driver) and
    without NUL, which PostgreSQL ``text`` cannot hold (the other stores would accept it, so one
    backend would refuse what the others keep). ``ConfigurationError`` otherwise.
    """
    if not isinstance(user_id, str) or not user_id or len(user_id) > MAX_USER_ID:
        raise ConfigurationError(f"user_id must be a non-empty str of at most {MAX_USER_ID} chars")
    if "\x00" in user_id:
        raise ConfigurationError("user_id must not contain NUL characters")
    if not user_id.isascii():
        try:
            user_id.encode()
        except UnicodeEncodeError:
            raise ConfigurationError(
                "user_id must be valid Unicode text (no lone surrogates)"
            ) from None
    return user_id if type(user_id) is str else str.__str__(user_id)  # a subclass: plain copy


def dump_json(value: Mapping[str, Any]) -> str:
    """The stored JSON text of a checked mapping (see :func:`check_json`): compact, UTF-8."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


#: A JSON ``\u0000`` escape (a real NUL character) in dumped text: preceded by an even number of
#: backslashes, so the six characters ``\u0000`` written by a user (dumped as ``\\u0000``) do
#: not match.
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")
#: The smallest float whose JSON text uses a positive exponent (``1e+16``). PostgreSQL's jsonb
#: reads such a number as an exact decimal and gives it back as an integer (``1e300`` returns as
#: ``10**300``, a different number), while the other stores give back the float.
_EXPONENT_FLOAT = 1e16


def _check_json_tree(value: JSONDict, what: str) -> None:
    """Depth and number checks on a freshly decoded JSON object (ours: changed in place).

    Iterative, so hostile nesting costs no recursion. ``-0.0`` becomes ``0.0`` (PostgreSQL's
    numeric has no negative zero); floats from :data:`_EXPONENT_FLOAT` on are refused, since
    PostgreSQL would return them as different numbers.
    """
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ConfigurationError(
                f"session {what} nests objects and arrays deeper than {MAX_JSON_DEPTH} levels"
            )
        items: Any = node.items() if type(node) is dict else enumerate(node)
        for key, item in items:
            kind = type(item)
            if kind is dict or kind is list:
                stack.append((item, depth + 1))
            elif kind is float and not -_EXPONENT_FLOAT < item < _EXPONENT_FLOAT:
                raise ConfigurationError(
                    f"session {what} holds the float {item!r}, which not every store keeps "
                    "exactly: store it as an int or a string"
                )
            elif kind is float and item == 0.0:
                node[key] = 0.0  # -0.0 (or 0.0): replacing a value while iterating is safe


def check_json(value: Mapping[str, Any], limit: int, what: str) -> FrozenDict:
    """A frozen JSON-object copy of ``value`` (str keys, JSON values), at most ``limit`` bytes
    encoded. Frozen (:func:`freeze`): it becomes part of a record, which is shared.

    Everything a backend could refuse or change is refused here, the same way for all of them
    (``ConfigurationError``): values that are not JSON (or NaN / infinity), text that is not
    encodable as UTF-8 (lone surrogates), NUL characters in any key or string (PostgreSQL's
    jsonb rejects ``\\u0000``), nesting deeper than :data:`MAX_JSON_DEPTH`, and floats that
    PostgreSQL would return as a different number (see :func:`_check_json_tree`).
    """
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ConfigurationError(f"session {what} must be a mapping with str keys")
    try:
        text = dump_json(value if isinstance(value, dict) else dict(value))
    except RecursionError:
        raise ConfigurationError(
            f"session {what} nests objects and arrays deeper than {MAX_JSON_DEPTH} levels"
        ) from None
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"session {what} must be JSON-serialisable: {exc}") from None
    try:
        size = len(text.encode())
    except UnicodeEncodeError:
        raise ConfigurationError(
            f"session {what} must be valid Unicode text (no lone surrogates)"
        ) from None
    if size > limit:
        raise ConfigurationError(f"session {what} is larger than {limit} bytes")
    if "\\u0000" in text and _NUL_ESCAPE.search(text):
        raise ConfigurationError(f"session {what} must not contain NUL characters")
    try:
        decoded = json.loads(text)
    except RecursionError:
        raise ConfigurationError(
            f"session {what} nests objects and arrays deeper than {MAX_JSON_DEPTH} levels"
        ) from None
    _check_json_tree(decoded, what)
    result: FrozenDict = freeze(decoded)
    return result


#: The C scanner behind ``json.loads`` without its Python wrappers: only for our own stored JSON.
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
#: Decoded, frozen JSON objects keyed by their stored text. Safe to share because they are
#: deeply immutable; bounded by entries and by total text, so it never holds more than a few MB.
#: Every text gatepass stores fits (``metadata`` and ``data`` are at most 4 KiB): a record's
#: JSON is decoded once, however often its fields are read.
LOADED_JSON: dict[str, FrozenDict] = {"{}": EMPTY}
_cached = LOADED_JSON.get
LOADED_JSON_MAX_ENTRIES = 1024
LOADED_JSON_MAX_TEXT = MAX_DATA_BYTES
LOADED_JSON_MAX_TOTAL = 512 * 1024  # characters of text held at most
_loaded_total = [0]


def load_json_object(text: object) -> FrozenDict:
    """A stored ``metadata`` / ``data`` column (JSON text) as a frozen mapping.

    Records from the SQL stores decode their two JSON columns when they are read, and a
    session's metadata never changes, so the decoded value is cached by its text: a hit costs one
    dict lookup instead of a JSON decode and a freeze. Anything that is not a JSON object decodes
    to the empty mapping; text that is not JSON at all (a damaged row) raises ``StoreError``.
    """
    if type(text) is not str:  # bytes, or already decoded by a driver (a fresh object: ours)
        if isinstance(text, bytes | bytearray | memoryview):
            try:
                return load_json_object(bytes(text).decode())
            except UnicodeDecodeError:
                raise StoreError("a stored session's metadata or data is not UTF-8") from None
        return freeze(text) if type(text) is dict else EMPTY
    found = LOADED_JSON.get(text)
    if found is not None:
        return found
    try:
        decoded = _scan(text, 0)[0]
    except (StopIteration, ValueError, RecursionError):
        raise StoreError("a stored session's metadata or data is not valid JSON") from None
    result: FrozenDict = freeze(decoded) if type(decoded) is dict else EMPTY
    size = len(text)
    if size <= LOADED_JSON_MAX_TEXT:
        if (
            len(LOADED_JSON) >= LOADED_JSON_MAX_ENTRIES
            or _loaded_total[0] + size > LOADED_JSON_MAX_TOTAL
        ):
            LOADED_JSON.clear()  # rare, and safe under threads (unlike evicting while iterating)
            LOADED_JSON["{}"] = EMPTY
            _loaded_total[0] = 0
        LOADED_JSON[text] = result
        _loaded_total[0] += size  # approximate under threads: a bound, not an account
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
