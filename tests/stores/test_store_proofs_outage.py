"""The shared DPoP replay cache when its store is down: the proof is refused with
``StoreUnavailable`` (never accepted unchecked, never a driver error) within the store's bound,
and the cache works again, remembering what it had, once the store is back. Real faults: a
private ``redis-server`` SIGKILLed and restarted, PostgreSQL on a port where nothing listens, a
SQLite file write-locked by another connection."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from gp_store_servers import RedisServer, free_port

from gatepass import DPoPProofReplayed, Key
from gatepass.errors import StoreUnavailable
from gatepass.stores import open_async_store, open_store
from gatepass.strategies.dpop import AsyncStoreReplayCache, StoreReplayCache
from gatepass.tokens import dpop

URL = "https://api.example/orders"
BOUND = 15.0  # seconds: generous slack over the stores' documented timeouts


def _proof(key: Key) -> str:
    return dpop.create_proof(key, method="POST", url=URL)


def _refused_within_bound(verifier: dpop.DPoPVerifier, proof: str) -> None:
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        verifier.verify(proof, method="POST", url=URL)
    assert time.monotonic() - started < BOUND


def test_redis_down_refuses_then_remembers(redis_server_bin: str, tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis", persistent=True).start()
    try:
        store = open_store(f"{server.url}?socket_connect_timeout=0.5&socket_timeout=1")
        verifier = dpop.DPoPVerifier(replay=StoreReplayCache(store))
        key = Key.generate("ES256")
        seen_before = _proof(key)
        verifier.verify(seen_before, method="POST", url=URL)
        server.kill()
        _refused_within_bound(verifier, _proof(key))
        _refused_within_bound(verifier, seen_before)  # a replay is not waved through either
        server.start()  # the append-only file brings the ids back
        with pytest.raises(DPoPProofReplayed):
            verifier.verify(seen_before, method="POST", url=URL)
        verifier.verify(_proof(key), method="POST", url=URL)
        store.close()
    finally:
        server.kill()


async def test_redis_down_async(redis_server_bin: str, tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis").start()
    try:
        store = open_async_store(f"{server.url}?socket_connect_timeout=0.5&socket_timeout=1")
        verifier = dpop.AsyncDPoPVerifier(replay=AsyncStoreReplayCache(store))
        key = Key.generate("ES256")
        await verifier.verify(_proof(key), method="POST", url=URL)
        server.kill()
        with pytest.raises(StoreUnavailable):
            await verifier.verify(_proof(key), method="POST", url=URL)
        await store.close()
    finally:
        server.kill()


def test_postgres_nothing_listening() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test?pool_timeout=0.5&connect_timeout=1"
    store: Any = open_store(url)
    try:
        verifier = dpop.DPoPVerifier(replay=StoreReplayCache(store))
        _refused_within_bound(verifier, _proof(Key.generate("ES256")))
    finally:
        store.close()


def test_sqlite_locked_then_recovers(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/p.db?busy_timeout=0.2")
    store.setup()
    verifier = dpop.DPoPVerifier(replay=StoreReplayCache(store))
    key = Key.generate("ES256")
    blocker = sqlite3.connect(tmp_path / "p.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        _refused_within_bound(verifier, _proof(key))
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    proof = _proof(key)
    verifier.verify(proof, method="POST", url=URL)
    with pytest.raises(DPoPProofReplayed):
        verifier.verify(proof, method="POST", url=URL)
    store.close()
