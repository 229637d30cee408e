"""``create_app``: the reference app, assembled from its parts.

    from gatepass.demo.app import create_app
    from gatepass.demo.settings import Settings
    app = create_app(Settings(port=8000))        # an ASGI app; run it with uvicorn

Layers of the app, outermost first: security headers; a ``Host`` allow-list (the app listens on
loopback, and a DNS-rebinding page must not reach it under a foreign name); the DPoP area's
endpoints (``/dpop/auth/*``, :mod:`gatepass.demo.areas`); the gatepass middleware (every
credential, every ``/auth/*`` endpoint, CSRF); then the routes: the pages, the
classic area, the JSON API, the tools page and the static files.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.staticfiles import StaticFiles

from gatepass.demo import api, classic, pages, replay
from gatepass.demo.accounts import Accounts
from gatepass.demo.areas import AreaEndpoints
from gatepass.demo.security import SecurityHeaders
from gatepass.demo.settings import Settings
from gatepass.demo.tools_mount import tools_routes
from gatepass.demo.wiring import build_backend
from gatepass.web.fastapi import install

__all__ = ["create_app"]


def create_app(settings: Settings, accounts: Accounts | None = None) -> FastAPI:
    """The app for ``settings``; its store is set up when the server starts it (lifespan)."""
    backend = build_backend(settings, accounts or Accounts())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await backend.start()
        try:
            yield
        finally:
            await backend.stop()

    # No generated API docs: their page loads scripts from a CDN, which the CSP forbids.
    app = FastAPI(
        title="gatepass reference app",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.backend = backend
    install(app, backend.gatepass)
    for router in (pages.router, classic.router, api.router, replay.router):
        app.include_router(router)
    app.router.routes.extend(tools_routes())
    app.mount("/static", StaticFiles(packages=[("gatepass.demo", "static")]), name="static")
    app.add_middleware(AreaEndpoints, gatepass=backend.dpop_gatepass)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])
    app.add_middleware(SecurityHeaders)
    return app
