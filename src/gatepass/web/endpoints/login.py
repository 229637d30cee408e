"""``POST <prefix>/login``: check the password with the app's function, then log in one way.

Fields (form or JSON): ``username``, ``password``; optional ``design`` (``session``, ``hybrid``
or ``bearer``, among those configured; default :attr:`Gatepass.login_design`), ``remember``
(a persistent session cookie), ``next`` (forms: where to go after success, a local path only),
``fail`` (forms: where to go after a failure; ``?error=login`` is appended).

What each design answers:

``session``  ``Set-Cookie: __Host-session=...`` and ``{"user_id", "design", "csrf_token"}``.
``hybrid``   ``{"access_token", "token_type": "Bearer", "expires_in", ...}`` and the refresh
             cookie with its companion (``__Host-refresh-family``); the login is recorded as a
             session for "your devices". With a ``DPoP`` proof (a
             :class:`~gatepass.web.dpop.DPoPPolicy` configured), ``"token_type": "DPoP"``:
             the access token and the refresh family are bound to the proof's key.
``bearer``   ``{"access_token", ...}`` only: a token for API clients (curl, mobile).

Login CSRF is refused like any other cross-site request (the form's token, when needed, is
bound to the visitor's pre-login seed) for the designs that set a cookie; a ``bearer`` login
sets none and is a plain credential exchange for API clients. A session cookie that came with a
cookie login is revoked: the new login never continues an id that existed before it (session
fixation).
"""

from __future__ import annotations

import time
from typing import Any

from gatepass.errors import ConfigurationError
from gatepass.web.authenticate import check_csrf
from gatepass.web.config import Gatepass, LoginResult
from gatepass.web.cookies import read_cookie
from gatepass.web.csrf import refresh_binding, seed_binding, session_binding
from gatepass.web.dpop import token_endpoint_jkt
from gatepass.web.drive import READ_BODY, Plan
from gatepass.web.endpoints._forms import (
    flag_field,
    is_form,
    read_fields,
    redirect,
    safe_next,
    text_field,
)
from gatepass.web.http import Request, Response, json_response
from gatepass.web.problems import Problem

__all__ = ["login"]

_MAX_UA = 200


def _result(value: object) -> LoginResult | None:
    if value is None or value is False:
        return None
    if isinstance(value, LoginResult):
        return value
    if isinstance(value, str) and value:
        return LoginResult(value)
    raise ConfigurationError(
        f"check_password must return a user id, a LoginResult or None, not {type(value).__name__}"
    )


def _metadata(request: Request, design: str, scopes: tuple[str, ...]) -> dict[str, Any]:
    """What "your devices" shows: the browser's description and how the device logged in."""
    agent = "".join(ch for ch in request.user_agent[:_MAX_UA] if " " <= ch < "\x7f")
    metadata: dict[str, Any] = {"ua": agent, "design": design}
    if scopes:
        metadata["scopes"] = list(scopes)
    return metadata


def login(gp: Gatepass, request: Request) -> Plan[Response]:
    if gp.check_password is None or gp.login_design is None:
        raise Problem.not_found("login is not configured: give Gatepass(check_password=...)")
    fields = read_fields(request, (yield READ_BODY))
    username = text_field(fields, "username", 255)
    password = text_field(fields, "password", 1024)
    if not username or password is None:
        raise Problem.bad_request("username and password are required")
    design = text_field(fields, "design", 16) or gp.login_design
    if design not in gp.designs:
        raise Problem.bad_request(f"design must be one of: {', '.join(sorted(gp.designs))}")
    old_session = None
    if design != "bearer":
        # A cookie is about to be set (and the browser's earlier session ended): login CSRF.
        # A bearer login sets no cookie and touches none, so API clients (curl, mobile) need
        # neither fetch metadata nor a token; its answer is unreadable to another site.
        cookies = request.headers.get("cookie")
        if gp.sessions is not None:
            old_session = read_cookie(cookies, gp.cookies.session_name)
        binding = (
            session_binding(old_session)
            if old_session is not None
            else seed_binding(read_cookie(cookies, gp.cookies.seed_name))
        )
        refusal = yield from check_csrf(gp, request, binding)
        if refusal is not None:
            raise refusal
    remember = flag_field(fields, "remember")
    form = is_form(request)
    # The proof before the password: a refused proof (or a nonce round trip) costs no hash.
    jkt = None if design == "session" else (yield from token_endpoint_jkt(gp.dpop, request))

    result = _result((yield gp.check_password(username, password)))
    if result is None:
        if form and "fail" in fields:
            target = safe_next(text_field(fields, "fail"), request.root)
            joiner = "&" if "?" in target else "?"
            return redirect(f"{target}{joiner}error=login", [])
        raise Problem.bad_credentials()

    set_cookies: list[str] = []
    if old_session is not None and gp.sessions is not None:
        yield gp.sessions.revoke(old_session)
        set_cookies.append(gp.cookies.clear_session())
    body: dict[str, Any] = {"user_id": result.user_id, "design": design}
    metadata = _metadata(request, design, result.scopes)

    if design == "session":
        assert gp.sessions is not None
        token, record = yield gp.sessions.create(
            result.user_id, remember=remember, metadata=metadata
        )
        lifetime = record.absolute_expires_at - record.created_at
        set_cookies.append(gp.cookies.session(token, int(lifetime) if remember else None))
        body["csrf_token"] = gp.csrf.mint(session_binding(token))
        body["expires_at"] = record.expires_at
    elif design == "hybrid":
        assert gp.anchors is not None and gp.refresh is not None and gp.access is not None
        _, record = yield gp.anchors.create(result.user_id, metadata=metadata)
        refresh_token, access_token = yield gp.refresh.start(
            result.user_id,
            session=record,
            scopes=result.scopes,
            auth_time=record.authenticated_at,
            jkt=jkt,
        )
        lifetime = int(gp.refresh.absolute)
        set_cookies.append(gp.cookies.refresh(refresh_token, lifetime, request.root))
        set_cookies.append(gp.cookies.refresh_family(refresh_token, lifetime, request.root))
        body.update(
            access_token=access_token,
            token_type="Bearer" if jkt is None else "DPoP",
            expires_in=gp.access.ttl,
            csrf_token=gp.csrf.mint(refresh_binding(refresh_token)),
        )
    else:
        assert gp.access is not None
        access_token = yield gp.access.issue(
            result.user_id, scopes=result.scopes, claims={"auth_time": int(time.time())}, jkt=jkt
        )
        token_type = "Bearer" if jkt is None else "DPoP"
        body.update(access_token=access_token, token_type=token_type, expires_in=gp.access.ttl)

    headers = [("set-cookie", cookie) for cookie in set_cookies]
    if jkt is not None and gp.dpop is not None:
        headers.extend(gp.dpop.nonce_headers())
    if form and "next" in fields:
        return redirect(safe_next(text_field(fields, "next"), request.root), headers)
    return json_response(200, body, headers)
