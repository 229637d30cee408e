"""A recent login ("logged in within the last N seconds") for an access token that names its
session (``sid``) but carries no ``auth_time``: the login time is the session's, in the store.

Such a token (issued by hand with ``AccessTokens.issue(user, session=<id>)``, or by a family from
before ``auth_time`` was kept) makes the route's check read the store. When the store cannot be
reached, the answer must be what every other outage gets: 503 with ``Retry-After`` (not a 500,
and not a 401 asking for a new login, since nobody knows the login is too old). Run against the
four apps, with FastAPI's ``recent_login`` dependency and Flask's ``login_required(max_age=)``.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
from webapps import APPS, make_app
from webclient import Expect, Step, Target, run
from webdesigns import AUDIENCE, ISSUER, SECRET

from gatepass import AccessTokens, KeyRing, Sessions
from gatepass.stores import open_async_store, open_store
from gatepass.strategies.sessions import AsyncSessions
from gatepass.web import Gatepass

DOWN = Expect(503, "ERR_STORE_UNAVAILABLE", headers={"retry-after": "5", "set-cookie": None})
TOO_OLD = Expect(401, "ERR_REAUTHENTICATION_REQUIRED", headers={
    "www-authenticate": '~error="insufficient_user_authentication"'})  # fmt: skip


def _app(kind: str, url: str) -> tuple[Any, Gatepass, AccessTokens, Any]:
    """``kind`` with cookie sessions on ``url`` and stateless tokens (they need no store)."""
    asynchronous = kind in ("asgi", "fastapi") and not url.startswith("sqlite")
    store = open_async_store(url) if asynchronous else open_store(url)
    sessions = AsyncSessions(store) if asynchronous else Sessions(store)
    access = AccessTokens(
        KeyRing.generate("ES256"), issuer=ISSUER, audience=AUDIENCE, revocation="stateless"
    )
    gp = Gatepass(sessions=sessions, access_tokens=access, secret=SECRET)
    return make_app(kind, gp), gp, access, store


async def _close(store: Any) -> None:
    closed = store.close()
    if hasattr(closed, "__await__"):
        await closed


@pytest.mark.parametrize("app", APPS)
async def test_the_sessions_login_time_decides(app: str, sqlite_url: str) -> None:
    """The store answers: the session's own login time counts; a session it does not know
    gives no login time, so the route asks for a new login."""
    built, gp, access, store = _app(app, sqlite_url)
    store.setup()
    _, record = Sessions(store).create("alice")
    target = Target(app, built, gp)
    try:
        await run(target, (
            Step("GET /recent", Expect(200, json={"user": "alice"}),
                 bearer=access.issue("alice", session=record.id)),
            Step("GET /recent", TOO_OLD, bearer=access.issue("alice", session="no-such-id")),
        ))  # fmt: skip
    finally:
        await target.aclose()
        await _close(store)


@pytest.mark.parametrize("app", APPS)
async def test_a_store_outage_is_503_not_an_error(app: str) -> None:
    """PostgreSQL on a loopback port where nothing listens: the login time cannot be read."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens
    url = f"postgresql://postgres@127.0.0.1:{port}/test?pool_timeout=0.5&connect_timeout=1"
    built, gp, access, store = _app(app, url)
    target = Target(app, built, gp)
    token = access.issue("alice", session="some-session-id")
    try:
        await run(target, (
            Step("GET /recent", DOWN, bearer=token),
            Step("GET /me", Expect(200, json={"user": "alice"}), bearer=token),
        ))  # fmt: skip
    finally:
        await target.aclose()
        await _close(store)
