"""Every example runs as a real server (uvicorn or waitress) and does what its docstring says.

A plain HTTP client here, not a browser: it sends no fetch metadata, so unsafe requests need the
CSRF token (bound to the pre-login seed cookie), exactly as for any non-browser client. Cookies
are handled by hand: ``__Host-``/``__Secure-`` cookies are ``Secure``, which Python's cookie jar
never sends over plain http, while browsers do on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from browser_kit import EXAMPLES, PASSWORD, AppServer, example

SESSION_EXAMPLES = ("fastapi_sessions", "flask_sessions")


class Client:
    """httpx with a cookie jar that keeps every cookie (Secure ones too) by name."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.http.request(method, path, headers=headers, **kwargs)
        for line in response.headers.get_list("set-cookie"):
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in line:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def csrf(self) -> str:
        token: str = self.request("GET", "/auth/csrf").json()["csrf_token"]
        return token

    def login(self, username: str, password: str, **fields: Any) -> httpx.Response:
        body = {"username": username, "password": password, **fields}
        return self.request("POST", "/auth/login", json=body, headers={"X-CSRF-Token": self.csrf()})


@pytest.fixture(scope="module", params=SESSION_EXAMPLES)
def session_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppServer]:
    # No --store: the example's own default (SQLite in a scratch folder) is what runs here.
    with example(request.param, tmp_path_factory.mktemp(request.param)) as server:
        yield server


