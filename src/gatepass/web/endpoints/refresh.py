"""``POST <prefix>/refresh``: the hybrid's rotation, from the refresh cookie to a new pair.

The refresh cookie is ``HttpOnly`` (no script, so no XSS, can read it), ``SameSite=Strict`` and
scoped to this path, so it reaches no other endpoint and no cross-site request carries it; the
CSRF check still runs (fetch metadata, ``Origin``, else a token bound to the refresh token). It
counts only beside its ``__Host-`` companion that names its family
(:func:`~gatepass.web.cookies.read_refresh`): a refresh cookie tossed from a sibling subdomain
has none, so the request is answered as one without a refresh cookie and touches no store.
Every successful call rotates: the old refresh token is used up, a new one is set, and the body
carries a new access token. A refused token (unknown, expired, revoked, or reused: the whole
family is then revoked) clears the cookie; a store outage is a 503 that keeps it.
"""

from __future__ import annotations

from gatepass.errors import DPoPBindingMismatch, InvalidToken
from gatepass.web import audit
from gatepass.web.authenticate import check_csrf
from gatepass.web.config import Gatepass
from gatepass.web.cookies import read_refresh
from gatepass.web.csrf import refresh_binding
from gatepass.web.dpop import refusal as dpop_refusal
from gatepass.web.dpop import token_endpoint_jkt
from gatepass.web.drive import Plan
from gatepass.web.http import Request, Response, json_response
from gatepass.web.problems import Problem, problem_response

__all__ = ["refresh"]


def refresh(gp: Gatepass, request: Request) -> Plan[Response]:
    if gp.refresh is None or gp.access is None:
        raise Problem.not_found("the hybrid is not configured: give Gatepass(refresh_tokens=...)")
    token = read_refresh(request.headers.get("cookie"), gp.cookies, request.root)
    if token is None:
        raise Problem.unauthenticated()
    refusal = yield from check_csrf(gp, request, refresh_binding(token), ("hybrid", token))
    if refusal is not None:
        raise refusal
    jkt = yield from token_endpoint_jkt(gp.dpop, request)
    try:
        new_refresh, access_token = yield gp.refresh.rotate(token, jkt=jkt)
    except DPoPBindingMismatch as exc:
        # The family is bound to a key this request did not prove: whoever sent it may hold
        # a copied cookie. Nothing changed, and the cookie stays (the device may still use it).
        audit.credential_refused(gp, "hybrid", token, exc.code)
        if gp.dpop is None:
            raise Problem.dpop(
                400, "invalid_dpop_proof", code=exc.code, detail=str(exc), challenge="DPoP"
            ) from None
        raise dpop_refusal(gp.dpop, exc, 400) from None
    except InvalidToken as exc:
        audit.credential_refused(gp, "hybrid", token, exc.code)
        response = problem_response(Problem.invalid_token(exc.code, str(exc)))
        response.headers.append(("set-cookie", gp.cookies.clear_refresh(request.root)))
        response.headers.append(("set-cookie", gp.cookies.clear_refresh_family(request.root)))
        return response
    body = {
        "access_token": access_token,
        "token_type": "Bearer" if jkt is None else "DPoP",
        "expires_in": gp.access.ttl,
        "csrf_token": gp.csrf.mint(refresh_binding(new_refresh)),
    }
    lifetime = int(gp.refresh.absolute)
    headers = [
        ("set-cookie", gp.cookies.refresh(new_refresh, lifetime, request.root)),
        ("set-cookie", gp.cookies.refresh_family(new_refresh, lifetime, request.root)),
    ]
    if jkt is not None and gp.dpop is not None:
        headers.extend(gp.dpop.nonce_headers())
    return json_response(200, body, headers)
