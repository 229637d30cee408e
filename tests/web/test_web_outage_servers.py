"""Store outages met by real servers: the FastAPI app under uvicorn (asyncio strategies on Redis
and PostgreSQL) and the Flask app under waitress (blocking ones), requests over TCP.

The outages are real: a private Redis killed (SIGKILL) and started again with its data, a
private PostgreSQL crashed (``pg_ctl stop -m immediate``) and restarted, an SQLite file that
another process keeps locked for writing or that the file system refuses to change, and Redis
killed in the middle of a login (by the app's own password check). Every endpoint answers 503
with ``Retry-After`` (the client's timeout bounds the wait: a hang fails the test), never clears
a cookie, never logs anyone in or out, and everyone is logged in again once the store is back.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from gp_redis_refusals import cannot_persist, memory_full
from gp_store_servers import PostgresServer, RedisServer
from gp_web_servers import SERVERS
from webapps import make_app
from webclient import Case, Expect, Step, Target, run
from webdesigns import build, check_password
from webtable import (
    ALICE,
    ALICE_BEARER,
    ALICE_HYBRID,
    ALICE_SESSION,
    DOWN,
    LOGIN_BEARER,
    LOGIN_HYBRID,
    LOGIN_SESSION,
    OK,
    UNAUTH,
    me,
)
from webtable_outage import OUTAGE

from gatepass.stores import open_async_store, open_store

Control = Callable[[str], Awaitable[None]]
#: The first requests after a store is back may meet a connection its restart broke, or a
#: replicated revocation cache that has not resynced yet (both fail closed): sent again until
#: they hold.
AGAIN = {"eventually": True}


@asynccontextmanager
async def served(
    server: str,
    design: str,
    url: str,
    control: Control,
    *,
    client_timeout: float = 5.0,
    **options: Any,
) -> AsyncIterator[Target]:
    """``design`` on the store at ``url``, in the app that ``server`` serves (``options``: more
    :class:`~gatepass.web.Gatepass` options). A request that takes longer than
    ``client_timeout`` fails the test."""
    kind, serving = SERVERS[server]
    # The asyncio stores must connect in uvicorn's loop: set up with a blocking twin.
    with contextlib.closing(open_store(url)) as blocking:
        blocking.setup()
    asynchronous = server == "uvicorn" and not url.startswith("sqlite")
    store = (open_async_store if asynchronous else open_store)(url)
    built = build(design, store, asynchronous=asynchronous, **options)
    with serving(make_app(kind, built.gatepass)) as base:
        target = Target(kind, None, built.gatepass, store_control=control, server=base)
        target._client.timeout = httpx.Timeout(client_timeout)
        try:
            yield target
        finally:
            await target.aclose()
    if not asynchronous:  # an asyncio store's connections belong to uvicorn's finished loop
        await built.close()
        store.close()


class Faults:
    """A fault that ``STORE down`` switches on and ``STORE up`` off (and the block's end, if
    the test stopped between the two)."""

    def __init__(self, fault: Callable[[], AbstractContextManager[None]]) -> None:
        self.fault = fault
        self.active: list[contextlib.ExitStack] = []

    async def control(self, action: str) -> None:
        if action == "down":
            stack = contextlib.ExitStack()
            stack.enter_context(self.fault())
            self.active.append(stack)
        else:
            self.active.pop().close()

    def __enter__(self) -> Faults:
        return self

    def __exit__(self, *exc: object) -> None:
        while self.active:
            self.active.pop().close()


def _params(cases: tuple[Case, ...]) -> list[Any]:
    return [
        pytest.param(server, case, design, id=f"{server}-{design}-{case.name[:40]}")
        for server in SERVERS
        for case in cases
        for design in case.designs
    ]


#: The endpoints the shared outage table leaves out: the CSRF token of a logged-in visitor and
#: "revoke one device" need the store (503, cookie kept); a visitor's token (a seed cookie) and
#: the public keys need none, so they keep working.
# fmt: off
MORE_ENDPOINTS: tuple[Case, ...] = (
    Case("store down: csrf, devices and keys", ("several",), (
        LOGIN_SESSION,
        Step("GET /auth/sessions", OK),
        Step("STORE down"),
        Step("GET /auth/csrf", DOWN),
        Step("DELETE /auth/sessions/{sid}", DOWN),
        Step("GET /auth/csrf", Expect(200, cookies={"seed": "set"}), jar=False, actor="v"),
        Step("GET /.well-known/jwks.json", OK, jar=False, actor="v"),
        Step("STORE up"),
        me(ALICE_SESSION, **AGAIN),
        Step("GET /auth/csrf", OK),
    )),
)
# fmt: on


@pytest.mark.redis
@pytest.mark.parametrize(("server", "case", "design"), _params(OUTAGE + MORE_ENDPOINTS))
async def test_redis_killed(
    server: str, case: Case, design: str, private_redis: RedisServer
) -> None:
    async def control(action: str) -> None:
        private_redis.kill() if action == "down" else private_redis.start()

    url = f"{private_redis.url}?socket_connect_timeout=0.5&socket_timeout=1"
    async with served(server, design, url, control) as target:
        await run(target, case.steps, case.name)


@pytest.mark.redis
async def test_first_verification_during_an_outage_is_bounded(private_redis: RedisServer) -> None:
    """An asyncio app's replicated revocation cache starts on its first verification. With the
    store down by then, that request is a 503 within the store's own bound (a refused
    connection: at once), not after the five seconds the listener may wait for a first load
    that cannot come (the client gives up at 3 s here)."""

    async def control(action: str) -> None:
        private_redis.kill() if action == "down" else private_redis.start()

    steps = (
        LOGIN_BEARER,
        Step("STORE down"),
        me(DOWN, bearer="access"),
        Step("STORE up"),
        me(ALICE_BEARER, bearer="access", **AGAIN),
    )
    url = f"{private_redis.url}?socket_connect_timeout=0.5&socket_timeout=1"
    async with served("uvicorn", "replicated", url, control, client_timeout=3.0) as target:
        await run(target, steps, "first verification")


#: A server that crashes or hangs under a session and under the hybrid (each request waits out
#: a bound, or a private PostgreSQL cluster starts: not every design).
POSTGRES = tuple(case._replace(designs=case.designs[:1]) for case in (OUTAGE[0], OUTAGE[4]))


@pytest.mark.slow
@pytest.mark.parametrize(("server", "case", "design"), _params(POSTGRES))
async def test_postgres_crashed(
    server: str, case: Case, design: str, postgres_server: PostgresServer
) -> None:
    async def control(action: str) -> None:
        postgres_server.stop() if action == "down" else postgres_server.start()

    url = postgres_server.url("gpweb", timeout=1, pool_timeout=1, connect_timeout=1)
    async with served(server, design, url, control) as target:
        await run(target, case.steps, case.name)


@contextlib.contextmanager
def frozen(redis: RedisServer) -> Iterator[None]:
    """SIGSTOP: the server keeps its sockets open and answers nothing (a paused VM, a network
    that drops packets), so every call waits out ``socket_timeout``; SIGCONT afterwards."""
    assert redis.proc is not None
    os.kill(redis.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(redis.proc.pid, signal.SIGCONT)


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.parametrize(("server", "case", "design"), _params(POSTGRES))
async def test_redis_frozen(
    server: str, case: Case, design: str, private_redis: RedisServer
) -> None:
    """A Redis that hangs: each request is a 503 after the store's bound, never a hang (the
    client's own timeout, 5 s, would fail the test first)."""
    url = f"{private_redis.url}?socket_connect_timeout=0.5&socket_timeout=1"
    with Faults(lambda: frozen(private_redis)) as faults:
        async with served(server, design, url, faults.control) as target:
            await run(target, case.steps, case.name)


