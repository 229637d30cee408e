"""``DPoPPolicy(clock=...)``: every judgement of time in the web layer's DPoP uses that clock,
the replay cache's expiry included, over a real server (uvicorn).

An app whose clock is not the machine's (a test harness, a process told to follow a time
service) must not lose replay protection: a proof id is kept until the proof expires by the
clock that judged it fresh. A cache that expired ids by the machine's clock instead (the
per-process cache's purge, Redis's TTL) forgot a proof at once when the app's clock lagged, and
the same proof was accepted again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gp_web_servers import uvicorn_serving
from test_web_dpop_paths import _fastapi

from gatepass import AccessTokens, Key
from gatepass.stores import open_store
from gatepass.tokens import dpop
from gatepass.web import DPoPPolicy, Gatepass

SECRET = b"c" * 32
PUBLIC = "https://app.example"


@pytest.fixture(params=["memory", "redis"])
def replay(request: pytest.FixtureRequest) -> Iterator[Any]:
    """None (the per-process cache) or a Redis store, whose ids expire by a native TTL."""
    if request.param == "memory":
        yield None
        return
    store = open_store(request.getfixturevalue("redis_web_url"))
    yield store
    store.close()


@pytest.mark.parametrize("offset", [-3600.0, 3600.0])
def test_replay_caches_keep_ids_by_the_policys_clock(replay: Any, offset: float) -> None:
    def clock() -> float:
        return time.time() + offset

    access = AccessTokens(Key.generate("ES256"), issuer="https://auth.example", audience="api")
    policy = DPoPPolicy(replay=replay, origin=PUBLIC, clock=clock)
    gp = Gatepass(access_tokens=access, secret=SECRET, dpop=policy)
    key = Key.generate("ES256")
    token = access.issue("alice", jkt=key.thumbprint())
    url = PUBLIC + "/files/x"
    proof = dpop.create_proof(key, method="GET", url=url, access_token=token, now=clock())
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
    with uvicorn_serving(_fastapi(gp)) as base:
        assert httpx.get(base + "/files/x", headers=headers, timeout=10).status_code == 200
        again = httpx.get(base + "/files/x", headers=headers, timeout=10)
        assert again.status_code == 401
        assert again.json()["code"] == "ERR_DPOP_REPLAYED"
