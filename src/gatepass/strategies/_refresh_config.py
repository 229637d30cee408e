"""What both refresh-token front-ends share before any I/O: configuration and planning."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from gatepass.errors import ConfigurationError, MalformedToken
from gatepass.stores.limits import check_id, check_seconds, checked_clock
from gatepass.stores.records import Family
from gatepass.strategies._access_core import flavoured, session_id
from gatepass.strategies._access_policy import check_jkt, check_scopes
from gatepass.strategies._refresh_policy import (
    ReuseEvent,
    check_secret,
    first_token,
    new_family_id,
    parse,
    successor,
)
from gatepass.strategies._session_tokens import hash_token, routing_tag

DAY = 86400.0
#: Bound on reading a family again after a compare-and-set found it changed.
ATTEMPTS = 100

StoreT = TypeVar("StoreT")
AccessT = TypeVar("AccessT")


class RefreshConfig(Generic[StoreT, AccessT]):
    """The constructor of :class:`~gatepass.RefreshTokens` and its asyncio twin; ``on_reuse``
    may return an awaitable in the asyncio one (it is awaited)."""

    def __init__(
        self,
        store: StoreT,
        access_tokens: AccessT,
        *,
        idle_timeout: float = 14 * DAY,
        absolute_timeout: float = 30 * DAY,
        grace: float = 5.0,
        secret: bytes | None = None,
        on_reuse: Callable[[ReuseEvent], object] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # Checked here, not at the first login: a blocking front-end over an asyncio store got
        # coroutines back and never awaited them, so start() issued tokens of a family it never
        # stored; anything else was an AttributeError on first use.
        asynchronous = inspect.iscoroutinefunction(getattr(self, "start", None))
        flavoured(store, asynchronous=asynchronous, method="family_create", what="RefreshTokens")
        issue = getattr(access_tokens, "issue", None)
        if not callable(issue) or inspect.iscoroutinefunction(issue) != asynchronous:
            wanted = "AsyncAccessTokens" if asynchronous else "AccessTokens"
            raise ConfigurationError(f"access_tokens must be {wanted}, not {access_tokens!r:.60}")
        self.store = store
        self.access: AccessT = access_tokens
        if on_reuse is not None and not callable(on_reuse):
            # Found out only when a stolen token is replayed, as a TypeError in the middle of the
            # family's revocation: refused here instead.
            raise ConfigurationError(f"on_reuse must be a function or None, not {on_reuse!r:.40}")
        self.on_reuse = on_reuse
        # Checked as sessions check theirs (finite, at most 100 years): an infinite lifetime
        # overflowed Redis's integer TTL, and a NaN one would never end.
        self.idle = check_seconds(idle_timeout, "idle_timeout")
        self.absolute = check_seconds(absolute_timeout, "absolute_timeout")
        if self.idle > self.absolute:
            raise ConfigurationError(
                "an idle timeout longer than the absolute lifetime is unusable"
            )
        self.grace = check_seconds(grace, "grace", allow_zero=True, maximum=60)
        self._secret = check_secret(secret)
        self.clock = checked_clock(clock)

    def plan_start(
        self,
        user_id: str,
        session: object,
        scopes: Iterable[str] = (),
        auth_time: float | None = None,
        jkt: str | None = None,
    ) -> tuple[str, Family, bytes, str]:
        """``(first token, family, its hash, tag)`` of a new family; ``auth_time`` defaults to
        now (a family is started by a login)."""
        user_id = check_id(user_id, "user_id")
        now = self.clock()
        granted = check_scopes(scopes)
        if auth_time is None:
            auth_time = now
        elif type(auth_time) not in (int, float) or not 0 <= auth_time <= now + 300:
            raise ConfigurationError("auth_time must be when the user logged in (epoch seconds)")
        if jkt is not None:
            check_jkt(jkt)
        family_id = new_family_id()
        token = first_token(user_id, family_id)
        family = Family(
            id=family_id,
            user_id=user_id,
            sid=session_id(session),
            created_at=now,
            last_used_at=now,
            generation=0,
            rotated_at=now,
            revoked=False,
            expires_at=now + self.absolute,
            scopes=granted,
            auth_time=float(auth_time),
            jkt=jkt,
        )
        return token, family, hash_token(token), routing_tag(user_id)

    def plan_rotate(self, token: object) -> tuple[str, bytes, bytes, str, str]:
        """``(successor, old hash, new hash, tag, family id)``; malformed input never reaches
        the store."""
        parsed = parse(token)
        if parsed is None:
            raise MalformedToken("not a gatepass refresh token")
        old_hash, tag, family_id = parsed
        assert isinstance(token, str)
        nxt = successor(self._secret, token)
        return nxt, old_hash, hash_token(nxt), tag, family_id

    def event(self, family: Family) -> ReuseEvent:
        return ReuseEvent(
            user_id=family.user_id, family_id=family.id, session_id=family.sid, at=self.clock()
        )
