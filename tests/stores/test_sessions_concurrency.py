"""Races on one session, on every backend: many threads (blocking API), many asyncio tasks, and a
second process.

The clock advances by one touch interval on every call, so every ``get`` wants to write: the
worst case for resurrecting a revoked session or losing an update.

Asyncio tasks interleave only where an ``await`` really suspends, and the memory store never
suspends. So every task here awaits ``asyncio.sleep(0)`` between two operations, and every test
asserts the interleaving it relies on actually happened: each task ran operations both before and
after the revoke returned, or every task started before any task started its last operation
(:class:`OpLog`). Those assertions are deterministic: workers loop until they have *seen* the
revoke (a fixed number of operations after it), and the revoke waits until every worker has run.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import random
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from gatepass import AsyncSessions, Sessions
from gatepass.errors import InvalidToken
from gatepass.stores import open_async_store, open_store

THREADS = 8
TASKS = THREADS * 2
#: Operations every worker runs after it has seen the revoke return (a "late" operation).
LATE_OPS = 3
#: Operations every worker runs in the first, revoke-free phase of the mixed tests.
PHASE1_OPS = 12
#: A bound on loops that wait for another worker: a hang becomes a failure, not a timeout.
GUARD = 20_000
#: What a mixed worker does, uniformly at random (reads are the common case).
MIXED_OPS = ("get", "get", "rotate", "update")
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


@pytest.fixture
def fine_switching() -> Iterator[None]:
    """Switch threads every 10 µs instead of 5 ms: memory-store operations take microseconds, so
    with the default interval one thread could finish all of its work inside one time slice."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


class OpLog:
    """The order in which workers started their operations: evidence that they interleaved."""

    def __init__(self) -> None:
        self.starts: list[int] = []

    def start(self, worker: int) -> None:
        self.starts.append(worker)

    def assert_interleaved(self, workers: int) -> None:
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        for position, worker in enumerate(self.starts):
            first.setdefault(worker, position)
            last[worker] = position
        assert sorted(first) == list(range(workers))
        # Every worker began before any worker began its last operation: they overlapped.
        assert max(first.values()) < min(last.values()), self.starts


class AsyncCountdown:
    """An event set once ``count_down`` ran ``n`` times (asyncio's missing CountDownLatch)."""

    def __init__(self, n: int) -> None:
        self.left = n
        self.event = asyncio.Event()

    def count_down(self) -> None:
        self.left -= 1
        if self.left == 0:
            self.event.set()

    async def wait(self) -> None:
        await self.event.wait()


class Chain:
    """One session's token chain under concurrent rotation, and every rule the workers check.

    ``revoked`` is set once the revoke has *returned*; an operation is "late" if it started
    after that. Violations are collected (not raised in the workers) and asserted at the end.
    """

    def __init__(self, token: str) -> None:
        self.lock = threading.Lock()
        self.current = token
        self.tokens = [token]
        self.successor: dict[str, str] = {}
        self.updates: dict[str, int] = {}
        self.revoked = threading.Event()  # is_set()/set() never block: fine for asyncio too
        self.late: collections.Counter[int] = collections.Counter()
        self.violations: list[str] = []
        self.log = OpLog()

    def rotated(self, old: str, new: str) -> None:
        with self.lock:
            if old in self.successor:
                self.violations.append("one token was rotated twice: two live successors")
            elif self.current != old:
                self.violations.append("a token that was not the latest one was rotated")
            self.successor[old] = new
            self.current = new
            self.tokens.append(new)

    def updated(self, key: str, value: int) -> None:
        with self.lock:
            self.updates[key] = value

    def outcome(self, worker: int, late: bool, op: str, live: bool) -> None:
        """``live``: the operation found the session live (a record, a new token, an update)."""
        if late:
            self.late[worker] += 1
            if live:
                self.violations.append(f"worker {worker}: {op} succeeded after the revoke returned")


