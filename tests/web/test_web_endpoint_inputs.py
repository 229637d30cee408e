"""Hostile input to the ready-made endpoints, over real servers (FastAPI under uvicorn, Flask
under waitress), bodies sent as raw bytes.

A malformed request is a 400 (or 413) that reaches neither the app's password check nor the
store: nobody is logged in or out by it. What the endpoints accept, they accept in one reading
only: strict UTF-8 JSON with no duplicate member names, so that a proxy in front of the app
cannot read a different login from the same bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from gp_web_servers import SERVERS
from webapps import make_app
from webclient import Browser, Expect, Step, Target, run
from webdesigns import AUDIENCE, ISSUER, PASSWORD, build, check_password
from webtable import ALICE, ALICE_SESSION, BOB, LOGIN_HYBRID, LOGIN_SESSION, OK, SESSION_GONE, me

from gatepass import AccessTokens, KeyRing, RefreshTokens
from gatepass.stores import open_store
from gatepass.web import Gatepass

each_server = pytest.mark.parametrize("server", list(SERVERS))


@asynccontextmanager
async def served(
    server: str, design: str, sqlite_url: str, **options: Any
) -> AsyncIterator[Target]:
    """``design`` on SQLite (blocking strategies) in the app that ``server`` serves."""
    kind, serving = SERVERS[server]
    with contextlib.closing(open_store(sqlite_url)) as store:
        store.setup()
        built = build(design, store, asynchronous=False, **options)
        with serving(make_app(kind, built.gatepass)) as base:
            target = Target(kind, None, built.gatepass, server=base)
            try:
                yield target
            finally:
                await target.aclose()
                await built.close()


GOOD = f'{{"username": "alice", "password": "{PASSWORD}", "design": "bearer"}}'

#: (what, body, content type): each a 400 that the password check never sees.
# fmt: off
REFUSED: tuple[tuple[str, bytes, str], ...] = (
    ("duplicate username", b'{"username": "bob", "username": "alice", "password": "'
     + PASSWORD.encode() + b'", "design": "bearer"}', "application/json"),
    ("duplicate password", GOOD[:-1].encode() + b', "password": "x"}', "application/json"),
    ("UTF-16", GOOD.encode("utf-16"), "application/json"),
    ("UTF-32", GOOD.encode("utf-32"), "application/json"),
    ("UTF-8 with a BOM", GOOD.encode("utf-8-sig"), "application/json"),
    ("not UTF-8", b'{"username": "al\xffice", "password": "x", "design": "bearer"}',
     "application/json"),
    ("lone surrogate password", b'{"username": "alice", "password": "\\udc80", "design": '
     b'"bearer"}', "application/json"),
    ("lone surrogate username", b'{"username": "\\ud800", "password": "x", "design": "bearer"}',
     "application/json"),
    ("username list", b'{"username": ["alice"], "password": "x", "design": "bearer"}',
     "application/json"),
    ("username number", b'{"username": 7, "password": "x", "design": "bearer"}',
     "application/json"),
    ("username null", b'{"username": null, "password": "x", "design": "bearer"}',
     "application/json"),
    ("username object", b'{"username": {"$ne": ""}, "password": "x", "design": "bearer"}',
     "application/json"),
    ("password true", b'{"username": "alice", "password": true, "design": "bearer"}',
     "application/json"),
    ("password NaN", b'{"username": "alice", "password": NaN, "design": "bearer"}',
     "application/json"),
    ("number out of range", GOOD[:-1].encode() + b', "x": 1e999}', "application/json"),
    ("huge username", b'{"username": "' + b"a" * 256 + b'", "password": "x", "design": "bearer"}',
     "application/json"),
    ("huge password", b'{"username": "alice", "password": "' + b"p" * 1025 + b'", "design": '
     b'"bearer"}', "application/json"),
    ("nested deep", GOOD[:-1].encode() + b', "x": ' + b"[" * 2000 + b"]" * 2000 + b"}",
     "application/json"),
    ("a list", b'["alice", "x"]', "application/json"),
    ("null", b"null", "application/json"),
    ("trailing data", GOOD.encode() + b" {}", "application/json"),
    ("empty JSON", b"", "application/json"),
    ("empty form", b"", "application/x-www-form-urlencoded"),
    ("no body at all", b"", ""),
    ("text/plain", GOOD.encode(), "text/plain"),
    ("multipart", GOOD.encode(), "multipart/form-data; boundary=x"),
    ("a +json type", GOOD.encode(), "application/merge-patch+json"),
    ("XML", b"<login><username>alice</username></login>", "application/xml"),
    ("form not UTF-8", b"username=alice&password=%FF&design=bearer",
     "application/x-www-form-urlencoded"),
    ("form NUL", b"username=alice%00&password=x&design=bearer",
     "application/x-www-form-urlencoded"),
    ("form, 60 fields", b"&".join(b"f%d=x" % i for i in range(60)),
     "application/x-www-form-urlencoded"),
)
# fmt: on


@each_server
async def test_malformed_login_bodies_never_reach_the_password_check(
    server: str, sqlite_url: str
) -> None:
    checked: list[tuple[str, str]] = []

    def check(username: str, password: str) -> object:
        checked.append((username, password))
        return check_password(username, password)

    async with served(server, "several", sqlite_url, check_password=check) as target:
        wrong = []
        for what, body, content_type in REFUSED:
            headers = {"content-type": content_type} if content_type else {}
            response = await target.send("POST", "/auth/login", headers, body)
            if response.status_code != 400 or "set-cookie" in response.headers:
                wrong.append((what, response.status_code, response.text[:80]))
            else:
                assert response.json()["code"] == "ERR_BAD_REQUEST", what
        assert wrong == [], wrong
        assert checked == [], checked
        good = await target.send("POST", "/auth/login", {"content-type": "application/json"},
                                 GOOD.encode())  # fmt: skip
        assert good.status_code == 200, good.text
        assert checked == [("alice", PASSWORD)]


@each_server
async def test_bodies_over_the_limit_are_413_however_they_come(
    server: str, sqlite_url: str
) -> None:
    """Over ``max_body`` with a ``Content-Length``, and chunked with none (a server passes it
    on as it comes): 413, unread beyond the limit."""

    async def chunks() -> AsyncIterator[bytes]:
        yield GOOD[:-1].encode() + b', "pad": "'
        for _ in range(40):
            yield b"x" * 1024
        yield b'"}'

    async with served(server, "several", sqlite_url) as target:
        big = GOOD[:-1].encode() + b', "pad": "' + b"x" * 40_000 + b'"}'
        for body in (big, chunks()):
            response = await target.send(
                "POST", "/auth/login", {"content-type": "application/json"}, body
            )
            assert response.status_code == 413, response.text
            assert response.json()["code"] == "ERR_TOO_LARGE"


@each_server
@pytest.mark.parametrize("endpoint", ["/auth/logout", "/auth/logout-all"])
async def test_a_malformed_logout_form_logs_nobody_out(
    server: str, endpoint: str, sqlite_url: str
) -> None:
    """The form is read before anything is revoked: a 400 (or 413) leaves the session as it
    was and the cookie in place, and the same logout sent properly then works."""
    steps = (
        LOGIN_SESSION,
        Step(f"POST {endpoint}", Expect(400, "ERR_BAD_REQUEST", cookies={"session": "kept"},
             headers={"clear-site-data": None}), body="next=%FF",
             content_type="application/x-www-form-urlencoded"),
        Step(f"POST {endpoint}", Expect(413, "ERR_TOO_LARGE", cookies={"session": "kept"}),
             body="next=/&pad=" + "x" * 20_000, content_type="application/x-www-form-urlencoded"),
        me(ALICE_SESSION),
        Step(f"POST {endpoint}", Expect(303, headers={"location": "/bye"}, cookies={
             "session": "cleared"}), form={"next": "/bye"}),
        me(Expect(401)),
    )  # fmt: skip
    async with served(server, "session", sqlite_url) as target:
        await run(target, steps, endpoint)


@each_server
async def test_a_bearer_logout_ends_the_session_cookie_it_clears(
    server: str, sqlite_url: str
) -> None:
    """An app of several designs: the browser holds a session cookie and the page a bearer
    token. Logout by the token clears the cookie, so its session ends too; a copy of the
    cookie (a thief's) then works no more."""
    steps = (
        LOGIN_SESSION,
        Step("SAVE stolen={session_cookie}"),
        Step("POST /auth/login", OK, json={**ALICE, "design": "bearer"}),
        Step("POST /auth/logout", Expect(200, cookies={"session": "cleared"}), bearer="access"),
        me(SESSION_GONE, actor="t", cookies="__Host-session={a.stolen}"),
    )
    async with served(server, "several", sqlite_url) as target:
        await run(target, steps, "bearer logout")


@each_server
async def test_deleting_what_is_not_ones_own_session_is_404(server: str, sqlite_url: str) -> None:
    """``DELETE <prefix>/sessions/{id}`` with another user's session id, one's own refresh
    family id, and ids made to look like paths: all 404, and every login lives on."""
    browsers: dict[str, Browser] = {}
    async with served(server, "several", sqlite_url) as target:
        await run(target, (
            LOGIN_SESSION,
            Step("POST /auth/login", OK, json={**BOB, "design": "session"}, actor="b"),
            Step("GET /auth/sessions", OK, actor="b"),
            LOGIN_HYBRID._replace(actor="h"),
        ), "logins", browsers)  # fmt: skip
        refresh = browsers["h"].cookie("__Secure-refresh")
        assert refresh is not None
        family_id = refresh.partition(".")[2].partition("~")[0]
        ids = (
            browsers["b"].memory["sid"], family_id, "..", "%2e%2e", "..%2F..%2Fsessions",
            "%00", "%2F", "a" * 4000, "caf%C3%A9", "*", "%20",
        )  # fmt: skip
        # A dot segment is resolved by the client (as a browser would): the app's own 404.
        refused = Expect(404, cookies={"session": "kept"})
        await run(target, (
            *(Step(f"DELETE /auth/sessions/{some_id}", refused) for some_id in ids),
            me(ALICE_SESSION),
            me(Expect(200, json={"user": "bob"}), actor="b"),
            Step("POST /auth/refresh", OK, actor="h"),
        ), "deletes", browsers)  # fmt: skip


@each_server
async def test_concurrent_refreshes_of_one_token_get_one_successor(
    server: str, sqlite_url: str
) -> None:
    """Eight tabs refresh with the same cookie at once (the default grace window): every one
    gets the same successor, and the family lives on."""
    kind, serving = SERVERS[server]
    with contextlib.closing(open_store(sqlite_url)) as store:
        store.setup()
        ring = KeyRing.generate("ES256")
        access = AccessTokens(ring, issuer=ISSUER, audience=AUDIENCE, revocation="denylist",
                              store=store)  # fmt: skip
        refresh = RefreshTokens(store, access, secret=b"r" * 32)
        gp = Gatepass(refresh_tokens=refresh, check_password=check_password, secret=b"s" * 32)
        browsers: dict[str, Browser] = {}
        with serving(make_app(kind, gp)) as base:
            target = Target(kind, None, gp, server=base)
            try:
                await run(target, (LOGIN_HYBRID,), "login", browsers)
                cookie = browsers["a"].cookie_header("/auth/refresh")
                headers = {"cookie": cookie, "sec-fetch-site": "same-origin"}
                answers = await asyncio.gather(
                    *(target.send("POST", "/auth/refresh", headers, b"") for _ in range(8))
                )
                assert [r.status_code for r in answers] == [200] * 8, [r.text for r in answers]
                successors = {tuple(r.headers.get_list("set-cookie")) for r in answers}
                assert len(successors) == 1, successors
                for header in answers[0].headers.get_list("set-cookie"):
                    browsers["a"].store(header)
                await run(target, (Step("POST /auth/refresh", OK),), "after", browsers)
            finally:
                await target.aclose()
                access.close()


@each_server
@pytest.mark.parametrize("design", ["session", "hybrid", "bearer"])
async def test_a_broken_password_check_never_logs_anyone_in(
    server: str, design: str, sqlite_url: str
) -> None:
    """The app's check raises, returns junk (a number, True, an empty string, a user id no
    store takes): a 500 from the server that sets no cookie and hands out no token."""

    def check(username: str, password: str) -> object:
        if username == "nul-id":
            return "al\x00ice"
        if username == "long-id":
            return "x" * 100_000
        return check_password(username, password)

    users = ("raises", "junk", "truthy", "empty", "nul-id", "long-id")
    async with served(server, "several", sqlite_url, check_password=check) as target:
        for user in users:
            password = user if user in ("raises", "junk", "truthy", "empty") else "any"
            body = {"username": user, "password": password, "design": design}
            # After an app's exception uvicorn drops the connection: one connection per request.
            headers = {
                "content-type": "application/json",
                "sec-fetch-site": "same-origin",
                "connection": "close",
            }
            response = await target.send("POST", "/auth/login", headers, json.dumps(body).encode())
            assert response.status_code == 500, (user, response.status_code, response.text)
            assert "set-cookie" not in response.headers, user
            assert "access_token" not in response.text, user
