"""Cookie settings other than the defaults (the defaults are checked on every ``Set-Cookie`` of
every case: the test browser refuses a ``__Host-`` or ``__Secure-`` cookie that breaks its
prefix's rules, and the table asserts each cookie's flags).

Plain http on a host that is not loopback cannot carry ``Secure`` cookies: it takes an explicit
opt-in that warns and logs. The cross-site mode (``SameSite=None``) needs an allow-list of
origins and then demands a CSRF token on every unsafe request, since the browser no longer keeps
the cookie away from other sites.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import flask
import pytest
from flask import Flask
from webapps import APPS
from webclient import Expect, Step, parse_set_cookie, run
from webdesigns import serving
from webtable import ALICE, ALICE_SESSION, CSRF

from gatepass import Sessions, open_store
from gatepass.errors import ConfigurationError
from gatepass.web import CookiePolicy, Gatepass
from gatepass.web.flask import GatepassFlask, current_user, login_required


def test_insecure_http_is_an_explicit_loud_opt_in(caplog: pytest.LogCaptureFixture) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the secure default says nothing
        secure = CookiePolicy()
    assert parse_set_cookie(secure.session("t", None))[0] == "__Host-session"
    with caplog.at_level(logging.WARNING, logger="gatepass.web"):
        with pytest.warns(UserWarning, match="INSECURE"):
            insecure = CookiePolicy(insecure_http=True)
    assert any("INSECURE" in record.getMessage() for record in caplog.records)
    name, _, attrs = parse_set_cookie(insecure.session("t", None))
    assert name == "gatepass-session" and "secure" not in attrs and "httponly" in attrs
    with pytest.raises(ConfigurationError):
        CookiePolicy(insecure_http=True, cross_site=True)
    with pytest.raises(ConfigurationError):
        CookiePolicy(same_site="None")


def test_cross_site_cookies_need_an_allow_list() -> None:
    store = open_store("memory://")
    with pytest.raises(ConfigurationError, match="trusted_origins"):
        Gatepass(sessions=Sessions(store), secret=b"s" * 32, cookies=CookiePolicy(cross_site=True))


@pytest.mark.parametrize("app", APPS)
async def test_cross_site_mode_demands_an_allowed_origin_and_a_token(
    app: str, sqlite_url: str
) -> None:
    steps = (
        Step("GET /auth/csrf", Expect(200, flags={"seed": ("SameSite=None", "Secure")}),
             site="trusted"),
        Step("POST /auth/login", CSRF, json={**ALICE, "design": "session"}, site="trusted"),
        Step("POST /auth/login", Expect(200, flags={"session": ("SameSite=None", "Secure",
             "HttpOnly", "Path=/")}), json={**ALICE, "design": "session"}, site="trusted",
             headers={"x-csrf-token": "{csrf}"}),
        Step("POST /me", CSRF, site="trusted"),
        Step("POST /me", CSRF, site="cross-site", headers={"x-csrf-token": "{csrf}"}),
        Step("POST /me", CSRF, site="same-site", headers={"x-csrf-token": "{csrf}"}),
        Step("POST /me", ALICE_SESSION, site="trusted", headers={"x-csrf-token": "{csrf}"}),
        Step("POST /me", ALICE_SESSION, site="same-origin", headers={"x-csrf-token": "{csrf}"}),
        Step("POST /me", CSRF, site="same-origin"),
    )  # fmt: skip
    options = {
        "cookies": CookiePolicy(cross_site=True),
        "trusted_origins": ["https://trusted.example"],
    }
    async with serving(app, "session", sqlite_url, **options) as target:
        await run(target, steps, "cross-site mode")


@pytest.mark.parametrize("app", APPS)
async def test_cross_site_mode_answers_cors_for_the_endpoints_from_the_allow_list(
    app: str, sqlite_url: str
) -> None:
    """The SPA's site may call the endpoints with credentials (a preflight, then the answer
    names its origin); any other site gets no CORS header, so its page can read nothing."""
    preflight = {"access-control-request-method": "POST"}
    allowed = {
        "access-control-allow-origin": "https://trusted.example",
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": "DPoP-Nonce, WWW-Authenticate",  # for gatepass.js
        "vary": "+Origin",
    }
    refused = {"access-control-allow-origin": None, "access-control-allow-credentials": None}
    steps = (
        Step("OPTIONS /auth/login", Expect(204, headers={
             **allowed, "access-control-allow-methods": "POST",
             "access-control-allow-headers": "~x-csrf-token"}), site="trusted",
             headers=preflight),
        Step("OPTIONS /auth/refresh", Expect(204, headers={
             "access-control-allow-headers": "~dpop"}), site="trusted", headers=preflight),
        Step("OPTIONS /auth/sessions", Expect(204, headers={
             "access-control-allow-methods": "GET, HEAD"}), site="trusted",
             headers={"access-control-request-method": "GET"}),
        Step("OPTIONS /auth/login", Expect(405, headers=refused), site="cross-site",
             headers=preflight),
        Step("GET /auth/csrf", Expect(200, headers=allowed), site="trusted",
             headers={"origin": "https://trusted.example"}),  # a CORS fetch sends Origin on GET
        Step("GET /auth/csrf", Expect(200, headers=refused), site="cross-site",
             headers={"origin": "https://evil.example"}),
        Step("POST /auth/login", Expect(200, headers=allowed),
             json={**ALICE, "design": "session"}, site="trusted",
             headers={"x-csrf-token": "{csrf}"}),
    )  # fmt: skip
    options = {
        "cookies": CookiePolicy(cross_site=True),
        "trusted_origins": ["https://trusted.example"],
    }
    async with serving(app, "session", sqlite_url, **options) as target:
        await run(target, steps, "cross-site CORS")


@pytest.mark.parametrize("app", APPS)
async def test_same_site_mode_sends_no_cors_headers(app: str, sqlite_url: str) -> None:
    steps = (
        Step("OPTIONS /auth/login", Expect(405, headers={"access-control-allow-origin": None}),
             site="trusted", headers={"access-control-request-method": "POST"}),
        Step("GET /auth/csrf", Expect(200, headers={"access-control-allow-origin": None}),
             site="trusted", headers={"origin": "https://trusted.example"}),
    )  # fmt: skip
    async with serving(
        app, "session", sqlite_url, trusted_origins=["https://trusted.example"]
    ) as target:
        await run(target, steps, "no CORS outside cross-site mode")


def test_insecure_cookies_leave_the_frameworks_own_session_alone(tmp_path: Path) -> None:
    """Without the ``__Host-`` prefix, gatepass's session cookie must not take the name of the
    app's own signed-cookie session (Flask's and Starlette's are both called ``session``): one
    would overwrite the other, logging the user out and clearing the app's data."""
    store = open_store(f"sqlite:///{tmp_path / 'flask.db'}")
    store.setup()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the opt-in's warning is the first test's subject
        gp = Gatepass(
            sessions=Sessions(store),
            check_password=lambda user, password: "alice" if password == "pw" else None,
            secret=b"s" * 32,
            cookies=CookiePolicy(insecure_http=True),
        )
    app = Flask(__name__)
    app.secret_key = "flask's own secret"
    GatepassFlask(app, gp)

    @app.post("/visit")
    @login_required
    def visit() -> dict[str, object]:
        flask.session["visits"] = flask.session.get("visits", 0) + 1
        return {"user": current_user.user_id, "visits": flask.session["visits"]}

    client = app.test_client()
    same_origin = {"Sec-Fetch-Site": "same-origin"}
    login = client.post(
        "/auth/login", json={"username": "alice", "password": "pw"}, headers=same_origin
    )
    assert login.status_code == 200, login.text
    for visits in (1, 2, 3):
        answer = client.post("/visit", headers=same_origin)
        assert answer.status_code == 200, answer.text
        assert answer.json == {"user": "alice", "visits": visits}