def sync_step(s: Sessions, chain: Chain, worker: int, op: str, *, key: str, value: int) -> None:
    chain.log.start(worker)
    token = chain.current
    late = chain.revoked.is_set()
    live = False
    if op == "get":
        live = s.get(token) is not None
    elif op == "rotate":
        with contextlib.suppress(InvalidToken):
            new = s.rotate(token)
            live = True
            chain.rotated(token, new)
            if s.get(token) is not None:
                chain.violations.append("the old token still works after rotate returned")
    else:
        with contextlib.suppress(InvalidToken):
            s.update(token, {key: value})
            live = True
            chain.updated(key, value)
    chain.outcome(worker, late, op, live)


async def async_step(
    s: AsyncSessions, chain: Chain, worker: int, op: str, *, key: str, value: int
) -> None:
    chain.log.start(worker)
    token = chain.current
    late = chain.revoked.is_set()
    live = False
    if op == "get":
        live = await s.get(token) is not None
    elif op == "rotate":
        with contextlib.suppress(InvalidToken):
            new = await s.rotate(token)
            live = True
            chain.rotated(token, new)
            await asyncio.sleep(0)
            if await s.get(token) is not None:
                chain.violations.append("the old token still works after rotate returned")
    else:
        with contextlib.suppress(InvalidToken):
            await s.update(token, {key: value})
            live = True
            chain.updated(key, value)
    chain.outcome(worker, late, op, live)
    await asyncio.sleep(0)  # let every other task run before this one's next operation


async def stagger(worker: int) -> None:
    """Start workers a few scheduler passes apart, so that at any moment (the revoke's, say) some
    are between two operations and some in the middle of one, on every backend."""
    for _ in range(worker % 3):
        await asyncio.sleep(0)


def _other_sessions(store_url: str, clock: Callable[[], float]) -> tuple[Any, Sessions]:
    """A second, independent store object on the same data (another worker process's view)."""
    store = open_store(store_url)
    return store, Sessions(store, clock=clock, **OPTIONS)


# --- threads -------------------------------------------------------------------------------------


def test_threads_no_resurrection_after_revoke(
    sync_sessions: Sessions, fine_switching: None
) -> None:
    s = sync_sessions
    token, _ = s.create("alice")
    warmed = threading.Barrier(THREADS + 1, timeout=60)
    revoked = threading.Event()
    late = [0] * THREADS
    resurrected: list[Any] = []

    def worker(i: int) -> None:
        for _ in range(20):
            assert s.get(token) is not None
        warmed.wait()
        for _ in range(GUARD):
            after = revoked.is_set()
            got = s.get(token)
            if after:
                late[i] += 1
                if got is not None:
                    resurrected.append(got)
                if late[i] == LATE_OPS:
                    return
        raise AssertionError("the revoke never happened")

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(worker, i) for i in range(THREADS)]
        try:
            warmed.wait()
            assert s.revoke(token) is True
        finally:
            revoked.set()
        for future in futures:
            future.result()
    assert late == [LATE_OPS] * THREADS  # every reader ran gets that started after the revoke
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


def _kill_sync(s: Sessions, chain: Chain, kill: str, public_id: str) -> None:
    """End the session while the workers keep using it; returns once the store confirmed it."""
    if kill == "revoke":  # "log out": by token, the latest one (rotations may move it first)
        for _ in range(GUARD):
            if s.revoke(chain.current):
                return
        raise AssertionError("revoke never caught the current token")
    if kill == "revoke_id":  # "log out this device" from a devices page
        assert s.revoke(public_id, user_id="alice") is True
    else:  # "log out everywhere": exactly one stored record, whatever the rotations did
        assert s.revoke_all("alice") == 1


def _check_quiescent_sync(s: Sessions, chain: Chain, public_id: str) -> None:
    """With every worker paused: one live token, one stored session, every update kept."""
    # The controller's own rotation and update cannot race anything: they must succeed.
    old = chain.current
    chain.rotated(old, s.rotate(old))
    s.update(chain.current, {"controller": 1})
    chain.updated("controller", 1)
    assert s.get(old) is None
    assert [t for t in chain.tokens if s.get(t) is not None] == [chain.current]
    got = s.get(chain.current)
    assert got is not None and got.id == public_id
    assert dict(got.data) == chain.updates  # no update lost, across every rotation
    assert [r.id for r in s.list("alice")] == [public_id]
    assert chain.violations == []


