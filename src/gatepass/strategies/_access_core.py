"""What both access-token front-ends share before any I/O: configuration, minting, checks.

:class:`AccessCore` holds every decision about a token (its claims, its signature and claim
checks, the revocation entries it needs and how long they are kept); :class:`AccessFront` is the
constructor both :class:`~gatepass.AccessTokens` and :class:`~gatepass.AsyncAccessTokens` share.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from gatepass.errors import ClaimError, ConfigurationError, NotYetValid
from gatepass.stores.limits import MAX_TIMEOUT, check_id, check_seconds, checked_clock
from gatepass.stores.protocols import AsyncStore, Store
from gatepass.stores.records import RevocationEntry
from gatepass.strategies._access_policy import (
    ACCESS_TYP,
    RevocationMode,
    build_claims,
    check_mode,
    check_shape,
    cutoff_now,
)
from gatepass.strategies._async.jwks_client import AsyncJWKSClient
from gatepass.strategies._sync.jwks_client import JWKSClient
from gatepass.strategies.keyring import KeyRing
from gatepass.tokens import jws, jwt
from gatepass.tokens.keys import Key, KeySet

#: A store of either flavour: what the shared constructor accepts, before the front-end checks it.
EitherStore = Store | AsyncStore

DEFAULT_MAX_SILENCE = 3.0
DEFAULT_POLL_INTERVAL = 0.05  # SQLite: the propagation bound between processes


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


# iss and aud are required by the issuer/audience checks themselves.
_REQUIRED = ("exp", "iat", "sub", "jti")
KeySource = Key | KeySet | KeyRing | JWKSClient | AsyncJWKSClient


class AccessCore:
    """Everything except I/O: configuration, minting, signature and claim checks, entries."""

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        ttl: int,
        revocation: str,
        store: object,
        clock: Callable[[], float],
        leeway: float,
    ) -> None:
        if not isinstance(issuer, str) or not issuer:
            raise ConfigurationError("issuer must be a non-empty string")
        if not isinstance(audience, str) or not audience:
            raise ConfigurationError("audience must be a non-empty string")
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 < ttl <= MAX_TIMEOUT:
            raise ConfigurationError("ttl must be a positive whole number of seconds")
        # Checked, not compared: a NaN leeway passed ``0 <= leeway <= 300`` and then made every
        # expiry test false (an expired token verified).
        leeway = check_seconds(leeway, "leeway", allow_zero=True, maximum=300)
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
        self.clock = checked_clock(clock)
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
        jkt: str | None = None,
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
            jkt=jkt,
        )
        token = jwt.encode(body, self.signing_key(), typ=ACCESS_TYP, now=now)
        if len(token) > jws.DEFAULT_MAX_SIZE:
            # verify() refuses it unread (TokenTooLarge): never issue what cannot be verified.
            raise ConfigurationError(
                f"these claims make an access token of {len(token)} characters; "
                f"verify accepts at most {jws.DEFAULT_MAX_SIZE}"
            )
        return token

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

    def jti_entry(self, claims: Mapping[str, Any]) -> RevocationEntry:
        return RevocationEntry("jti", claims["jti"], 0, float(claims["exp"]) + self.leeway + 1)

    def sid_entry(self, session: object, now: float) -> RevocationEntry:
        sid = session_id(session)
        if sid is None:
            raise ConfigurationError("revoke_session needs a session")
        return RevocationEntry("sid", sid, 0, now + self.retention)

    def user_entry(self, user_id: str, now: float) -> RevocationEntry:
        user = check_id(user_id, "user_id")
        return RevocationEntry("user", user, cutoff_now(now), now + self.retention)


def flavoured(
    store: object,
    *,
    asynchronous: bool,
    method: str = "revocation_lookup",
    what: str = "revocation",
) -> object:
    """``store`` if its ``method`` is of the front-end's flavour, else ``ConfigurationError``: an
    asyncio store under the blocking front-end would hand back coroutines (truthy) where
    answers are expected, a blocking one under the asyncio front-end would fail on ``await``."""
    lookup = getattr(store, method, None)
    if not callable(lookup):
        raise ConfigurationError(
            f"{what} needs a store from gatepass.open_store / open_async_store, not {store!r:.60}"
        )
    if inspect.iscoroutinefunction(lookup) != asynchronous:
        wanted = "open_async_store()" if asynchronous else "open_store()"
        raise ConfigurationError(f"this front-end needs a store from {wanted}")
    return store


def kid_alg(token: str | bytes) -> tuple[Any, Any]:
    header = jws.inspect(token).header
    return header.get("kid"), header.get("alg")


class AccessFront:
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
        store: EitherStore | None = None,
        clock: Callable[[], float] = time.time,
        leeway: float = 0,
        max_silence: float = DEFAULT_MAX_SILENCE,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        if isinstance(keys, JWKSClient | AsyncJWKSClient) and not isinstance(
            keys, self._client_type
        ):
            raise ConfigurationError(
                f"{type(self).__name__} needs a {self._client_type.__name__}, "
                f"not a {type(keys).__name__}"
            )
        self._core = AccessCore(
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
        self._setup_revocations(store, self._core.clock, max_silence, poll_interval)

    def _setup_revocations(
        self,
        store: EitherStore | None,
        clock: Callable[[], float],
        max_silence: float,
        poll_interval: float,
    ) -> None:
        raise NotImplementedError

    @property
    def mode(self) -> RevocationMode:
        return self._core.mode

    @property
    def ttl(self) -> int:
        return self._core.ttl

    @property
    def retention(self) -> float:
        """Seconds a revocation entry is kept: until every token it can reject has expired."""
        return float(self._core.retention)

    @property
    def clock(self) -> Callable[[], float]:
        """The clock these tokens are issued and revoked by, each reading checked."""
        return self._core.clock

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
