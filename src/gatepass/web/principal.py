"""Who made the request, and how: the principal the web layer puts on every request.

One shape for every design, so a route does not care whether a session cookie or a bearer token
logged the user in, yet can ask when it matters (``design``), e.g. to refuse a stateless token for
an action that must be revocable at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from gatepass.stores.records import SessionRecord
from gatepass.web.config import Gatepass
from gatepass.web.csrf import bind_seed, new_seed
from gatepass.web.http import lists_token

__all__ = ["AuthState", "Design", "Principal", "from_claims", "from_record"]

#: ``session``: a session cookie. ``bearer``: an access token that belongs to no session or
#: refresh family (stateless API tokens). ``hybrid``: an access token bound to a session or a
#: refresh family (it carries ``sid``), as the hybrid's login issues them.
Design = Literal["session", "bearer", "hybrid"]

_NO_CLAIMS: Mapping[str, Any] = {}


class Principal(NamedTuple):
    """The authenticated user of one request.

    ``session_id`` is the public id of the session (or the ``sid`` of the token: the session or
    refresh family it belongs to), never the session token. ``token_id`` is the access token's
    ``jti``. ``authenticated_at`` is when the user last proved a password (a session's
    ``authenticated_at``, a token's ``auth_time``), None when the credential does not say.
    ``claims`` holds the verified claims of a bearer token (empty for sessions), ``record`` the
    session record (None for tokens). ``jkt`` is the thumbprint of the DPoP key the request
    proved possession of (its token is bound to that key), None for any other credential.

    A ``NamedTuple`` because one is built on every authenticated request and it is the
    cheapest immutable record Python has.
    """

    user_id: str
    design: Design
    session_id: str | None = None
    token_id: str | None = None
    authenticated_at: float | None = None
    expires_at: float | None = None
    claims: Mapping[str, Any] = _NO_CLAIMS
    record: SessionRecord | None = None
    jkt: str | None = None

    @property
    def scopes(self) -> frozenset[str]:
        """Scopes of a token (``scope`` claim) or of a session (set at login, kept in the
        session's metadata); computed on use, so requests that never ask pay nothing."""
        if self.record is not None:
            value = self.record.metadata.get("scopes", ())
            if isinstance(value, str):  # written as a token's scope: a space-separated list
                return frozenset(value.split())
            return frozenset(s for s in value if isinstance(s, str))
        scope = self.claims.get("scope")
        return frozenset(scope.split()) if isinstance(scope, str) else frozenset()

    def has_scopes(self, *scopes: str) -> bool:
        granted = self.scopes
        return all(scope in granted for scope in scopes)


def from_record(record: SessionRecord) -> Principal:
    return Principal(
        record.user_id,
        "session",
        record.id,
        None,
        record.authenticated_at,
        record.expires_at,
        _NO_CLAIMS,
        record,
    )


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def from_claims(claims: Mapping[str, Any], jkt: str | None = None) -> Principal:
    sid = claims.get("sid")
    return Principal(
        claims["sub"],
        "hybrid" if sid is not None else "bearer",
        sid,
        claims.get("jti"),
        _number(claims.get("auth_time")),
        _number(claims.get("exp")),
        claims,
        None,
        jkt,
    )


@dataclass(slots=True)
class AuthState:
    """What the web layer found out about a request, stored at ``scope["gatepass"]`` (ASGI) or
    ``environ["gatepass"]`` (WSGI); the framework adapters read it.

    ``principal`` is None when no acceptable credential came. ``failure`` then says why, when
    the reason matters to the response: ``"unavailable"`` (the store, or the issuer's key set,
    is down: answer 503, do not log out), ``"invalid_token"`` (a bearer token was refused: 401
    with RFC 6750's error), ``"invalid_dpop_proof"`` / ``"use_dpop_nonce"`` (the DPoP proof
    was refused, RFC 9449 7.1), None (no credential at all). ``failure_code`` /
    ``failure_detail`` describe the refusal.
    ``dpop``: the token came as ``Authorization: DPoP`` (refusals then challenge with DPoP);
    ``dpop_nonce``: the ``DPoP-Nonce`` to send with the response (server nonces on).
    ``set_cookies`` are added to the response by the middleware (a cleared dead session, a new
    CSRF seed). ``gatepass`` is the configuration that decided all this.

    ``credential``: the token or session token the request presented (the one judged), for
    :attr:`log_id`; left out of ``repr`` so that logging the state never logs it.
    """

    gatepass: Gatepass
    principal: Principal | None = None
    failure: (
        Literal["unavailable", "invalid_token", "invalid_dpop_proof", "use_dpop_nonce"] | None
    ) = None
    failure_code: str = ""
    failure_detail: str = ""
    set_cookies: list[str] = field(default_factory=list)
    csrf_binding: bytes | None = None
    dpop: bool = False
    dpop_nonce: str | None = None
    credential: str | None = field(default=None, repr=False, compare=False)

    @property
    def log_id(self) -> str | None:
        """A short keyed hash of the credential this request presented (12 base64url
        characters, :class:`gatepass.web.audit.LogIds`), None when it presented none.

        For the app's own log lines: the same credential always has the same id, a refused one
        too (so repeated use of a stolen token correlates), and no log ever holds the token.
        Computed on each use, so requests that never log pay nothing.
        """
        credential = self.credential
        return None if credential is None else self.gatepass.log_ids.of(credential)

    def refuse(
        self,
        failure: Literal["unavailable", "invalid_token", "invalid_dpop_proof", "use_dpop_nonce"],
        code: str = "",
        detail: str = "",
    ) -> AuthState:
        """Record why the credential that came was not accepted; returns this state."""
        self.failure, self.failure_code, self.failure_detail = failure, code, detail
        return self

    @property
    def varies_on_cookie(self) -> bool:
        """Whether the response depends on the ``Cookie`` header: a session cookie could have
        changed it (a bearer-authenticated one depends on ``Authorization``, which shared
        caches never reuse across requests)."""
        principal = self.principal
        return self.gatepass.sessions is not None and (
            principal is None or principal.design == "session"
        )

    @property
    def edits_response(self) -> bool:
        """Whether a driver must see the app's response start: to add ``Vary: Cookie``, a
        cookie decided here, or the seed cookie an anonymous page may still ask for
        (:meth:`csrf_token`). False on the bearer hot path: the response goes out untouched."""
        return (
            self.principal is None
            or bool(self.set_cookies)
            or self.varies_on_cookie
            or self.dpop_nonce is not None
        )

    def response_headers(self, vary: Iterable[str]) -> list[tuple[str, str]]:
        """What the driver adds to the app's response, given the ``Vary`` values it already
        has; read when the response starts, so a seed the app asked for is included."""
        headers = [("set-cookie", cookie) for cookie in self.set_cookies]
        if self.dpop_nonce is not None:
            headers.append(("dpop-nonce", self.dpop_nonce))
        if self.varies_on_cookie and not lists_token(vary, "cookie"):
            headers.append(("vary", "Cookie"))
        return headers

    def csrf_token(self) -> str:
        """A fresh CSRF token for this visitor, for a form's hidden ``csrf_token`` field.

        Before login it is bound to a random seed cookie, set on this response when the visitor
        has none yet, so a login form works in browsers that send no fetch metadata and cannot
        be replayed into another visitor's browser.
        """
        binding = self.csrf_binding
        if binding is None:
            seed = new_seed()
            binding = self.csrf_binding = bind_seed(seed)
            self.set_cookies.append(self.gatepass.cookies.seed(seed))
        return self.gatepass.csrf.mint(binding)