@pytest.mark.parametrize("kill", ["revoke", "revoke_id", "revoke_all"])
def test_threads_mixed_get_rotate_update_racing_revoke(
    sync_sessions: Sessions, store_url: str, backend: str, kill: str, fine_switching: None
) -> None:
    """Threads get, rotate and update one session (always its latest token) while it is revoked.

    Phase 1 (no revoke): every worker runs ``PHASE1_OPS`` random operations, then all pause and
    the controller checks one live token, one stored record and every successful update kept.
    Phase 2: the workers go on; once each has run an operation, the controller revokes (by
    token, by public id, or every session of the user), and each worker runs ``LATE_OPS`` more.
    No operation that started after the revoke returned may find the session live, a rotation
    never forks the chain (the old token is dead once rotate returns), and at the end every token
    ever issued is dead, also through a second store object, while another user's session lives.
    """
    s = sync_sessions
    token, record = s.create("alice")
    bob, _ = s.create("bob")
    chain = Chain(token)
    barriers = [threading.Barrier(THREADS + 1, timeout=60) for _ in range(3)]
    start, paused, resumed = barriers
    warm = threading.Semaphore(0)

    def worker(i: int) -> None:
        rng = random.Random(i)
        warmed = False
        try:
            start.wait()
            for n in range(PHASE1_OPS):
                sync_step(s, chain, i, rng.choice(MIXED_OPS), key=f"{i}.{n}", value=n)
            paused.wait()
            resumed.wait()
            for n in range(GUARD):
                if chain.late[i] == LATE_OPS:
                    return
                sync_step(s, chain, i, rng.choice(MIXED_OPS), key=f"late{i}", value=n)
                if not warmed:
                    warmed = True
                    warm.release()
            raise AssertionError("the revoke never happened")
        except BaseException:
            for barrier in barriers:
                barrier.abort()
            raise
        finally:
            if not warmed:
                warm.release()

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(worker, i) for i in range(THREADS)]
        try:
            start.wait()
            paused.wait()
            _check_quiescent_sync(s, chain, record.id)
            resumed.wait()
            for _ in range(THREADS):  # every worker is inside phase 2 now
                assert warm.acquire(timeout=60)
            _kill_sync(s, chain, kill, record.id)
        except BaseException:
            for barrier in barriers:
                barrier.abort()
            chain.revoked.set()
            for future in futures:  # a worker's own error is the root cause: raise that first
                error = future.exception()
                if error is not None and not isinstance(error, threading.BrokenBarrierError):
                    raise error from None
            raise
        finally:
            chain.revoked.set()
        for future in futures:
            future.result()

    assert chain.violations == []
    assert dict(chain.late) == dict.fromkeys(range(THREADS), LATE_OPS)
    assert len(chain.tokens) > 2  # the controller's rotation and at least one worker's
    assert [t for t in chain.tokens if s.get(t) is not None] == []
    assert s.list("alice") == []
    assert s.get(bob) is not None  # the store still answers, and revoke_all was per user
    if backend != "memory":
        other_store, other = _other_sessions(store_url, s.clock)
        try:
            assert [t for t in chain.tokens if other.get(t) is not None] == []
            assert other.list("alice") == []
            assert other.get(bob) is not None
        finally:
            other_store.close()


# --- asyncio tasks -------------------------------------------------------------------------------


