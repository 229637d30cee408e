"""What callers hand to stores, checked once for every backend: numbers of seconds (every
timeout, lifetime, clock reading, URL option) and ids (users, sessions, token ids)."""

from __future__ import annotations

from collections.abc import Callable

from gatepass.errors import ConfigurationError
from gatepass.tokens._numbers import finite_real

#: No timeout may exceed 100 years: every backend stores such a deadline exactly (Redis keeps
#: the TTL in integer milliseconds, which overflows long before a float does) and it stays a
#: plain number of seconds everywhere. "Never expires" is not a session lifetime.
MAX_TIMEOUT = 100 * 365.25 * 86400
#: The longest id (user, session, token id) in characters: every backend indexes it as it is.
MAX_ID = 255
#: The longest wait a store option may ask for (a lock, a pooled connection, a socket): longer
#: than a day is a hang, and larger values overflow the drivers (SQLite keeps the busy timeout
#: in int32 milliseconds, ``socket`` rejects an infinite timeout).
MAX_WAIT_SECONDS = 86400.0


def check_seconds(
    value: object, name: str, *, allow_zero: bool = False, maximum: float = MAX_TIMEOUT
) -> float:
    """``value`` as a duration in seconds: a finite real number (see :func:`finite_real`),
    positive (or zero if ``allow_zero``), at most ``maximum``; ``ConfigurationError`` otherwise.

    Checked, not coerced: ``float("30")`` would accept a string, ``float(True)`` a flag, and a
    NaN compares false with everything, so it would silently disable every comparison it is in.
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


def point_in_time(value: object, what: str) -> float:
    """A clock reading or cut-off: a finite real number of seconds, ``ConfigurationError``
    otherwise. Checked because stores compare it with stored times: SQLite orders every number
    below every string, so ``DELETE ... WHERE expires_at <= 'x'`` would delete live rows too."""
    when = finite_real(value)
    if when is None:
        raise ConfigurationError(f"{what} must be a finite number of seconds, not {value!r:.40}")
    return when


def checked_clock(clock: object) -> Callable[[], float]:
    """``clock`` (a function returning seconds since the epoch), each reading checked by
    :func:`point_in_time`: ``None``, a string, NaN or an infinity is ``ConfigurationError``
    where it is read, before anything is written with it. Unchecked, a NaN compares false with
    every expiry (a session that never ends) and SQLite would store it as NULL or as text.

    A finite ``float`` (what ``time.time`` returns) passes with one type test and one
    subtraction (``x - x`` is NaN for NaN and the infinities), so the hot path keeps its speed.
    """
    if not callable(clock):
        raise ConfigurationError(f"clock must be a function returning seconds, not {clock!r:.40}")

    def now() -> float:
        value = clock()
        if type(value) is float and value - value == 0.0:
            return value
        return point_in_time(value, "the clock's reading")

    return now


def storable_text(value: str) -> bool:
    """Whether every backend keeps ``value`` exactly: no NUL (PostgreSQL ``text`` cannot hold
    it, where the other stores would) and encodable as UTF-8 (a lone surrogate such as
    ``"\\ud800"`` is not: every driver, and the routing tag's hash, would raise)."""
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def check_id(value: object, what: str) -> str:
    """``value`` as a plain ``str`` that every backend stores and indexes identically: the one
    check of every id a caller hands to gatepass (user ids, session ids; ``what`` names it).

    Non-empty, at most :data:`MAX_ID` characters, no NUL, no lone surrogate (see
    :func:`storable_text`): ``ConfigurationError`` otherwise, the same on every store, before
    any store is called. A ``str`` subclass becomes a plain copy, so what is stored cannot
    change behind the store's back.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_ID:
        raise ConfigurationError(f"{what} must be a non-empty str of at most {MAX_ID} chars")
    if not storable_text(value):
        if "\x00" in value:
            raise ConfigurationError(f"{what} must not contain NUL characters")
        raise ConfigurationError(f"{what} must be valid Unicode text (no lone surrogates)")
    return value if type(value) is str else str.__str__(value)
