"""The reference app in headless Chromium, against the real server: every design logged into
through its own client, two devices, log out everywhere, freeze account, cross-origin forms,
and where the credentials are (never where a script can read them). The tests also take the
README's screenshots (docs/images/demo-*.png)."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from demo_pages import Device, live_row, screenshot
from demo_server import DemoServer

pytestmark = pytest.mark.browser

NewDevice = Callable[..., Device]


def cookies_by_name(device: Device) -> dict[str, dict[str, Any]]:
    return {cookie["name"]: cookie for cookie in device.context.cookies()}


def script_visible_state(page: Any) -> dict[str, Any]:
    """Everything a script on the page (an XSS payload) could read without the network."""
    state: dict[str, Any] = page.evaluate(
        """() => ({
            cookie: document.cookie,
            local: Object.entries(localStorage),
            session: Object.entries(sessionStorage),
        })"""
    )
    return state


def test_classic_pages_log_in_with_a_session_cookie(device: NewDevice) -> None:
    laptop = device("Laptop")
    page = laptop.classic_login("alice")
    assert page.inner_text("#classic-user") == "alice"
    row = page.locator("#devices tr[data-current=yes]")
    assert row.count() == 1
    assert "Laptop" in row.inner_text() and "session" in row.inner_text()
    cookie = cookies_by_name(laptop)["__Host-session"]
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/" and cookie["domain"] == "127.0.0.1"
    visible = script_visible_state(page)
    assert visible == {"cookie": "", "local": [], "session": []}
    assert cookie["value"] not in page.content()  # the page shows the public id, never the token

    page.click("#classic-logout")
    page.wait_for_selector("#classic-login")
    assert "__Host-session" not in cookies_by_name(laptop)


def test_single_page_app_keeps_the_access_token_in_memory_only(device: NewDevice) -> None:
    laptop = device("Laptop")
    page = laptop.open("spa")
    with page.expect_response(lambda r: r.url.endswith("/auth/login")) as login:
        page.fill("#spa-login-form input[name=username]", "alice")
        page.fill("#spa-login-form input[name=password]", "correct horse battery staple")
        page.click("#spa-login-form button[type=submit]")
    token = login.value.json()["access_token"]
    page.wait_for_selector("body[data-state=logged-in]")
    assert page.inner_text("#spa-user") == "alice"
    assert "via hybrid" in page.inner_text("#spa-whoami")
    assert page.locator("#spa-devices tr[data-current=yes]").inner_text().count("hybrid") == 1

    visible = script_visible_state(page)
    assert visible == {"cookie": "", "local": [], "session": []}
    assert token not in json.dumps(visible)
    refresh = cookies_by_name(laptop)["__Secure-refresh"]
    assert refresh["httpOnly"] and refresh["secure"] and refresh["sameSite"] == "Strict"
    assert refresh["path"] == "/auth/refresh"
    assert "__Host-session" not in cookies_by_name(laptop)

    # A reload forgets the token; the refresh cookie gets a new one, and the old refresh
    # token is used up (the cookie changed).
    with page.expect_response(lambda r: r.url.endswith("/auth/refresh")) as renewed:
        page.reload()
    assert renewed.value.status == 200
    assert renewed.value.json()["access_token"] != token
    page.wait_for_selector("body[data-state=logged-in]")
    assert cookies_by_name(laptop)["__Secure-refresh"]["value"] != refresh["value"]
    screenshot(page, "demo-spa")

    page.click("#spa-logout")
    page.wait_for_selector("body[data-state=logged-out]")
    assert "__Secure-refresh" not in cookies_by_name(laptop)


def _run_shell(script: str, cwd: Path) -> str:
    """Run a snippet as a person would paste it, with this venv's ``gatepass`` on the PATH."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def test_api_area_tokens_curl_examples_and_tools_page(
    device: NewDevice, demo: DemoServer, tmp_path: Path
) -> None:
    laptop = device("Laptop")
    page = laptop.bearer_login("alice")
    token = page.input_value("#bearer-api-token")
    assert page.get_attribute("#bearer-api-status", "data-state") == "valid"
    assert "__Host-session" not in cookies_by_name(laptop)  # a bearer login sets no cookie
    page.click("#bearer-partner-get")
    page.wait_for_selector("#bearer-partner-status[data-state=valid]")
    assert "left" in page.inner_text("#bearer-partner-countdown")
    screenshot(page, "demo-bearer")

    # Every snippet on the page runs as shown: call the API, verify offline, log in with curl.
    api = _run_shell(
        page.inner_text("#bearer-curl-api") + "\n" + page.inner_text("#bearer-curl-verify"),
        tmp_path,
    )
    assert '"design":"bearer"' in api and "VALID" in api
    partner = _run_shell(page.inner_text("#bearer-curl-partner"), tmp_path)
    assert json.loads(partner)["user_id"] == "alice"
    login = _run_shell(page.inner_text("#bearer-curl-login"), tmp_path)
    assert json.loads(login)["user_id"] == "alice"

    # "Open in the tools page": the token travels in the URL fragment, which no server sees.
    with laptop.context.expect_page() as popup:
        page.click("#bearer-api-tools")
    tools = popup.value
    tools.wait_for_selector("body[data-ready=true]")
    assert tools.input_value("#decode-token") == token
    assert tools.evaluate("location.hash") == ""  # dropped from the address bar and history
    assert tools.url.endswith("/tools/")
    assert tools.locator("#decode-claims tr[data-claim=sub]").inner_text().count("alice") == 1
    screenshot(tools, "demo-tools")
    assert "GET /tools/ HTTP" in demo.output()
    assert token not in demo.output()