async def test_tasks_no_resurrection_after_revoke(async_sessions: AsyncSessions) -> None:
    s = async_sessions
    token, _ = await s.create("alice")
    revoked = asyncio.Event()
    warm = AsyncCountdown(TASKS)
    early = [0] * TASKS
    late = [0] * TASKS
    resurrected: list[Any] = []

    async def reader(i: int) -> None:
        await stagger(i)
        for _ in range(GUARD):
            after = revoked.is_set()
            got = await s.get(token)
            if after:
                late[i] += 1
                if got is not None:
                    resurrected.append(got)
                if late[i] == LATE_OPS:
                    return
            else:
                early[i] += 1
                if early[i] == 1:
                    assert got is not None  # the revoke waits for this: it cannot be dead yet
                    warm.count_down()
            await asyncio.sleep(0)
        raise AssertionError("the revoke never happened")

    async def revoker() -> None:
        for _ in range(10):
            await s.get(token)
            await asyncio.sleep(0)
        await warm.wait()  # every reader has read the live session once
        try:
            assert await s.revoke(token) is True
        finally:
            revoked.set()

    async with asyncio.TaskGroup() as group:
        for i in range(TASKS):
            group.create_task(reader(i))
        group.create_task(revoker())
    # The readers really interleaved with the revoke: each read before and after it.
    assert all(n >= 1 for n in early)
    assert late == [LATE_OPS] * TASKS
    assert resurrected == []
    assert await s.get(token) is None
    assert await s.list("alice") == []


async def test_tasks_rotate_leaves_exactly_one_live_token(async_sessions: AsyncSessions) -> None:
    """All tasks hold the same token and rotate it at once (a barrier lines them up first): of
    rotations that all start from one old token exactly one wins, on every backend. The memory
    store completes each rotation without suspending, which is its atomicity, not a gap."""
    s = async_sessions
    for _round in range(3):
        token, record = await s.create("alice")
        start = asyncio.Barrier(TASKS)

        async def rotate(token: str = token, start: asyncio.Barrier = start) -> str | None:
            await start.wait()
            try:
                return await s.rotate(token)
            except InvalidToken:
                return None

        results = await asyncio.gather(*(rotate() for _ in range(TASKS)))
        winners = [r for r in results if r is not None]
        assert len(winners) == 1
        assert await s.get(token) is None
        got = await s.get(winners[0])
        assert got is not None and got.id == record.id
        assert [r.id for r in await s.list("alice")] == [record.id]
        await s.revoke_all("alice")


async def test_tasks_no_lost_updates(async_sessions: AsyncSessions) -> None:
    s = async_sessions
    token, _ = await s.create("alice")
    log = OpLog()

    async def work(i: int) -> None:
        await stagger(i)
        for j in range(3):
            log.start(i)
            await s.update(token, {f"t{i}-{j}": j})
            await asyncio.sleep(0)
            log.start(i)
            await s.get(token)
            await asyncio.sleep(0)

    await asyncio.gather(*(work(i) for i in range(THREADS)))
    log.assert_interleaved(THREADS)
    got = await s.get(token)
    assert got is not None
    assert got.data == {f"t{i}-{j}": j for i in range(THREADS) for j in range(3)}


async def test_tasks_rotate_racing_revoke_all(async_sessions: AsyncSessions) -> None:
    """Every device keeps rotating its own session while the user logs out everywhere: each
    device rotated before ``revoke_all`` ran, every rotation that started after it returned
    fails, and no session (nor any token ever issued) survives. Another user is untouched."""
    s = async_sessions
    tokens = [(await s.create("alice"))[0] for _ in range(THREADS)]
    bob, _ = await s.create("bob")
    issued = list(tokens)
    revoked = threading.Event()
    warm = AsyncCountdown(THREADS)
    late = [0] * THREADS
    survivors: list[int] = []

    async def device(i: int) -> None:
        await stagger(i)
        token = tokens[i]
        for n in range(GUARD):
            after = revoked.is_set()
            try:
                new: str | None = await s.rotate(token)
            except InvalidToken:
                new = None
            if new is not None:
                issued.append(new)
                token = new
            if after:
                late[i] += 1
                if new is not None:
                    survivors.append(i)
                if late[i] == LATE_OPS:
                    return
            elif n == 0:
                assert new is not None  # revoke_all waits for this first rotation
                warm.count_down()
            await asyncio.sleep(0)
        raise AssertionError("revoke_all never happened")

    async def log_out_everywhere() -> None:
        await warm.wait()
        try:
            assert await s.revoke_all("alice") == THREADS  # rotations never duplicate a record
        finally:
            revoked.set()

    async with asyncio.TaskGroup() as group:
        for i in range(THREADS):
            group.create_task(device(i))
        group.create_task(log_out_everywhere())
    assert late == [LATE_OPS] * THREADS
    assert survivors == []
    assert len(issued) >= 2 * THREADS
    assert [t for t in issued if await s.get(t) is not None] == []
    assert await s.list("alice") == []
    assert await s.get(bob) is not None


