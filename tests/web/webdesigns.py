"""The designs the web tests configure, each on a real store, and :func:`serving`, which puts
one of them in front of one of the four apps of ``webapps.py``.

Users: ``alice`` (scope ``read``), ``bob``, ``root`` (scope ``admin``), a user with a unicode
name and password, and ``junk`` / ``truthy`` / ``empty`` / ``raises``: an app's broken password
check, which must never log anybody in.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from webapps import make_app, mounted_wsgi
from webclient import Target

from gatepass import AccessTokens, KeyRing, RefreshTokens, Sessions
from gatepass.stores import open_async_store, open_store
from gatepass.strategies.access import AsyncAccessTokens
from gatepass.strategies.refresh import AsyncRefreshTokens
from gatepass.strategies.sessions import AsyncSessions
from gatepass.web import DPoPPolicy, Gatepass, LoginResult

SECRET = b"web-tests-csrf-secret-0123456789abcdef"
REFRESH_SECRET = b"web-tests-refresh-secret-0123456789ab"
ISSUER = "https://testserver"
AUDIENCE = "testserver"
PASSWORD = "correct horse battery staple"

#: Every design the table knows; ``several`` is a session cookie, the hybrid and bearer tokens
#: in one app. The DPoP designs are the hybrid with a :class:`DPoPPolicy`: ``dpop`` (bearer
#: and DPoP, proof ids shared through the store), ``dpop-nonce`` (server nonces, the
#: in-process replay cache) and ``dpop-required`` (DPoP only).
DESIGNS = ("session", "stateless", "denylist", "replicated", "hybrid", "several")
DPOP_DESIGNS = ("dpop", "dpop-nonce", "dpop-required")

#: user name -> (password, what check_password returns). ``raises`` and ``junk`` are an app's
#: broken password check: neither may ever log anybody in.
USERS: dict[str, tuple[str, object]] = {
    "alice": (PASSWORD, LoginResult("alice", ("read",))),
    "bob": ("bob's own password", "bob"),
    "root": ("root's password", LoginResult("root", ("admin", "read"))),
    "junk": ("junk", 42),
    "truthy": ("truthy", True),
    "empty": ("empty", ""),
    "raises": ("raises", RuntimeError("the user database is down")),
    "ünï": ("pässwörd ☃", "unicode-user"),
}


def check_password(username: str, password: str) -> object:
    known = USERS.get(username)
    if known is None or known[0] != password:
        return None
    if isinstance(known[1], Exception):
        raise known[1]
    return known[1]


async def check_password_async(username: str, password: str) -> object:
    return check_password(username, password)


@dataclass
class Built:
    """A configured :class:`Gatepass` and what must be closed after the test."""

    gatepass: Gatepass
    closers: list[Callable[[], Any]] = field(default_factory=list)

    async def close(self) -> None:
        for close in self.closers:
            result = close()
            if hasattr(result, "__await__"):
                await result


def build(
    design: str,
    store: Any,
    *,
    asynchronous: bool,
    clock: Callable[[], float] | None = None,
    dpop_origin: str | None = None,
    **options: Any,
) -> Built:
    """``design`` on ``store`` (a blocking store, or an asyncio one when ``asynchronous``).

    Refresh tokens get ``grace=0``: the cases replay a used refresh token at once, and inside
    the grace window (tested in tests/strategies) that would be the same successor, not reuse.
    ``clock``: one clock for every strategy (tests that let sessions and tokens expire).
    ``dpop_origin``: the public origin of the DPoP designs (an app behind a real server).
    """
    timed: dict[str, Any] = {} if clock is None else {"clock": clock}
    sessions_kind = partial(AsyncSessions if asynchronous else Sessions, **timed)
    access_kind = partial(AsyncAccessTokens if asynchronous else AccessTokens, **timed)
    refresh_kind = partial(AsyncRefreshTokens if asynchronous else RefreshTokens, **timed)
    ring = KeyRing.generate("ES256", **timed)
    closers: list[Callable[[], Any]] = []

    def access(mode: str) -> Any:
        extra = {} if mode == "stateless" else {"store": store}
        tokens = access_kind(ring, issuer=ISSUER, audience=AUDIENCE, revocation=mode, **extra)
        closers.append(tokens.close)
        return tokens

    check = check_password_async if asynchronous else check_password
    common: dict[str, Any] = {"check_password": check, "secret": SECRET, **options}
    if design == "session":
        gp = Gatepass(sessions=sessions_kind(store), **common)
    elif design in ("stateless", "denylist", "replicated"):
        gp = Gatepass(access_tokens=access(design), login_design="bearer", **common)
    elif design == "hybrid":
        refresh = refresh_kind(store, access("replicated"), secret=REFRESH_SECRET, grace=0)
        gp = Gatepass(refresh_tokens=refresh, **common)
    elif design in DPOP_DESIGNS:
        policy = {
            "dpop": DPoPPolicy(replay=store, origin=dpop_origin),
            "dpop-nonce": DPoPPolicy(nonce=True, origin=dpop_origin),
            "dpop-required": DPoPPolicy(
                required=True, replay=store, algorithms=("ES256",), origin=dpop_origin
            ),
        }[design]
        refresh = refresh_kind(store, access("denylist"), secret=REFRESH_SECRET, grace=0)
        gp = Gatepass(refresh_tokens=refresh, dpop=policy, **common)
    elif design == "several":
        refresh = refresh_kind(store, access("denylist"), secret=REFRESH_SECRET, grace=0)
        gp = Gatepass(sessions=sessions_kind(store), refresh_tokens=refresh, **common)
    else:
        raise ValueError(design)
    return Built(gp, closers)


@asynccontextmanager
async def serving(
    kind: str,
    design: str,
    url: str,
    *,
    mount: str = "",
    store_control: Callable[[str], Awaitable[None]] | None = None,
    setup: bool = True,
    **options: Any,
) -> AsyncIterator[Target]:
    """App ``kind`` protected by ``design`` on the store at ``url``, ready for requests.

    ASGI apps get the asyncio strategies on Redis and PostgreSQL (what the docs tell an ASGI app
    to use) and the blocking ones on SQLite (documented as fine in the event loop); WSGI apps
    always get the blocking ones. ``setup=False``: the store's server is down from the start.
    """
    asynchronous = kind in ("asgi", "fastapi") and not url.startswith("sqlite")
    store = open_async_store(url) if asynchronous else open_store(url)
    done = store.setup() if setup else None
    if inspect.isawaitable(done):
        await done
    built = build(design, store, asynchronous=asynchronous, **options)
    app = make_app(kind, built.gatepass)
    if mount and kind in ("wsgi", "flask"):
        app = mounted_wsgi(app, mount)
    target = Target(kind, app, built.gatepass, root=mount, store_control=store_control)
    try:
        yield target
    finally:
        await target.aclose()
        await built.close()
        closed = store.close()
        if inspect.isawaitable(closed):
            await closed
