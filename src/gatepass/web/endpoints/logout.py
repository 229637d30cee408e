"""``POST <prefix>/logout`` and ``POST <prefix>/logout-all``: end one login, or every login.

Logout ends whatever credential came: the session of the session cookie (also when a bearer
token came beside it: the answer clears that cookie); for a bearer token of the hybrid, its
session (the refresh family dies with it at its next rotation, and the access tokens that carry
its ``sid`` are revoked when the access tokens are revocable); a bearer API token is revoked by
``jti`` where the mode allows. Logout without a credential, or with one that is already dead,
still succeeds and clears the cookies: logging out is idempotent. A malformed form is a 400
read before anything is revoked.

The response clears the cookies, says ``Clear-Site-Data`` (cache, cookies, storage: the browser
drops what the page kept too) and ``Cache-Control: no-store``; because that logs a browser out
by itself, a cross-site logout is refused even when it carries no credential (logout CSRF).
A store outage is a 503 that clears nothing, so the user is not told they are logged out while
their session still lives.
"""

from __future__ import annotations

from gatepass.errors import StoreUnavailable
from gatepass.web import audit
from gatepass.web.authenticate import authenticate, presented_token
from gatepass.web.config import Gatepass
from gatepass.web.cookies import read_cookie
from gatepass.web.csrf import ALLOWED, NEED_TOKEN, fetch_verdict
from gatepass.web.drive import READ_BODY, Plan
from gatepass.web.endpoints._forms import is_form, read_fields, redirect, safe_next, text_field
from gatepass.web.http import Request, Response, json_response
from gatepass.web.principal import AuthState, Principal
from gatepass.web.problems import Problem
from gatepass.web.require import check_failure

__all__ = ["logout", "logout_all", "require_principal", "revoke_device_of", "revoke_everything"]

CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


def require_principal(state: AuthState | Problem, gp: Gatepass) -> Principal:
    """The principal of an endpoint that needs a user, or the refusal to send instead."""
    if isinstance(state, Problem):
        raise state
    check_failure(state)
    if state.principal is None:
        raise Problem.unauthenticated()
    return state.principal


def _submitted(request: Request) -> Plan[str | None]:
    """Where a logout form goes next (None: answer JSON). Read before anything is revoked, so
    that a malformed form is a 400 that has logged nobody out."""
    if not is_form(request):
        return None
    fields = read_fields(request, (yield READ_BODY))
    if "next" not in fields:
        return None
    return safe_next(text_field(fields, "next"), request.root)


def _goodbye(
    gp: Gatepass, request: Request, target: str | None, body: dict[str, object]
) -> Response:
    headers = [("clear-site-data", CLEAR_SITE_DATA)]
    if gp.sessions is not None:
        headers.append(("set-cookie", gp.cookies.clear_session()))
    if gp.refresh is not None:
        headers.append(("set-cookie", gp.cookies.clear_refresh(request.root)))
        headers.append(("set-cookie", gp.cookies.clear_refresh_family(request.root)))
    if target is not None:
        return redirect(target, headers)
    return json_response(200, body, headers)


def logout(gp: Gatepass, request: Request) -> Plan[Response]:
    if gp.access is None or presented_token(gp, request) is None:
        # The answer logs the browser out (Clear-Site-Data, cleared cookies) even when no
        # credential came: a cross-site post carries no SameSite=Lax session cookie and never
        # the path-scoped refresh cookie. So another site may not ask, credential or not.
        verdict = fetch_verdict(request, gp.trusted_origins)
        if verdict not in (ALLOWED, NEED_TOKEN):
            raise audit.csrf_refused(gp, request, Problem.csrf(verdict))
    state = yield from authenticate(gp, request)
    if isinstance(state, Problem):
        raise state
    if state.failure == "unavailable":  # a store outage, or a remote key set never fetched
        raise Problem.unavailable(gp.retry_after, state.failure_code or StoreUnavailable.code)
    target = yield from _submitted(request)
    principal = state.principal
    if principal is None or principal.design == "session":
        pass  # the session cookie, if one came, is revoked below
    elif principal.session_id is not None and gp.devices is not None:
        yield from revoke_device_of(gp, principal.user_id, principal.session_id)
    elif gp.access is not None and gp.access.mode != "stateless":
        token = presented_token(gp, request)
        assert token is not None
        yield gp.access.revoke(token)
    # The answer clears the session cookie (and Clear-Site-Data every cookie) whichever
    # credential logged out, so its session ends too: one that came beside a bearer token
    # would otherwise live on, out of the browser's sight but not out of a thief's.
    session_token = read_cookie(request.headers.get("cookie"), gp.cookies.session_name)
    if session_token is not None and gp.sessions is not None:
        yield gp.sessions.revoke(session_token)
    return _goodbye(gp, request, target, {"logged_out": True})


def revoke_device_of(gp: Gatepass, user_id: str, session_id: str) -> Plan[bool]:
    """Revoke the session ``session_id`` of ``user_id`` wherever it is recorded.

    The hybrid's anchors are asked first: they are linked to the access tokens, so revoking a
    hybrid login through them also revokes the access tokens that carry its ``sid``. When both
    designs share a store, the cookie sessions would find the same record and remove it
    without touching those tokens, which would then outlive the login by up to their ``ttl``.
    """
    for sessions in (gp.anchors, gp.sessions):
        if sessions is not None and (yield sessions.revoke(session_id, user_id=user_id)):
            return True
    return False


def logout_all(gp: Gatepass, request: Request) -> Plan[Response]:
    """Every session and refresh family of the user, and every access token issued so far
    (when the access tokens are revocable): "log out everywhere", effective at the next
    request of every device."""
    principal = require_principal((yield from authenticate(gp, request)), gp)
    target = yield from _submitted(request)
    count = yield from revoke_everything(gp, principal.user_id, principal.design)
    return _goodbye(gp, request, target, {"logged_out": True, "sessions_revoked": count})


def revoke_everything(gp: Gatepass, user_id: str, asking: str = "session") -> Plan[int]:
    """What "log out everywhere" and "freeze account" do; returns how many sessions went.

    ``asking``: the design of the credential that asked. Its kind goes last (a session cookie
    after the access tokens and the hybrid's logins; a bearer token after the cookie sessions):
    should the store fail half-way (a 503), that credential still works, so the user can ask
    again and finish the job. Every step may repeat.
    """
    cookies_last = asking == "session"
    if cookies_last:
        yield from _revoke_tokens(gp, user_id)
    count = 0
    for sessions in (gp.anchors, gp.sessions) if cookies_last else (gp.sessions, gp.anchors):
        if sessions is not None:
            count += yield sessions.revoke_all(user_id)
    if not cookies_last:
        yield from _revoke_tokens(gp, user_id)
    return count


def _revoke_tokens(gp: Gatepass, user_id: str) -> Plan[None]:
    if gp.access is not None and gp.access.mode != "stateless":
        yield gp.access.revoke_user(user_id)
