"""The hybrid's refresh under DPoP, over real servers (uvicorn, waitress): what a thief with the
refresh cookie can try, and what a client that follows ``token_type`` gets.

A bound family rotates only with a fresh proof from its key: a replayed proof, a proof from
another key, a proof with an old server nonce and no proof at all are refused (400) and burn
nothing, so the device's next honest refresh works. An answer's ``token_type`` must be the way
its access token works: ``gatepass.js`` (and any OAuth client) sends the token as it says.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from test_web_dpop_hosts import SERVERS
from webapps import make_app
from webdesigns import PASSWORD, build

from gatepass import Key
from gatepass.stores import open_store
from gatepass.tokens import dpop

PAGE = {"sec-fetch-site": "same-origin"}
LOGIN = {"username": "alice", "password": PASSWORD, "design": "hybrid"}


class Page:
    """A browser page: its key, its refresh cookie, the server's latest nonce."""

    def __init__(self, base: str, gp: Any) -> None:
        self.base, self.gp = base, gp
        self.key = Key.generate("ES256")
        self.http = httpx.Client(base_url=base, timeout=10)
        self.cookie = ""
        self.nonce: str | None = None

    def proof(self, method: str, path: str, token: str | None = None, **kw: Any) -> str:
        options: dict[str, Any] = {"access_token": token, "nonce": self.nonce, **kw}
        return dpop.create_proof(
            options.pop("key", self.key), method=method, url=self.base + path, **options
        )

    def post(self, path: str, proof: str | None, **json: Any) -> httpx.Response:
        headers = {**PAGE, "cookie": self.cookie}
        if proof is not None:
            headers["DPoP"] = proof
        response = self.http.post(path, headers=headers, json=json or None)
        self.nonce = response.headers.get("dpop-nonce", self.nonce)
        if response.status_code == 200:  # the refresh cookie and its companion
            set_cookies = response.headers.get_list("set-cookie")
            self.cookie = "; ".join(header.split(";", 1)[0] for header in set_cookies)
        return response

    def use(self, answer: httpx.Response) -> int:
        """GET /me with the answer's token, sent the way its ``token_type`` says."""
        token, kind = answer.json()["access_token"], answer.json()["token_type"]
        headers = {"Authorization": f"{kind} {token}"}
        if kind == "DPoP":
            headers["DPoP"] = self.proof("GET", "/me", token)
        return self.http.get("/me", headers=headers).status_code


def _serve(server: str, design: str, sqlite_url: str) -> Iterator[Page]:
    kind, serving = SERVERS[server]
    store = open_store(sqlite_url)
    store.setup()
    built = build(design, store, asynchronous=False)
    try:
        with serving(make_app(kind, built.gatepass)) as base:
            yield Page(base, built.gatepass)
    finally:
        asyncio.run(built.close())
        store.close()


@pytest.fixture(params=sorted(SERVERS))
def server(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _refused(response: httpx.Response, code: str, error: str = "invalid_dpop_proof") -> bool:
    body = response.json()
    return response.status_code == 400 and (body["error"], body["code"]) == (error, code)


def test_a_bound_family_rotates_only_with_a_fresh_proof_of_its_key(
    server: str, sqlite_url: str
) -> None:
    for page in _serve(server, "dpop-nonce", sqlite_url):
        assert _refused(page.post("/auth/login", page.proof("POST", "/auth/login"), **LOGIN),
                        "ERR_DPOP_NONCE_REQUIRED", "use_dpop_nonce")  # fmt: skip
        login = page.post("/auth/login", page.proof("POST", "/auth/login"), **LOGIN)
        assert login.json()["token_type"] == "DPoP" and page.use(login) == 200
        honest = page.proof("POST", "/auth/refresh")
        assert page.post("/auth/refresh", honest).status_code == 200
        window = int(time.time() // page.gp.dpop.policy.nonce_lifetime)
        attempts = [
            (None, "ERR_DPOP_BINDING_MISMATCH", "invalid_dpop_proof"),
            (honest, "ERR_DPOP_REPLAYED", "invalid_dpop_proof"),
            (page.proof("POST", "/auth/refresh", key=Key.generate("ES256")),
             "ERR_DPOP_BINDING_MISMATCH", "invalid_dpop_proof"),
            (page.proof("POST", "/auth/refresh", nonce=page.gp.dpop._nonce(window - 2)),
             "ERR_DPOP_NONCE_REQUIRED", "use_dpop_nonce"),
            (page.proof("POST", "/auth/login"), "ERR_DPOP_REQUEST_MISMATCH", "invalid_dpop_proof"),
        ]  # fmt: skip
        for proof, code, error in attempts:
            refused = page.post("/auth/refresh", proof)
            assert _refused(refused, code, error), refused.text
            assert "set-cookie" not in refused.headers
        again = page.post("/auth/refresh", page.proof("POST", "/auth/refresh"))
        assert again.json()["token_type"] == "DPoP" and page.use(again) == 200


def test_the_token_type_of_a_refresh_is_how_its_token_works(server: str, sqlite_url: str) -> None:
    """A family started without a proof (a login from before DPoP was turned on, or from a
    bearer client), refreshed by a page that now proves a key."""
    for page in _serve(server, "dpop", sqlite_url):
        login = page.post("/auth/login", None, **LOGIN)
        assert login.json()["token_type"] == "Bearer" and page.use(login) == 200
        refreshed = page.post("/auth/refresh", page.proof("POST", "/auth/refresh"))
        assert refreshed.status_code == 200
        assert page.use(refreshed) == 200
        # The access token is bound to the page's key: as a plain bearer token it is refused.
        bearer = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
        assert page.http.get("/me", headers=bearer).status_code == 401
        # The family is not: a refresh without a proof is answered with a bearer token, and
        # one with another key's proof with a token bound to that key.
        plain = page.post("/auth/refresh", None)
        assert plain.json()["token_type"] == "Bearer" and page.use(plain) == 200
        page.key = Key.generate("ES256")
        other = page.post("/auth/refresh", page.proof("POST", "/auth/refresh"))
        assert other.json()["token_type"] == "DPoP" and page.use(other) == 200
