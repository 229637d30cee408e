"""The endpoints when the access tokens' revocation store is down and the sessions' store is up.

An app may keep sessions and refresh families in one store (SQLite here) and the access tokens'
revocations in another (a private Redis, which the test really stops). An endpoint that writes
to both must not stop half-way: a 503 leaves everything as it was, so that the same request,
sent again once the store is back, does the whole job. The other order of writes would end the
session first and leave its access tokens alive, with nothing left to retry with ("no such
session", "already revoked", or a session cookie that no longer works).

Real servers: the FastAPI app under uvicorn with the asyncio strategies, the Flask app under
waitress with the blocking ones.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from gp_store_servers import RedisServer
from gp_web_servers import SERVERS
from webapps import make_app
from webclient import STEAL_REFRESH, STOLEN, Expect, Step, Target, run
from webdesigns import (
    AUDIENCE,
    ISSUER,
    REFRESH_SECRET,
    SECRET,
    check_password,
    check_password_async,
)
from webtable import (
    ALICE,
    ALICE_HYBRID,
    DOWN,
    LOGIN_HYBRID,
    LOGIN_SESSION,
    OK,
    REVOKED,
    SESSION_GONE,
    me,
)

from gatepass import AccessTokens, KeyRing, RefreshTokens, Sessions
from gatepass.stores import open_async_store, open_store
from gatepass.strategies.access import AsyncAccessTokens
from gatepass.strategies.refresh import AsyncRefreshTokens
from gatepass.strategies.sessions import AsyncSessions
from gatepass.web import Gatepass

pytestmark = pytest.mark.redis

#: The first request after the store is back may meet a connection the restart broke (a 503
#: that changed nothing): it is sent again until it holds.
AGAIN = {"eventually": True}


@asynccontextmanager
async def split_stores(
    server: str, sqlite_url: str, redis: RedisServer, *, down: str = "revocations"
) -> AsyncIterator[Target]:
    """Cookie sessions, the hybrid's logins and refresh families in one store; the access
    tokens (denylist: every request asks the store) revoked through another. ``down``: which of
    the two is ``redis`` (that the test stops), the other is SQLite."""
    kind, serving = SERVERS[server]
    asynchronous = server == "uvicorn"
    redis_url = f"{redis.url}?socket_connect_timeout=0.5&socket_timeout=1"
    for url in (sqlite_url, redis_url):
        # Set up by a blocking store: an asyncio one must first connect in the server's loop.
        with contextlib.closing(open_store(url)) as blocking:
            blocking.setup()
    opener = open_async_store if asynchronous else open_store
    sessions_store, revocations = opener(sqlite_url), opener(redis_url)
    if down == "sessions":
        sessions_store, revocations = revocations, sessions_store
    access_kind = AsyncAccessTokens if asynchronous else AccessTokens
    access: Any = access_kind(
        KeyRing.generate("ES256"),
        issuer=ISSUER,
        audience=AUDIENCE,
        revocation="denylist",
        store=revocations,
    )
    refresh_kind = AsyncRefreshTokens if asynchronous else RefreshTokens
    refresh = refresh_kind(sessions_store, access, secret=REFRESH_SECRET, grace=0)
    sessions = (AsyncSessions if asynchronous else Sessions)(sessions_store)
    check = check_password_async if asynchronous else check_password
    gp = Gatepass(sessions=sessions, refresh_tokens=refresh, check_password=check, secret=SECRET)

    async def control(action: str) -> None:
        if action == "down":
            redis.kill()
        else:
            redis.start()

    with serving(make_app(kind, gp)) as url:
        target = Target(kind, None, gp, store_control=control, server=url)
        try:
            yield target
        finally:
            await target.aclose()
    if not asynchronous:  # the asyncio stores' connections belong to uvicorn's finished loop
        access.close()
        sessions_store.close()
        revocations.close()


each_server = pytest.mark.parametrize("server", list(SERVERS))


@each_server
async def test_a_device_revoked_during_the_outage_can_be_revoked_again(
    server: str, sqlite_url: str, private_redis: RedisServer
) -> None:
    """``DELETE <prefix>/sessions/{id}`` of a hybrid login: its access tokens and its record go
    together, or neither does."""
    steps = (
        LOGIN_SESSION,
        LOGIN_HYBRID._replace(actor="b"),
        Step("GET /auth/sessions", OK),
        Step("STORE down"),
        Step("DELETE /auth/sessions/{other_sid}", DOWN),
        Step("STORE up"),
        me(ALICE_HYBRID, bearer="access", actor="b", **AGAIN),
        Step("DELETE /auth/sessions/{other_sid}", Expect(204, cookies={"session": "kept"})),
        me(REVOKED, bearer="access", actor="b"),
        Step("POST /auth/refresh", Expect(401, cookies={"refresh": "cleared"}), actor="b"),
    )
    async with split_stores(server, sqlite_url, private_redis) as target:
        await run(target, steps, "revoke a device")


@each_server
async def test_refresh_token_reuse_during_the_outage_is_contained_once_it_is_back(
    server: str, sqlite_url: str, private_redis: RedisServer
) -> None:
    """A stolen refresh token replayed while the access tokens cannot be revoked: a 503 that
    revokes nothing, and the replay once the store is back revokes the family, its session and
    every access token of it (the victim's too)."""
    stolen = STOLEN
    steps = (
        LOGIN_HYBRID,
        STEAL_REFRESH,
        Step("POST /auth/refresh", OK),
        Step("STORE down"),
        Step("POST /auth/refresh", DOWN._replace(cookies={"refresh": "kept"}), actor="t",
             cookies=stolen, jar=False),
        Step("STORE up"),
        Step("POST /auth/refresh", Expect(401, "ERR_REFRESH_TOKEN_REUSED", cookies={
             "refresh": "cleared"}), actor="t", cookies=stolen, jar=False, **AGAIN),
        me(REVOKED, bearer="access"),
        Step("POST /auth/refresh", Expect(401, "ERR_TOKEN_REVOKED", cookies={"refresh":
             "cleared"})),
    )  # fmt: skip
    async with split_stores(server, sqlite_url, private_redis) as target:
        await run(target, steps, "reuse")


@each_server
async def test_log_out_everywhere_during_the_outage_can_be_sent_again(
    server: str, sqlite_url: str, private_redis: RedisServer
) -> None:
    """``POST <prefix>/logout-all`` from the session cookie: a 503 must not have ended the very
    session the user needs to ask again, while the hybrid's logins live on."""
    steps = (
        LOGIN_SESSION,
        Step("SAVE gone={session_cookie}"),
        LOGIN_HYBRID._replace(actor="b"),
        Step("STORE down"),
        Step("POST /auth/logout-all", DOWN),
        Step("STORE up"),
        Step("POST /auth/logout-all", Expect(200, json={"sessions_revoked": 2}, cookies={
             "session": "cleared"}), **AGAIN),
        me(REVOKED, bearer="access", actor="b"),
        Step("POST /auth/refresh", Expect(401, cookies={"refresh": "cleared"}), actor="b"),
        me(SESSION_GONE, cookies="__Host-session={a.gone}", jar=False, actor="c"),
    )  # fmt: skip
    async with split_stores(server, sqlite_url, private_redis) as target:
        await run(target, steps, "logout-all")


@each_server
async def test_log_out_everywhere_by_bearer_token_can_be_sent_again(
    server: str, sqlite_url: str, private_redis: RedisServer
) -> None:
    """``POST <prefix>/logout-all`` with a bearer token while the sessions' store is down: the
    token that asks is revoked last, so the 503 leaves it working to ask again."""
    steps = (
        Step("POST /auth/login", OK, json={**ALICE, "design": "bearer"}),
        LOGIN_SESSION._replace(actor="b"),
        Step("STORE down"),
        Step("POST /auth/logout-all", DOWN, bearer="access"),
        Step("STORE up"),
        Step("POST /auth/logout-all", Expect(200, json={"sessions_revoked": 1}),
             bearer="access", **AGAIN),
        me(REVOKED, bearer="access"),
        me(SESSION_GONE, actor="b"),
    )  # fmt: skip
    async with split_stores(server, sqlite_url, private_redis, down="sessions") as target:
        await run(target, steps, "logout-all by bearer")


@each_server
async def test_a_login_over_the_cap_during_the_outage_evicts_with_its_tokens(
    server: str, sqlite_url: str, private_redis: RedisServer
) -> None:
    """The hybrid's logins are capped (100 a user): the 101st evicts the oldest, its access
    tokens with it. A 503 in between must leave the oldest login there to evict again, or its
    tokens outlive it."""
    steps = (
        LOGIN_HYBRID._replace(actor="old"),
        *(LOGIN_HYBRID._replace(actor=f"d{i}") for i in range(99)),
        Step("STORE down"),
        LOGIN_HYBRID._replace(expect=DOWN._replace(cookies={"refresh": "kept"}), actor="new"),
        Step("STORE up"),
        LOGIN_HYBRID._replace(actor="new", **AGAIN),
        me(REVOKED, bearer="access", actor="old"),
        me(ALICE_HYBRID, bearer="access", actor="new"),
    )
    async with split_stores(server, sqlite_url, private_redis) as target:
        await run(target, steps, "over the cap")
