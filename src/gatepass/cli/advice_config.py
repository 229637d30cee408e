"""The Python configuration ``gatepass advise`` prints for each design: an app protected by the
web layer (``gatepass.web``), for FastAPI or Flask.

The web layer sets and reads the cookies, checks CSRF, answers ``/auth/login``, ``/auth/logout``,
``/auth/refresh`` and "your devices", and refuses with the right status, so the snippet is the
configuration and one protected route, not hand-made cookie and token glue. Every snippet is a
program that runs as printed once the app's password check (``check_password``) is defined,
the secrets are in the environment and ``gatepass keygen ES256 --out signing`` has made the key
file: ``tests/cli/test_cli_advise_config.py`` runs each of them against a real Redis and drives
the app it builds (login, a protected route, refresh, logout), so a snippet that stops short
fails a test.
"""

from __future__ import annotations

from collections.abc import Mapping

FRAMEWORKS = {
    "fastapi": "FastAPI (asyncio; any ASGI app with GatepassMiddleware)",
    "flask": "Flask (WSGI; any WSGI app with GatepassWSGIMiddleware)",
}

_FASTAPI_HEAD = """\
import os
from contextlib import asynccontextmanager{path}

import gatepass
from fastapi import FastAPI{fastapi_more}
from gatepass.web import {web}
from gatepass.web.fastapi import CurrentUser, install

store = gatepass.open_async_store("redis://127.0.0.1:6379/0")  # or sqlite:///..., postgresql://...
"""

_FLASK_HEAD = """\
import os{path}

import gatepass
from flask import Flask{flask_more}
from gatepass.web import {web}
from gatepass.web.flask import GatepassFlask, current_user, login_required

store = gatepass.open_store("redis://127.0.0.1:6379/0")  # or sqlite:///..., postgresql://...
store.setup()  # creates the tables or scripts it needs; safe to run on every start
"""

_SECRET = """\
    # 32+ random bytes (python -c "import secrets; print(secrets.token_hex(32))"), the same in
    # every process: CSRF tokens and the log ids of gatepass's log lines are keyed by it.
    secret=bytes.fromhex(os.environ["GATEPASS_SECRET"]),
"""

_SESSIONS = """
gp = Gatepass(
    sessions=gatepass.{a}Sessions(
        store,
        idle_timeout=30 * 60,  # signed out after 30 min without a request
        absolute_timeout=12 * 3600,  # and after 12 h whatever happens
        touch_interval=60,  # sliding renewal writes at most once a minute{remember_opts}
    ),
    check_password=check_password,  # yours: (username, password) -> user id or None
{secret})
"""

_REMEMBER_SESSIONS = """
        remember_idle_timeout=14 * 86400,  # remember-me: 14 days idle
        remember_absolute_timeout=30 * 86400,  # and 30 days at most, still revocable"""

_ACCESS = """
# Signing key from `gatepass keygen ES256 --out signing`; the ring keeps old keys verifying
# until their tokens expire when you rotate.
keys = gatepass.KeyRing(gatepass.Key.from_pem(Path("signing.key.pem").read_bytes()))
access = gatepass.{a}AccessTokens(
    keys,
    issuer="https://auth.example.com",
    audience="{audience}",
    ttl={ttl},  # {ttl_note}
    revocation="{revocation}",  # {revocation_note}
    store=store,
)
"""

_REFRESH = """refresh = gatepass.{a}RefreshTokens(
    store,
    access,
    idle_timeout={idle},  # {idle_note}
    absolute_timeout={absolute},  # {absolute_note}
    # 32+ random bytes, the same in every process that serves the refresh endpoint:
    secret=bytes.fromhex(os.environ["REFRESH_SECRET"]),
)
"""

_HYBRID = """gp = Gatepass(
    refresh_tokens=refresh,
    check_password=check_password,  # yours: (username, password) -> user id or None
{secret}{cross})
"""

_CROSS_SITE = """\
    # The SPA on another site: SameSite=None cookies, and CORS plus a CSRF token for these
    # origins only.
    cookies=CookiePolicy(cross_site=True),
    trusted_origins=["https://app.example.com"],
"""

_LIFESPAN = """

@asynccontextmanager
async def lifespan(app: FastAPI):
    await store.setup()  # creates the tables or scripts it needs; safe to run on every start
    yield{close}
    await store.close()
"""

_FASTAPI_APP = """

{app} = FastAPI(lifespan=lifespan)
install({app}, {gp})  # {what}
"""

_FLASK_APP = """
{app} = Flask(__name__)
GatepassFlask({app}, {gp})  # {what}
"""

_FASTAPI_ME = """

@app.get("/me")
async def me(user: CurrentUser) -> dict[str, str]:
    return {"user": user.user_id}
"""

_FLASK_ME = """

@app.get("/me")
@login_required
def me() -> dict[str, str]:
    return {"user": current_user.user_id}
"""