def test_log_out_everywhere_ends_the_other_device_at_its_next_request(
    device: NewDevice,
) -> None:
    laptop, phone = device("Laptop"), device("Phone")
    laptop.classic_login("bob")
    phone_app = phone.spa_login("bob")
    phone_pages = phone.classic_login("bob", page=phone.tab())

    page = laptop.page
    page.reload()
    rows = page.locator("#devices tbody tr")
    assert rows.count() == 3
    listed = page.inner_text("#devices")
    assert listed.count("Phone") == 2 and listed.count("Laptop") == 1
    assert "hybrid" in listed

    page.click("#classic-logout-all")
    page.wait_for_selector("#classic-login")

    # The phone's classic tab: its session is gone at its next request (and the cookie cleared).
    phone_pages.reload()
    phone_pages.wait_for_selector("#classic-login")
    assert "__Host-session" not in cookies_by_name(phone)
    # The phone's app: its next API call is refused, the refresh fails, it is logged out.
    phone_app.click("#spa-call")
    phone_app.wait_for_selector("body[data-state=logged-out]")


def test_revoke_one_device(device: NewDevice) -> None:
    laptop, phone = device("Laptop"), device("Phone")
    laptop.classic_login("bob")
    app = phone.spa_login("bob")
    laptop_row = app.locator("#spa-devices tr", has_text="Laptop")
    assert laptop_row.count() == 1
    laptop_row.locator("button").click()
    app.wait_for_function(
        "() => !document.querySelector('#spa-devices').innerText.includes('Laptop')"
    )
    laptop.page.reload()
    laptop.page.wait_for_selector("#classic-login")
    # The phone's own login was not touched.
    app.click("#spa-call")
    app.wait_for_function("() => document.getElementById('spa-whoami').innerText.includes('bob')")

    # And the other way round, from the server-rendered list.
    page = laptop.classic_login("bob")
    page.locator("#devices tr", has_text="Phone").locator("button").click()
    page.wait_for_selector(".notice.good")
    app.click("#spa-call")
    app.wait_for_selector("body[data-state=logged-out]")


def _freeze(admin: Device, user: str) -> Any:
    page = admin.classic_login("admin")
    page.click(f"#admin tr[data-user={user}] button")
    page.wait_for_selector(".notice.good")
    assert page.inner_text(f"#admin tr[data-user={user}]").count("frozen") == 1
    return page


def _unfreeze(admin: Device, user: str) -> None:
    page = admin.page
    page.goto(f"{admin.base}/classic")
    page.click(f"#admin tr[data-user={user}] button")
    page.wait_for_selector(".notice.good")


def test_freeze_account_ends_every_login_as_each_design_promises(device: NewDevice) -> None:
    """Replicated revocation (the demo's mode): sessions, refresh and every access token of the
    account end at once; only the partner's stateless token lives on, until its exp."""
    laptop, desk = device("Laptop"), device("Desk")
    panel = laptop.live_login("alice")
    for row in ("session", "refresh", "access", "api", "partner"):
        assert live_row(panel, row)["state"] == "valid", row
    admin_page = _freeze(desk, "alice")
    try:
        for row in ("session", "refresh", "access", "api"):
            panel.wait_for_selector(f"#live-table tr[data-row={row}][data-state=gone]")
        assert "ERR_TOKEN_REVOKED" in live_row(panel, "access")["status"]
        assert "ERR_TOKEN_REVOKED" in live_row(panel, "api")["status"]
        panel.wait_for_timeout(1500)  # a second round: the stateless token is still accepted
        partner = live_row(panel, "partner")
        assert partner["state"] == "valid" and "left" in partner["status"]
        screenshot(panel, "demo-live")
        screenshot(admin_page, "demo-classic")

        # A frozen account cannot log in again.
        page = laptop.classic_login("alice", page=laptop.tab())
        assert "Wrong user or password" in page.inner_text(".notice.bad")
    finally:
        _unfreeze(desk, "alice")
    laptop.classic_login("alice", page=laptop.tab()).wait_for_selector("#classic-user")


