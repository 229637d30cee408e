"""What both session front-ends share before any I/O: their configuration and its checks."""

from __future__ import annotations

import inspect
import secrets
import time
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar, cast

from gatepass.errors import ConfigurationError, InvalidToken
from gatepass.stores.limits import checked_clock
from gatepass.stores.records import SessionRecord
from gatepass.strategies._session_policy import (
    DEFAULT_MAX_SESSIONS,
    Lifetimes,
    check_max_sessions,
    default_touch_interval,
)
from gatepass.strategies._session_tokens import parse_token

MINUTE = 60.0
HOUR = 60 * MINUTE
DAY = 24 * HOUR
#: Purge automatically after about this many session creations (stores that do not expire
#: records by themselves). The first purge comes after a random 1 to this many: a process that
#: creates fewer sessions (a CLI tool, a serverless function, a test) still purges with
#: probability n/1000, so across many processes a purge runs on average once per 1000 creations.
PURGE_EVERY = 1000
#: Bound on re-reading a session that keeps changing under a compare-and-set write.
ATTEMPTS = 100


class _Revoking(Protocol):
    @property
    def mode(self) -> str: ...
    @property
    def retention(self) -> float: ...
    @property
    def clock(self) -> Callable[[], float]: ...


StoreT = TypeVar("StoreT")
AccessT = TypeVar("AccessT", bound=_Revoking)


def check_flag(value: object, name: str) -> None:
    """Flags are ``bool``: ``remember="false"`` would otherwise mean True."""
    if type(value) is not bool:
        raise ConfigurationError(f"{name} must be True or False, not {value!r}")


def parse_or_raise(token: object) -> tuple[bytes, str]:
    parsed = parse_token(token)
    if parsed is None:
        raise InvalidToken("not a session token")
    return parsed


def kept_hash(except_token: str | None) -> bytes | None:
    """The hash of the session ``revoke_all(except_token=...)`` keeps (a malformed "current"
    token keeps nothing: every session of the user goes)."""
    parsed = None if except_token is None else parse_token(except_token)
    return None if parsed is None else parsed[0]


class SessionsConfig(Generic[StoreT, AccessT]):
    """Configuration of :class:`~gatepass.Sessions` / :class:`~gatepass.AsyncSessions`.

    ``asynchronous`` and ``access_class`` say which flavour the front-end is: a store or access
    tokens of the other flavour would hand back coroutines where results are expected (truthy:
    "logged in" by accident), or fail on every ``await``.
    """

    asynchronous = False
    access_class: type[Any] = object

    def __init__(
        self,
        store: StoreT,
        *,
        idle_timeout: float = 30 * MINUTE,
        absolute_timeout: float = 12 * HOUR,
        touch_interval: float | None = None,
        remember_idle_timeout: float = 14 * DAY,
        remember_absolute_timeout: float = 30 * DAY,
        clock: Callable[[], float] = time.time,
        access_tokens: AccessT | None = None,
        max_sessions: int | None = DEFAULT_MAX_SESSIONS,
    ) -> None:
        self.store = store
        #: Sessions one user may hold; a login beyond it revokes the oldest (None: no cap).
        self.max_sessions = check_max_sessions(max_sessions)
        self.access_tokens: AccessT | None = self._revocable(access_tokens)
        if touch_interval is None:
            touch_interval = default_touch_interval(idle_timeout, remember_idle_timeout)
        self.lifetimes = Lifetimes(
            idle=idle_timeout,
            absolute=absolute_timeout,
            idle_remember=remember_idle_timeout,
            absolute_remember=remember_absolute_timeout,
            touch_interval=touch_interval,
        )
        self.clock = clock
        self._creates = 0
        self._next_purge = 1 + secrets.randbelow(PURGE_EVERY)

    # ``store`` and ``clock`` are properties because the hot path binds what it needs from them
    # once (the store's read, the clock): assigning either rebinds those.

    @property
    def store(self) -> StoreT:
        return self._store

    @store.setter
    def store(self, store: StoreT) -> None:
        get = getattr(store, "session_get", None)
        if not callable(get):
            raise ConfigurationError(
                f"sessions need a store from gatepass.open_store / open_async_store, not {store!r}"
            )
        if inspect.iscoroutinefunction(get) != self.asynchronous:
            if self.asynchronous:
                raise ConfigurationError("AsyncSessions needs a store from open_async_store()")
            raise ConfigurationError(
                "Sessions needs a store from open_store(); "
                "use AsyncSessions with open_async_store()"
            )
        self._store = store
        #: The store's read, bound once: an attribute lookup fewer on every request.
        self._session_get: Any = get

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        """A function returning seconds since the epoch (not called here, so a scripted test
        clock loses no value), each reading checked (:func:`checked_clock`)."""
        self._clock = checked_clock(clock)

    def _revocable(self, access: AccessT | None) -> AccessT | None:
        """Refuse a link that could not keep its promise: stateless tokens cannot be revoked.

        With ``access_tokens`` linked, revoking a session also revokes the access tokens that
        carry its ``sid``, so "log out" means logged out for bearer requests too.
        """
        if access is None:
            return None
        kind = self.access_class
        if not isinstance(cast(object, access), kind):
            raise ConfigurationError(f"access_tokens must be {kind.__name__}, not {access!r}")
        if access.mode == "stateless":
            raise ConfigurationError(
                "access tokens in stateless mode cannot be revoked; link AccessTokens with "
                "revocation='denylist' or 'replicated'"
            )
        return access

    @property
    def linger(self) -> float:
        """How long a session's record is kept after its idle deadline: as long as an access
        token issued for it may live, so that logging out a session that idled out still
        revokes its access tokens (0 without linked access tokens)."""
        access = self.access_tokens
        return 0.0 if access is None else access.retention

    def revoking(self) -> AccessT | None:
        """The linked access tokens, their clock read once before a revocation starts: a
        reading that is junk (``ConfigurationError``) must stop it before the session's record
        goes, not between that write and the revocation of its access tokens."""
        access = self.access_tokens
        if access is not None:
            access.clock()
        return access

    def keep_until(self, record: SessionRecord) -> float:
        return record.expires_at + self.linger

    def purge_due(self) -> bool:
        """Count a creation; whether it is time for the automatic purge."""
        self._creates += 1
        if self._creates < self._next_purge:
            return False
        self._next_purge = self._creates + PURGE_EVERY
        return not getattr(self.store, "purges_itself", False)
