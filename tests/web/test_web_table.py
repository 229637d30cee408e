"""The shared table of cases (``webtable.py``), run in-process against the ASGI middleware (a
bare ASGI app and FastAPI) and the WSGI middleware (a bare WSGI app and Flask), for every design
a case names: on SQLite, on Redis and PostgreSQL for the cases where the store does the work,
and on a private Redis that is really stopped for the outage cases.
"""

from __future__ import annotations

import re
import socket
import time
from typing import Any

import pytest
from gp_store_servers import PostgresServer, RedisServer
from webclient import Case, run
from webdesigns import serving
from webtable import CASES, STORE_CASES
from webtable_dpop import DPOP_CASES, DPOP_OUTAGE, DPOP_STORE_CASES
from webtable_outage import NOTHING_LISTENING, OUTAGE


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def _params(cases: tuple[Case, ...]) -> list[Any]:
    return [
        pytest.param(case, design, app, id=f"{app}-{design}-{_slug(case.name)}")
        for case in cases
        for design in case.designs
        for app in case.apps
    ]


@pytest.mark.parametrize(("case", "design", "app"), _params(CASES + DPOP_CASES))
async def test_sqlite(case: Case, design: str, app: str, sqlite_url: str) -> None:
    async with serving(app, design, sqlite_url) as target:
        await run(target, case.steps, case.name)


@pytest.mark.parametrize(
    ("server", "case", "design", "app"),
    [
        pytest.param(server, *p.values, id=f"{server}-{p.id}", marks=getattr(pytest.mark, server))
        for server in ("redis", "postgres")
        for p in _params(STORE_CASES + DPOP_STORE_CASES)
    ],
)
async def test_shared_server(
    server: str, case: Case, design: str, app: str, request: pytest.FixtureRequest
) -> None:
    """The cases where the store does the work, on the shared Redis and PostgreSQL servers."""
    url = request.getfixturevalue(f"{server}_web_url")
    async with serving(app, design, url) as target:
        await run(target, case.steps, case.name)


@pytest.mark.redis
@pytest.mark.parametrize(("case", "design", "app"), _params(OUTAGE + DPOP_OUTAGE))
async def test_outage(case: Case, design: str, app: str, private_redis: RedisServer) -> None:
    """The store's server really stops (SIGKILL) and starts again with its data."""

    async def control(action: str) -> None:
        if action == "down":
            private_redis.kill()
        else:
            private_redis.start()

    url = f"{private_redis.url}?socket_connect_timeout=0.5&socket_timeout=1"
    async with serving(app, design, url, store_control=control) as target:
        await run(target, case.steps, case.name)


@pytest.mark.parametrize(("case", "design", "app"), _params(NOTHING_LISTENING))
async def test_postgres_not_listening(case: Case, design: str, app: str) -> None:
    """PostgreSQL on a loopback port where nothing listens: every store call fails fast."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens
    url = f"postgresql://postgres@127.0.0.1:{port}/test?pool_timeout=0.5&connect_timeout=1"
    async with serving(app, design, url, setup=False) as target:
        await run(target, case.steps, case.name)


#: The outage cases a frozen PostgreSQL server runs (the session and the denylist case: each
#: request waits out the store's bound, so not every design and app).
FROZEN = tuple(
    case._replace(designs=case.designs[:1], apps=("fastapi", "wsgi")) for case in OUTAGE[:2]
)
#: ``timeout=1&pool_timeout=1``: a store call ends within 2 s, a request within a few calls.
FROZEN_BOUND = 2.0


@pytest.mark.slow
@pytest.mark.parametrize(("case", "design", "app"), _params(FROZEN))
async def test_postgres_frozen(
    case: Case, design: str, app: str, postgres_server: PostgresServer
) -> None:
    """The store's PostgreSQL server is frozen (SIGSTOP on every server process): each request
    answers 503 within the store's bound instead of hanging, and once the server is thawed
    (SIGCONT) everyone is logged in again."""
    frozen_at: list[float] = []

    async def control(action: str) -> None:
        if action == "down":
            postgres_server.freeze()
            frozen_at.append(time.monotonic())
        else:
            assert frozen_at, "thawed before it was frozen"
            took = time.monotonic() - frozen_at[0]
            names = [step.request for step in case.steps]
            requests = names.index("STORE up") - names.index("STORE down") - 1
            # A request makes at most two store calls here (look-up, then a write or a revoke).
            assert took < requests * 2 * FROZEN_BOUND + 5, f"{took:.1f} s while frozen"
            postgres_server.thaw()

    url = postgres_server.url("gpweb", timeout=1, pool_timeout=1)
    try:
        async with serving(app, design, url, store_control=control) as target:
            await run(target, case.steps, case.name)
    finally:
        postgres_server.thaw()


def test_the_table_covers_every_design_and_app() -> None:
    """Every design and every app has cases; the counts are what the report quotes."""
    params = _params(CASES)
    designs = {p.values[1] for p in params}
    apps = {p.values[2] for p in params}
    assert designs == {"session", "stateless", "denylist", "replicated", "hybrid", "several"}
    assert apps == {"asgi", "fastapi", "wsgi", "flask"}
    assert len(CASES) >= 40
    assert {d for case in OUTAGE for d in case.designs} == designs
