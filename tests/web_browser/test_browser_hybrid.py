"""The hybrid in a real browser: gatepass.js in headless Chromium against
``examples/fastapi_hybrid.py`` on uvicorn. Each attack is performed and seen to fail.

The page runs the example's own script (``examples/fastapi_hybrid.js``, which is also the main
example of ``docs/gatepass-js.md``); ``hybrid_page`` drives it and adds ``window.t``, a second
Gatepass object for calling gatepass.js directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_kit import AppServer, Contexts, OtherSite, example, sqlite_in, wait_until
from gp_store_servers import RedisServer
from hybrid_page import logged_in_tabs, open_page, shows, ui_login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REFRESH = "__Secure-refresh"
FAMILY = "__Host-refresh-family"  # the refresh cookie's companion: it counts only beside it


@pytest.fixture(scope="module")
def app(hybrid_app: AppServer) -> AppServer:
    return hybrid_app


def refresh_cookie(context: Any) -> dict[str, Any] | None:
    return next((c for c in context.cookies() if c["name"] == REFRESH), None)


def me_with(base: str, token: str) -> httpx.Response:
    """A request from somewhere else entirely, with a token taken from the page."""
    return httpx.get(f"{base}/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_the_token_lives_in_memory_only(app: AppServer, contexts: Contexts) -> None:
    context, recorder = contexts.new()
    page = open_page(context, app.url)
    ui_login(page)
    page.evaluate("() => t.refresh()")
    token = page.evaluate("() => t.debugToken()")
    assert token.count(".") == 2
    kept = page.evaluate(
        """async () => ({
            local: JSON.stringify({ ...localStorage }),
            session: JSON.stringify({ ...sessionStorage }),
            cookie: document.cookie,
            databases: (await indexedDB.databases()).map((db) => db.name),
            fields: JSON.stringify(t) + Object.keys(t).join(),
        })"""
    )
    for place, value in kept.items():
        assert token not in str(value), place
        assert "eyJ" not in str(value), place  # no JWT of any kind
    assert kept["databases"] == []
    cookie = refresh_cookie(context)
    assert cookie is not None
    assert cookie["httpOnly"] and cookie["secure"]
    assert (cookie["sameSite"], cookie["path"]) == ("Strict", "/auth/refresh")
    assert cookie["value"] not in page.evaluate("document.cookie")
    assert recorder.page_errors == []


def test_two_tabs_refreshing_at_once_make_one_refresh_request(
    app: AppServer, contexts: Contexts
) -> None:
    context, recorder = contexts.new()
    first, second = logged_in_tabs(context, app.url)
    refresh_url = f"{app.url}/auth/refresh"
    # Several rounds: the lock and the message travel separately, and in some rounds the lock
    # arrives first; the second tab must still wait for the first one's token.
    for _ in range(5):
        served_before = app.access_log_count("POST /auth/refresh")
        asked_before = recorder.count("POST", refresh_url)
        # Hold the refresh lock from the first tab, so that both tabs certainly ask at once.
        first.evaluate(
            """() => new Promise((held) => navigator.locks.request("gatepass-refresh",
                 () => new Promise((release) => { window.release = release; held(); })))"""
        )
        for tab in (first, second):
            tab.evaluate("() => { window.result = t.refresh().then((user) => user.user_id); }")
        wait_until(
            lambda: (
                first.evaluate(
                    """async () => (await navigator.locks.query()).pending
                     .filter((lock) => lock.name === "gatepass-refresh").length"""
                )
                == 2
            ),
            "both tabs to wait for the refresh lock",
        )
        first.evaluate("() => window.release()")
        assert first.evaluate("() => window.result") == "alice"
        assert second.evaluate("() => window.result") == "alice"

        assert recorder.count("POST", refresh_url) == asked_before + 1
        wait_until(
            lambda n=served_before: app.access_log_count("POST /auth/refresh") >= n + 1,
            "the server's access log",
        )
        assert app.access_log_count("POST /auth/refresh") == served_before + 1
        # Both tabs hold the one new token, and it works.
        token = first.evaluate("() => t.debugToken()")
        assert second.evaluate("() => t.debugToken()") == token
        assert me_with(app.url, token).status_code == 200


def test_without_web_locks_each_tab_refreshes_and_the_grace_window_keeps_both(
    app: AppServer, contexts: Contexts
) -> None:
    """The control for the test above: the lock is what saves the second request."""
    context, recorder = contexts.new()
    context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined })"
    )
    first, second = logged_in_tabs(context, app.url)
    refresh_url = f"{app.url}/auth/refresh"
    asked_before = recorder.count("POST", refresh_url)
    for tab in (first, second):
        tab.evaluate("() => { window.result = t.refresh().then((user) => user.user_id); }")
    assert first.evaluate("() => window.result") == "alice"
    assert second.evaluate("() => window.result") == "alice"
    assert recorder.count("POST", refresh_url) == asked_before + 2


def test_a_401_makes_fetch_refresh_and_retry_once(contexts: Contexts, tmp_path: Path) -> None:
    with example("fastapi_hybrid", tmp_path, store=sqlite_in(tmp_path)) as app:
        context, recorder = contexts.new()
        page = open_page(context, app.url)
        ui_login(page)
        # A new process signs with a new key: every access token issued so far is refused,
        # while the refresh token (in the store) still works.
        app.restart()
        me = f"{app.url}/me"
        asked = recorder.count("GET", me), recorder.count("POST", f"{app.url}/auth/refresh")
        status = page.evaluate("async () => (await t.fetch('/me')).status")
        assert status == 200
        assert recorder.count("GET", me) == asked[0] + 2  # refused, then retried once
        assert recorder.count("POST", f"{app.url}/auth/refresh") == asked[1] + 1
        assert page.evaluate("() => events.includes('refresh')")


def test_fetch_refreshes_first_when_the_token_is_about_to_expire(
    contexts: Contexts, tmp_path: Path
) -> None:
    """An 8 s token and the default margin (30 s, at most half the lifetime: 4 s here)."""
    with example("fastapi_hybrid", tmp_path, "--ttl", "8", store=sqlite_in(tmp_path)) as app:
        context, recorder = contexts.new()
        page = open_page(context, app.url)
        ui_login(page)
        me, refresh = ("GET", f"{app.url}/me"), ("POST", f"{app.url}/auth/refresh")
        start = len(recorder.requests)
        assert page.evaluate("async () => (await t.fetch('/me')).status") == 200
        assert recorder.requests[start:] == [me]  # a fresh token: no refresh
        token = page.evaluate("() => t.debugToken()")

        wait_until(
            lambda: page.evaluate("() => Date.now() >= t.expiresAt - 4000"),
            "the token to come within the margin of its expiry",
        )
        start = len(recorder.requests)
        assert page.evaluate("async () => (await t.fetch('/me')).status") == 200
        assert recorder.requests[start:] == [refresh, me]  # refreshed first: no 401 at all
        assert page.evaluate("() => t.debugToken()") != token


@pytest.mark.parametrize("mode", ["replicated", "denylist", "stateless"])
def test_a_stolen_access_token_after_logout(mode: str, contexts: Contexts, tmp_path: Path) -> None:
    """Revocable modes refuse it at once; a stateless token lives until its exp, as promised."""
    ttl = "8" if mode == "stateless" else "900"
    options = ("--revocation", mode, "--ttl", ttl)
    with example("fastapi_hybrid", tmp_path, *options, store=sqlite_in(tmp_path)) as app:
        context, _ = contexts.new()
        page = open_page(context, app.url)
        ui_login(page)
        stolen = page.evaluate("() => t.debugToken()")  # what an XSS could send away
        assert me_with(app.url, stolen).status_code == 200

        page.click("#logout")
        shows(page, "nobody")
        assert refresh_cookie(context) is None
        after = me_with(app.url, stolen)
        if mode == "stateless":
            assert after.status_code == 200  # nothing can revoke it ...
            expired = wait_until(
                lambda: (r := me_with(app.url, stolen)).status_code == 401 and r,
                "the stolen token's exp",
                timeout=int(ttl) + 30,
            )
            assert expired.json()["code"] == "ERR_JWT_EXPIRED"  # ... but its exp
        else:
            assert after.status_code == 401
            assert after.json()["code"] == "ERR_TOKEN_REVOKED"
            assert 'error="invalid_token"' in after.headers["www-authenticate"]


def test_replaying_a_used_refresh_token_revokes_the_family(
    app: AppServer, contexts: Contexts
) -> None:
    victim, _ = contexts.new()
    page = open_page(victim, app.url)
    ui_login(page)
    stolen = [c for c in victim.cookies() if c["name"] in (REFRESH, FAMILY)]
    assert len(stolen) == 2  # the cookie jar copied off the victim's machine
    page.evaluate("async () => { await t.refresh(); await t.refresh(); }")  # two rotations on
    access = page.evaluate("() => t.debugToken()")
    assert me_with(app.url, access).status_code == 200

    thief, _ = contexts.new()
    thief.add_cookies(stolen)
    thief_page = thief.new_page()
    thief_page.goto(f"{app.url}/auth/csrf")  # any page of the app's origin, without its script
    replay = thief_page.evaluate(
        """async () => {
            const response = await fetch("/auth/refresh", { method: "POST" });
            return { status: response.status, code: (await response.json()).code };
        }"""
    )
    assert replay == {"status": 401, "code": "ERR_REFRESH_TOKEN_REUSED"}
    assert refresh_cookie(thief) is None

    # The whole family is dead: the victim's newest refresh token and access token too.
    assert page.evaluate("() => t.refresh()") is None
    assert page.evaluate("() => events.at(-1)") == "logout"
    shows(page, "nobody")
    assert me_with(app.url, access).status_code == 401


def test_a_planted_refresh_cookie_logs_nobody_in(app: AppServer, contexts: Contexts) -> None:
    """Cookie tossing: the attacker's own refresh cookie planted in a browser that has none (a
    sibling subdomain would set it with ``Domain=<parent>``; loopback has no parent domain, so
    the test plants it directly: the browser then sends the same ``Cookie`` header). The page
    opened there resumes no login, so the victim is never working in the attacker's account;
    the example has one user, so the attacker here is "alice" in a browser of their own."""
    attacker, _ = contexts.new()
    ui_login(open_page(attacker, app.url))
    victim, recorder = contexts.new()
    victim.add_cookies([c for c in attacker.cookies() if c["name"] == REFRESH])
    page = open_page(victim, app.url)
    shows(page, "nobody")
    assert page.evaluate("() => t.refresh()") is None
    assert page.evaluate("() => t.user") is None
    assert recorder.page_errors == []


@pytest.mark.redis
def test_a_503_from_refresh_means_try_later_not_logged_out(
    contexts: Contexts, private_redis: RedisServer, tmp_path: Path
) -> None:
    with example("fastapi_hybrid", tmp_path, store=private_redis.url) as app:
        context, _ = contexts.new()
        page = open_page(context, app.url)
        ui_login(page)
        cookie = refresh_cookie(context)

        private_redis.kill()
        failed = page.evaluate(
            """async () => {
                try { await t.refresh(); return "refreshed"; }
                catch (error) {
                  return { type: error instanceof GatepassError, status: error.status,
                           code: error.code, retryAfter: error.retryAfter };
                }
            }"""
        )
        assert failed == {
            "type": True,
            "status": 503,
            "code": "ERR_STORE_UNAVAILABLE",
            "retryAfter": 5,
        }
        assert page.evaluate("() => t.user.user_id") == "alice"
        assert page.evaluate("() => events.at(-1)") == "failure"
        assert "logout" not in page.evaluate("() => events")
        assert page.evaluate("async () => (await t.fetch('/me')).status") == 503
        assert refresh_cookie(context) == cookie

        private_redis.start()
        wait_until(
            lambda: page.evaluate("() => t.refresh().then((u) => u.user_id, () => null)"),
            "the store to be back",
        )
        # Replicated verification stays closed until its listener has reconnected and reloaded
        # the revocations: the API comes back a moment after the store, never before.
        wait_until(
            lambda: page.evaluate("async () => (await t.fetch('/me')).status") == 200,
            "the API to be back",
        )


def test_login_and_logout_reach_every_tab(app: AppServer, contexts: Contexts) -> None:
    context, _ = contexts.new()
    first = open_page(context, app.url)
    second = open_page(context, app.url)
    assert second.text_content("#who") == "nobody"
    ui_login(first)
    shows(second, "alice")
    first.click("#logout")
    shows(second, "nobody")
    assert second.evaluate("() => t.user") is None


def test_fetch_never_sends_the_token_to_another_origin(
    app: AppServer, contexts: Contexts, other_site: OtherSite
) -> None:
    other_site.pages["/api"] = "{}"
    # The example's CSP (default-src 'self') would stop the request in the browser already:
    # lifted here, so that what is tested is gatepass.js itself.
    context, _ = contexts.new(bypass_csp=True)
    page = open_page(context, app.url)
    ui_login(page)
    status = page.evaluate(f"async () => (await t.fetch('{other_site.url}/api')).status")
    assert status == 200
    seen = [s for s in other_site.seen if s.path == "/api" and s.method == "GET"]
    assert len(seen) == 1
    assert "authorization" not in {name.lower() for name in seen[0].headers}
    # The same call with a token the page adds itself does carry it: the site would see one.
    page.evaluate(
        f"() => t.fetch('{other_site.url}/api', {{ headers: {{ Authorization: 'Bearer x' }} }})"
    )
    assert other_site.seen[-1].headers.get("Authorization") == "Bearer x"
