"""Fault injection on real private servers (issue 12): a frozen PostgreSQL (SIGSTOP), a
misconfigured one, many short-lived threads on SQLite. Each test performs the fault and asserts
the documented outcome, and that each call ends within its documented bound (plus slack: the
machine is shared, and these are bounds, not timings)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gp_store_servers import PostgresServer

from gatepass import AsyncSessions, Sessions
from gatepass.errors import StoreUnavailable
from gatepass.stores import open_async_store, open_store

pytestmark = pytest.mark.slow

#: ``?timeout=1&pool_timeout=1``: a call ends within pool_timeout + timeout = 2 s; a first
#: connection within libpq's connect_timeout (at least 2 s).
FAST = {"timeout": 1, "pool_timeout": 1}
BOUND = 2.0
#: Added to every bound: a loaded two-core machine, thread start-up, the pool's own locks.
SLACK = 3.0


def ends_unavailable(name: str, call: Callable[[], object], bound: float = BOUND) -> float:
    """``call()`` raises StoreUnavailable within ``bound`` (+ slack); the seconds it took."""
    started = time.monotonic()
    try:
        result = call()
    except StoreUnavailable:
        took = time.monotonic() - started
        assert took < bound + SLACK, f"{name} took {took:.1f} s (bound {bound} s)"
        return took
    pytest.fail(f"{name} returned {result!r} from a frozen server; expected StoreUnavailable")


async def ends_unavailable_async(
    name: str, call: Callable[[], Awaitable[object]], bound: float = BOUND
) -> float:
    started = time.monotonic()
    try:
        result = await call()
    except StoreUnavailable:
        took = time.monotonic() - started
        assert took < bound + SLACK, f"{name} took {took:.1f} s (bound {bound} s)"
        return took
    pytest.fail(f"{name} returned {result!r} from a frozen server; expected StoreUnavailable")


@pytest.fixture
def frozen(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """The private server, thawed again whatever the test does (so that it can be stopped)."""
    try:
        yield postgres_server
    finally:
        postgres_server.thaw()


def _recovered(call: Callable[[], Any], attempts: int = 50) -> Any:
    """``call()`` once the store is back: every failure on the way is StoreUnavailable."""
    for _ in range(attempts):
        try:
            return call()
        except StoreUnavailable:
            time.sleep(0.2)
    pytest.fail("the store did not recover after SIGCONT")


# --- PostgreSQL frozen with SIGSTOP --------------------------------------------------------------


def test_postgres_frozen_server_every_call_ends_in_bound(frozen: PostgresServer) -> None:
    """Every server process SIGSTOPped: calls on pooled connections (get, create, list,
    revoke_all), several threads at once, and ``setup`` end with StoreUnavailable within
    pool_timeout + timeout; the timed-out connections are discarded, not lent again; after
    SIGCONT the same store works, with its data."""
    store: Any = open_store(frozen.url("gptest", **FAST, pool_min_size=2, pool_max_size=4))
    try:
        store.setup()
        store.pool.wait(timeout=30)
        sessions = Sessions(store)
        token, record = sessions.create("alice")
        assert sessions.get(token) is not None

        frozen.freeze()
        ends_unavailable("get (pooled connection)", lambda: sessions.get(token))
        ends_unavailable("create", lambda: sessions.create("bob"))
        ends_unavailable("list", lambda: sessions.list("alice"))
        ends_unavailable("revoke_all", lambda: sessions.revoke_all("alice"))
        ends_unavailable("setup", store.setup)
        took: list[float] = []
        threads = [
            threading.Thread(
                target=lambda: took.append(ends_unavailable("get", lambda: sessions.get(token)))
            )
            for _ in range(6)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(BOUND + SLACK + 5)
        assert len(took) == 6, "a thread did not end within the bound"
        stats = store.pool.get_stats()
        assert stats.get("returns_bad", 0) + stats.get("connections_lost", 0) >= 1, stats

        frozen.thaw()
        got = _recovered(lambda: sessions.get(token))
        assert got is not None and got.id == record.id
        assert [r.id for r in sessions.list("alice")] == [record.id]
        assert sessions.get(sessions.create("bob")[0]) is not None
    finally:
        frozen.thaw()
        store.close()


async def test_postgres_frozen_server_async(frozen: PostgresServer) -> None:
    """The asyncio store: the same bound for calls on pooled connections and for several
    tasks at once, the event loop never blocked; after SIGCONT it works again."""
    store: Any = open_async_store(frozen.url("gptest", **FAST, pool_min_size=2, pool_max_size=4))
    try:
        await store.setup()
        await store.pool.wait(timeout=30)
        sessions = AsyncSessions(store)
        token, record = await sessions.create("alice")
        assert await sessions.get(token) is not None

        frozen.freeze()
        await ends_unavailable_async("get (pooled connection)", lambda: sessions.get(token))
        await ends_unavailable_async("create", lambda: sessions.create("bob"))
        await ends_unavailable_async("revoke_all", lambda: sessions.revoke_all("alice"))
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        beat = asyncio.create_task(ticker())
        took = await asyncio.gather(
            *(ends_unavailable_async("get", lambda: sessions.get(token)) for _ in range(6))
        )
        beat.cancel()
        assert len(took) == 6
        assert ticks >= 5, "the event loop was blocked while the server was frozen"

        frozen.thaw()
        for _ in range(50):
            try:
                got = await sessions.get(token)
                break
            except StoreUnavailable:
                await asyncio.sleep(0.2)
        else:
            pytest.fail("the store did not recover after SIGCONT")
        assert got is not None and got.id == record.id
    finally:
        frozen.thaw()
        await store.close()


def test_postgres_frozen_before_first_use(frozen: PostgresServer) -> None:
    """A store opened while the server is frozen: its first call (which connects) ends within
    libpq's connect_timeout with StoreUnavailable, and no pool thread was started."""
    frozen.freeze()
    before = threading.active_count()
    store = open_store(frozen.url("gptest", **FAST, connect_timeout=2))
    try:
        ends_unavailable("create", lambda: Sessions(store).create("alice"), bound=2.0)
        assert threading.active_count() == before
        frozen.thaw()
        store.setup()
        assert Sessions(store).get(Sessions(store).create("alice")[0]) is not None
    finally:
        frozen.thaw()
        store.close()


