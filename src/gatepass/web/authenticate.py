"""The per-request decision: which credential, is it good, does CSRF allow the request.

:func:`authenticate` is the plan both middlewares run on every request that is not for an
endpoint (see :mod:`gatepass.web.drive` for how plans do I/O). Order of precedence:

1. ``Authorization: Bearer <token>`` when access tokens are configured, or ``Authorization:
   DPoP <token>`` with its ``DPoP`` proof when a :class:`~gatepass.web.dpop.DPoPPolicy` is (the
   proof first, then the token, bound to the proof's key). A request that carries one is judged
   by it alone: a bad token or proof is a 401 for routes that need a user, never a fall-back
   to the cookie, and the request is exempt from CSRF (no other site can make a browser send it).
   A bound token sent as ``Bearer`` is refused (RFC 9449 7.2), and so is every bearer token
   when the policy requires DPoP.
2. The session cookie. Unsafe requests that carry it pass the CSRF check first, before any store
   work. A cookie whose session is gone (expired, revoked) is cleared on the response; a store
   outage keeps it and records ``failure="unavailable"`` (503 for routes that need a user).

Nothing here answers the request itself except a CSRF refusal: whether a route needs a user is
the route's business (the FastAPI dependencies, the Flask decorator).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from gatepass.errors import (
    DPoPBindingMismatch,
    InvalidDPoPProof,
    InvalidToken,
    JWKSFetchError,
    StoreUnavailable,
)
from gatepass.tokens.dpop import DPoPProof
from gatepass.web import audit
from gatepass.web.config import Gatepass
from gatepass.web.cookies import read_cookie
from gatepass.web.csrf import (
    ALLOWED,
    NEED_TOKEN,
    fetch_verdict,
    seed_binding,
    session_binding,
)
from gatepass.web.dpop import DPoPSetup, authorization, error_of
from gatepass.web.drive import READ_BODY, Plan
from gatepass.web.http import SAFE_METHODS, Request
from gatepass.web.principal import AuthState, from_claims, from_record
from gatepass.web.problems import Problem

__all__ = ["authenticate", "bearer_token", "check_csrf", "presented_token"]

_FORM = "application/x-www-form-urlencoded"


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header (scheme case-insensitive), else None."""
    value = request.headers.get("authorization")
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def presented_token(gp: Gatepass, request: Request) -> str | None:
    """The access token the request presents: ``Bearer``, or ``DPoP`` where a policy is set."""
    if gp.dpop is None:
        return bearer_token(request)
    found = authorization(request)
    return None if found is None else found[1]


def check_csrf(
    gp: Gatepass,
    request: Request,
    binding: bytes | None,
    judged: tuple[str, str] | None = None,
) -> Plan[Problem | None]:
    """None if the unsafe ``request`` may go on, else the refusal (see :mod:`gatepass.web.csrf`).

    Reads the body only when the token must come from a form field. ``judged``: ``(design,
    credential)`` the caller is judging the request by, for the refusal's log line (a refresh
    that also carries a session cookie is logged under its refresh cookie).
    """
    verdict = fetch_verdict(request, gp.trusted_origins)
    if verdict == ALLOWED and not gp.cookies.cross_site:
        return None
    if verdict not in (ALLOWED, NEED_TOKEN):
        return audit.csrf_refused(gp, request, Problem.csrf(verdict), judged)
    if request.websocket:
        return None  # no fetch metadata and no Origin: not a browser, so not a CSRF victim
    token: Any = request.headers.get("x-csrf-token")
    content_type = request.headers.get("content-type", "")
    if token is None and content_type.split(";", 1)[0].strip().lower() == _FORM:
        body = yield READ_BODY  # at most max_body bytes, so any number of fields is cheap
        values = parse_qs(body.decode("latin-1")).get("csrf_token")
        token = values[0] if values else None
    if binding is None or not gp.csrf.valid(token, binding):
        if verdict == ALLOWED:
            refusal = Problem.csrf("cross-site mode: a valid X-CSRF-Token is required")
        else:
            refusal = Problem.csrf(
                "no Sec-Fetch-Site or Origin header, and no valid CSRF token "
                "(X-CSRF-Token header or csrf_token form field)"
            )
        return audit.csrf_refused(gp, request, refusal, judged)
    return None


