"""The reference app as ``make demo`` starts it, spoken to over HTTP: the banner, the pages and
their headers, the tools page, the API, the admin actions, the CSRF rules for clients that send
no fetch metadata, the store switch (Redis, PostgreSQL), and clear errors for a bad start."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from demo_pages import PASSWORDS
from demo_server import DemoServer

from gatepass.demo.security import APP_POLICY
from gatepass.tools.server import CONTENT_SECURITY_POLICY
from gp_testkit import drop_redis_prefix


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Cookies a response sets (name -> value; an empty value clears). Read by hand: httpx's
    cookie jar, like the stdlib's, keeps ``Secure`` cookies away from plain http."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        found[name] = rest.split(";", 1)[0]
    return found


class Visitor:
    """A client that behaves like a browser on the app's own pages: it sends ``Origin`` on
    unsafe requests and keeps the cookies it is given."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}
        self.http = httpx.Client(base_url=base, timeout=30)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if method != "GET":
            headers.setdefault("origin", self.base)
        if self.cookies:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.http.request(method, path, headers=headers, **kwargs)
        for name, value in set_cookies(response).items():
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response

    def login(self, user: str, design: str) -> dict[str, Any]:
        body = {"username": user, "password": PASSWORDS[user], "design": design}
        response = self.request("POST", "/auth/login", json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def whoami(self, token: str | None = None) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return self.request("GET", "/api/whoami", headers=headers)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def visitor(demo: DemoServer) -> Iterator[Visitor]:
    client = Visitor(demo.url)
    yield client
    client.close()


def test_banner_names_the_url_the_store_and_the_users(demo: DemoServer) -> None:
    out = demo.output()
    assert re.search(r"gatepass reference app: http://127\.0\.0\.1:\d+/\n", out)
    assert "gatepass-demo.db" in out and "replicated revocation, 15 min" in out
    for user, password in PASSWORDS.items():
        assert re.search(rf"\n    {user} +{password}", out)
    assert "Traceback" not in out


@pytest.mark.parametrize("path", ["/", "/classic", "/spa", "/dpop", "/bearer", "/live"])
def test_pages_carry_a_strict_policy_and_are_not_cached(visitor: Visitor, path: str) -> None:
    response = visitor.request("GET", path)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == APP_POLICY
    assert "'unsafe-inline'" not in APP_POLICY
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    # No inline script or style that the policy would have to allow.
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text)
    assert "<style" not in response.text and " style=" not in response.text


def test_login_forms_show_the_demo_users(visitor: Visitor) -> None:
    for path in ("/", "/classic", "/spa", "/dpop", "/bearer", "/live"):
        text = visitor.request("GET", path).text
        for user, password in PASSWORDS.items():
            assert f"<code>{user}</code>" in text and f"<code>{password}</code>" in text, path