async def test_tasks_updates_racing_revoke(async_sessions: AsyncSessions) -> None:
    """Writers update and read one session while it is revoked: once the revoke returned, no
    update succeeds and no read sees the session (an update must never write it back)."""
    s = async_sessions
    token, _ = await s.create("alice")
    revoked = threading.Event()
    warm = AsyncCountdown(THREADS)
    writes = [0] * THREADS
    late = [0] * THREADS
    after_revoke: list[tuple[int, str]] = []

    async def writer(i: int) -> None:
        await stagger(i)
        for j in range(GUARD):
            after = revoked.is_set()
            try:
                await s.update(token, {f"w{i}": j})
            except InvalidToken:
                pass
            else:
                writes[i] += 1
                if after:
                    after_revoke.append((i, "update"))
                elif writes[i] == 1:
                    warm.count_down()
            await asyncio.sleep(0)
            if await s.get(token) is not None and after:  # touches race the revoke as well
                after_revoke.append((i, "get"))
            if after:
                late[i] += 1
                if late[i] == LATE_OPS:
                    return
            await asyncio.sleep(0)
        raise AssertionError("the revoke never happened")

    async def revoker() -> None:
        await warm.wait()  # every writer has written once
        try:
            assert await s.revoke(token) is True
        finally:
            revoked.set()

    async with asyncio.TaskGroup() as group:
        for i in range(THREADS):
            group.create_task(writer(i))
        group.create_task(revoker())
    assert all(n >= 1 for n in writes)
    assert late == [LATE_OPS] * THREADS
    assert after_revoke == []
    assert await s.get(token) is None
    assert await s.list("alice") == []


async def _kill_async(s: AsyncSessions, chain: Chain, kill: str, public_id: str) -> None:
    if kill == "revoke":
        for _ in range(GUARD):
            if await s.revoke(chain.current):
                return
            await asyncio.sleep(0)
        raise AssertionError("revoke never caught the current token")
    if kill == "revoke_id":
        assert await s.revoke(public_id, user_id="alice") is True
    else:
        assert await s.revoke_all("alice") == 1


async def _check_quiescent_async(s: AsyncSessions, chain: Chain, public_id: str) -> None:
    old = chain.current
    chain.rotated(old, await s.rotate(old))
    await s.update(chain.current, {"controller": 1})
    chain.updated("controller", 1)
    assert await s.get(old) is None
    assert [t for t in chain.tokens if await s.get(t) is not None] == [chain.current]
    got = await s.get(chain.current)
    assert got is not None and got.id == public_id
    assert dict(got.data) == chain.updates
    assert [r.id for r in await s.list("alice")] == [public_id]
    assert chain.violations == []


