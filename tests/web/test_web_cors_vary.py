"""``Vary: Origin`` on the endpoints' answers in cross-site mode, whatever the ``Origin``.

In cross-site mode an allowed origin's answer carries CORS headers and anyone else's does not,
so each answer depends on ``Origin`` and must say so, or a shared cache stores one and serves it
to the other. That matters most for the JWKS, which is cacheable (``public, max-age``): stored
without CORS headers (asked by a service, or by another site), the allowed page could no longer
read it; stored with them, the next site would be handed an answer naming a trusted origin.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gp_web_servers import uvicorn_serving
from webapps import APPS, make_app
from webclient import Expect, Step, run
from webdesigns import build, serving

from gatepass.stores import open_store
from gatepass.web import CookiePolicy

TRUSTED = "https://trusted.example"
CROSS_SITE = {"cookies": CookiePolicy(cross_site=True), "trusted_origins": [TRUSTED]}
JWKS = "/.well-known/jwks.json"
#: One ``Vary: Origin``, however the answer was reached (never a second one from ``allow``).
VARY = {"vary": "Origin"}
ALLOWED = {**VARY, "access-control-allow-origin": TRUSTED}
REFUSED = {**VARY, "access-control-allow-origin": None}


@pytest.mark.parametrize("app", APPS)
async def test_cross_site_answers_vary_on_origin(app: str, sqlite_url: str) -> None:
    trusted, evil = {"origin": TRUSTED}, {"origin": "https://evil.example"}
    steps = (
        Step(f"GET {JWKS}", Expect(200, headers=ALLOWED), site="trusted", headers=trusted),
        Step(f"GET {JWKS}", Expect(200, headers=REFUSED), site="cross-site", headers=evil),
        Step(f"GET {JWKS}", Expect(200, headers=REFUSED), site="script"),  # a service: no Origin
        Step(f"HEAD {JWKS}", Expect(200, headers=REFUSED), site="script"),
        Step("GET /auth/csrf", Expect(200, headers=ALLOWED), site="trusted", headers=trusted),
        Step("GET /auth/csrf", Expect(200, headers=REFUSED), site="cross-site", headers=evil),
        # refusals and the client script depend on the origin as much as the keys do
        Step("POST /auth/refresh", Expect(401, headers=ALLOWED), site="trusted",
             headers=trusted),
        Step("POST /auth/logout", Expect(403, headers=REFUSED), site="cross-site",
             headers=evil),
        Step("GET /auth/gatepass.js", Expect(200, headers=REFUSED), site="script"),
    )  # fmt: skip
    async with serving(app, "hybrid", sqlite_url, **CROSS_SITE) as target:
        await run(target, steps, "cross-site Vary")


@pytest.mark.parametrize("app", ["asgi", "wsgi"])
async def test_same_site_answers_do_not_vary_on_origin(app: str, sqlite_url: str) -> None:
    """Outside cross-site mode no answer depends on ``Origin``: nothing to split caches by."""
    steps = (
        Step(f"GET {JWKS}", Expect(200, headers={"vary": None}), site="cross-site",
             headers={"origin": TRUSTED}),
    )  # fmt: skip
    async with serving(app, "hybrid", sqlite_url) as target:
        await run(target, steps, "same-site Vary")


@pytest.fixture
def served(sqlite_url: str) -> Iterator[str]:
    store = open_store(sqlite_url)
    store.setup()
    built = build("hybrid", store, asynchronous=False, **CROSS_SITE)
    try:
        with uvicorn_serving(make_app("fastapi", built.gatepass)) as base:
            yield base
    finally:
        asyncio.run(built.close())
        store.close()


@pytest.mark.parametrize(
    ("origin", "allowed"), [(TRUSTED, TRUSTED), ("https://evil.example", None), (None, None)]
)
def test_the_jwks_varies_on_origin_over_a_real_server(
    served: str, origin: str | None, allowed: str | None
) -> None:
    headers: dict[str, Any] = {} if origin is None else {"Origin": origin}
    response = httpx.get(served + JWKS, headers=headers, timeout=10)
    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("public")  # what makes it matter
    assert response.headers.get("access-control-allow-origin") == allowed
    assert response.headers.get_list("vary") == ["Origin"]
