"""The session rules, written once (pure): lifetimes, liveness, the throttled touch, rotation.

:class:`~gatepass.strategies.sessions.Sessions` and its asyncio twin read a record from the store,
decide here, and write the decision with a compare-and-set call that applies only if the record
is still the one decided on. No rule is written anywhere else: not in a backend, not in SQL or Lua.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gatepass.errors import ConfigurationError
from gatepass.stores.limits import check_id, check_seconds
from gatepass.stores.records import EMPTY, SessionRecord
from gatepass.strategies._session_input import MAX_METADATA_BYTES, check_json
from gatepass.strategies._session_tokens import new_public_id

#: The :class:`Lifetimes` fields as the :class:`gatepass.Sessions` arguments that set them.
_TIMEOUT_NAMES = {
    "idle": "idle_timeout",
    "absolute": "absolute_timeout",
    "idle_remember": "remember_idle_timeout",
    "absolute_remember": "remember_absolute_timeout",
    "touch_interval": "touch_interval",
}
#: The longest default touch interval; shorter idle timeouts get a tenth of the shorter one.
DEFAULT_TOUCH_INTERVAL = 60.0


def default_touch_interval(idle: object, idle_remember: object) -> float:
    """The touch interval when the caller sets none: a tenth of the shorter idle timeout, at
    most a minute. A session is renewed at most once per interval, so its ``last_seen_at`` (and
    its idle deadline) lags by at most a tenth of its idle timeout. Timeouts that are not valid
    get the longest interval: :class:`Lifetimes` refuses them, naming them."""
    try:
        shortest = min(check_seconds(idle, "idle"), check_seconds(idle_remember, "idle"))
    except ConfigurationError:
        return DEFAULT_TOUCH_INTERVAL
    return min(DEFAULT_TOUCH_INTERVAL, shortest / 10)


@dataclass(frozen=True, slots=True)
class Lifetimes:
    """The timeouts of one :class:`Sessions` configuration, in seconds.

    Every field is checked by :func:`~gatepass.stores.limits.check_seconds` and stored as a
    ``float``: the four lifetimes positive, ``touch_interval`` zero or more and shorter than
    both idle timeouts.
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


#: The results of :func:`liveness`.
DEAD, LIVE, DUE = 0, 1, 2


def liveness(record: SessionRecord, now: float, life: Lifetimes) -> int:
    """The one decision of every read: ``DEAD``, ``LIVE``, or ``DUE`` (live, and the throttled
    sliding renewal is due).

    Live means not idle-expired and not past its absolute lifetime, by the record *and* by the
    current configuration (so shortening a timeout takes effect on existing sessions at once).
    Renewal is throttled: due only when last seen at least ``touch_interval`` ago, so a busy
    session causes at most one write per interval. A dead session is never renewed.
    """
    if record.remember:
        idle, absolute = life.idle_remember, life.absolute_remember
    else:
        idle, absolute = life.idle, life.absolute
    last_seen = record.last_seen_at
    if (
        now < record.expires_at
        and now < record.absolute_expires_at
        and now < last_seen + idle
        and now < record.created_at + absolute
    ):
        return DUE if last_seen <= now - life.touch_interval else LIVE
    return DEAD


def next_expiry(record: SessionRecord, now: float, life: Lifetimes) -> float:
    """The idle deadline after a touch at ``now``, capped by the absolute lifetime."""
    idle = life.idle_remember if record.remember else life.idle
    return min(now + idle, record.absolute_expires_at)


def touched(record: SessionRecord, now: float, life: Lifetimes) -> SessionRecord:
    """The record after a renewal at ``now`` (callers check :func:`liveness` first)."""
    return record._replace(last_seen_at=now, expires_at=next_expiry(record, now, life))


def rotated(
    record: SessionRecord, now: float, life: Lifetimes, auth_time: float | None
) -> SessionRecord:
    """The record after moving to a new token at ``now`` (a rotation also renews it)."""
    return record._replace(
        last_seen_at=now,
        expires_at=next_expiry(record, now, life),
        authenticated_at=record.authenticated_at if auth_time is None else auth_time,
    )


def new_record(
    user_id: str,
    life: Lifetimes,
    now: float,
    *,
    remember: bool,
    metadata: Mapping[str, Any] | None,
) -> SessionRecord:
    idle = life.idle_remember if remember else life.idle
    absolute = life.absolute_remember if remember else life.absolute
    return SessionRecord(
        id=new_public_id(),
        user_id=check_id(user_id, "user_id"),
        created_at=now,
        authenticated_at=now,
        last_seen_at=now,
        expires_at=now + min(idle, absolute),
        absolute_expires_at=now + absolute,
        remember=bool(remember),
        metadata=check_json(metadata or {}, MAX_METADATA_BYTES, "metadata"),
        data=EMPTY,
    )


#: Sessions one user may hold (:class:`gatepass.Sessions` ``max_sessions``): far more devices
#: than a person uses, few enough that listing or revoking them all stays cheap on every store.
DEFAULT_MAX_SESSIONS = 100


def check_max_sessions(value: object) -> int | None:
    """``max_sessions``: a whole number of at least 1, or None for no cap."""
    if value is None:
        return None
    if type(value) is not int or value < 1:
        raise ConfigurationError(
            f"max_sessions must be a whole number of at least 1, or None, not {value!r}"
        )
    return value


def over_cap(count: int, cap: int | None) -> bool:
    """Whether a user who has ``count`` stored sessions after a login must lose some."""
    return cap is not None and count > cap


def evictions(
    records: Iterable[SessionRecord], keep_id: str, cap: int, now: float, life: Lifetimes
) -> list[str]:
    """The public ids to revoke so that the user keeps at most ``cap`` sessions: records that
    are no longer live first (they cost nothing to lose), then the oldest by creation; never
    ``keep_id``, the session just created."""
    stored = list(records)
    excess = len(stored) - cap
    if excess <= 0:
        return []
    candidates = sorted(
        (r for r in stored if r.id != keep_id),
        key=lambda r: (liveness(r, now, life) != DEAD, r.created_at),
    )
    return [r.id for r in candidates[:excess]]
