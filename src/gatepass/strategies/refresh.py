"""Rotating refresh tokens with reuse detection: the hybrid flow (short access JWT + refresh).

>>> refresh = RefreshTokens(store, access, idle_timeout=7 * DAY, absolute_timeout=30 * DAY,
...                         secret=REFRESH_SECRET, on_reuse=alert)         # doctest: +SKIP
>>> refresh_token, access_token = refresh.start("user-42", session=record)  # doctest: +SKIP
>>> refresh_token, access_token = refresh.rotate(refresh_token)           # doctest: +SKIP

* Refresh tokens are opaque (``rt_<tag>.<family id>~<256 bits>``), stored only as SHA-256,
  single use, and grouped in *families* (one per login). Every rotation returns a new refresh
  token and a new access token.
* Presenting an already-used token revokes the whole family, ends its session, revokes the
  session's access tokens (when the access tokens' mode can), calls ``on_reuse`` with a
  :class:`ReuseEvent` and raises :class:`~gatepass.errors.ReusedToken` (RFC 9700 section 4.14).
* A grace window (``grace`` seconds, default 5) lets two tabs that refresh at the same moment both
  succeed: the second gets *the same* successor, derived as an HMAC of the old token (see
  :mod:`gatepass.strategies._refresh_policy` for why that is safe). Outside it, reuse is theft.
* Idle and absolute lifetimes for the family; a family may belong to a session record
  (``session=``): revoking the session ends the family at its next rotation, and revoking the
  family (:meth:`revoke`, or reuse) revokes the session.
* One atomic store operation per rotation on every backend (see
  :mod:`gatepass.stores.refresh_state`), so 200 concurrent rotations of one token leave exactly
  one successor and one family state. On Redis that is one round trip (one ``EVALSHA``) for a
  family without a session: the token carries its family id, so the script can declare the
  family's key up front.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from gatepass.errors import (
    ConfigurationError,
    ExpiredToken,
    InvalidToken,
    MalformedToken,
    ReusedToken,
    RevokedToken,
)
from gatepass.stores import refresh_state as rs
from gatepass.stores.records import hash_token, routing_tag
from gatepass.strategies._access_policy import check_id
from gatepass.strategies._refresh_policy import (
    Family,
    Outcome,
    ReuseEvent,
    check_secret,
    first_token,
    new_family_id,
    parse,
    successor,
)
from gatepass.strategies.access import AccessTokens, AsyncAccessTokens, session_id

__all__ = ["AsyncRefreshTokens", "RefreshTokens", "ReuseEvent"]

DAY = 86400.0


AccessT = TypeVar("AccessT", AccessTokens, AsyncAccessTokens)


def access_sid(outcome: Outcome) -> str:
    """The ``sid`` of a family's access tokens: its session's public id, or else the family id.

    A family started without a session is still one login, so its access tokens carry the family
    id as ``sid``: when reuse is detected (or the family is revoked) they are revoked with it,
    and a thief's access token does not outlive the family by up to ``ttl``.
    """
    sid = outcome.sid or outcome.family_id
    assert sid is not None
    return sid


class _RefreshPolicy(Generic[AccessT]):
    """Configuration and every decision; no I/O. Both front-ends share this constructor;
    ``on_reuse`` may return an awaitable in the async one (it is awaited)."""

    def __init__(
        self,
        store: Any,
        access_tokens: AccessT,
        *,
        idle_timeout: float = 14 * DAY,
        absolute_timeout: float = 30 * DAY,
        grace: float = 5.0,
        secret: bytes | None = None,
        on_reuse: Callable[[ReuseEvent], object] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.access: AccessT = access_tokens
        self.on_reuse = on_reuse
        if not idle_timeout > 0 or not absolute_timeout > 0:
            raise ConfigurationError("refresh idle and absolute timeouts must be positive")
        if idle_timeout > absolute_timeout:
            raise ConfigurationError(
                "an idle timeout longer than the absolute lifetime is unusable"
            )
        if not 0 <= grace <= 60:
            raise ConfigurationError("grace must be between 0 and 60 seconds")
        self.idle = float(idle_timeout)
        self.absolute = float(absolute_timeout)
        self.grace = float(grace)
        self._secret = check_secret(secret)
        self.clock = clock

    def plan_start(self, user_id: str, session: object) -> tuple[str, Family, bytes, str]:
        check_id(user_id, "user_id")
        now = self.clock()
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

    @staticmethod
    def verdict(outcome: Outcome) -> None:
        """Raise for every outcome except a successful rotation or a grace-window repeat."""
        status = outcome.status
        if status in ("rotated", "grace"):
            return
        if status == "unknown":
            raise InvalidToken("unknown refresh token")
        if status == "expired":
            raise ExpiredToken("refresh token family expired; sign in again", "exp")
        if status == "session":
            raise RevokedToken("the session of this refresh token has ended")
        if status == "reused":
            raise ReusedToken("refresh token reused: the whole family is now revoked")
        raise RevokedToken("refresh token family has been revoked")

    def event(self, outcome: Outcome) -> ReuseEvent:
        return ReuseEvent(
            user_id=outcome.user_id or "",
            family_id=outcome.family_id or "",
            session_id=outcome.sid,
            at=self.clock(),
        )


class RefreshTokens(_RefreshPolicy[AccessTokens]):
    """Blocking front-end. ``access_tokens`` mints the access token of each pair."""

    def start(self, user_id: str, *, session: object = None) -> tuple[str, str]:
        """A new family for ``user_id``: ``(refresh_token, access_token)``."""
        token, family, token_hash, tag = self.plan_start(user_id, session)
        rs.create(self.store, family, token_hash, tag)
        return token, self.access.issue(user_id, session=family.sid or family.id)

    def rotate(self, refresh_token: str) -> tuple[str, str]:
        """The next ``(refresh_token, access_token)``, or ``InvalidToken`` (``ReusedToken``...)."""
        nxt, old_hash, new_hash, tag, family_id = self.plan_rotate(refresh_token)
        outcome = rs.rotate(
            self.store,
            old_hash,
            new_hash,
            tag,
            family_id,
            now=self.clock(),
            idle=self.idle,
            grace=self.grace,
        )
        if outcome.status == "reused":
            self._contain(outcome, tag)
        self.verdict(outcome)
        assert outcome.user_id is not None
        return nxt, self.access.issue(outcome.user_id, session=access_sid(outcome))

    def revoke(self, refresh_token: str) -> bool:
        """Revoke the token's family (logout) and its session; False if the token is unknown."""
        parsed = parse(refresh_token)
        if parsed is None:
            return False
        outcome = rs.revoke(self.store, *parsed)
        if outcome.status != "revoked":
            return False
        self._end_session(outcome, parsed[1])
        return True

    def _contain(self, outcome: Outcome, tag: str) -> None:
        """Reuse: the family is already revoked atomically; end the session, then tell the app."""
        try:
            self._end_session(outcome, tag)
        finally:
            if self.on_reuse is not None:
                self.on_reuse(self.event(outcome))

    def _end_session(self, outcome: Outcome, tag: str) -> None:
        if outcome.user_id is None:
            return
        if outcome.sid is not None:
            self.store.session_revoke_id(outcome.user_id, outcome.sid, tag)
        if self.access.mode != "stateless":
            self.access.revoke_session(access_sid(outcome))


