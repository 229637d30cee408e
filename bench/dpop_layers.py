"""The contenders of ``bench_dpop.py --layers``: DPoP in the strategy and in the web middleware.

Each pair is the same request with a plain bearer token and with a DPoP-bound token and its proof,
so the difference is what DPoP adds at that layer:

* ``strategy bearer`` / ``strategy dpop``: ``AccessTokens.verify(token)`` against
  ``DPoPVerifier.verify(proof, ...)`` + ``AccessTokens.verify(token, proof=...)`` (stateless
  ES256 access tokens, the replay cache in this process);
* ``web bearer`` / ``web dpop``: the ASGI middleware with a bare app (``Authorization: Bearer``
  against ``Authorization: DPoP`` + ``DPoP``), driven without an event loop: with blocking
  strategies and the in-process cache nothing awaits, so the coroutine finishes on its first
  ``send(None)``;
* ``strategy dpop redis``: the strategy with the replay cache shared through Redis
  (``StoreReplayCache``: one ``SET NX PX`` per proof), beside ``redis floor``, one raw redis-py
  ``SET NX PX`` of a fresh key: the round trip the shared cache cannot avoid, and ``strategy dpop
  + raw SET``, the in-process strategy followed by that raw command. The raw command alone runs
  back to back with the Redis server busy; after the ~150 µs of a proof and a token check the
  same command takes 30-60 µs longer (a raw ``SET`` after any CPU work or a short sleep shows
  it, no gatepass code involved). So the shared cache's own cost is ``strategy dpop redis``
  minus ``strategy dpop + raw SET``, not minus the two apart.

Proofs come from a pool of distinct ``jti``; when it runs out, the in-process caches are emptied
and the Redis cache's ids are salted with a new generation (keys expire by TTL), so every call
records a new id, as a real request does.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from bench_tokens import Floor, _b64d
from gatepass import AccessTokens, Key
from gatepass.stores import open_store
from gatepass.strategies.dpop import StoreReplayCache
from gatepass.tokens import dpop
from gatepass.tokens.dpop_replay import MemoryReplayCache
from gatepass.web import DPoPPolicy, Gatepass, GatepassMiddleware

HOST = "api.example"
PATH = "/orders"
URL = f"https://{HOST}{PATH}"
ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"
POOL = 512


class _Salted:
    """A shared replay cache whose ids get a per-generation prefix: a reused proof pool still
    records a new key per call (the old ones expire by their TTL)."""

    def __init__(self, inner: StoreReplayCache) -> None:
        self.inner, self.salt = inner, "0000"

    def seen(self, proof_id: str, expires_at: float) -> bool:
        return self.inner.seen(self.salt + proof_id[4:], expires_at)

    def renew(self) -> None:
        self.salt = secrets.token_hex(2)


def _drive(app: Any, scope: dict[str, Any]) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    coroutine = app(scope, receive, send)
    try:
        coroutine.send(None)
    except StopIteration:
        return
    coroutine.close()
    raise RuntimeError("the middleware awaited something: not a blocking path")


def _scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": PATH,
        "scheme": "https",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", HOST.encode()), *headers],
        "server": (HOST, 443),
    }


def layer_contenders(alg: str, redis_url: str | None) -> tuple[dict[str, Callable[[], Any]], Any]:
    """name -> call for ``alg`` proofs, and a closer (the Redis store, if any)."""
    now = float(int(time.time()))
    clock = lambda: now  # noqa: E731 - proofs and tokens are made at ``now``
    issuer_key, client_key = Key.generate("ES256"), Key.generate(alg)
    access = AccessTokens(issuer_key, issuer=ISSUER, audience=AUDIENCE, clock=clock)
    plain = access.issue("user-42")
    bound = access.issue("user-42", jkt=client_key.thumbprint())
    proofs = [
        dpop.create_proof(client_key, method="GET", url=URL, access_token=bound, now=now)
        for _ in range(POOL)
    ]
    memory = MemoryReplayCache(clock=clock)
    verifier = dpop.DPoPVerifier(replay=memory, clock=clock)
    web_cache = MemoryReplayCache(clock=clock)
    gp_plain = Gatepass(access_tokens=access, secret=b"s" * 32)
    gp_dpop = Gatepass(
        access_tokens=access, secret=b"s" * 32, dpop=DPoPPolicy(replay=web_cache, clock=clock)
    )

    async def bare(scope: Any, receive: Any, send: Any) -> None:
        return None

    web_plain, web_dpop = GatepassMiddleware(bare, gp_plain), GatepassMiddleware(bare, gp_dpop)
    plain_scope = _scope([(b"authorization", f"Bearer {plain}".encode())])
    dpop_scopes = [
        _scope([(b"authorization", f"DPoP {bound}".encode()), (b"dpop", p.encode())])
        for p in proofs
    ]
    store: Any = None
    salted: _Salted | None = None
    shared: dpop.DPoPVerifier | None = None
    if redis_url is not None:
        store = open_store(f"{redis_url}?prefix=gpbench{secrets.token_hex(4)}:")
        salted = _Salted(StoreReplayCache(store))
        shared = dpop.DPoPVerifier(replay=salted, clock=clock)
    state = {"next": 0}

    def take() -> int:
        if state["next"] == POOL:
            for cache in (memory, web_cache):
                cache._entries.clear()
                cache._expiries.clear()
            if salted is not None:
                salted.renew()
            state["next"] = 0
        state["next"] += 1
        return state["next"] - 1

    def strategy_bearer() -> Any:
        return access.verify(plain)

    def strategy_dpop() -> Any:
        proof = verifier.verify(proofs[take()], method="GET", url=URL, access_token=bound)
        return access.verify(bound, proof=proof)

    floor = Floor(alg if alg != "Ed25519" else "EdDSA", client_key)
    signed = [(p.rsplit(".", 1)[0].encode(), _b64d(p.rsplit(".", 1)[1])) for p in proofs]

    def sig_floor() -> Any:
        data, signature = signed[take()]
        return floor.check(data, signature)

    calls: dict[str, Callable[[], Any]] = {
        "sig floor": sig_floor,
        "strategy bearer": strategy_bearer,
        "strategy dpop": strategy_dpop,
        "web bearer": lambda: _drive(web_plain, plain_scope),
        "web dpop": lambda: _drive(web_dpop, dpop_scopes[take()]),
    }
    if shared is not None:
        client = store.client
        prefix = store.prefix

        def strategy_dpop_redis() -> Any:
            proof = shared.verify(proofs[take()], method="GET", url=URL, access_token=bound)
            return access.verify(bound, proof=proof)

        def redis_floor() -> Any:
            return client.set(f"{prefix}floor:{secrets.token_hex(8)}", b"1", nx=True, px=60000)

        def strategy_dpop_raw_set() -> Any:
            claims = strategy_dpop()
            redis_floor()
            return claims

        calls["strategy dpop redis"] = strategy_dpop_redis
        calls["redis floor"] = redis_floor
        calls["strategy dpop redis (paired)"] = strategy_dpop_redis
        calls["strategy dpop + raw SET"] = strategy_dpop_raw_set
    return calls, store
