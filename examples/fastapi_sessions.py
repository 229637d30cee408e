"""FastAPI pages protected by gatepass session cookies (uvicorn).

    python examples/fastapi_sessions.py --port 8000 [--store redis://127.0.0.1:6379/0]

Then open http://127.0.0.1:8000/ and log in as alice / correct horse battery staple.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from demo_user import check_password_async, options, session_page
from gatepass import AsyncSessions, open_async_store
from gatepass.web import Gatepass
from gatepass.web.fastapi import CurrentUser, OptionalUser, csrf_token, install


def build(store_url: str) -> FastAPI:
    store = open_async_store(store_url)
    gp = Gatepass(
        sessions=AsyncSessions(store),
        check_password=check_password_async,
        secret=secrets.token_bytes(32),  # CSRF key: give every process of an app the same one
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await store.setup()  # creates the tables once; idempotent
        yield
        await store.close()

    app = FastAPI(lifespan=lifespan)
    install(app, gp)  # the middleware, /auth/* and RFC 9457 refusals

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, Any]:
        return {"user_id": user.user_id, "design": user.design, "session_id": user.session_id}

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request, user: OptionalUser) -> str:
        return session_page(user and user.user_id, csrf_token(request))

    return app


if __name__ == "__main__":
    args = options(__doc__)
    uvicorn.run(build(args.store), host="127.0.0.1", port=args.port)
