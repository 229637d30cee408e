"""An API and a page (fastapi_hybrid.html, .js) that logs in with the hybrid via gatepass.js.

    python examples/fastapi_hybrid.py --port 8000 [--store URL] [--revocation MODE] [--ttl S]
                                      [--dpop on|nonce]

Then open http://127.0.0.1:8000/ and log in as alice / correct horse battery staple. With
``--dpop on`` the tokens are bound to a key the browser cannot export (DPoP, RFC 9449): the API
takes only DPoP-bound tokens, and a token copied out of the page is refused anywhere else;
``--dpop nonce`` also makes every proof carry the server's latest nonce.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

from demo_user import check_password_async, options
from gatepass import AsyncAccessTokens, AsyncRefreshTokens, KeyRing, open_async_store
from gatepass.web import DPoPPolicy, Gatepass
from gatepass.web.fastapi import CurrentUser, install

PAGE, SCRIPT = (Path(__file__).with_suffix(suffix).read_bytes() for suffix in (".html", ".js"))
# Scripts from this origin only: an injected inline <script> (XSS) does not run.
CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
DPOP_DOCTYPE = b'<!doctype html>\n<html data-dpop="on">'


def build(
    store_url: str, revocation: str = "replicated", ttl: int = 900, dpop: str = "off"
) -> FastAPI:
    store = open_async_store(store_url)
    access = AsyncAccessTokens(
        KeyRing.generate("ES256"), issuer="urn:example", audience="example", ttl=ttl,
        revocation=revocation, store=store,
    )  # fmt: skip
    # Secrets: give every process of the app the same ones (CSRF tokens, the grace window).
    refresh = AsyncRefreshTokens(store, access, secret=secrets.token_bytes(32))
    # DPoP: proofs only (no bearer tokens), their ids shared through the store (every process
    # behind the URL sees a replayed proof).
    policy = (
        None if dpop == "off" else DPoPPolicy(required=True, replay=store, nonce=dpop == "nonce")
    )
    gp = Gatepass(
        refresh_tokens=refresh,
        check_password=check_password_async,
        secret=secrets.token_bytes(32),
        dpop=policy,
    )
    # The page's script reads this to ask gatepass.js for DPoP: new Gatepass({ dpop: true }).
    page_bytes = PAGE if policy is None else PAGE.replace(b"<!doctype html>", DPOP_DOCTYPE, 1)

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

    @app.get("/")
    async def page() -> Response:
        return HTMLResponse(page_bytes, headers={"Content-Security-Policy": CSP})

    @app.get("/app.js")
    async def script() -> Response:
        return Response(SCRIPT, media_type="text/javascript")

    return app


if __name__ == "__main__":
    args = options(__doc__, tokens=True)
    app = build(args.store, args.revocation, args.ttl, args.dpop)
    uvicorn.run(app, host="127.0.0.1", port=args.port)
