"""Short-lived access tokens (RFC 9068 JWTs) with a choice of revocation, sync and async.

>>> ring = KeyRing.generate("ES256")
>>> tokens = AccessTokens(ring, issuer="https://auth.example", audience="api")
>>> token = tokens.issue("user-42", scopes=["read"])
>>> tokens.verify(token)["sub"]
'user-42'

Every token has header ``typ: at+jwt`` and ``verify`` requires it, so an ID token, a plain JWT
or a refresh token (opaque, not a JWT at all) can never pass as an access token. Claims: ``iss``,
``aud``, ``sub``, ``iat``, ``exp``, ``jti`` (128 random bits), ``sid`` when tied to a session,
``scope`` (space-separated), and ``iat_us`` (issue time in microseconds, which makes per-user
cut-offs exact within a second; see :mod:`gatepass.strategies._access_policy`).

``revocation`` picks what ``verify`` costs and what ``revoke`` can do (details in
:mod:`gatepass.strategies.revocation` and ``docs/access-tokens.md``): ``"stateless"`` (no lookup,
no revocation), ``"denylist"`` (one store round trip per verify), ``"replicated"`` (no I/O per
verify; changes reach every process through the store's change stream; fails closed while that
stream is broken). The replicated mode runs a listener thread (task): call :meth:`close` or use
the object as a context manager.

``keys`` may be a :class:`KeyRing` (sign with its active key, verify with all its keys), a single
private :class:`Key`, or, for services that only verify, a :class:`KeySet`, a public ``Key``
or a :class:`JWKSClient` / :class:`AsyncJWKSClient`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from gatepass.errors import (
    ClaimError,
    ConfigurationError,
    ExpiredToken,
    InvalidToken,
    NotYetValid,
)
from gatepass.stores.revocation_state import Entry
from gatepass.strategies import revocation as rv
from gatepass.strategies._access_policy import (
    ACCESS_TYP,
    RevocationMode,
    build_claims,
    check_id,
    check_mode,
    check_shape,
    cutoff_now,
)
from gatepass.strategies.jwks_client import AsyncJWKSClient, JWKSClient
from gatepass.strategies.keyring import KeyRing
from gatepass.tokens import jws, jwt
from gatepass.tokens.keys import Key, KeySet

# iss and aud are required by the issuer/audience checks themselves.
_REQUIRED = ("exp", "iat", "sub", "jti")
KeySource = Key | KeySet | KeyRing | JWKSClient | AsyncJWKSClient


def session_id(session: object) -> str | None:
    """``session`` is a session record (its public ``id``) or that id as a string."""
    if session is None:
        return None
    if isinstance(session, str):
        return check_id(session, "session id")
    sid = getattr(session, "id", None)
    if not isinstance(sid, str):
        raise ConfigurationError("session must be a session record or its public id")
    return check_id(sid, "session id")


class _AccessCore:
    """Everything except I/O: configuration, minting, signature and claim checks, entries."""

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        ttl: int,
        revocation: str,
        store: Any,
        clock: Callable[[], float],
        leeway: float,
    ) -> None:
        if not isinstance(issuer, str) or not issuer:
            raise ConfigurationError("issuer must be a non-empty string")
        if not isinstance(audience, str) or not audience:
            raise ConfigurationError("audience must be a non-empty string")
        if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl <= 0:
            raise ConfigurationError("ttl must be a positive whole number of seconds")
        if leeway < 0 or leeway > 300:
            raise ConfigurationError("leeway must be between 0 and 300 seconds")
        self.mode: RevocationMode = check_mode(revocation)
        if self.mode != "stateless" and store is None:
            raise ConfigurationError(f"revocation={self.mode!r} needs a store")
        if isinstance(keys, KeyRing) and ttl + leeway > keys.retain:
            raise ConfigurationError(
                "the key ring drops retired keys before these tokens expire: "
                "raise KeyRing(retain=...) to at least ttl + leeway"
            )
        if not isinstance(keys, Key | KeySet | KeyRing | JWKSClient | AsyncJWKSClient):
            raise ConfigurationError("keys must be a Key, KeySet, KeyRing or JWKS client")
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self.leeway = leeway
        self.store = store
        self.clock = clock
        # How long a revocation entry must live: until every token it can reject has expired.
        self.retention = ttl + leeway + 1

    def signing_key(self) -> Key:
        if isinstance(self.keys, KeyRing):
            return self.keys.active
        if isinstance(self.keys, Key) and self.keys.is_private:
            return self.keys
        raise ConfigurationError("these keys only verify: issuing needs a private key or a KeyRing")

    def mint(
        self,
        user_id: str,
        session: object,
        scopes: Iterable[str],
        claims: Mapping[str, Any] | None,
    ) -> str:
        now = self.clock()
        body = build_claims(
            issuer=self.issuer,
            audience=self.audience,
            user_id=user_id,
            now=now,
            ttl=self.ttl,
            sid=session_id(session),
            scopes=scopes,
            extra=claims,
        )
        return jwt.encode(body, self.signing_key(), typ=ACCESS_TYP, now=now)

    def static_keys(self) -> Key | KeySet | None:
        if isinstance(self.keys, KeyRing):
            return self.keys.keyset()
        if isinstance(self.keys, Key | KeySet):
            return self.keys
        return None

    def check(self, token: str | bytes, keys: Key | KeySet, now: float) -> dict[str, Any]:
        claims = jwt.verify(
            token,
            keys,
            issuer=self.issuer,
            audience=self.audience,
            leeway=self.leeway,
            typ=ACCESS_TYP,
            require=_REQUIRED,
            now=now,
        )
        check_shape(claims)
        if self.mode != "stateless" and claims["exp"] - claims["iat"] > self.ttl:
            # Session and user revocations are kept for ``ttl + leeway`` only: a longer-lived
            # token (another issuer, or one minted before ttl was lowered) would outlive them
            # and verify again once they are purged. Fail closed instead.
            raise ClaimError("access token lifetime exceeds ttl: revocation cannot cover it", "exp")
        return claims

    def revocable_claims(
        self, token: str | bytes, keys: Key | KeySet, now: float
    ) -> dict[str, Any]:
        """Verified claims of a token to revoke; ``ExpiredToken`` means "nothing to revoke".

        The signature is verified first so that nobody can fill the denylist with junk. A token
        that only becomes valid later (``nbf``/``iat`` ahead of this process's clock, e.g. from
        an issuer whose clock runs fast) is verified as of its own start, so it can be revoked
        before it is ever accepted.
        """
        try:
            return self.check(token, keys, now)
        except NotYetValid:
            claims = jwt.inspect(token).claims
            starts = [
                float(claims[name])
                for name in ("nbf", "iat")
                if isinstance(claims.get(name), int | float) and not isinstance(claims[name], bool)
            ]
            return self.check(token, keys, max(starts))

    def jti_entry(self, claims: Mapping[str, Any]) -> Entry:
        return Entry("jti", claims["jti"], 0, float(claims["exp"]) + self.leeway + 1)

    def sid_entry(self, session: object, now: float) -> Entry:
        sid = session_id(session)
        if sid is None:
            raise ConfigurationError("revoke_session needs a session")
        return Entry("sid", sid, 0, now + self.retention)

    def user_entry(self, user_id: str, now: float) -> Entry:
        return Entry("user", check_id(user_id, "user_id"), cutoff_now(now), now + self.retention)


def _kid_alg(token: str | bytes) -> tuple[Any, Any]:
    header = jws.inspect(token).header
    return header.get("kid"), header.get("alg")


class _AccessFront:
    """What both front-ends share: one constructor, the pure core, ``mode`` and ``ttl``.

    ``keys``: a :class:`Key`, :class:`KeySet`, :class:`KeyRing`, or the JWKS client of the same
    flavour (:class:`JWKSClient` for :class:`AccessTokens`, :class:`AsyncJWKSClient` for
    :class:`AsyncAccessTokens`). Each front-end only says how it builds its revocation state.
    """

    _client_type: type[JWKSClient] | type[AsyncJWKSClient]

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        ttl: int = 900,
        revocation: str = "stateless",
        store: Any = None,
        clock: Callable[[], float] = time.time,
        leeway: float = 0,
        max_silence: float = rv.DEFAULT_MAX_SILENCE,
        poll_interval: float = rv.DEFAULT_POLL_INTERVAL,
    ) -> None:
        if isinstance(keys, JWKSClient | AsyncJWKSClient) and not isinstance(
            keys, self._client_type
        ):
            raise ConfigurationError(
                f"{type(self).__name__} needs a {self._client_type.__name__}, "
                f"not a {type(keys).__name__}"
            )
        self._core = _AccessCore(
            keys,
            issuer=issuer,
            audience=audience,
            ttl=ttl,
            revocation=revocation,
            store=store,
            clock=clock,
            leeway=leeway,
        )
        # A fixed Key or KeySet needs no per-call selection (a KeyRing or JWKS client does).
        self._fixed = keys if isinstance(keys, Key | KeySet) else None
        self._setup_revocations(store, clock, max_silence, poll_interval)

    def _setup_revocations(
        self, store: Any, clock: Callable[[], float], max_silence: float, poll_interval: float
    ) -> None:
        raise NotImplementedError

    @property
    def mode(self) -> RevocationMode:
        return self._core.mode

    @property
    def keys(self) -> KeySource:
        """The keys given at construction (what ``/.well-known/jwks.json`` publishes)."""
        return self._core.keys

    @property
    def can_issue(self) -> bool:
        """Whether these keys can sign (a private key or a key ring), not only verify."""
        try:
            self._core.signing_key()
        except ConfigurationError:
            return False
        return True

    @property
    def ttl(self) -> int:
        return self._core.ttl


class AccessTokens(_AccessFront):
    """Issue and verify access tokens; revoke them according to ``revocation`` (sync)."""

    _client_type = JWKSClient

    def _setup_revocations(
        self, store: Any, clock: Callable[[], float], max_silence: float, poll_interval: float
    ) -> None:
        self.revocations: rv.Revocations
        if self._core.mode == "stateless":
            self.revocations = rv.StatelessRevocations()
        elif self._core.mode == "denylist":
            self.revocations = rv.DenylistRevocations(store)
        else:
            self.revocations = rv.ReplicatedRevocations(
                store, clock=clock, max_silence=max_silence, poll_interval=poll_interval
            )

    def issue(
        self,
        user_id: str,
        *,
        session: object = None,
        scopes: Iterable[str] = (),
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A new signed access token for ``user_id`` (``session``: a record or its public id)."""
        return self._core.mint(user_id, session, scopes, claims)

    def verify(self, token: str | bytes) -> dict[str, Any]:
        """The token's claims, or :class:`InvalidToken` (``RevokedToken`` when revoked).

        ``StoreUnavailable`` when the revocation state cannot be consulted (fail closed).
        """
        core = self._core
        now = core.clock()
        claims = core.check(token, self._fixed or self._keys_for(token), now)
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
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _keys_for(self, token: str | bytes) -> Key | KeySet:
        keys = self._core.static_keys()
        if keys is not None:
            return keys
        client = self._core.keys
        assert isinstance(client, JWKSClient)  # narrowed in __init__
        kid, alg = _kid_alg(token)
        if not isinstance(alg, str):
            raise InvalidToken("token header has no alg")
        return client.get_key(kid if isinstance(kid, str) else None, alg)


