"""The shared DPoP replay cache on every backend (memory, SQLite, Redis, Redis Cluster,
PostgreSQL), blocking and asyncio: a proof id is accepted once, by exactly one of many concurrent
callers, across two store objects (two processes' worth of connections); expired ids go with
``purge_expired`` (Redis by TTL); a proof replayed through the verifier is refused whichever
process it reaches."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import secrets
import threading
import time
from typing import Any

import pytest

from gatepass import DPoPProofReplayed, Key
from gatepass.errors import ConfigurationError
from gatepass.stores import open_async_store, open_store
from gatepass.strategies.dpop import AsyncStoreReplayCache, StoreReplayCache
from gatepass.tokens import dpop


def new_id() -> str:
    return hashlib.sha256(secrets.token_bytes(16)).hexdigest()


async def call(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


@pytest.fixture(params=["sync", "async"])
async def stores(request: pytest.FixtureRequest, store_url: str) -> Any:
    """Two store objects on one backend (for memory: one object, as two cannot share)."""
    opener = open_store if request.param == "sync" else open_async_store
    first = opener(store_url)
    await call(first.setup())
    second = first if store_url.startswith("memory") else opener(store_url)
    yield first, second
    await call(first.close())
    if second is not first:
        await call(second.close())


async def test_an_id_is_accepted_once_by_any_store_object(stores: Any) -> None:
    first, second = stores
    proof_id, later = new_id(), time.time() + 60
    assert await call(first.proof_add(proof_id, later)) is True
    assert await call(first.proof_add(proof_id, later)) is False
    assert await call(second.proof_add(proof_id, later)) is False
    assert await call(second.proof_add(new_id(), later)) is True


async def test_concurrent_adds_of_one_id_have_one_winner(stores: Any) -> None:
    first, second = stores
    proof_id, later = new_id(), time.time() + 60
    if inspect.iscoroutinefunction(first.proof_add):
        answers = await asyncio.gather(
            *(s.proof_add(proof_id, later) for s in [first, second] * 20)
        )
    else:
        answers = []
        barrier = threading.Barrier(16)

        def add(store: Any) -> None:
            barrier.wait()
            answers.append(store.proof_add(proof_id, later))

        threads = [threading.Thread(target=add, args=(s,)) for s in [first, second] * 8]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(answers) == [False] * (len(answers) - 1) + [True]


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"])
async def test_purge_removes_expired_ids_only(stores: Any) -> None:
    first, _ = stores
    now = time.time()
    stale, live = new_id(), new_id()
    assert await call(first.proof_add(stale, now - 1))
    assert await call(first.proof_add(live, now + 60))
    assert await call(first.purge_expired(now)) >= 1
    # The stale id is gone (a proof that old is refused before the cache is asked anyway)...
    assert await call(first.proof_add(stale, now + 60)) is True
    # ...the live one is kept.
    assert await call(first.proof_add(live, now + 60)) is False


@pytest.mark.parametrize("backend", ["redis", "redis_cluster"])
async def test_redis_ids_expire_by_ttl(stores: Any) -> None:
    first, _ = stores
    proof_id = new_id()
    assert await call(first.proof_add(proof_id, time.time() + 0.05))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if await call(first.proof_add(proof_id, time.time() + 60)):
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the proof id never expired")


async def test_a_replayed_proof_is_refused_by_another_process_verifier(stores: Any) -> None:
    first, second = stores
    key, url = Key.generate("ES256"), "https://api.example/orders"
    if inspect.iscoroutinefunction(first.proof_add):
        one = dpop.AsyncDPoPVerifier(replay=AsyncStoreReplayCache(first))
        two = dpop.AsyncDPoPVerifier(replay=AsyncStoreReplayCache(second))
    else:
        one = dpop.DPoPVerifier(replay=StoreReplayCache(first))  # type: ignore[assignment]
        two = dpop.DPoPVerifier(replay=StoreReplayCache(second))  # type: ignore[assignment]
    proof = dpop.create_proof(key, method="GET", url=url)
    assert (await call(one.verify(proof, method="GET", url=url))).jkt == key.thumbprint()
    with pytest.raises(DPoPProofReplayed):
        await call(two.verify(proof, method="GET", url=url))


def test_flavours_are_checked(tmp_path: Any) -> None:
    sync = open_store("memory://")
    asynchronous = open_async_store("memory://")
    with pytest.raises(ConfigurationError):
        StoreReplayCache(asynchronous)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        AsyncStoreReplayCache(sync)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        StoreReplayCache(object())  # type: ignore[arg-type]
