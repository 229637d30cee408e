"""An API and its page (fastapi_hybrid.html, .js) that log in with the hybrid via gatepass.js.

    python examples/fastapi_hybrid.py --port 8000 [--store URL] [--revocation MODE] [--ttl S]
                                      [--dpop on|nonce]

Log in at http://127.0.0.1:8000/ as alice / correct horse battery staple. ``--dpop on`` binds
the tokens to a key the browser cannot export (RFC 9449; ``nonce``: with server nonces).
"""

from __future__ import annotations

import secrets
from argparse import Namespace
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Response

from demo_user import PAGE_HEADERS, check_password_async, hybrid_files, options
from gatepass import AsyncAccessTokens, AsyncRefreshTokens, KeyRing, open_async_store
from gatepass.web import DPoPPolicy, Gatepass
from gatepass.web.fastapi import CurrentUser, install


def build(args: Namespace) -> FastAPI:
    store = open_async_store(args.store)
    access = AsyncAccessTokens(
        KeyRing.generate("ES256"), issuer="urn:example", audience="example", ttl=args.ttl,
        revocation=args.revocation, store=store,
    )  # fmt: skip
    # DPoP: proofs only, no bearer tokens; proof ids shared by every process through the store.
    nonce = args.dpop == "nonce"
    policy = None if args.dpop == "off" else DPoPPolicy(required=True, replay=store, nonce=nonce)
    gp = Gatepass(  # secrets: give every process of the app the same ones
        refresh_tokens=AsyncRefreshTokens(store, access, secret=secrets.token_bytes(32)),
        check_password=check_password_async,
        secret=secrets.token_bytes(32),
        dpop=policy,
    )
    page, script = hybrid_files(dpop=policy is not None)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await store.setup()
        async with access:  # replicated mode: revocations loaded before serving, kept current
            yield
        await store.close()

    app = FastAPI(lifespan=lifespan)
    install(app, gp)

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, str | None]:
        return {"user_id": user.user_id, "design": user.design, "session_id": user.session_id}

    # The page and its script, from the files beside this one (see docs/gatepass-js.md).
    app.add_api_route("/", lambda: Response(page, media_type="text/html", headers=PAGE_HEADERS))
    app.add_api_route("/app.js", lambda: Response(script, media_type="text/javascript"))
    return app


if __name__ == "__main__":
    args = options(__doc__, tokens=True)
    uvicorn.run(build(args), host="127.0.0.1", port=args.port)