def _token(state: AuthState, access: Any, token: str, proof: DPoPProof | None) -> Plan[AuthState]:
    """Judge an access token (with the verified proof that came with it, if any)."""
    try:
        claims = yield access.verify(token, proof=proof)
    except InvalidToken as exc:
        audit.credential_refused(state.gatepass, _scheme(state), token, exc.code)
        return state.refuse("invalid_token", exc.code, str(exc))
    except StoreUnavailable:
        audit.store_unavailable(state.gatepass, _scheme(state), token)
        return state.refuse("unavailable")
    except JWKSFetchError as exc:
        # A remote key set (JWKSClient) that was never fetched: the token can be judged neither
        # good nor bad, so it is an outage (503), not a refused token (401).
        return state.refuse("unavailable", exc.code)
    state.principal = from_claims(claims, None if proof is None else proof.jkt)
    return state


def _scheme(state: AuthState) -> str:
    """How the token being judged came, for the log: ``Authorization: DPoP`` or ``Bearer``."""
    return "dpop" if state.dpop else "bearer"


def _dpop_token(
    state: AuthState, dpop: DPoPSetup, request: Request, scheme: str, token: str
) -> Plan[AuthState]:
    """A token under a DPoP policy: ``DPoP`` with its proof, or ``Bearer`` where allowed."""
    if scheme == "bearer":
        if dpop.required:
            audit.credential_refused(state.gatepass, "bearer", token, DPoPBindingMismatch.code)
            return state.refuse(
                "invalid_token",
                DPoPBindingMismatch.code,
                "this resource accepts DPoP-bound tokens only (Authorization: DPoP)",
            )
        return (yield from _token(state, state.gatepass.access, token, None))
    state.dpop = True
    state.dpop_nonce = dpop.current_nonce()
    try:
        proof = yield from dpop.verify(request, token)
        if proof is None:
            raise InvalidDPoPProof("Authorization: DPoP needs a DPoP header with a proof")
    except InvalidDPoPProof as exc:
        audit.credential_refused(state.gatepass, "dpop", token, exc.code)
        return state.refuse(error_of(exc), exc.code, str(exc))
    except InvalidToken as exc:
        # The token itself, before its proof: one whose ``ath`` cannot be computed (not
        # ASCII, say a latin-1 byte or two Authorization lines joined) is malformed, a 401
        # like any refused token, never an exception out of the middleware.
        audit.credential_refused(state.gatepass, "dpop", token, exc.code)
        return state.refuse("invalid_token", exc.code, str(exc))
    except StoreUnavailable:
        audit.store_unavailable(state.gatepass, "dpop", token)
        return state.refuse("unavailable")
    return (yield from _token(state, state.gatepass.access, token, proof))


def authenticate(gp: Gatepass, request: Request) -> Plan[AuthState | Problem]:
    """The :class:`AuthState` of ``request``, or the CSRF :class:`Problem` that refuses it."""
    state = AuthState(gp)
    access = gp.access
    if access is not None:
        dpop = gp.dpop
        if dpop is None:
            token = bearer_token(request)
            if token is not None:
                state.credential = token
                return (yield from _token(state, access, token, None))
        else:
            found = authorization(request)
            if found is not None:
                state.credential = found[1]
                return (yield from _dpop_token(state, dpop, request, *found))

    cookies = request.headers.get("cookie")
    sessions = gp.sessions
    session_token = None
    if sessions is not None:
        session_token = read_cookie(cookies, gp.cookies.session_name)
    if session_token is not None:
        state.credential = session_token
        state.csrf_binding = session_binding(session_token)
    else:
        state.csrf_binding = seed_binding(read_cookie(cookies, gp.cookies.seed_name))

    if (
        session_token is not None
        and (request.websocket or request.method not in SAFE_METHODS)
        and not gp.exempt(request.path)
    ):
        judged = ("session", session_token)
        refusal = yield from check_csrf(gp, request, state.csrf_binding, judged)
        if refusal is not None:
            return refusal

    if session_token is not None and sessions is not None:
        try:
            record = yield sessions.get(session_token)
        except StoreUnavailable:
            audit.store_unavailable(gp, "session", session_token)
            state.failure = "unavailable"
            return state
        if record is None:
            audit.credential_refused(gp, "session", session_token, InvalidToken.code)
            state.set_cookies.append(gp.cookies.clear_session())
            # The cookie is cleared on this very response, so a token minted now must be bound
            # to the visitor (the seed), as the next request will arrive without the cookie.
            state.csrf_binding = seed_binding(read_cookie(cookies, gp.cookies.seed_name))
        else:
            state.principal = from_record(record)
    return state