class AsyncRefreshTokens(_RefreshPolicy[AsyncAccessTokens]):
    """The asyncio twin; ``on_reuse`` may be a plain function or a coroutine function."""

    async def start(self, user_id: str, *, session: object = None) -> tuple[str, str]:
        token, family, token_hash, tag = self.plan_start(user_id, session)
        await rs.create_async(self.store, family, token_hash, tag)
        return token, await self.access.issue(user_id, session=family.sid or family.id)

    async def rotate(self, refresh_token: str) -> tuple[str, str]:
        nxt, old_hash, new_hash, tag, family_id = self.plan_rotate(refresh_token)
        outcome = await rs.rotate_async(
            self.store,
            old_hash,
            new_hash,
            tag,
            family_id,
            now=self.clock(),
            idle=self.idle,
            grace=self.grace,
        )
        if outcome.status == "reused":
            await self._contain(outcome, tag)
        self.verdict(outcome)
        assert outcome.user_id is not None
        return nxt, await self.access.issue(outcome.user_id, session=access_sid(outcome))

    async def revoke(self, refresh_token: str) -> bool:
        parsed = parse(refresh_token)
        if parsed is None:
            return False
        outcome = await rs.revoke_async(self.store, *parsed)
        if outcome.status != "revoked":
            return False
        await self._end_session(outcome, parsed[1])
        return True

    async def _contain(self, outcome: Outcome, tag: str) -> None:
        try:
            await self._end_session(outcome, tag)
        finally:
            if self.on_reuse is not None:
                result = self.on_reuse(self.event(outcome))
                if inspect.isawaitable(result):
                    await result

    async def _end_session(self, outcome: Outcome, tag: str) -> None:
        if outcome.user_id is None:
            return
        if outcome.sid is not None:
            await self.store.session_revoke_id(outcome.user_id, outcome.sid, tag)
        if self.access.mode != "stateless":
            await self.access.revoke_session(access_sid(outcome))
