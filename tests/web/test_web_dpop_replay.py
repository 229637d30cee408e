"""The DPoP replay cache across real servers: an ASGI app (FastAPI under uvicorn) and a WSGI app
(Flask under waitress) behind one public URL, each with its own connection to the store.

A proof accepted by one is refused by the other when they share the store (SQLite, Redis,
PostgreSQL); with the per-process cache (``replay=None``) the other process accepts it once, the
weaker guarantee ``docs/dpop.md`` states. When the store is down, no proof is accepted (503),
and the same proof works once the store is back: a refusal for an outage burns nothing.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import pytest
from gp_store_servers import RedisServer
from gp_web_servers import uvicorn_serving, waitress_serving
from test_web_dpop_hosts import SERVERS
from test_web_dpop_paths import _fastapi, _flask
from webapps import make_app
from webdesigns import PASSWORD, check_password

from gatepass import AccessTokens, Key, KeyRing, RefreshTokens
from gatepass.stores import open_store
from gatepass.tokens import dpop
from gatepass.web import DPoPPolicy, Gatepass

SECRET = b"r" * 32
PUBLIC = "https://app.example"
PATH = "/files/report"
LOGIN = "/auth/login"


@contextmanager
def two_servers(replay: Any) -> Iterator[tuple[dict[str, str], AccessTokens]]:
    """uvicorn and waitress serving one app (same token keys) with ``replay(name)`` each."""
    access = AccessTokens(Key.generate("ES256"), issuer="https://auth.example", audience="api")
    with ExitStack() as stack:
        bases = {}
        for name, make_app, serving in (
            ("uvicorn", _fastapi, uvicorn_serving),
            ("waitress", _flask, waitress_serving),
        ):
            policy = DPoPPolicy(replay=replay(stack), origin=PUBLIC)
            gp = Gatepass(access_tokens=access, secret=SECRET, dpop=policy)
            bases[name] = stack.enter_context(serving(make_app(gp)))
        yield bases, access


def _opened(url: str) -> Any:
    def replay(stack: ExitStack) -> Any:
        store = open_store(url)
        store.setup()
        stack.callback(store.close)
        return store

    return replay


def _request(access: AccessTokens) -> dict[str, str]:
    key = Key.generate("ES256")
    token = access.issue("alice", jkt=key.thumbprint())
    proof = dpop.create_proof(key, method="GET", url=PUBLIC + PATH, access_token=token)
    return {"Authorization": f"DPoP {token}", "DPoP": proof}


def _get(base: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(base + PATH, headers=headers, timeout=10)


def _replayed(response: httpx.Response) -> bool:
    return response.status_code == 401 and response.json()["code"] == "ERR_DPOP_REPLAYED"


@pytest.fixture(params=["sqlite", "redis", "postgres"])
def shared_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    if request.param == "sqlite":
        return sqlite_url
    return str(request.getfixturevalue(f"{request.param}_web_url"))


@pytest.mark.parametrize("first", ["uvicorn", "waitress"])
def test_a_proof_used_at_one_server_is_refused_at_the_other(shared_url: str, first: str) -> None:
    with two_servers(_opened(shared_url)) as (bases, access):
        second = "waitress" if first == "uvicorn" else "uvicorn"
        headers = _request(access)
        assert _get(bases[first], headers).status_code == 200
        assert _replayed(_get(bases[second], headers))
        assert _replayed(_get(bases[first], headers))
        assert _get(bases[second], _request(access)).status_code == 200


def test_the_per_process_cache_sees_its_own_process_only() -> None:
    """``replay=None``: the documented gap, so that the docs stay true."""
    with two_servers(lambda stack: None) as (bases, access):
        headers = _request(access)
        assert _get(bases["uvicorn"], headers).status_code == 200
        assert _replayed(_get(bases["uvicorn"], headers))
        assert _get(bases["waitress"], headers).status_code == 200  # another process: once
        assert _replayed(_get(bases["waitress"], headers))


def test_a_store_outage_refuses_every_proof_and_burns_none(private_redis: RedisServer) -> None:
    with two_servers(_opened(private_redis.url)) as (bases, access):
        headers = _request(access)
        assert _get(bases["uvicorn"], headers).status_code == 200
        private_redis.kill()
        fresh = _request(access)
        for base in bases.values():
            for sent in (headers, fresh):
                response = _get(base, sent)
                assert response.status_code == 503, response.text
        private_redis.start()
        # The store kept what it had: the used proof stays used, the refused one was never
        # recorded and works once, on either server (a pool may need a moment to reconnect).
        for _attempt in range(20):
            response = _get(bases["waitress"], fresh)
            if response.status_code != 503:
                break
        assert response.status_code == 200, response.text
        assert _replayed(_get(bases["uvicorn"], fresh))
        assert _replayed(_get(bases["uvicorn"], headers))


@pytest.mark.parametrize("server", ["uvicorn", "waitress"])
def test_a_login_with_a_proof_fails_closed_when_the_replay_store_is_down(
    server: str, sqlite_url: str
) -> None:
    """The proof ids live in a Redis where nothing listens, the login state in SQLite: a
    login with a proof is a 503 (no token issued unchecked, nor a 400 that reads as "your
    proof is wrong"), in both the hybrid and the bearer design."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store, dead = open_store(sqlite_url), open_store(f"redis://127.0.0.1:{port}/0")
    store.setup()
    access = AccessTokens(KeyRing.generate("ES256"), issuer="https://i.example", audience="a")
    gp = Gatepass(
        refresh_tokens=RefreshTokens(store, access, secret=SECRET),
        check_password=check_password,
        secret=SECRET,
        dpop=DPoPPolicy(replay=dead),
    )
    kind, serving = SERVERS[server]
    try:
        with serving(make_app(kind, gp)) as base:
            for design in ("hybrid", "bearer"):
                proof = dpop.create_proof(Key.generate("ES256"), method="POST", url=base + LOGIN)
                body = {"username": "alice", "password": PASSWORD, "design": design}
                headers = {"Sec-Fetch-Site": "same-origin", "DPoP": proof}
                response = httpx.post(base + LOGIN, json=body, headers=headers, timeout=30)
                assert response.status_code == 503, response.text
                assert "access_token" not in response.text
    finally:
        access.close()
        dead.close()
        store.close()