_OTHERS = {
    "fastapi": "# (Flask: gatepass advise --framework flask; another ASGI app:\n"
    "# app = GatepassMiddleware(app, gp))\n",
    "flask": "# (FastAPI: gatepass advise --framework fastapi; another WSGI app:\n"
    "# app.wsgi_app = GatepassWSGIMiddleware(app.wsgi_app, gp))\n",
}

_MICRO = """
# The auth service: POST /auth/login answers {{"access_token", ...}} for a right password, and
# GET /.well-known/jwks.json publishes the public keys (or once, from files: gatepass jwks).
auth = Gatepass(
    access_tokens=access,
    check_password=check_password,  # yours: (username, password) -> user id or None
    login_design="bearer",
{secret})
{auth_app}
# Every other service verifies locally (no call back to the auth service): signature, exp, iss,
# aud and typ at+jwt, keys fetched from the JWKS and cached.
verifier = gatepass.{a}AccessTokens(
    gatepass.{a}JWKSClient("https://auth.example.com/.well-known/jwks.json"),
    issuer="https://auth.example.com",
    audience="orders",{verifier_revocation}
)
service = Gatepass(
    access_tokens=verifier,
{secret})
{service_app}"""

_MOBILE_FASTAPI = """

# The app's token endpoints: JSON in and out, no cookies (the web layer's refresh cookie is
# for browsers). The app keeps refresh_token in the Keychain / Android Keystore (never in plain
# preferences) and access_token in memory; a reused refresh token revokes its whole family.
@app.post("/token")
async def token(body: dict[str, str]) -> dict[str, str]:
    user_id = await asyncio.to_thread(check_password, body["username"], body["password"])
    if user_id is None:
        raise HTTPException(401, "unknown user name or wrong password")
    refresh_token, access_token = await refresh.start(user_id)
    return {"access_token": access_token, "refresh_token": refresh_token, "token_type": "Bearer"}


@app.post("/token/refresh")
async def renew(body: dict[str, str]) -> dict[str, str]:
    try:
        refresh_token, access_token = await refresh.rotate(body["refresh_token"])
    except gatepass.InvalidToken:
        raise HTTPException(401, "log in again") from None
    return {"access_token": access_token, "refresh_token": refresh_token, "token_type": "Bearer"}


@app.post("/token/logout")
async def logout(body: dict[str, str]) -> dict[str, bool]:
    await refresh.revoke(body["refresh_token"])  # the whole family: no more refreshes
    return {"logged_out": True}
"""

_MOBILE_FLASK = """

# The app's token endpoints: JSON in and out, no cookies (the web layer's refresh cookie is
# for browsers). The app keeps refresh_token in the Keychain / Android Keystore (never in plain
# preferences) and access_token in memory; a reused refresh token revokes its whole family.
@app.post("/token")
def token() -> dict[str, str]:
    body = request.get_json()
    user_id = check_password(body["username"], body["password"])
    if user_id is None:
        abort(401)
    refresh_token, access_token = refresh.start(user_id)
    return {"access_token": access_token, "refresh_token": refresh_token, "token_type": "Bearer"}


@app.post("/token/refresh")
def renew() -> dict[str, str]:
    try:
        refresh_token, access_token = refresh.rotate(request.get_json()["refresh_token"])
    except gatepass.InvalidToken:
        abort(401)
    return {"access_token": access_token, "refresh_token": refresh_token, "token_type": "Bearer"}


@app.post("/token/logout")
def logout() -> dict[str, bool]:
    refresh.revoke(request.get_json()["refresh_token"])  # the whole family: no more refreshes
    return {"logged_out": True}
"""

_SESSIONS_NOTE = """
# POST /auth/login (username, password{remember}) sets the __Host-session cookie; POST
# /auth/logout ends the session, POST /auth/logout-all every session of the user ("log out
# everywhere"), GET /auth/sessions lists them ("your devices").
"""

_HYBRID_NOTE = """
# The page: import {{ Gatepass }} from "/auth/gatepass.js" logs in, keeps the access token in
# memory only (never localStorage), refreshes it before exp, one refresh at a time across tabs.
"""

_REVOKE_NOTE = """
# Instant revocation: every process holds the denylist in memory and gets changes pushed
# through the store, so verifying stays lookup-free. An admin tool ends one token with
# access.revoke(access_token) and freezes an account with access.revoke_user(user_id)
# (awaited with the asyncio classes).
"""

_WHAT = {
    "sessions": "the cookie, CSRF checks, /auth/* and 401/403/503",
    "hybrid": "/auth/login, the refresh cookie, /auth/refresh, CSRF",
    "auth": "/auth/login and the JWKS",
    "service": "Authorization: Bearer, 401/503 answers",
}


def _head(framework: str, *, path: bool, web: str, more: str = "") -> str:
    head = _FASTAPI_HEAD if framework == "fastapi" else _FLASK_HEAD
    return head.format(
        path="\nfrom pathlib import Path" if path else "",
        fastapi_more=more,
        flask_more=more,
        web=web,
    )


def _app(framework: str, what: str, *, app: str = "app", gp: str = "gp") -> str:
    template = _FASTAPI_APP if framework == "fastapi" else _FLASK_APP
    return template.format(app=app, gp=gp, what=_WHAT[what])


