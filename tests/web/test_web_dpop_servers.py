"""The DPoP cases of the shared table over real HTTP: the FastAPI app under uvicorn and the Flask
app under waitress, each on a loopback port, the requests sent by a TCP client.

The app sees ``http://testserver`` while the client addresses ``https://testserver`` (as behind
a TLS-terminating proxy), so these runs also check ``DPoPPolicy(origin=...)``. Two ``DPoP``
headers reach waitress as two header lines, which it joins: the one attack the in-process WSGI
transport cannot send.
"""

from __future__ import annotations

from typing import Any

import pytest
from gp_web_servers import SERVERS
from webapps import make_app
from webclient import BASE, Case, Target, run
from webdesigns import build
from webtable_dpop import DPOP_CASES, LOGIN, ME, attack

from gatepass.stores import open_store

TWO_HEADERS = Case("two DPoP headers are refused", ("dpop",), (
    LOGIN, attack("two", "ERR_DPOP_PROOF_INVALID"), ME,
))  # fmt: skip


def _params() -> list[Any]:
    cases = (*DPOP_CASES, TWO_HEADERS)
    return [
        pytest.param(server, case, design, id=f"{server}-{design}-{case.name[:50]}")
        for server in SERVERS
        for case in cases
        for design in case.designs
    ]


@pytest.mark.parametrize(("server", "case", "design"), _params())
async def test_dpop_over_http(server: str, case: Case, design: str, sqlite_url: str) -> None:
    kind, serving = SERVERS[server]
    store = open_store(sqlite_url)
    store.setup()
    built = build(design, store, asynchronous=False, dpop_origin=BASE)
    app = make_app(kind, built.gatepass)
    try:
        with serving(app) as url:
            target = Target(kind, None, built.gatepass, server=url)
            try:
                await run(target, case.steps, case.name)
            finally:
                await target.aclose()
    finally:
        await built.close()
        store.close()
