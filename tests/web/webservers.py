"""One of the four apps of ``webapps.py`` behind a real server on loopback: uvicorn for the ASGI
apps, waitress for the WSGI ones (blocking strategies on SQLite, which both may use), for the
requests an in-process transport cannot send (a header line sent twice, HTTP/1.0 without
``Host``) or that need a server's threads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from gp_web_servers import uvicorn_serving, waitress_serving
from webapps import make_app
from webclient import Browser, Step, Target, run
from webdesigns import build

from gatepass.stores import open_store

#: app -> the server it runs under
SERVERS = {"asgi": uvicorn_serving, "fastapi": uvicorn_serving, "wsgi": waitress_serving,
           "flask": waitress_serving}  # fmt: skip


@asynccontextmanager
async def served(
    app: str, design: str, sqlite_url: str, *, login: tuple[Step, ...] = (), **options: Any
) -> AsyncIterator[tuple[Target, Browser]]:
    """``app`` protected by ``design`` (``options``: more ``Gatepass`` settings) under its real
    server; ``login``: steps played first, by browser ``a``, which is handed over with them."""
    store = open_store(sqlite_url)
    store.setup()
    built = build(design, store, asynchronous=False, **options)
    try:
        with SERVERS[app](make_app(app, built.gatepass)) as url:
            target = Target(app, None, built.gatepass, server=url)
            browsers: dict[str, Browser] = {"a": Browser()}
            try:
                await run(target, login, "login", browsers)
                yield target, browsers["a"]
            finally:
                await target.aclose()
    finally:
        await built.close()
        store.close()
