"""DPoP in cross-site mode over a real server (uvicorn): what a page on another site can read.

A page on ``https://spa.example`` calls the endpoints on the API's site with credentials; the
browser shows it only the safelisted response headers and those the answer exposes. A client
answering ``use_dpop_nonce`` needs the new ``DPoP-Nonce`` and the challenge that asks for it
(``WWW-Authenticate: DPoP error="use_dpop_nonce"``, which ``gatepass.js`` reads to retry once).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gp_web_servers import uvicorn_serving
from webapps import make_app
from webdesigns import PASSWORD, build

from gatepass import Key
from gatepass.stores import open_store
from gatepass.tokens import dpop
from gatepass.web import CookiePolicy

SPA = "https://spa.example"


@pytest.fixture
def served(sqlite_url: str) -> Iterator[tuple[str, Any]]:
    store = open_store(sqlite_url)
    store.setup()
    built = build(
        "dpop-nonce", store, asynchronous=False,
        cookies=CookiePolicy(cross_site=True), trusted_origins=[SPA],
    )  # fmt: skip
    try:
        with uvicorn_serving(make_app("fastapi", built.gatepass)) as base:
            yield base, built.gatepass
    finally:
        asyncio.run(built.close())
        store.close()


def _exposed(response: httpx.Response) -> set[str]:
    value = response.headers.get("access-control-expose-headers", "")
    return {name.strip().lower() for name in value.split(",") if name.strip()}


def _login(base: str) -> httpx.Response:
    """The SPA's login with a proof and no nonce yet, after fetching its CSRF token."""
    page = {"Origin": SPA, "Sec-Fetch-Site": "cross-site"}
    csrf = httpx.get(base + "/auth/csrf", headers=page, timeout=10)
    seed = csrf.headers["set-cookie"].split(";", 1)[0]
    proof = dpop.create_proof(Key.generate("ES256"), method="POST", url=base + "/auth/login")
    headers = {**page, "Cookie": seed, "X-CSRF-Token": csrf.json()["csrf_token"], "DPoP": proof}
    body = {"username": "alice", "password": PASSWORD, "design": "hybrid"}
    return httpx.post(base + "/auth/login", json=body, headers=headers, timeout=10)


def test_the_nonce_is_readable_cross_site(served: tuple[str, Any]) -> None:
    base, _ = served
    response = _login(base)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "use_dpop_nonce"
    assert response.headers["access-control-allow-origin"] == SPA
    assert "dpop-nonce" in _exposed(response)


def test_the_challenge_is_readable_cross_site(served: tuple[str, Any]) -> None:
    base, _ = served
    response = _login(base)
    assert 'error="use_dpop_nonce"' in response.headers["www-authenticate"]
    assert "www-authenticate" in _exposed(response)