def _lifespan(framework: str, *closers: str) -> str:
    """FastAPI's start-up and shutdown: the store's tables, and the replicated-revocation
    listeners of ``closers`` stopped (they start by themselves at the first verification)."""
    if framework != "fastapi":
        return ""
    return _LIFESPAN.format(close="".join(f"\n    await {name}.close()" for name in closers))


def _me(framework: str) -> str:
    return _FASTAPI_ME if framework == "fastapi" else _FLASK_ME


def sessions_config(needs: Mapping[str, bool], framework: str) -> str:
    remember = needs["remember_me"]
    return (
        _head(framework, path=False, web="Gatepass")
        + _SESSIONS.format(
            a="Async" if framework == "fastapi" else "",
            remember_opts=_REMEMBER_SESSIONS if remember else "",
            secret=_SECRET,
        )
        + _lifespan(framework)
        + _app(framework, "sessions")
        + _OTHERS[framework]
        + _me(framework)
        + _SESSIONS_NOTE.format(remember=", remember" if remember else "")
    )


def _access(needs: Mapping[str, bool], framework: str, audience: str) -> str:
    instant = needs["instant_revocation"]
    if instant:
        ttl, ttl_note = 5 * 60, "5 min: short, even with revocation"
    else:
        ttl, ttl_note = 15 * 60, "15 min: a stolen token is useful only this long"
    return _ACCESS.format(
        a="Async" if framework == "fastapi" else "",
        audience=audience,
        ttl=ttl,
        ttl_note=ttl_note,
        revocation="replicated" if instant else "stateless",
        revocation_note=(
            "denylist pushed to every process: lookup-free verify"
            if instant
            else "valid until exp; no lookups at all"
        ),
    )


def _refresh(needs: Mapping[str, bool], framework: str, *, mobile: bool) -> str:
    long = needs["remember_me"] or mobile
    return _REFRESH.format(
        a="Async" if framework == "fastapi" else "",
        idle=f"{30 if long else 1} * 86400" if long else "24 * 3600",
        idle_note="unused this long: log in again" if long else "a day without use: log in again",
        absolute=f"{90 if mobile else 30} * 86400" if long else "7 * 86400",
        absolute_note="the remember-me limit; still revocable" if long else "at most a week",
    )


def hybrid_config(needs: Mapping[str, bool], framework: str) -> str:
    """The hybrid for a browser app: the web layer's login, refresh cookie and gatepass.js."""
    cross = needs["cross_domain"]
    instant = needs["instant_revocation"]
    return (
        _head(framework, path=True, web="CookiePolicy, Gatepass" if cross else "Gatepass")
        + _access(needs, framework, "api")
        + _refresh(needs, framework, mobile=False)
        + _HYBRID.format(secret=_SECRET, cross=_CROSS_SITE if cross else "")
        + _lifespan(framework, *(("access",) if instant else ()))
        + _app(framework, "hybrid")
        + _OTHERS[framework]
        + _me(framework)
        + _HYBRID_NOTE.format()
        + (_REVOKE_NOTE if instant else "")
    )


def mobile_config(needs: Mapping[str, bool], framework: str) -> str:
    """A native app's API: the web layer verifies bearer tokens; the token endpoints hand both
    tokens over in JSON, since a native app keeps no cookie jar worth trusting."""
    instant = needs["instant_revocation"]
    more = ", HTTPException" if framework == "fastapi" else ", abort, request"
    head = _head(framework, path=True, web="Gatepass", more=more)
    if framework == "fastapi":
        head = "import asyncio\n" + head
    gp = "gp = Gatepass(\n    access_tokens=access,\n" + _SECRET + ")\n"
    return (
        head
        + _access(needs, framework, "api")
        + _refresh(needs, framework, mobile=True)
        + gp
        + _lifespan(framework, *(("access",) if instant else ()))
        + _app(framework, "service")
        + _OTHERS[framework]
        + _me(framework)
        + (_MOBILE_FASTAPI if framework == "fastapi" else _MOBILE_FLASK)
        + (_REVOKE_NOTE if instant else "")
    )


def jwks_config(needs: Mapping[str, bool], framework: str) -> str:
    """An auth service that issues and publishes, and services that verify through JWKS."""
    instant = needs["instant_revocation"]
    verifier_revocation = (
        '\n    revocation="replicated",\n    store=store,  # the same store: revocations reach '
        "this service too"
        if instant
        else ""
    )
    micro = _MICRO.format(
        a="Async" if framework == "fastapi" else "",
        secret=_SECRET,
        auth_app=_app(framework, "auth", app="auth_app", gp="auth"),
        service_app=_app(framework, "service", gp="service"),
        verifier_revocation=verifier_revocation,
    )
    return (
        _head(framework, path=True, web="Gatepass")
        + _access(needs, framework, "orders")
        + _lifespan(framework, *(("access", "verifier") if instant else ()))
        + micro
        + _me(framework)
        + (_REVOKE_NOTE if instant else "")
    )
