"""Races on one session, on every backend: many threads (blocking API) and many asyncio tasks.

The clock advances by one touch interval on every call, so every ``get`` wants to write: the
worst case for resurrecting a revoked session or losing an update.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from gatepass import AsyncSessions, Sessions
from gatepass.errors import InvalidToken
from gatepass.stores import open_async_store, open_store

THREADS = 8
OPTIONS: dict[str, Any] = {
    "idle_timeout": 1e6,
    "absolute_timeout": 1e9,
    "touch_interval": 1.0,
    "remember_idle_timeout": 1e6,
    "remember_absolute_timeout": 1e9,
}


def ticking_clock() -> Callable[[], float]:
    ticks = itertools.count()
    return lambda: 1_700_000_000.0 + next(ticks) * 1.0


@pytest.fixture
def sync_sessions(store_url: str) -> Any:
    store = open_store(store_url)
    store.setup()
    yield Sessions(store, clock=ticking_clock(), **OPTIONS)
    store.close()


@pytest.fixture
async def async_sessions(store_url: str) -> Any:
    store = open_async_store(store_url)
    await store.setup()
    yield AsyncSessions(store, clock=ticking_clock(), **OPTIONS)
    await store.close()


# --- threads -------------------------------------------------------------------------------------


def test_threads_no_resurrection_after_revoke(sync_sessions: Sessions) -> None:
    s = sync_sessions
    token, _ = s.create("alice")
    warmed = threading.Barrier(THREADS + 1)
    revoked = threading.Event()
    resurrected: list[Any] = []

    def worker() -> None:
        for _ in range(20):
            assert s.get(token) is not None
        warmed.wait()
        for _ in range(200):
            after = revoked.is_set()
            got = s.get(token)
            if after and got is not None:
                resurrected.append(got)
            if after and got is None:
                break

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(worker) for _ in range(THREADS)]
        warmed.wait()
        assert s.revoke(token) is True
        revoked.set()
        for future in futures:
            future.result()
    assert resurrected == []
    assert s.get(token) is None
    assert s.list("alice") == []


def test_threads_rotate_leaves_exactly_one_live_token(sync_sessions: Sessions) -> None:
    s = sync_sessions
    for _round in range(3):
        token, record = s.create("alice")
        start = threading.Barrier(THREADS)

        def rotate(token: str = token, start: threading.Barrier = start) -> str | None:
            start.wait()
            try:
                return s.rotate(token)
            except InvalidToken:
                return None

        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(lambda _: rotate(), range(THREADS)))
        winners = [r for r in results if r is not None]
        assert len(winners) == 1
        assert s.get(token) is None
        got = s.get(winners[0])
        assert got is not None and got.id == record.id
        assert [r.id for r in s.list("alice")] == [record.id]
        s.revoke_all("alice")


def test_threads_no_lost_updates(sync_sessions: Sessions) -> None:
    s = sync_sessions
    token, _ = s.create("alice")
    start = threading.Barrier(THREADS)

    def work(i: int) -> None:
        start.wait()
        for j in range(5):
            s.update(token, {f"t{i}-{j}": j})
            s.get(token)  # interleave touches with the data writes

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(work, range(THREADS)))
    got = s.get(token)
    assert got is not None
    assert got.data == {f"t{i}-{j}": j for i in range(THREADS) for j in range(5)}


def test_threads_rotate_racing_revoke_all(sync_sessions: Sessions) -> None:
    """Rotations racing a "log out everywhere" never leave a live session behind."""
    s = sync_sessions
    tokens = [s.create("alice")[0] for _ in range(THREADS)]
    start = threading.Barrier(THREADS + 1)

    def rotate_twice(token: str) -> None:
        start.wait()
        with contextlib.suppress(InvalidToken):
            s.rotate(s.rotate(token))

    with ThreadPoolExecutor(THREADS + 1) as pool:
        futures = [pool.submit(rotate_twice, t) for t in tokens]
        start.wait()
        s.revoke_all("alice")
        for future in futures:
            future.result()
    # Each rotation either finished before revoke_all (and was revoked with the rest) or found
    # its token already deleted: nothing survives a "log out everywhere".
    assert s.list("alice") == []


# --- asyncio tasks -------------------------------------------------------------------------------


async def test_tasks_no_resurrection_after_revoke(async_sessions: AsyncSessions) -> None:
    s = async_sessions
    token, _ = await s.create("alice")
    revoked = asyncio.Event()
    resurrected: list[Any] = []

    async def reader() -> None:
        for _ in range(200):
            after = revoked.is_set()
            got = await s.get(token)
            if after and got is not None:
                resurrected.append(got)
            if after and got is None:
                return

    async def revoker() -> None:
        for _ in range(10):
            await s.get(token)
        assert await s.revoke(token) is True
        revoked.set()

    await asyncio.gather(*(reader() for _ in range(THREADS * 2)), revoker())
    assert resurrected == []
    assert await s.get(token) is None
    assert await s.list("alice") == []


async def test_tasks_rotate_leaves_exactly_one_live_token(async_sessions: AsyncSessions) -> None:
    s = async_sessions
    token, record = await s.create("alice")

    async def rotate() -> str | None:
        try:
            return await s.rotate(token)
        except InvalidToken:
            return None

    results = await asyncio.gather(*(rotate() for _ in range(THREADS * 2)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert await s.get(token) is None
    assert [r.id for r in await s.list("alice")] == [record.id]


async def test_tasks_no_lost_updates(async_sessions: AsyncSessions) -> None:
    s = async_sessions
    token, _ = await s.create("alice")

    async def work(i: int) -> None:
        for j in range(3):
            await s.update(token, {f"t{i}-{j}": j})
            await s.get(token)

    await asyncio.gather(*(work(i) for i in range(THREADS)))
    got = await s.get(token)
    assert got is not None
    assert got.data == {f"t{i}-{j}": j for i in range(THREADS) for j in range(3)}
