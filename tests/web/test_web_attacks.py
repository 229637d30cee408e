"""Attacks on the web layer, performed and seen to fail, against all four apps (bare ASGI,
FastAPI, bare WSGI, Flask). Each test is the attacker's story told as steps (``webclient``):
the victim is browser ``a``, the attacker's own browser (or a copy of what they stole) is ``t``.
A refused attack must also leave the victim's state as it was, so most stories end by checking
that nothing the attacker aimed at happened.
"""

from __future__ import annotations

import base64
import inspect
import json

import pytest
from webapps import APPS
from webclient import STEAL_REFRESH, STOLEN, Browser, Expect, Step, parse_set_cookie, run
from webdesigns import serving
from webtable import (
    ALICE,
    ALICE_HYBRID,
    ALICE_SESSION,
    ANON,
    BOB,
    CLEAR_SITE_DATA,
    CSRF,
    LOGIN_HYBRID,
    LOGIN_SESSION,
    OK,
    SESSION_GONE,
    UNAUTH,
)

BOB_LOGIN = Step("POST /auth/login", OK, json={**BOB, "design": "session"}, actor="t")
TOKEN_ONLY = {"site": "script"}  # a browser without fetch metadata or Origin: the token counts

each_app = pytest.mark.parametrize("app", APPS)


async def _attack(app: str, url: str, steps: tuple[Step, ...], design: str = "session") -> None:
    async with serving(app, design, url) as target:
        await run(target, steps, design)


@each_app
async def test_cross_site_requests_with_the_session_cookie_are_refused(
    app: str, sqlite_url: str
) -> None:
    """A page on another site (or a sibling subdomain, or a sandboxed frame) makes the victim's
    browser post with the session cookie: refused before the app or the store is touched, and
    the victim's sessions all survive."""
    steps = (
        LOGIN_SESSION,
        LOGIN_SESSION._replace(actor="b"),  # the victim's second device
        *(
            Step(request, CSRF, site=site)
            for request in ("POST /auth/logout-all", "POST /me", "POST /auth/logout",
                            "DELETE /auth/sessions/anything")
            for site in ("cross-site", "same-site", "old-cross", "null")
        ),
        Step("GET /me", ALICE_SESSION),
        Step("GET /me", ALICE_SESSION, actor="b"),
    )  # fmt: skip
    await _attack(app, sqlite_url, steps)


@each_app
@pytest.mark.parametrize("design", ["session", "hybrid"])
async def test_a_cross_site_page_cannot_log_the_victim_out(
    app: str, design: str, sqlite_url: str
) -> None:
    """Logout CSRF: another site posts a form to the logout endpoint. The browser withholds the
    session cookie (``SameSite=Lax``) and never sends the refresh cookie there (its path), so
    the request carries no credential; answered with ``Clear-Site-Data`` and cleared cookies it
    would still log the victim out and wipe the site's storage. It is refused, and the victim's
    cookies and login survive."""
    refused = Expect(403, "ERR_CSRF", headers={"clear-site-data": None, "set-cookie": None})
    login = LOGIN_SESSION if design == "session" else LOGIN_HYBRID
    steps = (
        login,
        Step("POST /auth/logout", refused, site="cross-site", jar=False, form={"next": "/"}),
        Step("POST /auth/logout", refused, site="same-site", jar=False),
        Step("POST /auth/logout", refused, site="null", jar=False),
        Step("GET /me", ALICE_SESSION) if design == "session" else Step("POST /auth/refresh", OK),
    )
    await _attack(app, sqlite_url, steps, design)


