"""DPoP in a real browser: gatepass.js with ``new Gatepass({dpop: true})`` in headless Chromium
against ``examples/fastapi_hybrid.py --dpop`` on uvicorn.

The attack the issue names, performed: a script in the page copies the access token, the refresh
cookie is copied out of the cookie jar, and both are replayed from a second browser context (its
own key, its own cookie jar) and from Python (httpx, no key or another key). Every replay is
refused, while the page itself keeps calling the API, refreshing and surviving a reload. Server
nonces: the client answers ``use_dpop_nonce`` with one retry and then reuses the latest nonce.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_kit import PASSWORD, AppServer, Contexts, example, sqlite_in
from hybrid_page import logged_in_tabs, open_page, shows, ui_login

from gatepass import Key, jwt
from gatepass.tokens import dpop

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REFRESH = "__Secure-refresh"
FAMILY = "__Host-refresh-family"  # the refresh cookie's companion: it counts only beside it


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    tmp = tmp_path_factory.mktemp("dpop")
    with example("fastapi_hybrid", tmp, "--dpop", "on", store=sqlite_in(tmp)) as server:
        yield server


def status_of(page: Any, script: str, *args: Any) -> int:
    return int(page.evaluate(script, list(args)))


def from_python(app: AppServer, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(f"{app.url}/me", headers=headers, timeout=30)


def refresh_from_python(app: AppServer, cookie: str, proof: str | None) -> httpx.Response:
    headers = {"Cookie": cookie, "Origin": app.url, "Sec-Fetch-Site": "same-origin"}
    if proof is not None:
        headers["DPoP"] = proof
    return httpx.post(f"{app.url}/auth/refresh", headers=headers, timeout=30)


def test_copied_tokens_are_refused_elsewhere_while_the_page_keeps_working(
    app: AppServer, contexts: Contexts
) -> None:
    context, recorder = contexts.new()
    page = open_page(context, app.url)
    ui_login(page)
    # What a script injected into the page can take: the access token (and, from the cookie
    # jar, which no script can read, malware could take the refresh cookie).
    token = page.evaluate("() => t.debugToken()")
    jkt = page.evaluate("() => t.dpopThumbprint()")
    assert jwt.inspect(token).claims["cnf"] == {"jkt": jkt}
    jar = [c for c in context.cookies() if c["name"] in (REFRESH, FAMILY)]
    assert len(jar) == 2
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in jar)
    me = f"{app.url}/me"

    # From Python: as a bearer token, as a DPoP token without a proof, with the thief's key.
    thief = Key.generate("ES256")
    own_proof = dpop.create_proof(thief, method="GET", url=me, access_token=token)
    for headers in (
        {"Authorization": f"Bearer {token}"},
        {"Authorization": f"DPoP {token}"},
        {"Authorization": f"DPoP {token}", "DPoP": own_proof},
    ):
        refused = from_python(app, headers)
        assert refused.status_code == 401, (headers, refused.text)
        assert refused.headers["www-authenticate"].startswith("DPoP ")
    for proof in (None, dpop.create_proof(thief, method="POST", url=f"{app.url}/auth/refresh")):
        stolen = refresh_from_python(app, cookie, proof)
        assert stolen.status_code == 400, stolen.text
        assert stolen.json()["error"] == "invalid_dpop_proof"
        assert "set-cookie" not in stolen.headers  # the family is untouched: nothing burnt

    # From a second browser (another profile: its own key), with both copies planted in it.
    other, _ = contexts.new()
    other.add_cookies([{**c} for c in jar])
    thief_page = open_page(other, app.url)
    assert thief_page.evaluate("() => t.dpopThumbprint()") != jkt
    assert (
        status_of(
            thief_page,
            "async ([t]) => (await fetch('/me', {headers: {Authorization: `DPoP ${t}`}})).status",
            token,
        )
        == 401
    )
    signed_by_thief = """async ([token]) => {
        const { DPoPKey } = await import("/auth/gatepass-dpop.js");
        const key = await DPoPKey.load();
        const proof = await key.proof("GET", location.origin + "/me", { accessToken: token });
        const headers = { Authorization: `DPoP ${token}`, DPoP: proof };
        return (await fetch("/me", { headers })).status;
    }"""
    assert status_of(thief_page, signed_by_thief, token) == 401
    assert thief_page.evaluate("() => t.refresh()") is None  # the planted cookie: refused
    shows(thief_page, "nobody")

    # The page itself: its requests, a refresh, the API again, and a reload (same key).
    assert status_of(page, "async () => (await t.fetch('/me')).status") == 200
    assert page.evaluate("async () => (await t.refresh()).user_id") == "alice"
    assert page.evaluate("() => t.debugToken()") != token
    assert status_of(page, "async () => (await t.fetch('/me')).status") == 200
    page.reload()
    shows(page, "alice")
    assert recorder.page_errors == []


def test_tabs_of_one_browser_share_the_key_and_the_bound_login(
    app: AppServer, contexts: Contexts
) -> None:
    context, recorder = contexts.new()
    # A tab opened later resumes the login through the bound refresh cookie: with the same key.
    first, second = logged_in_tabs(context, app.url)
    shows(second, "alice")
    assert second.evaluate("() => t.dpopThumbprint()") == first.evaluate("() => t.dpopThumbprint()")
    token = second.evaluate("async () => (await t.refresh()) && t.debugToken()")
    first.wait_for_function("([token]) => t.debugToken() === token", arg=[token])
    for tab in (first, second):  # the one new token, shared, works from both tabs
        assert status_of(tab, "async () => (await t.fetch('/me')).status") == 200
    assert recorder.page_errors == []


def test_the_pages_key_cannot_be_exported(app: AppServer, contexts: Contexts) -> None:
    context, _ = contexts.new()
    page = open_page(context, app.url)
    ui_login(page)
    outcome = page.evaluate(
        """async () => {
            const db = await new Promise((ok) => {
                const r = indexedDB.open("gatepass-dpop");
                r.onsuccess = () => ok(r.result);
            });
            const pair = await new Promise((ok) => {
                const r = db.transaction("keys").objectStore("keys").get("ES256");
                r.onsuccess = () => ok(r.result);
            });
            try {
                await crypto.subtle.exportKey("jwk", pair.privateKey);
                return "exported";
            } catch (error) {
                return error.name;
            }
        }"""
    )
    assert outcome == "InvalidAccessError"


#: Two more clients in the page, each of a module instance of its own (so neither knows a nonce
#: yet), sharing the tab's lock and channel: ``b`` hears of the login ``a`` makes.
FRESH_CLIENTS = """async () => {
  const A = await import("/auth/gatepass.js?instance=a");
  const B = await import("/auth/gatepass.js?instance=b");
  window.a = new A.Gatepass({ dpop: true });
  window.b = new B.Gatepass({ dpop: true });
}"""


def test_server_nonces_cost_one_retry_then_ride_along(contexts: Contexts, tmp_path: Path) -> None:
    with example("fastapi_hybrid", tmp_path, "--dpop", "nonce", store=sqlite_in(tmp_path)) as app:
        context, _ = contexts.new()
        answers: list[tuple[str, str, int, bool]] = []
        context.on(
            "response",
            lambda r: answers.append(
                (
                    r.request.method,
                    r.url.removeprefix(app.url),
                    r.status,
                    "use_dpop_nonce" in (r.headers.get("www-authenticate") or ""),
                )
            ),
        )
        page = open_page(context, app.url)
        page.evaluate(FRESH_CLIENTS)
        start = len(answers)
        assert (
            page.evaluate(f"async () => (await a.login('alice', '{PASSWORD}')).user_id") == "alice"
        )
        page.wait_for_function("() => b.user !== null")
        shows(page, "alice")  # the page's own client heard of the login too, and asked /me
        for _ in range(2):
            assert status_of(page, "async () => (await b.fetch('/me')).status") == 200
        assert page.evaluate("async () => (await a.refresh()).user_id") == "alice"
        assert answers[start:] == [
            ("POST", "/auth/login", 400, True),  # no nonce yet: asked for one
            ("POST", "/auth/login", 200, False),  # the same login, once more, with it
            ("GET", "/me", 200, False),  # the page's client: the nonce the page already had
            ("GET", "/me", 401, True),  # b's first request: b had no nonce either
            ("GET", "/me", 200, False),
            ("GET", "/me", 200, False),  # from then on the latest nonce rides along
            ("POST", "/auth/refresh", 200, False),
        ]


@pytest.mark.parametrize("offset", [600, -600])
def test_a_browser_clock_minutes_off_is_followed(
    app: AppServer, contexts: Contexts, offset: int
) -> None:
    """A proof is dated by the browser's clock and judged by the server's (5 s of lead, 60 s of
    age at most): gatepass.js follows the server's Date header once a proof is refused."""
    context, _ = contexts.new()
    context.clock.set_system_time(time.time() + offset)
    page = open_page(context, app.url)
    assert abs(page.evaluate("() => Date.now() / 1000") - time.time() - offset) < 30
    ui_login(page)
    assert status_of(page, "async () => (await t.fetch('/me')).status") == 200
    assert page.evaluate("async () => (await t.refresh()).user_id") == "alice"
    assert status_of(page, "async () => (await t.fetch('/me')).status") == 200