# --- stores that cannot be written --------------------------------------------------------------

#: Reads still work (a locked or read-only file is readable, a Redis that cannot persist answers
#: reads): the user stays logged in, every
#: write is a 503 that keeps the cookies, and once writing works again so does everything.
# fmt: off
UNWRITABLE: tuple[Case, ...] = (
    Case("unwritable: session", ("session",), (
        LOGIN_SESSION,
        Step("GET /auth/sessions", OK),
        Step("STORE down"),
        me(ALICE_SESSION),
        Step("POST /auth/logout", DOWN._replace(headers={"clear-site-data": None,
             "retry-after": "5"})),
        Step("POST /auth/logout-all", DOWN),
        Step("DELETE /auth/sessions/{sid}", DOWN),
        Step("POST /auth/login", DOWN._replace(headers={"set-cookie": None, "retry-after": "5"}),
             json={**ALICE, "design": "session"}, actor="b"),
        Step("STORE up"),
        me(ALICE_SESSION),
        me(UNAUTH, actor="b"),
        Step("POST /auth/logout", Expect(200, cookies={"session": "cleared"})),
    )),
    Case("unwritable: hybrid", ("hybrid",), (
        LOGIN_HYBRID,
        Step("STORE down"),
        me(ALICE_HYBRID, bearer="access"),
        Step("POST /auth/refresh", DOWN._replace(cookies={"refresh": "kept"})),
        Step("POST /auth/login", DOWN._replace(cookies={"refresh": "kept"}), json=ALICE,
             actor="b"),
        Step("STORE up"),
        Step("POST /auth/refresh", OK),
        me(ALICE_HYBRID, bearer="access"),
    )),
)
# fmt: on


