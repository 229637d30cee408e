"""The app ``bench_web_server.py`` serves with uvicorn: the bare app or one gatepass variant.

Configured through the environment by the benchmark (``GP_BENCH_VARIANT``, ``GP_BENCH_SECRET``
in hex, ``GP_BENCH_DB``), started as ``uvicorn --factory web_server_app:create_app``.
"""

from __future__ import annotations

import os
from typing import Any

from web_apps import AUD, ISS, bare_app


def create_app() -> Any:
    import gatepass
    from gatepass.web import Gatepass, GatepassMiddleware

    variant = os.environ["GP_BENCH_VARIANT"]
    secret = bytes.fromhex(os.environ["GP_BENCH_SECRET"])
    if variant == "bare":
        return bare_app
    if variant == "bearer":
        key = gatepass.Key.from_secret(secret, "HS256")
        access = gatepass.AccessTokens(key, issuer=ISS, audience=AUD)
        return GatepassMiddleware(bare_app, Gatepass(access_tokens=access, secret=secret))
    if variant == "session-sqlite":
        store = gatepass.open_store(f"sqlite:///{os.environ['GP_BENCH_DB']}")
        sessions = gatepass.Sessions(store)
        return GatepassMiddleware(bare_app, Gatepass(sessions=sessions, secret=secret))
    raise SystemExit(f"unknown variant {variant!r}")
