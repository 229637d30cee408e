"""What the stores hold: session records, refresh-token families and revocation entries (data only).

No rule lives here: whether a session is live, a rotation is a reuse or an entry still matters is
decided by the strategies' policy modules (:mod:`gatepass.strategies._session_policy`,
:mod:`gatepass.strategies._refresh_policy`, :mod:`gatepass.strategies._access_policy`). Stores
keep these records, read them back and apply compare-and-set writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, NoReturn

_READ_ONLY = (
    "session records are read-only snapshots: copy with dict(...) / list(...), "
    "or change the session through Sessions.update"
)


class FrozenDict(dict[str, Any]):
    """A JSON object that cannot be changed: ``metadata`` and ``data`` of every record.

    Records are shared (the memory store keeps and returns the very record it holds; the SQL
    stores share decoded JSON through a cache), so a caller that mutated ``record.data`` would
    change the session for everyone without a write, a check or a size limit. Every mutator
    raises ``TypeError`` instead; nested objects and arrays are frozen too (:func:`freeze`). A
    guard against accidents, not a sandbox: ``dict.__setitem__(d, ...)`` still works.

    A ``dict`` subclass rather than ``types.MappingProxyType`` so that it still compares equal
    to a dict, ``json.dumps`` and ``pickle`` it as one, and ``dict(record.data)`` is the usual
    way to get a mutable copy.
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
    rather than a frozen dataclass because one is built on every ``get`` and costs a fifth as
    much to construct (``bench/bench_sessions.py``).
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
class Family:
    """One refresh-token family as stored.

    ``created_at``, ``last_used_at`` and ``expires_at`` are seconds of the refresh strategy's
    clock (idle and absolute lifetimes). ``rotated_at`` is the *store's* clock at the moment the
    last rotation was applied: the grace window is measured on that one clock, so a caller whose
    clock lags, or that waited for a lock, cannot stretch it.

    What the login established travels with the family, so that every access token a rotation
    issues says the same as the first: ``scopes`` (granted at login), ``auth_time`` (when the user
    proved a password: a refresh must not make a login look recent) and ``jkt`` (the RFC 7638
    thumbprint of the DPoP key the family is bound to, RFC 9449 5; None for an unbound family).
    """

    id: str
    user_id: str
    sid: str | None
    created_at: float
    last_used_at: float
    generation: int
    rotated_at: float
    revoked: bool
    expires_at: float
    scopes: tuple[str, ...] = ()
    auth_time: float | None = None
    jkt: str | None = None


@dataclass(frozen=True, slots=True)
class FamilyRead:
    """What one rotation decision needs, read together.

    ``family`` and ``generation`` (the presented token's) are None/0 for an unknown token.
    ``session`` is the family's session record as the store holds it (None if there is none or
    the family has no session); ``store_now`` is the store's clock at the read, the clock the
    grace window is measured on. ``version`` is backend data that the compare-and-set write of the
    decision checks (what must still hold for the write to apply); callers pass it back unread.
    """

    family: Family | None
    generation: int
    session: SessionRecord | None
    store_now: float
    version: Any = None


EntryKind = Literal["jti", "sid", "user"]


@dataclass(frozen=True, slots=True)
class RevocationEntry:
    """One revocation: a ``jti``, a session id, or a user's cut-off (``value`` in µs).

    ``expires_at`` is when the entry stops mattering: every token it could reject has expired.
    Stores merge entries monotonically (``value`` and ``expires_at`` only ever grow), so applying
    a snapshot and the change stream in any order, with duplicates, converges to the same state.
    """

    kind: EntryKind
    key: str
    value: int
    expires_at: float

    def encode(self) -> str:
        """Wire form for change messages: ``kind|expires|value|key`` (key last: may hold '|')."""
        return f"{self.kind}|{self.expires_at!r}|{self.value}|{self.key}"

    @classmethod
    def decode(cls, text: str) -> RevocationEntry:
        """The entry of a change message; ``ValueError`` for anything :meth:`encode` never wrote."""
        kind, expires, value, key = text.split("|", 3)
        return entry(kind, key, int(value), float(expires))


def entry(kind: str, key: str, value: int, expires_at: float) -> RevocationEntry:
    """A :class:`RevocationEntry` from stored columns (``ValueError`` for an unknown kind)."""
    if kind not in ("jti", "sid", "user"):
        raise ValueError(f"unknown revocation kind {kind!r:.20}")
    return RevocationEntry(kind, key, int(value), float(expires_at))  # type: ignore[arg-type]


class RevocationLookup(NamedTuple):
    """The denylist state of one token: its ``jti`` revoked, its ``sid`` revoked, and its
    user's cut-off in microseconds (None if there is none)."""

    jti: bool
    sid: bool
    cutoff_us: int | None


__all__ = [
    "EMPTY",
    "Family",
    "FamilyRead",
    "FrozenDict",
    "FrozenList",
    "RevocationEntry",
    "RevocationLookup",
    "SessionRecord",
    "entry",
    "freeze",
]
