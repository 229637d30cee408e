"""The shared table of cases (``webtable.py``), run in-process against the ASGI middleware (a
bare ASGI app and FastAPI) and the WSGI middleware (a bare WSGI app and Flask), for every design
a case names: on SQLite, on Redis and PostgreSQL for the cases where the store does the work,
and on a private Redis that is really stopped for the outage cases.
"""

from __future__ import annotations

import re
import socket
from typing import Any

import pytest
from gp_store_servers import RedisServer
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


def test_the_table_covers_every_design_and_app() -> None:
    """Every design and every app has cases; the counts are what the report quotes."""
    params = _params(CASES)
    designs = {p.values[1] for p in params}
    apps = {p.values[2] for p in params}
    assert designs == {"session", "stateless", "denylist", "replicated", "hybrid", "several"}
    assert apps == {"asgi", "fastapi", "wsgi", "flask"}
    assert len(CASES) >= 40
    assert {d for case in OUTAGE for d in case.designs} == designs
