"""The shared DPoP replay cache with a verifier on another clock than the machine's.

Stores expire proof ids by the machine's clock (the purge's ``time.time()``, Redis's TTL), while
the verifier computes ``expires_at`` on its own clock. ``StoreReplayCache(store, clock=...)``
moves the expiry onto the machine's clock, so an id lives exactly as long as the verifier would
accept its proof: not purged at once when the verifier's clock lags (the replay would pass),
not kept for the whole offset when it leads. Purges run at explicit times; nothing waits.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from pathlib import Path
from typing import Any

import pytest

from gatepass.errors import ConfigurationError
from gatepass.stores import open_async_store, open_store
from gatepass.strategies.dpop import AsyncStoreReplayCache, StoreReplayCache

HOUR = 3600.0
MAX_AGE = 60.0


def _id() -> str:
    return hashlib.sha256(secrets.token_bytes(16)).hexdigest()


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'proofs.db'}"
    opened = open_store(url)
    opened.setup()
    yield opened
    opened.close()


@pytest.mark.parametrize("offset", [-HOUR, HOUR])
def test_dpop_ids_live_as_long_as_the_verifier_accepts_the_proof(store: Any, offset: float) -> None:
    def clock() -> float:
        return time.time() + offset

    cache = StoreReplayCache(store, clock=clock)
    proof_id = _id()
    assert cache.seen(proof_id, clock() + MAX_AGE) is False
    store.purge_expired(time.time() + MAX_AGE / 2)  # the proof is still fresh: the id stays
    assert cache.seen(proof_id, clock() + MAX_AGE) is True
    store.purge_expired(time.time() + MAX_AGE + 1)  # the proof is stale: the id may go
    assert cache.seen(proof_id, clock() + MAX_AGE) is False


async def test_dpop_async_cache_moves_the_expiry_too() -> None:
    store = open_async_store("memory://")
    await store.setup()

    def clock() -> float:
        return time.time() - HOUR

    cache = AsyncStoreReplayCache(store, clock=clock)
    proof_id = _id()
    assert await cache.seen(proof_id, clock() + MAX_AGE) is False
    await store.purge_expired(time.time() + MAX_AGE / 2)
    assert await cache.seen(proof_id, clock() + MAX_AGE) is True
    await store.close()


def test_dpop_store_cache_clock_must_be_callable() -> None:
    with pytest.raises(ConfigurationError, match="clock"):
        StoreReplayCache(open_store("memory://"), clock=12.0)  # type: ignore[arg-type]