def test_tools_page_is_mounted_with_its_own_policy(visitor: Visitor) -> None:
    redirect = visitor.request("GET", "/tools")
    assert redirect.status_code == 308 and redirect.headers["location"] == "/tools/"
    page = visitor.request("GET", "/tools/")
    assert page.status_code == 200 and "JWT tools" in page.text
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "connect-src 'none'" in page.headers["content-security-policy"]
    script = visitor.request("GET", "/tools/app.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert visitor.request("GET", "/tools/../pyproject.toml").status_code == 404
    assert visitor.request("GET", "/tools/nope.js").status_code == 404


def test_a_foreign_host_name_is_refused(visitor: Visitor) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 reaches the app under a
    foreign Host header, and gets nothing."""
    response = visitor.request("GET", "/api/config", headers={"host": "evil.example"})
    assert response.status_code == 400


def test_classic_login_without_fetch_metadata_needs_the_form_token(demo: DemoServer) -> None:
    """An old browser (no Sec-Fetch-Site, no Origin) posts the login form: the hidden token,
    bound to the seed cookie of that page view, is required and sufficient."""
    http = httpx.Client(base_url=demo.url, timeout=30)
    try:
        page = http.get("/classic")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        seed = set_cookies(page)["__Host-csrf"]
        form = {"username": "bob", "password": PASSWORDS["bob"], "design": "session"}
        form.update(next="/classic", fail="/classic")
        headers = {"cookie": f"__Host-csrf={seed}"}
        refused = http.post("/auth/login", data=form, headers=headers)
        assert refused.status_code == 403 and refused.json()["code"] == "ERR_CSRF"
        assert "__Host-session" not in set_cookies(refused)
        accepted = http.post(
            "/auth/login", data={**form, "csrf_token": token.group(1)}, headers=headers
        )
        assert accepted.status_code == 303 and accepted.headers["location"] == "/classic"
        session = set_cookies(accepted)["__Host-session"]
        home = http.get("/classic", headers={"cookie": f"__Host-session={session}"})
        assert '<span id="classic-user">bob</span>' in home.text
        # Another visitor's seed does not make the token valid (login CSRF).
        other = set_cookies(http.get("/auth/csrf"))["__Host-csrf"]
        replayed = http.post(
            "/auth/login",
            data={**form, "csrf_token": token.group(1)},
            headers={"cookie": f"__Host-csrf={other}"},
        )
        assert replayed.status_code == 403
    finally:
        http.close()


def test_api_and_partner_service(visitor: Visitor) -> None:
    api = visitor.login("bob", "bearer")["access_token"]
    assert visitor.cookies == {}  # a bearer login sets no cookie
    me = visitor.whoami(api).json()
    assert me["user_id"] == "bob" and me["design"] == "bearer" and me["admin"] is False
    partner = visitor.request(
        "POST", "/api/partner-token", headers={"authorization": f"Bearer {api}"}
    )
    assert partner.status_code == 200
    stateless = partner.json()["access_token"]
    checked = visitor.request(
        "GET", "/partner/whoami", headers={"authorization": f"Bearer {stateless}"}
    )
    assert checked.status_code == 200 and checked.json()["user_id"] == "bob"
    # Each service accepts its own audience only.
    wrong = visitor.request("GET", "/partner/whoami", headers={"authorization": f"Bearer {api}"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "ERR_JWT_AUDIENCE"
    assert visitor.whoami(stateless).status_code == 401
    assert visitor.request("GET", "/partner/whoami").status_code == 401
    assert visitor.whoami().status_code == 401
    config = visitor.request("GET", "/api/config").json()
    assert config["revocation"] == "replicated" and config["stateless_ttl"] == 120


def test_admin_actions_need_an_admin(demo: DemoServer) -> None:
    user, admin = Visitor(demo.url), Visitor(demo.url)
    try:
        token = user.login("bob", "bearer")["access_token"]
        auth = {"authorization": f"Bearer {token}"}
        refused = user.request("POST", "/api/admin/freeze", json={"user_id": "alice"}, headers=auth)
        assert refused.status_code == 403 and refused.json()["code"] == "ERR_FORBIDDEN"
        assert user.request("GET", "/api/admin/users", headers=auth).status_code == 403
        admin.login("admin", "session")
        assert admin.whoami().json()["admin"] is True
        for target in ("admin", "nobody"):
            bad = admin.request("POST", "/api/admin/freeze", json={"user_id": target})
            assert bad.status_code == 400, target
        frozen = admin.request("POST", "/api/admin/freeze", json={"user_id": "bob"})
        assert frozen.status_code == 200 and frozen.json()["frozen"] is True
        assert user.whoami(token).status_code == 401  # replicated: revoked at once
        again = Visitor(demo.url)
        body = {"username": "bob", "password": PASSWORDS["bob"], "design": "bearer"}
        assert again.request("POST", "/auth/login", json=body).status_code == 401
        again.close()
        thawed = admin.request("POST", "/api/admin/unfreeze", json={"user_id": "bob"})
        assert thawed.json()["frozen"] is False
        assert user.login("bob", "bearer")["user_id"] == "bob"
    finally:
        user.close()
        admin.close()


def _run_demo(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gatepass.demo", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize(
    ("store", "says"),
    [
        ("nosuch://x", "unknown store URL scheme"),
        ("redis://127.0.0.1:6379/banana", "ERR_CONFIGURATION"),
    ],
)
def test_a_bad_store_url_is_one_clear_line(tmp_path: Path, store: str, says: str) -> None:
    done = _run_demo("--port", "0", "--data", str(tmp_path), "--store", store)
    assert done.returncode == 1
    assert "gatepass demo: cannot start" in done.stderr and says in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreachable_store_fails_closed_and_says_so(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens here once the socket is closed
    done = _run_demo("--port", "0", "--store", f"redis://127.0.0.1:{port}/0")
    assert done.returncode == 1 and "ERR_STORE_UNAVAILABLE" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = _run_demo("--port", str(port), "--data", str(tmp_path))
    assert done.returncode == 1 and f"cannot listen on port {port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_settings_are_usage_errors(tmp_path: Path) -> None:
    done = _run_demo("--port", "70000", "--data", str(tmp_path))
    assert done.returncode == 2 and "port must be between" in done.stderr
    done = _run_demo("--revocation", "sometimes")
    assert done.returncode == 2 and "invalid choice" in done.stderr


def _store_url(kind: str, request: pytest.FixtureRequest) -> Iterator[str]:
    tag = uuid.uuid4().hex[:10]
    if kind == "redis":
        base = request.getfixturevalue("redis_url")
        url = f"{base}?prefix=gptest-demo:{tag}:"
        yield url
        drop_redis_prefix(url)
    else:
        import psycopg

        base = request.getfixturevalue("postgres_url")
        schema = f"gptest_demo_{tag}"
        yield f"{base}?schema={schema}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["redis", "postgres"])
def other_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DemoServer]:
    for url in _store_url(request.param, request):
        server = DemoServer(tmp_path, store=url)
        try:
            yield server
        finally:
            server.stop()


def test_gatepass_store_switches_the_store(other_store: DemoServer) -> None:
    """``GATEPASS_STORE=redis://...`` or ``postgresql://...``: every design works on it (the
    asyncio strategies), and freezing an account ends every login at once."""
    out = other_store.output()
    assert re.search(r"store +(redis|postgresql)://127\.0\.0\.1:\d+/", out)
    assert "gatepass-demo.db" not in out
    alice, admin = Visitor(other_store.url), Visitor(other_store.url)
    try:
        # Token designs first: a login that comes with a session cookie ends that session.
        hybrid = alice.login("alice", "hybrid")["access_token"]
        api = alice.login("alice", "bearer")["access_token"]
        alice.login("alice", "session")
        assert alice.whoami().json()["design"] == "session"
        assert alice.whoami(hybrid).json()["design"] == "hybrid"
        assert alice.whoami(api).json()["design"] == "bearer"
        devices = alice.request("GET", "/auth/sessions").json()["sessions"]
        assert sorted(entry["design"] for entry in devices) == ["hybrid", "session"]

        admin.login("admin", "session")
        freeze = admin.request("POST", "/api/admin/freeze", json={"user_id": "alice"})
        assert freeze.status_code == 200 and freeze.json()["sessions_revoked"] == 2
        assert alice.whoami().status_code == 401
        assert alice.whoami(hybrid).status_code == 401
        assert alice.whoami(api).status_code == 401
        refresh = alice.request("POST", "/auth/refresh")
        assert refresh.status_code == 401
        assert json.loads(refresh.text)["code"] != "ERR_CSRF"
    finally:
        alice.close()
        admin.close()
