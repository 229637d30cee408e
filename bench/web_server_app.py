"""The app ``bench_web_server.py`` serves with uvicorn: the bare app or one gatepass variant.

Configured through the environment by the benchmark (``GP_BENCH_VARIANT``, ``GP_BENCH_SECRET``
in hex, ``GP_BENCH_DB``, ``GP_BENCH_APP``), started as ``uvicorn --factory
web_server_app:create_app``. ``GP_BENCH_APP=fastapi`` (or ``fastapi-async``) puts a one-route
FastAPI app behind the middleware instead of the raw ASGI callable: the realistic case, where the
app itself costs something and the middleware's share is what a user would see.
"""

from __future__ import annotations

import os
from typing import Any

from web_apps import AUD, ISS, PyJWTBearer, StrategyOnly, bare_app, bearer_of, session_of


def _fastapi_app(coroutine: bool) -> Any:
    """One route, ``def`` (FastAPI runs it in its thread pool) or ``async def`` (in the loop):
    the two behave differently beside a store that releases the GIL (SQLite), see
    docs/benchmarks.md."""
    from fastapi import FastAPI

    app = FastAPI()

    if coroutine:

        @app.get("/me")
        async def me_async() -> dict[str, str]:
            return {"ok": "yes"}

    else:

        @app.get("/me")
        def me() -> dict[str, str]:
            return {"ok": "yes"}

    return app


def create_app() -> Any:
    import gatepass
    from gatepass.web import Gatepass, GatepassMiddleware

    variant = os.environ["GP_BENCH_VARIANT"]
    secret = bytes.fromhex(os.environ["GP_BENCH_SECRET"])
    kind = os.environ.get("GP_BENCH_APP", "asgi")
    inner = bare_app if kind == "asgi" else _fastapi_app(coroutine=kind == "fastapi-async")
    if variant == "bare":
        return inner
    if variant in ("bearer", "strategy-bearer"):
        key = gatepass.Key.from_secret(secret, "HS256")
        access = gatepass.AccessTokens(key, issuer=ISS, audience=AUD)
        if variant == "strategy-bearer":  # the floor of any web layer (web_apps.StrategyOnly)
            return StrategyOnly(inner, b"authorization", bearer_of, access.verify)
        return GatepassMiddleware(inner, Gatepass(access_tokens=access, secret=secret))
    if variant == "pyjwt-bearer":  # the peer: the middleware people write by hand with PyJWT
        return PyJWTBearer(inner, secret)
    if variant in ("session-sqlite", "strategy-session"):
        store = gatepass.open_store(f"sqlite:///{os.environ['GP_BENCH_DB']}")
        sessions = gatepass.Sessions(store)
        if variant == "strategy-session":
            return StrategyOnly(inner, b"cookie", session_of, sessions.get)
        return GatepassMiddleware(inner, Gatepass(sessions=sessions, secret=secret))
    raise SystemExit(f"unknown variant {variant!r}")