def test_session_examples_log_alice_in_and_out(session_app: AppServer) -> None:
    client = Client(session_app.url)
    anonymous = client.request("GET", "/me")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.json()["code"] == "ERR_UNAUTHENTICATED"
    assert 'name="username"' in client.request("GET", "/").text

    response = client.login("alice", PASSWORD)
    assert response.status_code == 200, response.text
    cookie = next(c for c in response.headers.get_list("set-cookie") if "__Host-session=" in c)
    for flag in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in cookie
    me = client.request("GET", "/me")
    assert me.status_code == 200
    assert me.json()["user_id"] == "alice"
    assert me.json()["design"] == "session"
    assert "<p id=user>alice</p>" in client.request("GET", "/").text

    csrf = response.json()["csrf_token"]  # bound to the session now
    out = client.request("POST", "/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200
    assert "__Host-session" not in client.cookies
    assert client.request("GET", "/me").status_code == 401


@pytest.mark.parametrize("username", ["alice", "mallory"])
def test_session_examples_refuse_a_wrong_password(session_app: AppServer, username: str) -> None:
    client = Client(session_app.url)
    response = client.login(username, "Tr0ub4dor&3")
    assert response.status_code == 401
    assert response.json()["code"] == "ERR_INVALID_CREDENTIALS"
    assert "__Host-session" not in client.cookies
    assert client.request("GET", "/me").status_code == 401


def test_session_examples_refuse_a_login_without_csrf_proof(session_app: AppServer) -> None:
    """No fetch metadata, no Origin and no token: nothing shows the form came from this site."""
    client = Client(session_app.url)
    client.csrf()  # the seed cookie alone proves nothing
    body = {"username": "alice", "password": PASSWORD}
    response = client.request("POST", "/auth/login", json=body)
    assert response.status_code == 403
    assert response.json()["code"] == "ERR_CSRF"
    assert "__Host-session" not in client.cookies


def test_hybrid_example_serves_its_page_and_rotates(hybrid_app: AppServer) -> None:
    client = Client(hybrid_app.url)
    page = client.request("GET", "/")
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'self'
    assert '<script type="module" src="/app.js">' in page.text
    script = client.request("GET", "/auth/gatepass.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "export class Gatepass" in script.text
    assert 'from "./gatepass-tabs.js"' in script.text  # served beside it:
    assert "export class Tabs" in client.request("GET", "/auth/gatepass-tabs.js").text
    assert 'from "./gatepass-dpop.js"' in script.text
    assert "export class DPoPKey" in client.request("GET", "/auth/gatepass-dpop.js").text
    assert client.request("GET", "/app.js").content == (EXAMPLES / "fastapi_hybrid.js").read_bytes()

    response = client.login("alice", PASSWORD, design="hybrid")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert set(client.cookies) >= {"__Secure-refresh"}
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    me = client.request("GET", "/me", headers=bearer)
    assert me.status_code == 200
    assert me.json()["design"] == "hybrid"

    old = client.cookies["__Secure-refresh"]
    rotated = client.request("POST", "/auth/refresh", headers={"X-CSRF-Token": body["csrf_token"]})
    assert rotated.status_code == 200, rotated.text
    assert client.cookies["__Secure-refresh"] != old
    fresh = {"Authorization": f"Bearer {rotated.json()['access_token']}"}
    assert client.request("GET", "/me", headers=fresh).json()["user_id"] == "alice"
    assert client.request("GET", "/me").status_code == 401  # the cookie is no credential for /me


def test_session_examples_form_login_devices_and_log_out_everywhere(
    session_app: AppServer,
) -> None:
    """The rest of what the examples promise: the page's form login (a redirect back to the
    page), "your devices", revoking one device, and log out everywhere."""
    laptop, phone = Client(session_app.url), Client(session_app.url)
    form = {"username": "alice", "password": PASSWORD, "next": "/", "fail": "/"}
    form["csrf_token"] = laptop.csrf()
    posted = laptop.request("POST", "/auth/login", data=form)
    assert posted.status_code == 303, posted.text
    assert posted.headers["location"] == "/"
    assert laptop.request("GET", "/me").json()["user_id"] == "alice"
    assert phone.login("alice", PASSWORD).status_code == 200
    tablet = Client(session_app.url)
    assert tablet.login("alice", PASSWORD).status_code == 200

    devices = laptop.request("GET", "/auth/sessions").json()["sessions"]
    assert len(devices) == 3
    assert sum(device["current"] for device in devices) == 1
    tablet_id = tablet.request("GET", "/me").json()["session_id"]
    csrf = laptop.csrf()  # bound to the laptop's session
    gone = laptop.request("DELETE", f"/auth/sessions/{tablet_id}", headers={"X-CSRF-Token": csrf})
    assert gone.status_code in (200, 204), gone.text
    assert tablet.request("GET", "/me").status_code == 401

    everywhere = laptop.request("POST", "/auth/logout-all", headers={"X-CSRF-Token": csrf})
    assert everywhere.status_code == 200, everywhere.text
    assert laptop.request("GET", "/me").status_code == 401
    assert phone.request("GET", "/me").status_code == 401  # the other device, at its next request


def test_hybrid_example_publishes_its_keys_and_logs_out_everywhere(hybrid_app: AppServer) -> None:
    client = Client(hybrid_app.url)
    jwks = client.request("GET", "/.well-known/jwks.json")
    assert jwks.status_code == 200
    assert "max-age" in jwks.headers["cache-control"]
    assert [key["alg"] for key in jwks.json()["keys"]] == ["ES256"]

    body = client.login("alice", PASSWORD, design="hybrid").json()
    other = Client(hybrid_app.url).login("alice", PASSWORD, design="hybrid").json()
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    devices = client.request("GET", "/auth/sessions", headers=bearer).json()["sessions"]
    assert len(devices) >= 2
    out = client.request("POST", "/auth/logout-all", headers=bearer)
    assert out.status_code == 200, out.text
    for token in (body["access_token"], other["access_token"]):
        refused = client.request("GET", "/me", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401


def test_examples_stay_short() -> None:
    """Issue 9: each example about 60 lines, so a reader sees the whole app at a glance; what
    is not about gatepass (the demo user's password check, the options, the pages) lives in
    ``demo_user.py`` and the hybrid's sibling ``.html`` and ``.js``."""
    lengths = {
        name: len((EXAMPLES / f"{name}.py").read_text(encoding="utf-8").splitlines())
        for name in (*SESSION_EXAMPLES, "fastapi_hybrid")
    }
    assert all(length <= 65 for length in lengths.values()), lengths
