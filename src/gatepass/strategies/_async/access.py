"""The asyncio access-token front-end (the blocking one is generated from this file)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from gatepass.errors import ExpiredToken, InvalidToken
from gatepass.stores.protocols import AsyncStore
from gatepass.strategies._access_core import AccessFront, EitherStore, flavoured, kid_alg
from gatepass.strategies._async.jwks_client import AsyncJWKSClient
from gatepass.strategies._async.revocation import (
    AsyncDenylistRevocations,
    AsyncReplicatedRevocations,
    AsyncRevocations,
    AsyncStatelessRevocations,
)
from gatepass.tokens.dpop import DPoPProof, check_binding
from gatepass.tokens.keys import Key, KeySet


class AsyncAccessTokens(AccessFront):
    """Issue and verify access tokens; revoke them according to ``revocation``.

    In replicated mode the asyncio listener task starts on first use (or ``async with``, or
    :meth:`start`); ``aclose()`` (or leaving the ``async with`` block) stops it. The blocking
    listener thread starts when the object is built; :meth:`close` stops it.
    """

    _client_type = AsyncJWKSClient

    def _setup_revocations(
        self,
        store: EitherStore | None,
        clock: Callable[[], float],
        max_silence: float,
        poll_interval: float,
    ) -> None:
        self.revocations: AsyncRevocations
        self._replicated: AsyncReplicatedRevocations | None = None
        if self._core.mode == "stateless":
            self.revocations = AsyncStatelessRevocations()
            return
        checked = cast(AsyncStore, flavoured(store, asynchronous=True))  # async-only
        # sync-only: checked = cast(Store, flavoured(store, asynchronous=False))
        if self._core.mode == "denylist":
            self.revocations = AsyncDenylistRevocations(checked)
        else:
            self._replicated = AsyncReplicatedRevocations(
                checked, clock=clock, max_silence=max_silence, poll_interval=poll_interval
            )
            self.revocations = self._replicated

    async def start(self) -> None:
        """Start the replicated listener now and wait for its first load (optional)."""
        if self._replicated is not None:
            await self._replicated.start()

    async def issue(
        self,
        user_id: str,
        *,
        session: object = None,
        scopes: Iterable[str] = (),
        claims: Mapping[str, Any] | None = None,
        jkt: str | None = None,
    ) -> str:
        """A new signed access token for ``user_id`` (``session``: a record or its public id).

        ``jkt``: the thumbprint of the key the client proved (``DPoPProof.jkt``); the token is
        then bound to it (``cnf.jkt``) and verifies only with a proof from that key.
        """
        return self._core.mint(user_id, session, scopes, claims, jkt)

    async def verify(self, token: str | bytes, *, proof: DPoPProof | None = None) -> dict[str, Any]:
        """The token's claims, or :class:`InvalidToken` (``RevokedToken`` when revoked).

        ``proof``: the verified DPoP proof that came with the token (its ``ath`` checked against
        this token by the verifier). A bound token (``cnf.jkt``) needs one from its key, and an
        unbound token must come without one (:class:`DPoPBindingMismatch`, RFC 9449 7.1).
        ``StoreUnavailable`` when the revocation state cannot be consulted (fail closed).
        """
        core = self._core
        now = core.clock()
        claims = core.check(token, self._fixed or await self._keys_for(token), now)
        check_binding(claims, proof)
        await self.revocations.check(claims, now)
        return claims

    async def revoke(self, token: str | bytes) -> None:
        """Revoke one token (by ``jti``) until it expires. Expired tokens need nothing."""
        now = self._core.clock()
        try:
            claims = self._core.revocable_claims(token, await self._keys_for(token), now)
        except ExpiredToken:
            return
        await self.revocations.add(self._core.jti_entry(claims), now)

    async def revoke_session(self, session: object) -> None:
        """Revoke every access token carrying this ``sid`` (the session record or its public id)."""
        now = self._core.clock()
        await self.revocations.add(self._core.sid_entry(session, now), now)

    async def revoke_user(self, user_id: str) -> None:
        """Revoke every token of ``user_id`` issued up to now ("log out everywhere", freeze)."""
        now = self._core.clock()
        await self.revocations.add(self._core.user_entry(user_id, now), now)

    async def aclose(self) -> None:
        """Stop the replicated-mode listener (idempotent)."""
        await self.revocations.close()

    close = aclose  # async-only

    async def __aenter__(self) -> AsyncAccessTokens:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _keys_for(self, token: str | bytes) -> Key | KeySet:
        keys = self._core.static_keys()
        if keys is not None:
            return keys
        client = self._core.keys
        assert isinstance(client, AsyncJWKSClient)  # narrowed by the constructor
        kid, alg = kid_alg(token)
        if not isinstance(alg, str):
            raise InvalidToken("token header has no alg")
        return await client.get_key(kid if isinstance(kid, str) else None, alg)