@each_app
async def test_without_fetch_metadata_only_this_sessions_token_passes(
    app: str, sqlite_url: str
) -> None:
    """An old browser sends neither ``Sec-Fetch-Site`` nor ``Origin``: the request needs the
    token bound to this very session. The attacker's own token (from their own session), a
    visitor's seed-bound token, a made-up one and none at all are refused."""
    steps = (
        BOB_LOGIN,  # the attacker's own session and its token: t.csrf
        Step("GET /auth/csrf", OK, actor="v"),  # a visitor's seed-bound token: v.csrf
        LOGIN_SESSION,
        Step("POST /auth/logout-all", CSRF, **TOKEN_ONLY),
        Step("POST /auth/logout-all", CSRF, headers={"x-csrf-token": "{t.csrf}"}, **TOKEN_ONLY),
        Step("POST /auth/logout-all", CSRF, headers={"x-csrf-token": "{v.csrf}"}, **TOKEN_ONLY),
        Step("POST /auth/logout-all", CSRF, headers={"x-csrf-token": "x" * 43}, **TOKEN_ONLY),
        Step("POST /auth/logout-all", CSRF, form={"csrf_token": "{t.csrf}"}, **TOKEN_ONLY),
        Step("GET /me", ALICE_SESSION),
        Step("POST /me", ALICE_SESSION, headers={"x-csrf-token": "{csrf}"}, **TOKEN_ONLY),
        Step("POST /auth/logout", Expect(200, cookies={"session": "cleared"}),
             form={"csrf_token": "{csrf}"}, **TOKEN_ONLY),
    )  # fmt: skip
    await _attack(app, sqlite_url, steps)


@each_app
@pytest.mark.parametrize("design", ["session", "hybrid"])
async def test_login_csrf_is_refused(app: str, design: str, sqlite_url: str) -> None:
    """The attacker makes the victim's browser log in to the attacker's account (then the victim
    types secrets into it). Posted from another site: refused. From a browser without fetch
    metadata: it needs a token bound to the victim's own pre-login seed; the attacker's token
    (bound to their seed), and any token when the victim has no seed, are refused. Nothing is
    set in the victim's browser."""
    nothing = Expect(403, "ERR_CSRF", headers={"set-cookie": None})
    attacker_login = {**BOB, "design": design}
    steps = (
        Step("GET /auth/csrf", OK, actor="t"),
        Step("POST /auth/login", nothing, form=attacker_login, site="cross-site"),
        Step("POST /auth/login", nothing, form=attacker_login, site="same-site"),
        Step("POST /auth/login", nothing, form=attacker_login, site="old-cross"),
        Step("POST /auth/login", nothing, form={**attacker_login, "csrf_token": "{t.csrf}"},
             **TOKEN_ONLY),
        Step("GET /auth/csrf", OK),  # the victim's own seed
        Step("POST /auth/login", nothing, form={**attacker_login, "csrf_token": "{t.csrf}"},
             **TOKEN_ONLY),
        Step("POST /auth/login", nothing, json=attacker_login, **TOKEN_ONLY),
        Step("GET /probe", ANON),
        Step("POST /auth/login", OK, form={**ALICE, "design": design, "csrf_token": "{csrf}"},
             **TOKEN_ONLY),
    )  # fmt: skip
    await _attack(app, sqlite_url, steps, design)


@each_app
async def test_session_fixation_the_planted_cookie_is_revoked_at_login(
    app: str, sqlite_url: str
) -> None:
    """The attacker plants a session cookie they know in the victim's browser (possible only
    around ``__Host-``, e.g. on plain http with insecure cookies). When the victim logs in, the
    planted session is revoked and the victim gets a new, different id; the attacker's copy
    opens nothing."""
    browsers: dict[str, Browser] = {}
    steps = (
        BOB_LOGIN,
        Step("SAVE planted={session_cookie}", actor="t"),
        Step("POST /auth/login", Expect(200, json={"user_id": "alice"}, cookies={"session":
             "set"}), json={**ALICE, "design": "session"}, cookies="__Host-session="
             "{t.session_cookie}"),
        Step("GET /me", ALICE_SESSION),
        Step("GET /me", SESSION_GONE, actor="t"),
    )  # fmt: skip
    async with serving(app, "session", sqlite_url) as target:
        responses = await run(target, steps, "fixation", browsers)
    planted = browsers["t"].memory["planted"]
    issued = [parse_set_cookie(h) for h in responses[1].headers.get_list("set-cookie")]
    assert issued[-1][1] == browsers["a"].cookie("__Host-session")
    assert issued[-1][1] not in ("", planted)