@contextlib.contextmanager
def write_locked(path: Path) -> Iterator[None]:
    """Another process's connection holds the write lock (``BEGIN IMMEDIATE``) until the end."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """The file system refuses every change to the database, its write-ahead log and its
    folder (``chattr +i``: root's permissions do not bypass it, unlike ``chmod``). The shared
    memory index (``-shm``) is left alone: SQLite maps it into memory, and a mapped page that
    turns immutable under a running process is a SIGBUS, not a read-only database."""
    targets = [str(p) for p in (path.parent, path, path.with_name(path.name + "-wal"))]
    subprocess.run(["chattr", "+i", *targets], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *targets], check=True, capture_output=True)


@pytest.mark.parametrize("fault", [write_locked, read_only], ids=["locked", "read-only"])
@pytest.mark.parametrize(("server", "case", "design"), _params(UNWRITABLE))
async def test_sqlite_unwritable(
    server: str, case: Case, design: str, fault: Any, tmp_path: Path
) -> None:
    path = tmp_path / "db" / "web.db"
    path.parent.mkdir()
    with Faults(lambda: fault(path)) as faults:
        url = f"sqlite:///{path}?busy_timeout=0.2"
        async with served(server, design, url, faults.control) as target:
            await run(target, case.steps, case.name)


@pytest.mark.redis
@pytest.mark.parametrize(("server", "case", "design"), _params(UNWRITABLE))
async def test_redis_cannot_persist(
    server: str, case: Case, design: str, private_redis: RedisServer
) -> None:
    """Redis's disk refuses its snapshot: every write is answered ``MISCONF`` until a save
    succeeds again (``gp_redis_refusals.cannot_persist``)."""
    url = f"{private_redis.url}?socket_connect_timeout=0.5&socket_timeout=1"
    with Faults(lambda: cannot_persist(private_redis)) as faults:
        async with served(server, design, url, faults.control) as target:
            await run(target, case.steps, case.name)


@pytest.mark.redis
@pytest.mark.parametrize("design", ["session", "hybrid"])
@pytest.mark.parametrize("server", list(SERVERS))
async def test_redis_memory_full(server: str, design: str, private_redis: RedisServer) -> None:
    """Redis at ``maxmemory`` answers ``OOM`` to what would grow it: a login (and a rotation)
    is a 503, and works again once memory is freed. A logout only deletes, so it still works."""
    login = Step("POST /auth/login", OK, json={**ALICE, "design": design})
    refused = DOWN._replace(headers={"set-cookie": None, "retry-after": "5"})
    steps = (
        login,
        Step("STORE down"),
        login._replace(expect=refused, actor="b"),
        *((Step("POST /auth/refresh", DOWN._replace(cookies={"refresh": "kept"})),)
          if design == "hybrid" else ()),
        Step("STORE up"),
        login._replace(actor="b"),
        Step("POST /auth/refresh", OK) if design == "hybrid" else me(ALICE_SESSION),
    )  # fmt: skip
    url = f"{private_redis.url}?socket_connect_timeout=0.5&socket_timeout=1"
    with Faults(lambda: memory_full(private_redis)) as faults:
        async with served(server, design, url, faults.control) as target:
            await run(target, steps, "memory full")


# --- Redis killed in the middle of a login ------------------------------------------------------


@pytest.mark.redis
@pytest.mark.parametrize("design", ["session", "hybrid"])
@pytest.mark.parametrize("server", list(SERVERS))
async def test_redis_killed_during_login(
    server: str, design: str, private_redis: RedisServer
) -> None:
    """The password is right, and the store dies before the login is recorded: a 503 that sets
    no cookie, and once Redis is back the user has only the login made afterwards."""
    kills = [private_redis]

    def check(username: str, password: str) -> object:
        if kills:  # the first check only: the store dies while the request is in flight
            kills.pop().kill()
        return check_password(username, password)

    async def control(action: str) -> None:
        private_redis.start()

    login = Step("POST /auth/login", OK, json={**ALICE, "design": design})
    steps = (
        login._replace(expect=DOWN._replace(headers={"set-cookie": None, "retry-after": "5"})),
        Step("STORE up"),
        login._replace(**AGAIN),
        Step("GET /auth/sessions", OK, bearer="access" if design == "hybrid" else None, **AGAIN),
    )
    url = f"{private_redis.url}?socket_connect_timeout=0.5&socket_timeout=1"
    async with served(server, design, url, control, check_password=check) as target:
        responses = await run(target, steps, "killed during login")
    assert len(responses[-1].json()["sessions"]) == 1, responses[-1].json()
