"""The asyncio refresh-token front-end (the blocking one is generated from this file)."""

from __future__ import annotations

import inspect  # async-only
from collections.abc import Iterable

from gatepass.errors import StoreError
from gatepass.stores.protocols import AsyncStore
from gatepass.stores.records import Family
from gatepass.strategies._async.access import AsyncAccessTokens
from gatepass.strategies._refresh_config import ATTEMPTS, RefreshConfig
from gatepass.strategies._refresh_policy import (
    access_jkt,
    access_sid,
    decide,
    login_claims,
    parse,
    verdict,
)


class AsyncRefreshTokens(RefreshConfig[AsyncStore, AsyncAccessTokens]):
    """Rotating refresh tokens with reuse detection; ``access_tokens`` mints the access token
    of each pair. ``on_reuse`` may be a plain function or (asyncio) a coroutine function."""

    async def start(
        self,
        user_id: str,
        *,
        session: object = None,
        scopes: Iterable[str] = (),
        auth_time: float | None = None,
        jkt: str | None = None,
    ) -> tuple[str, str]:
        """A new family for ``user_id``: ``(refresh_token, access_token)``.

        What the login established is kept with the family and repeated in every access token
        it issues: ``scopes``, ``auth_time`` (when the user proved a password; default now) and
        ``jkt`` (the DPoP key the client proved at login: every token is bound to it, and every
        rotation needs a proof from it).
        """
        token, family, token_hash, tag = self.plan_start(user_id, session, scopes, auth_time, jkt)
        await self.store.family_create(family, token_hash, tag)
        return token, await self._issue(family, family.jkt)

    async def rotate(self, refresh_token: str, *, jkt: str | None = None) -> tuple[str, str]:
        """The next ``(refresh_token, access_token)``, or ``InvalidToken`` (``ReusedToken``...).

        ``jkt``: the key thumbprint of the verified DPoP proof that came with the request; a
        family bound to a key rotates only with its key (``DPoPBindingMismatch`` otherwise,
        and nothing changes). With a proof, the access token is bound to its key, an unbound
        family's too (the family itself stays unbound: ``_refresh_policy.access_jkt`` says
        why), so the answer is a DPoP token exactly when ``jkt`` was given. Read the family, decide
        (:func:`~gatepass.strategies._refresh_policy.decide`), write the decision with a
        compare-and-set; when the family changed in between, read again.
        """
        nxt, old_hash, new_hash, tag, family_id = self.plan_rotate(refresh_token)
        for _attempt in range(ATTEMPTS):
            read = await self.store.family_read(old_hash, tag, family_id)
            now = self.clock()
            status = decide(read, now=now, idle=self.idle, grace=self.grace, jkt=jkt)
            family = read.family
            if family is not None and status == "rotated":
                if not await self.store.family_advance(read, new_hash, tag, now):
                    continue  # the family changed since the read: decide again
            elif family is not None and status == "reused":
                # Contained before the family is revoked: should the store fail in between,
                # the next replay is still "reused" and contains it again (every write here
                # may repeat). Revoked first, it would read as "revoked" and never be.
                await self._end_session(family, tag)
                if not await self.store.family_revoke(family, tag):
                    continue  # another reuse revoked it first and reported it: read again
                await self._report(family)
            verdict(status)
            assert family is not None  # verdict raised for every other outcome
            return nxt, await self._issue(family, access_jkt(family, jkt))
        raise StoreError("the refresh family kept changing during rotation")

    async def _issue(self, family: Family, jkt: str | None) -> str:
        """An access token of ``family``: its user, session, scopes and login time, bound to
        the key ``jkt``."""
        return await self.access.issue(
            family.user_id,
            session=access_sid(family),
            scopes=family.scopes,
            claims=login_claims(family),
            jkt=jkt,
        )

    async def revoke(self, refresh_token: str) -> bool:
        """Revoke the token's family (logout) and its session; False if the token is unknown.

        The access tokens go first and the family last, as in reuse containment: should the
        store fail in between, the family is still there for the same call to revoke again
        (and a rotation meanwhile finds the session ended, or issues tokens of a login that
        is still on). Revoked first, a rotation would read it as "revoked" and leave the
        access tokens of a logged-out family alive."""
        parsed = parse(refresh_token)
        if parsed is None:
            return False
        self.access.clock()  # a junk reading stops the logout here, not between its writes
        family = await self.store.family_of(*parsed)
        if family is None:
            return False
        await self._end_session(family, parsed[1])
        await self.store.family_revoke_token(*parsed)
        return True

    async def _report(self, family: Family) -> None:
        """Reuse: the family is contained and revoked; tell the application."""
        if self.on_reuse is not None:
            result = self.on_reuse(self.event(family))  # async-only
            # sync-only: self.on_reuse(self.event(family))
            if inspect.isawaitable(result):  # async-only
                await result  # async-only

    async def _end_session(self, family: Family, tag: str) -> None:
        """Revoke the family's access tokens, then its session: a session that is gone makes
        its family's next rotation a plain "session ended", so it must go last."""
        if self.access.mode != "stateless":
            await self.access.revoke_session(access_sid(family))
        if family.sid is not None:
            await self.store.session_revoke_id(family.user_id, family.sid, tag)