@pytest.mark.parametrize("kill", ["revoke", "revoke_id", "revoke_all"])
async def test_tasks_mixed_get_rotate_update_racing_revoke(
    async_sessions: AsyncSessions, store_url: str, backend: str, kill: str
) -> None:
    """The asyncio twin of the threads test above, with ``TASKS`` tasks and the same checks;
    every task yields (``asyncio.sleep(0)``) after each operation, so on every backend the tasks
    interleave (asserted for phase 1 by :class:`OpLog`, for phase 2 by the per-task counts)."""
    s = async_sessions
    token, record = await s.create("alice")
    bob, _ = await s.create("bob")
    chain = Chain(token)
    paused = asyncio.Barrier(TASKS + 1)
    resumed = asyncio.Barrier(TASKS + 1)
    warm = AsyncCountdown(TASKS)

    async def worker(i: int) -> None:
        rng = random.Random(i)
        await stagger(i)
        for n in range(PHASE1_OPS):
            await async_step(s, chain, i, rng.choice(MIXED_OPS), key=f"{i}.{n}", value=n)
        await paused.wait()
        await resumed.wait()
        for n in range(GUARD):
            if chain.late[i] == LATE_OPS:
                return
            await async_step(s, chain, i, rng.choice(MIXED_OPS), key=f"late{i}", value=n)
            if n == 0:
                warm.count_down()
        raise AssertionError("the revoke never happened")

    async def controller() -> None:
        await paused.wait()
        chain.log.assert_interleaved(TASKS)
        await _check_quiescent_async(s, chain, record.id)
        await resumed.wait()
        await warm.wait()  # every task is inside phase 2 now
        try:
            await _kill_async(s, chain, kill, record.id)
        finally:
            chain.revoked.set()

    async with asyncio.TaskGroup() as group:
        for i in range(TASKS):
            group.create_task(worker(i))
        group.create_task(controller())

    assert chain.violations == []
    assert dict(chain.late) == dict.fromkeys(range(TASKS), LATE_OPS)
    assert len(chain.tokens) > 2
    assert [t for t in chain.tokens if await s.get(t) is not None] == []
    assert await s.list("alice") == []
    assert await s.get(bob) is not None
    if backend != "memory":
        other_store, other = _other_sessions(store_url, s.clock)
        try:
            assert [t for t in chain.tokens if other.get(t) is not None] == []
            assert other.list("alice") == []
            assert other.get(bob) is not None
        finally:
            other_store.close()


# --- another process -----------------------------------------------------------------------------

#: A second process: its own store from the URL, a few warm reads, then (after the parent's
#: revoke_all) exactly one read per token. Prints one JSON list of "is it live" per round.
_CHILD = r"""
import asyncio, json, sys
from gatepass import AsyncSessions, Sessions
from gatepass.stores import open_async_store, open_store

url, mode, *tokens = sys.argv[1:]

def report(states):
    print(json.dumps(states), flush=True)

def main():
    store = open_store(url)
    sessions = Sessions(store)
    for _ in range(3):
        warm = [sessions.get(t) is not None for t in tokens]
    report(warm)
    sys.stdin.readline()
    report([sessions.get(t) is not None for t in tokens])
    store.close()

async def amain():
    store = open_async_store(url)
    sessions = AsyncSessions(store)
    for _ in range(3):
        warm = [await sessions.get(t) is not None for t in tokens]
    report(warm)
    await asyncio.to_thread(sys.stdin.readline)
    report([await sessions.get(t) is not None for t in tokens])
    await store.close()

main() if mode == "sync" else asyncio.run(amain())
"""


def _child_line(child: subprocess.Popen[str]) -> Any:
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line:
        _, err = child.communicate(timeout=60)
        pytest.fail(f"the child process died (exit {child.returncode}):\n{err}")
    return json.loads(line)


@pytest.mark.parametrize("backend", ["sqlite", "redis", "redis_cluster", "postgres"])
@pytest.mark.parametrize("child_mode", ["sync", "async"])
def test_revoke_all_reaches_another_process_on_its_next_get(
    store_url: str, child_mode: str
) -> None:
    """A real second process (its own interpreter, store and connections) has just read alice's
    sessions; the parent runs ``revoke_all("alice")``; the child's very next get of each of them
    returns None, while bob's session still reads live (so None is not a failed store)."""
    store = open_store(store_url)
    store.setup()
    sessions = Sessions(store)  # real time, default lifetimes: the child uses the same
    child: subprocess.Popen[str] | None = None
    try:
        a1, _ = sessions.create("alice")
        a2, _ = sessions.create("alice", remember=True)
        b, _ = sessions.create("bob")
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, store_url, child_mode, a1, a2, b],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert _child_line(child) == [True, True, True]
        assert sessions.revoke_all("alice") == 2
        assert child.stdin is not None
        child.stdin.write("revoked\n")
        child.stdin.flush()
        assert _child_line(child) == [False, False, True]
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        store.close()