class AsyncAccessTokens(_AccessFront):
    """The asyncio twin of :class:`AccessTokens`: same policy, awaited I/O.

    In replicated mode the listener task starts on first use (or ``async with``); ``aclose()``
    (or leaving the ``async with`` block) stops it.
    """

    _client_type = AsyncJWKSClient

    def _setup_revocations(
        self, store: Any, clock: Callable[[], float], max_silence: float, poll_interval: float
    ) -> None:
        self.revocations: rv.AsyncRevocations
        self._replicated: rv.AsyncReplicatedRevocations | None = None
        if self._core.mode == "stateless":
            self.revocations = rv.AsyncStatelessRevocations()
        elif self._core.mode == "denylist":
            self.revocations = rv.AsyncDenylistRevocations(store)
        else:
            self._replicated = rv.AsyncReplicatedRevocations(
                store, clock=clock, max_silence=max_silence, poll_interval=poll_interval
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
    ) -> str:
        return self._core.mint(user_id, session, scopes, claims)

    async def verify(self, token: str | bytes) -> dict[str, Any]:
        now = self._core.clock()
        claims = self._core.check(token, self._fixed or await self._keys_for(token), now)
        await self.revocations.check(claims, now)
        return claims

    async def revoke(self, token: str | bytes) -> None:
        now = self._core.clock()
        try:
            claims = self._core.revocable_claims(token, await self._keys_for(token), now)
        except ExpiredToken:
            return
        await self.revocations.add(self._core.jti_entry(claims), now)

    async def revoke_session(self, session: object) -> None:
        now = self._core.clock()
        await self.revocations.add(self._core.sid_entry(session, now), now)

    async def revoke_user(self, user_id: str) -> None:
        now = self._core.clock()
        await self.revocations.add(self._core.user_entry(user_id, now), now)

    async def aclose(self) -> None:
        await self.revocations.close()

    close = aclose

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
        assert isinstance(client, AsyncJWKSClient)
        kid, alg = _kid_alg(token)
        if not isinstance(alg, str):
            raise InvalidToken("token header has no alg")
        return await client.get_key(kid if isinstance(kid, str) else None, alg)


__all__ = ["AccessTokens", "AsyncAccessTokens", "KeySource"]
