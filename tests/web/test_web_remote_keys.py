"""A resource server that verifies bearer tokens with the issuer's published keys (a
``JWKSClient``), while the issuer's JWKS endpoint is down.

Until a key set has been fetched once, no token can be judged, good or bad: that is an outage
like a store outage (503 with ``Retry-After``, for routes where a user is optional too), never a
500 and never a 401 that would make the client throw its token away. Once the endpoint answers
(after the client's cooldown), the same token is accepted. The JWKS endpoint is a real server on
loopback; the four apps run in-process.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from gp_web_servers import uvicorn_serving
from webapps import APPS, make_app
from webclient import Expect, Step, Target, run
from webdesigns import AUDIENCE, ISSUER, SECRET

from gatepass import AccessTokens, KeyRing
from gatepass.strategies.access import AsyncAccessTokens
from gatepass.strategies.jwks_client import AsyncJWKSClient, JWKSClient
from gatepass.web import Gatepass
from gp_testkit import FakeClock

DOWN = Expect(503, "ERR_JWKS_FETCH", headers={"retry-after": "5"})


class Issuer:
    """The issuer's JWKS endpoint: serves ``ring``'s public keys, or 503 while ``up`` is False."""

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring
        self.up = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        status, body = (200, json.dumps(self.ring.jwks()).encode()) if self.up else (503, b"")
        headers = [(b"content-type", b"application/jwk-set+json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize("app", APPS)
async def test_tokens_wait_for_the_issuers_keys_with_503(app: str) -> None:
    ring = KeyRing.generate("ES256")
    token = AccessTokens(ring, issuer=ISSUER, audience=AUDIENCE, revocation="stateless").issue(
        "alice"
    )
    issuer = Issuer(ring)
    clock = FakeClock()
    with uvicorn_serving(issuer) as url:
        asgi = app in ("asgi", "fastapi")
        client = (AsyncJWKSClient if asgi else JWKSClient)(f"{url}/jwks.json", clock=clock)
        access = (AsyncAccessTokens if asgi else AccessTokens)(
            client, issuer=ISSUER, audience=AUDIENCE, revocation="stateless"
        )
        gp = Gatepass(access_tokens=access, secret=SECRET)
        target = Target(app, make_app(app, gp), gp)
        try:
            await run(target, (
                Step("GET /me", DOWN, bearer=token),
                Step("GET /probe", DOWN, bearer=token),
                Step("GET /probe", Expect(200, json={"user": None})),  # no token: nothing to judge
                Step("GET /auth/csrf", DOWN, bearer=token),  # the keys, not "the session store"
                Step("POST /auth/logout", DOWN, bearer=token),
            ))  # fmt: skip
            issuer.up = True
            clock.advance(3600)  # past the cooldown after a failed fetch
            await run(target, (Step("GET /me", Expect(200, json={"user": "alice"}), bearer=token),))
        finally:
            await target.aclose()