@each_app
async def test_cookie_tossing_duplicate_names_are_ignored(app: str, sqlite_url: str) -> None:
    """A sibling subdomain (or a network attacker) adds a second cookie of the same name: the
    request then counts as carrying none. The attacker's session is never used, a tossed
    refresh cookie never reaches the store (so it cannot trigger reuse detection on the
    victim's family), and the victim's own cookies work again once the duplicate is gone."""
    steps = (
        Step("POST /auth/login", OK, json={**BOB, "design": "hybrid"}, actor="t"),
        BOB_LOGIN,
        Step("SAVE toss={t.refresh_cookie}", actor="t"),
        LOGIN_HYBRID,
        LOGIN_SESSION,  # after the hybrid login, which would end an earlier session cookie
        Step("GET /probe", ANON, cookies="__Host-session={t.session_cookie}"),
        Step("POST /me", UNAUTH, cookies="__Host-session={t.session_cookie}"),
        Step("POST /auth/refresh", Expect(401, "ERR_UNAUTHENTICATED", cookies={"refresh":
             "kept"}), cookies="__Secure-refresh={t.toss}"),
        Step("GET /me", ALICE_SESSION),
        Step("POST /auth/refresh", OK),
        Step("GET /me", ALICE_HYBRID, bearer="access"),
        Step("GET /me", Expect(200, json={"user": "bob"}), actor="t"),
    )  # fmt: skip
    await _attack(app, sqlite_url, steps, "several")


@each_app
async def test_a_bad_bearer_token_never_falls_back_to_the_cookie(app: str, sqlite_url: str) -> None:
    """With the victim's session cookie attached, a request that also carries a broken bearer
    token is judged by the token alone: 401, never the cookie's user. Bearer requests skip the
    CSRF check; an ``Authorization`` header of another scheme does not, so it cannot be used to
    dodge it."""
    steps = (
        LOGIN_SESSION,
        Step("POST /me", Expect(401, "ERR_JWS_MALFORMED"), bearer="junk", site="cross-site"),
        Step("GET /probe", Expect(401, "ERR_JWS_MALFORMED"), bearer="junk"),
        Step("POST /me", CSRF, headers={"authorization": "Basic YTpi"}, site="cross-site"),
        Step("GET /me", ALICE_SESSION),
    )
    await _attack(app, sqlite_url, steps, "several")


@each_app
async def test_where_dpop_is_required_an_unbound_bearer_token_is_refused(
    app: str, sqlite_url: str
) -> None:
    """``DPoPPolicy(required=True)``: a stolen token must be useless without its key, so a
    token with no key at all (issued before DPoP was required, or by a bearer-only service on
    the same keys) is refused as ``Bearer``, not merely the bound ones. Where bearer tokens are
    allowed, the same token passes: the refusal is the policy's."""
    for design, status in (("dpop-required", 401), ("dpop", 200)):
        async with serving(app, design, sqlite_url) as target:
            access = target.gatepass.access
            assert access is not None
            issued = access.issue("alice", scopes=["read"])
            token = await issued if inspect.isawaitable(issued) else issued
            headers = {"authorization": f"Bearer {token}"}
            response = await target.send("GET", "/me", headers, None)
            assert response.status_code == status, (design, response.text)
            if status == 401:
                assert response.json()["code"] == "ERR_DPOP_BINDING_MISMATCH"


