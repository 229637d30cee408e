# GENERATED from gatepass/strategies/_async/access.py by scripts/unasync.py: do not edit.
# Change the asyncio source, then run `python scripts/unasync.py`.
"""The asyncio access-token front-end (the blocking one is generated from this file)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from gatepass.errors import ExpiredToken, InvalidToken
from gatepass.stores.protocols import Store
from gatepass.strategies._access_core import AccessFront, EitherStore, flavoured, kid_alg
from gatepass.strategies._sync.jwks_client import JWKSClient
from gatepass.strategies._sync.revocation import (
    DenylistRevocations,
    ReplicatedRevocations,
    Revocations,
    StatelessRevocations,
)
from gatepass.tokens.dpop import DPoPProof, check_binding
from gatepass.tokens.keys import Key, KeySet


class AccessTokens(AccessFront):
    """Issue and verify access tokens; revoke them according to ``revocation``.

    In replicated mode the asyncio listener task starts on first use (or ``with``, or
    :meth:`start`); ``close()`` (or leaving the ``with`` block) stops it. The blocking
    listener thread starts when the object is built; :meth:`close` stops it.
    """

    _client_type = JWKSClient

    def _setup_revocations(
        self,
        store: EitherStore | None,
        clock: Callable[[], float],
        max_silence: float,
        poll_interval: float,
    ) -> None:
        self.revocations: Revocations
        self._replicated: ReplicatedRevocations | None = None
        if self._core.mode == "stateless":
            self.revocations = StatelessRevocations()
            return
        checked = cast(Store, flavoured(store, asynchronous=False))
        if self._core.mode == "denylist":
            self.revocations = DenylistRevocations(checked)
        else:
            self._replicated = ReplicatedRevocations(
                checked, clock=clock, max_silence=max_silence, poll_interval=poll_interval
            )
            self.revocations = self._replicated

    def start(self) -> None:
        """Start the replicated listener now and wait for its first load (optional)."""
        if self._replicated is not None:
            self._replicated.start()

    def issue(
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

    def verify(self, token: str | bytes, *, proof: DPoPProof | None = None) -> dict[str, Any]:
        """The token's claims, or :class:`InvalidToken` (``RevokedToken`` when revoked).

        ``proof``: the verified DPoP proof that came with the token (its ``ath`` checked against
        this token by the verifier). A bound token (``cnf.jkt``) needs one from its key, and an
        unbound token must come without one (:class:`DPoPBindingMismatch`, RFC 9449 7.1).
        ``StoreUnavailable`` when the revocation state cannot be consulted (fail closed).
        """
        core = self._core
        now = core.clock()
        claims = core.check(token, self._fixed or self._keys_for(token), now)
        check_binding(claims, proof)
        self.revocations.check(claims, now)
        return claims

    def revoke(self, token: str | bytes) -> None:
        """Revoke one token (by ``jti``) until it expires. Expired tokens need nothing."""
        now = self._core.clock()
        try:
            claims = self._core.revocable_claims(token, self._keys_for(token), now)
        except ExpiredToken:
            return
        self.revocations.add(self._core.jti_entry(claims), now)

    def revoke_session(self, session: object) -> None:
        """Revoke every access token carrying this ``sid`` (the session record or its public id)."""
        now = self._core.clock()
        self.revocations.add(self._core.sid_entry(session, now), now)

    def revoke_user(self, user_id: str) -> None:
        """Revoke every token of ``user_id`` issued up to now ("log out everywhere", freeze)."""
        now = self._core.clock()
        self.revocations.add(self._core.user_entry(user_id, now), now)

    def close(self) -> None:
        """Stop the replicated-mode listener (idempotent)."""
        self.revocations.close()

    def __enter__(self) -> AccessTokens:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _keys_for(self, token: str | bytes) -> Key | KeySet:
        keys = self._core.static_keys()
        if keys is not None:
            return keys
        client = self._core.keys
        assert isinstance(client, JWKSClient)  # narrowed by the constructor
        kid, alg = kid_alg(token)
        if not isinstance(alg, str):
            raise InvalidToken("token header has no alg")
        return client.get_key(kid if isinstance(kid, str) else None, alg)