@pytest.fixture(params=["denylist", "stateless"], scope="module")
def other_mode(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoServer]:
    """The app in another revocation mode, with 20-second tokens to watch them run out."""
    mode = request.param
    server = DemoServer(
        tmp_path_factory.mktemp(f"demo-{mode}"),
        "--revocation",
        mode,
        "--access-ttl",
        "20",
        "--stateless-ttl",
        "20",
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
def test_freeze_account_in_the_other_revocation_modes(
    device: NewDevice, other_mode: DemoServer
) -> None:
    laptop, desk = device("Laptop", other_mode), device("Desk", other_mode)
    mode = json.loads(laptop.page.goto(f"{other_mode.url}/api/config").text())["revocation"]
    panel = laptop.live_login("alice")
    _freeze(desk, "alice")
    panel.wait_for_selector("#live-table tr[data-row=session][data-state=gone]")
    panel.wait_for_selector("#live-table tr[data-row=refresh][data-state=gone]")
    if mode == "denylist":
        for row in ("access", "api"):
            panel.wait_for_selector(f"#live-table tr[data-row={row}][data-state=gone]")
            assert "ERR_TOKEN_REVOKED" in live_row(panel, row)["status"]
        assert live_row(panel, "partner")["state"] == "valid"
    else:
        # Stateless: nothing can revoke the access tokens; they die at their exp.
        assert live_row(panel, "access")["state"] == "valid"
        assert live_row(panel, "api")["state"] == "valid"
        for row in ("access", "api", "partner"):
            panel.wait_for_selector(
                f"#live-table tr[data-row={row}][data-state=gone]", timeout=40_000
            )
        assert "ERR_JWT_EXPIRED" in live_row(panel, "api")["status"]
        assert "expired" in live_row(panel, "partner")["status"]


class _EvilSite(http.server.BaseHTTPRequestHandler):
    """Another origin on loopback (another port): its page posts forms to the app."""

    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def evil_site(demo: DemoServer) -> Iterator[str]:
    forms = "".join(
        f'<form id="f{i}" method="post" action="{demo.url}{path}">'
        f'<input name="{name}" value="{value}"><input name="next" value="/classic">'
        f'<button type="submit">go</button></form>'
        for i, (path, name, value) in enumerate(
            [("/auth/logout-all", "x", "1"), ("/classic/admin/freeze", "user_id", "alice")]
        )
    )
    handler = type("Evil", (_EvilSite,), {"page": f"<!doctype html>{forms}".encode()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_cross_origin_form_post_is_refused(device: NewDevice, evil_site: str) -> None:
    laptop = device("Laptop")
    laptop.classic_login("admin")
    page = laptop.tab()
    for form in ("#f0", "#f1"):
        page.goto(evil_site)
        with page.expect_navigation() as navigation:
            page.click(f"{form} button")
        response = navigation.value
        assert response is not None and response.status == 403
        assert json.loads(response.text())["code"] == "ERR_CSRF"
    # The session survived both, and alice was not frozen.
    home = laptop.page
    home.reload()
    home.wait_for_selector("#classic-user")
    assert home.inner_text("#admin tr[data-user=alice]").count("active") == 1
    # The same logout form from the app's own page works.
    home.click("#classic-logout-all")
    home.wait_for_selector("#classic-login")


def test_no_credential_is_ever_visible_to_scripts(device: NewDevice) -> None:
    """Logged in every way at once: three credential cookies exist, none readable by a script,
    and nothing sits in web storage, on any page of the app."""
    laptop = device("Laptop")
    laptop.classic_login("bob")
    laptop.live_login("bob")
    names = cookies_by_name(laptop)
    for name in ("__Host-session", "__Secure-refresh"):
        assert names[name]["httpOnly"], name
    for path in ("/", "/classic", "/spa", "/bearer", "/live"):
        page = laptop.tab()
        page.goto(laptop.base + path)
        page.wait_for_load_state()
        assert script_visible_state(page) == {"cookie": "", "local": [], "session": []}, path
        page.close()


def test_home_page_shows_the_demo_users(device: NewDevice) -> None:
    laptop = device("Laptop")
    page = laptop.page
    page.goto(laptop.base + "/")
    users = page.inner_text(".users")
    for name, password in (("alice", "correct horse battery staple"), ("admin", "admin demo")):
        assert name in users and password in users
    for area in ("/classic", "/spa", "/bearer"):
        assert page.locator(f"a.area-card[href='{area}']").count() == 1
    screenshot(page, "demo-home")