def _b64(value: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@each_app
async def test_error_descriptions_cannot_inject_headers(app: str, sqlite_url: str) -> None:
    """Attacker-chosen text reaches the 401's ``WWW-Authenticate`` through the error description
    (a ``kid`` quoted in it, quotes, non-ASCII): it stays one quoted parameter, with no line
    break and no extra header."""

    def token(kid: str) -> str:
        return f"{_b64({'alg': 'ES256', 'kid': kid, 'typ': 'at+jwt'})}.{_b64({'sub': 'x'})}.AA"

    bearers = (
        token("x\r\nSet-Cookie: pwned=1"),
        token('k"id\\", error="none'),
        token("\u00e9t\u00e9\u2028"),
        'a"b\\c,error="none"',
    )
    async with serving(app, "denylist", sqlite_url) as target:
        for bearer in bearers:
            headers = {"authorization": f"Bearer {bearer}"}
            response = await target.send("GET", "/me", headers, None)
            assert response.status_code == 401
            challenge = response.headers["www-authenticate"]
            assert challenge.count('error="') == 1 and challenge.count('"') == 6, challenge
            assert challenge.isascii() and challenge.isprintable(), challenge
            assert "pwned" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize("app", ["asgi", "fastapi"])  # WSGI has no WebSockets
async def test_websocket_hijacking_from_another_origin_is_refused(
    app: str, sqlite_url: str
) -> None:
    """Cross-site WebSocket hijacking: a page on another origin opens a WebSocket to the app;
    the browser attaches the session cookie (handshakes are not subject to CORS). The handshake
    is closed before the app runs."""
    refused = Expect(403)
    steps = (
        LOGIN_SESSION,
        *(Step("WS /ws", refused, site=site) for site in ("cross-site", "same-site", "old-cross",
                                                            "null")),
        Step("WS /ws", Expect(101, json={"user": "alice"})),
    )  # fmt: skip
    await _attack(app, sqlite_url, steps)


@each_app
async def test_a_stolen_refresh_token_replayed_revokes_the_family(
    app: str, sqlite_url: str
) -> None:
    """The thief replays a refresh token the victim already used: reuse. The whole family is
    revoked (the victim's current refresh token and access token die too), and every response
    clears the refresh cookie, so neither side keeps a dead token."""
    steps = (
        LOGIN_HYBRID,
        STEAL_REFRESH,
        Step("POST /auth/refresh", OK),
        Step("POST /auth/refresh", Expect(401, "ERR_REFRESH_TOKEN_REUSED", cookies={"refresh":
             "cleared"}), cookies=STOLEN, actor="t"),
        Step("GET /me", Expect(401, "ERR_TOKEN_REVOKED"), bearer="access"),
        Step("POST /auth/refresh", Expect(401, "ERR_TOKEN_REVOKED", cookies={"refresh":
             "cleared"})),
    )  # fmt: skip
    await _attack(app, sqlite_url, steps, "hybrid")


@each_app
async def test_expired_and_revoked_sessions_have_their_cookie_cleared(
    app: str, sqlite_url: str
) -> None:
    """A session that timed out (idle) or was revoked elsewhere: its cookie is cleared on the
    next response and the route sees nobody; logging out answers ``Clear-Site-Data`` and
    ``no-store``."""
    now = [1_900_000_000.0]

    def clock() -> float:
        return now[0]

    steps = (
        LOGIN_SESSION,
        LOGIN_SESSION._replace(actor="b"),
        Step("POST /auth/logout-all", Expect(200, headers={"clear-site-data": CLEAR_SITE_DATA,
             "cache-control": "no-store"}), actor="b"),
        Step("GET /probe", Expect(200, json={"user": None}, cookies={"session": "cleared"})),
        LOGIN_SESSION,
        Step("GET /me", ALICE_SESSION),
    )  # fmt: skip
    async with serving(app, "session", sqlite_url, clock=clock) as target:
        await run(target, steps, "revoked")
        browsers: dict[str, Browser] = {}
        await run(target, (LOGIN_SESSION,), "login", browsers)
        now[0] += 31 * 60  # past the 30-minute idle timeout
        expired = Step("GET /me", SESSION_GONE)
        await run(target, (expired,), "expired", browsers)
        assert browsers["a"].cookie("__Host-session") is None


@each_app
async def test_bodies_over_the_limit_are_refused_unread(app: str, sqlite_url: str) -> None:
    """The CSRF fallback reads a form body to find its token: at most ``max_body`` bytes, so a
    huge form is a 413 rather than memory. A bearer request's body is never read by gatepass
    and reaches the app whole."""
    big = "a=" + "x" * 20_000
    steps = (
        LOGIN_SESSION,
        Step("POST /echo", Expect(413, "ERR_TOO_LARGE"), body=big + "&csrf_token={csrf}",
             content_type="application/x-www-form-urlencoded", **TOKEN_ONLY),
        Step("POST /auth/login", Expect(200, json={"design": "bearer"}), json={**ALICE, "design":
             "bearer"}),
        Step("POST /echo", Expect(200, json={"echo": big}), body=big, bearer="access",
             content_type="application/x-www-form-urlencoded", jar=False, **TOKEN_ONLY),
    )  # fmt: skip
    await _attack(app, sqlite_url, steps, "several")