def test_postgres_frozen_during_a_call(frozen: PostgresServer) -> None:
    """The server freezes while a ``get`` is already running on its pooled connection (held
    up by a table lock, so that it is surely in flight): it ends with StoreUnavailable within
    ``timeout`` of its start, and after SIGCONT the same store answers it."""
    import psycopg

    app = "gptest_inflight"
    store: Any = open_store(frozen.url("gptest", timeout=2, pool_timeout=1, application_name=app))
    try:
        store.setup()
        sessions = Sessions(store)
        token, record = sessions.create("alice")
        outcome: list[tuple[str, float]] = []

        def reader() -> None:
            started = time.monotonic()
            try:
                sessions.get(token)
                outcome.append(("returned", time.monotonic() - started))
            except StoreUnavailable:
                outcome.append(("StoreUnavailable", time.monotonic() - started))

        with psycopg.connect(frozen.dsn) as blocker:
            blocker.execute(f"LOCK TABLE {store.table('sessions')} IN ACCESS EXCLUSIVE MODE")
            thread = threading.Thread(target=reader)
            thread.start()
            deadline = time.monotonic() + 30
            while frozen.waiting_on_locks(app) < 1:
                assert time.monotonic() < deadline and thread.is_alive(), outcome
                time.sleep(0.02)
            frozen.freeze()  # the get is in flight on its pooled connection
            thread.join(2 + SLACK + 5)
            frozen.thaw()
            blocker.rollback()
        assert len(outcome) == 1 and outcome[0][0] == "StoreUnavailable", outcome
        assert outcome[0][1] < 2 + SLACK, outcome
        got = _recovered(lambda: sessions.get(token))
        assert got is not None and got.id == record.id
    finally:
        frozen.thaw()
        store.close()


