"""Session cookies in a real browser: headless Chromium against the session examples, served by
uvicorn (FastAPI, ASGI) and by waitress (Flask, WSGI). Each attack is performed and seen to fail.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_kit import PASSWORD, AppServer, Contexts, OtherSite, example, sqlite_in, wait_until
from gp_store_servers import RedisServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EXAMPLES = ("fastapi_sessions", "flask_sessions")
SESSION = "__Host-session"


@pytest.fixture(scope="module", params=EXAMPLES)
def app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppServer]:
    tmp = tmp_path_factory.mktemp(request.param)
    with example(request.param, tmp, store=sqlite_in(tmp)) as server:
        yield server


def log_in(page: Any, base: str) -> None:
    """Log in through the app's own login form, as a user would."""
    page.goto(f"{base}/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#user")
    assert page.text_content("#user") == "alice"


def session_cookie(context: Any) -> dict[str, Any] | None:
    return next((c for c in context.cookies() if c["name"] == SESSION), None)


def status_of(page: Any, url: str) -> int:
    response = page.goto(url)
    assert response is not None
    return int(response.status)


def form_page(action: str, fields: dict[str, str]) -> str:
    """A plain HTML form with a submit button ``#go``: the same markup on either origin."""
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items()
    )
    button = '<button id="go">go</button>'
    return f'<!doctype html><form method="post" action="{action}">{inputs}{button}</form>'


def submit(page: Any) -> int:
    """Click ``#go`` and return the status of the response the form post got."""
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("#go")
    return int(posted.value.status)


def test_the_session_cookie_is_invisible_to_page_scripts(
    app: AppServer, contexts: Contexts
) -> None:
    context, recorder = contexts.new()
    page = context.new_page()
    log_in(page, app.url)
    cookie = session_cookie(context)
    assert cookie is not None
    assert cookie["httpOnly"] and cookie["secure"]
    assert (cookie["sameSite"], cookie["path"]) == ("Lax", "/")
    seen = page.evaluate("document.cookie")
    assert SESSION not in seen
    assert cookie["value"] not in seen
    assert recorder.page_errors == []


def test_a_form_from_another_origin_is_refused_and_the_same_form_here_works(
    app: AppServer, contexts: Contexts, other_site: OtherSite
) -> None:
    context, _ = contexts.new()
    page = context.new_page()
    log_in(page, app.url)
    markup = form_page(f"{app.url}/auth/logout-all", {"next": "/"})

    # The attacker's page, on another port of 127.0.0.1: the browser does send the SameSite=Lax
    # cookie along (same site), so only the CSRF check can refuse it.
    other_site.pages["/"] = markup
    page.goto(f"{other_site.url}/")
    assert submit(page) == 403
    assert "ERR_CSRF" in page.content()
    assert status_of(page, f"{app.url}/me") == 200  # still logged in, every session alive

    # The very same form, from the app's own page: it logs out everywhere.
    page.goto(f"{app.url}/")
    page.set_content(markup)  # document.write: the page keeps the app's origin
    assert page.evaluate("location.origin") == app.url
    assert submit(page) == 303
    assert session_cookie(context) is None
    assert status_of(page, f"{app.url}/me") == 401


def test_login_csrf_is_refused(app: AppServer, contexts: Contexts, other_site: OtherSite) -> None:
    """Another site must not log the visitor in (to the attacker's account, say)."""
    context, _ = contexts.new()
    page = context.new_page()
    markup = form_page(
        f"{app.url}/auth/login", {"username": "alice", "password": PASSWORD, "next": "/"}
    )
    other_site.pages["/login"] = markup
    page.goto(f"{other_site.url}/login")
    assert submit(page) == 403
    assert session_cookie(context) is None
    assert status_of(page, f"{app.url}/me") == 401

    page.goto(f"{app.url}/")
    page.set_content(markup)
    assert submit(page) == 303
    assert session_cookie(context) is not None
    assert status_of(page, f"{app.url}/me") == 200


def test_logout_clears_the_cookie_and_ends_the_session(app: AppServer, contexts: Contexts) -> None:
    context, _ = contexts.new()
    page = context.new_page()
    log_in(page, app.url)
    cookie = session_cookie(context)
    assert cookie is not None
    # A copy of the cookie in another browser (stolen, say) works until the logout...
    thief, _ = contexts.new()
    thief.add_cookies([cookie])
    thief_page = thief.new_page()
    assert status_of(thief_page, f"{app.url}/me") == 200

    with page.expect_response(lambda r: r.url.endswith("/auth/logout")) as answer:
        page.click("#logout")
    headers = answer.value.all_headers()
    assert answer.value.status == 303
    assert '"cookies"' in headers["clear-site-data"]
    assert headers["cache-control"] == "no-store"
    page.wait_for_selector("#login")
    assert session_cookie(context) is None
    # ... and not after it: the logout ended the session itself, not just this browser's cookie.
    assert status_of(thief_page, f"{app.url}/me") == 401


def test_log_out_everywhere_ends_another_devices_session(
    app: AppServer, contexts: Contexts
) -> None:
    laptop, _ = contexts.new()
    phone, _ = contexts.new()
    laptop_page, phone_page = laptop.new_page(), phone.new_page()
    log_in(laptop_page, app.url)
    log_in(phone_page, app.url)
    assert status_of(phone_page, f"{app.url}/me") == 200

    laptop_page.click("#logout-all")
    laptop_page.wait_for_selector("#login")
    # The phone's next request: refused, and its dead cookie is cleared on the way.
    assert status_of(phone_page, f"{app.url}/me") == 401
    assert session_cookie(phone) is None


@pytest.mark.redis
@pytest.mark.parametrize("name", EXAMPLES)
def test_a_store_outage_is_503_and_the_login_survives_it(
    name: str, contexts: Contexts, private_redis: RedisServer, tmp_path: Path
) -> None:
    with example(name, tmp_path, store=private_redis.url) as app:
        context, _ = contexts.new()
        page = context.new_page()
        log_in(page, app.url)
        before = session_cookie(context)

        private_redis.kill()
        response = page.goto(f"{app.url}/me")
        assert response is not None and response.status == 503
        assert response.headers["retry-after"].isdigit()
        assert response.json()["code"] == "ERR_STORE_UNAVAILABLE"
        page_response = page.goto(f"{app.url}/")  # not a login form: nobody was logged out
        assert page_response is not None and page_response.status == 503
        assert session_cookie(context) == before

        private_redis.start()
        wait_until(lambda: status_of(page, f"{app.url}/me") == 200, "the store to be back")
        assert page.evaluate("document.body.innerText").count("alice") == 1
        assert session_cookie(context) == before