# --- PostgreSQL misconfigured or down ------------------------------------------------------------

#: What a refusal looks like to the caller: the server's own words, at once.
AT_ONCE = 1.0


def _misconfigured(server: PostgresServer) -> dict[str, tuple[str, str]]:
    """URL of each misconfiguration -> the words the error must contain."""
    base = f"postgresql://{{role}}@127.0.0.1:{server.port}/{{db}}?schema=gptest&pool_timeout=5"
    return {
        "wrong database": (
            base.format(role="postgres", db="nosuchdb"),
            'database "nosuchdb" does not exist',
        ),
        "wrong role": (
            base.format(role="nosuchrole", db="postgres"),
            'role "nosuchrole" does not exist',
        ),
    }


def test_postgres_misconfiguration_named_at_once(postgres_server: PostgresServer) -> None:
    """A wrong database or role: the first call raises StoreUnavailable naming the server's
    refusal at once (not a PoolTimeout after pool_timeout), so does every later call, and the
    store started no thread (nothing keeps retrying in the background)."""
    before = threading.active_count()
    for name, (url, words) in _misconfigured(postgres_server).items():
        store = open_store(url)
        for call in (store.setup, lambda: Sessions(store).get("AAAA." + "A" * 43)):  # noqa: B023
            started = time.monotonic()
            with pytest.raises(StoreUnavailable, match=words):
                call()
            assert time.monotonic() - started < AT_ONCE + SLACK, name
        assert threading.active_count() == before, f"{name}: a pool thread was left behind"
        store.close()
    assert threading.active_count() == before


async def test_postgres_misconfiguration_named_at_once_async(
    postgres_server: PostgresServer,
) -> None:
    tasks = len(asyncio.all_tasks())
    for name, (url, words) in _misconfigured(postgres_server).items():
        store = open_async_store(url)
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match=words):
            await AsyncSessions(store).create("alice")
        assert time.monotonic() - started < AT_ONCE + SLACK, name
        assert len(asyncio.all_tasks()) == tasks, f"{name}: a pool task was left behind"
        await store.close()


def test_postgres_server_down_named_at_once(postgres_server: PostgresServer) -> None:
    """The server is down (stopped; its port refuses): "Connection refused" at once, no thread;
    started again, the same store object connects on its next call."""
    url = postgres_server.url("gptest", pool_timeout=5)
    postgres_server.stop()
    before = threading.active_count()
    store = open_store(url)
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="Connection refused"):
            store.setup()
        assert time.monotonic() - started < AT_ONCE + SLACK
        assert threading.active_count() == before
        postgres_server.start()
        store.setup()
        sessions = Sessions(store)
        assert sessions.get(sessions.create("alice")[0]) is not None
    finally:
        store.close()


# --- SQLite: many short-lived threads (a thread-per-request server) -------------------------------


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_sqlite_short_lived_threads_leak_no_connection(tmp_path: Path) -> None:
    """3,000 threads, 30 at a time, each doing one ``get`` and ending: every call succeeds and
    the process never holds more file descriptors than the live threads' connections need
    (three each in WAL mode), because a thread's connection is closed when the thread ends."""
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    store.setup()
    sessions = Sessions(store)
    token, record = sessions.create("alice")
    baseline = _open_fds()
    found: list[str] = []
    failed: list[BaseException] = []

    def one_get() -> None:
        try:
            got = sessions.get(token)
            assert got is not None
            found.append(got.id)
        except BaseException as exc:  # reported below, with the count
            failed.append(exc)

    batch, peak = 30, baseline
    for _ in range(3000 // batch):
        threads = [threading.Thread(target=one_get) for _ in range(batch)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        peak = max(peak, _open_fds())
    assert failed == [], f"{len(failed)} calls failed, the first: {failed[0]!r}"
    assert found == [record.id] * 3000
    assert peak <= baseline + 3 * batch + 10, f"{peak} descriptors open (baseline {baseline})"
    store.close()
    assert _open_fds() <= baseline, "descriptors still open after close()"
