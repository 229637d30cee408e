"""Outages: a store that cannot be reached raises ``StoreUnavailable`` (fail closed, never "no such
session", never a crash), and works again once the backend is back.

Redis: a private ``redis-server`` we SIGKILL and restart, and one master of a private three-master
Redis Cluster SIGKILLed and restarted. PostgreSQL: a port where nothing listens, our own backends
terminated with ``pg_terminate_backend``, and a private server (``initdb`` + ``pg_ctl``) crashed
with ``pg_ctl stop -m immediate`` mid-test and started again. SQLite: a write lock held by another
connection past the busy timeout (sync and async), and a writer process SIGKILLed mid-load.
"""

from __future__ import annotations

import functools
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from gp_store_servers import (
    PostgresServer,
    RedisCluster,
    RedisServer,
    free_port,
    owned_slots,
)

from gatepass import AsyncSessions, Sessions
from gatepass.errors import StoreUnavailable
from gatepass.stores import open_async_store, open_store
from gatepass.strategies._session_tokens import routing_tag

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")

#: Upper bound on the calls a store may need to come back after its server does. Every call
#: before that must raise StoreUnavailable; each costs at most about one pool_timeout.
RECOVERY_ATTEMPTS = 100


def fails_closed(name: str, call: Callable[[], object]) -> None:
    """``call()`` must raise StoreUnavailable: a return value (None, False, 0, [] or a record)
    would be a silent answer from a store that is down; any other exception propagates and fails
    the test (a leaked driver error)."""
    try:
        result = call()
    except StoreUnavailable:
        return
    pytest.fail(f"{name} returned {result!r} while the store was down; expected StoreUnavailable")


async def fails_closed_async(name: str, call: Callable[[], Awaitable[object]]) -> None:
    try:
        result = await call()
    except StoreUnavailable:
        return
    pytest.fail(f"{name} returned {result!r} while the store was down; expected StoreUnavailable")


def eventually(
    call: Callable[[], T], attempts: int = RECOVERY_ATTEMPTS
) -> tuple[T, list[Exception]]:
    """Retry ``call`` until it returns, at most ``attempts`` times; every failure on the way must
    be StoreUnavailable (anything else propagates). Returns the result and the failures."""
    failures: list[Exception] = []
    for _ in range(attempts):
        try:
            return call(), failures
        except StoreUnavailable as exc:
            failures.append(exc)
    pytest.fail(f"the store did not recover in {attempts} calls; last error: {failures[-1]!r}")


async def eventually_async(
    call: Callable[[], Awaitable[T]], attempts: int = RECOVERY_ATTEMPTS
) -> tuple[T, list[Exception]]:
    failures: list[Exception] = []
    for _ in range(attempts):
        try:
            return await call(), failures
        except StoreUnavailable as exc:
            failures.append(exc)
    pytest.fail(f"the store did not recover in {attempts} calls; last error: {failures[-1]!r}")


# --- Redis ---------------------------------------------------------------------------------------


@pytest.fixture
def private_redis(redis_server_bin: str, tmp_path: Path) -> Any:
    server = RedisServer(tmp_path / "redis", persistent=True).start()
    yield server
    server.kill()


def test_redis_outage_and_recovery(private_redis: RedisServer) -> None:
    store = open_store(private_redis.url)
    sessions = Sessions(store)
    token, record = sessions.create("alice")
    private_redis.kill()
    with pytest.raises(StoreUnavailable):
        sessions.get(token)
    with pytest.raises(StoreUnavailable):
        sessions.create("bob")
    with pytest.raises(StoreUnavailable):
        sessions.revoke_all("alice")
    private_redis.start()  # same port; the append-only file brings the data back
    got = sessions.get(token)
    assert got is not None and got.id == record.id
    assert sessions.get(sessions.create("bob")[0]) is not None
    store.close()


async def test_redis_outage_and_recovery_async(private_redis: RedisServer) -> None:
    store = open_async_store(private_redis.url)
    sessions = AsyncSessions(store)
    token, record = await sessions.create("alice")
    private_redis.kill()
    with pytest.raises(StoreUnavailable):
        await sessions.get(token)
    with pytest.raises(StoreUnavailable):
        await sessions.rotate(token)
    private_redis.start()
    got = await sessions.get(token)
    assert got is not None and got.id == record.id
    await store.close()


def test_redis_nothing_listening() -> None:
    store = open_store(f"redis://127.0.0.1:{free_port()}/0?socket_connect_timeout=0.5")
    with pytest.raises(StoreUnavailable):
        store.setup()
    with pytest.raises(StoreUnavailable):
        Sessions(store).get("AAAA." + "A" * 43)
    store.close()


# --- Redis Cluster: one master SIGKILLed mid-test and restarted ----------------------------------


def _user_on(store: Any, node: RedisServer) -> str:
    """A user id whose sessions' slot (asked of the server: CLUSTER KEYSLOT) lives on ``node``."""
    slots = owned_slots(node)
    for i in range(1000):
        user = f"user{i}"
        key = store.keys.key(routing_tag(user), "s", "0" * 64)
        slot = int(node.cli("cluster", "keyslot", key).strip())
        if any(slot in r for r in slots):
            return user
    raise AssertionError(f"no user found on the node at port {node.port}")


def test_redis_cluster_master_down_fails_closed_then_recovers(
    private_cluster: RedisCluster,
) -> None:
    """One master of a private cluster is SIGKILLed: every operation on a user whose slot it
    owned raises StoreUnavailable, both at once and after the survivors mark it failed. Started
    again (same port, nodes.conf and append-only file) the same store object serves that user's
    sessions again, all of them intact."""
    victim, survivors = private_cluster.nodes[0], private_cluster.nodes[1:]
    store = open_store(f"{private_cluster.url}?prefix=gptest:")
    try:
        store.setup()
        sessions = Sessions(store)
        user = _user_on(store, victim)
        live_user = _user_on(store, survivors[0])
        mine = [sessions.create(user, metadata={"n": i}) for i in range(2)]
        theirs = sessions.create(live_user)
        (token, record), (other, other_record) = mine

        victim.kill()  # SIGKILL; its append-only file and nodes-<port>.conf stay on disk
        ops = {
            "get": lambda: sessions.get(token),
            "create": lambda: sessions.create(user),
            "rotate": lambda: sessions.rotate(token),
            "update": lambda: sessions.update(token, {"k": 1}),
            "revoke": lambda: sessions.revoke(other),
            "revoke by id": lambda: sessions.revoke(other_record.id, user_id=user),
            "revoke_all": lambda: sessions.revoke_all(user),
            "list": lambda: sessions.list(user),
        }
        for name, op in ops.items():
            fails_closed(name, op)
        # Still so once the survivors have marked the node failed (cluster_state:fail).
        private_cluster.wait_state("fail", survivors)
        for name, op in ops.items():
            fails_closed(f"{name} (cluster_state:fail)", op)

        victim.start()  # same port and directory: same node id, same slots, same data
        # Until every node says cluster_state:ok they answer CLUSTERDOWN, which gatepass reports
        # as StoreError today (see test_redis_cluster_down_is_store_unavailable): wait for ok.
        private_cluster.wait_state("ok", private_cluster.nodes)
        got, _ = eventually(lambda: sessions.get(token))
        assert got is not None and got.id == record.id
        listed, _ = eventually(lambda: sessions.list(user))
        assert [r.id for r in listed] == [r.id for _, r in mine]
        got, _ = eventually(lambda: sessions.get(theirs[0]))
        assert got is not None and got.id == theirs[1].id
        new, _ = eventually(lambda: sessions.create(user))
        assert sessions.get(new[0]) is not None
        assert sessions.revoke_all(user) == 3
        assert sessions.get(token) is None and sessions.get(theirs[0]) is not None
    finally:
        store.close()


async def test_redis_cluster_master_down_fails_closed_then_recovers_async(
    private_cluster: RedisCluster,
) -> None:
    """The asyncio twin: a dead master's users fail closed, and come back with their data."""
    victim = private_cluster.nodes[0]
    store = open_async_store(f"{private_cluster.url}?prefix=gptest:")
    try:
        await store.setup()
        sessions = AsyncSessions(store)
        user = _user_on(store, victim)
        mine = [await sessions.create(user, metadata={"n": i}) for i in range(2)]
        (token, record), (other, other_record) = mine

        victim.kill()
        await fails_closed_async("get", lambda: sessions.get(token))
        await fails_closed_async("create", lambda: sessions.create(user))
        await fails_closed_async("rotate", lambda: sessions.rotate(token))
        await fails_closed_async("update", lambda: sessions.update(token, {"k": 1}))
        await fails_closed_async("revoke", lambda: sessions.revoke(other))
        await fails_closed_async(
            "revoke by id", lambda: sessions.revoke(other_record.id, user_id=user)
        )
        await fails_closed_async("revoke_all", lambda: sessions.revoke_all(user))
        await fails_closed_async("list", lambda: sessions.list(user))

        victim.start()
        private_cluster.wait_state("ok", private_cluster.nodes)
        got, _ = await eventually_async(lambda: sessions.get(token))
        assert got is not None and got.id == record.id
        listed, _ = await eventually_async(lambda: sessions.list(user))
        assert [r.id for r in listed] == [r.id for _, r in mine]
        new, _ = await eventually_async(lambda: sessions.create(user))
        assert await sessions.get(new[0]) is not None
        assert await sessions.revoke_all(user) == 3
        assert await sessions.get(token) is None
    finally:
        await store.close()


def _outcome(call: Callable[[], object]) -> str:
    try:
        result = call()
    except StoreUnavailable:
        return "StoreUnavailable"
    except Exception as exc:  # reported, not raised: the test lists every operation's outcome
        return f"{type(exc).__name__}: {str(exc)[:60]}"
    return f"returned {result!r}"


async def test_redis_cluster_down_is_store_unavailable(private_cluster: RedisCluster) -> None:
    """A master is dead and the cluster is marked failed: the surviving masters answer every
    command with CLUSTERDOWN, for users whose slots they still own. That is an outage, so
    ``StoreUnavailable`` (fail closed, HTTP 503), never the generic ``StoreError`` (a bug)."""
    victim, survivors = private_cluster.nodes[0], private_cluster.nodes[1:]
    store = open_store(f"{private_cluster.url}?prefix=gptest:")
    async_store = open_async_store(f"{private_cluster.url}?prefix=gptest:")
    try:
        sessions, async_sessions = Sessions(store), AsyncSessions(async_store)
        user = _user_on(store, survivors[0])  # a user whose slot lives on a node that is up
        token, _ = sessions.create(user)
        assert await async_sessions.get(token) is not None

        victim.kill()
        private_cluster.wait_state("fail", survivors)
        outcomes = {
            "get": _outcome(lambda: sessions.get(token)),
            "create": _outcome(lambda: sessions.create(user)),
            "list": _outcome(lambda: sessions.list(user)),
        }
        async_ops: dict[str, Callable[[], Awaitable[object]]] = {
            "get": lambda: async_sessions.get(token),
            "create": lambda: async_sessions.create(user),
            "list": lambda: async_sessions.list(user),
        }
        for name, call in async_ops.items():
            try:
                outcomes[f"async {name}"] = f"returned {await call()!r}"
            except StoreUnavailable:
                outcomes[f"async {name}"] = "StoreUnavailable"
            except Exception as exc:
                outcomes[f"async {name}"] = f"{type(exc).__name__}: {str(exc)[:60]}"
        assert outcomes == dict.fromkeys(outcomes, "StoreUnavailable"), outcomes
    finally:
        store.close()
        await async_store.close()


# --- PostgreSQL ----------------------------------------------------------------------------------


def test_postgres_nothing_listening() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test?pool_timeout=0.5&connect_timeout=1"
    store = open_store(url)
    with pytest.raises(StoreUnavailable):
        store.setup()
    with pytest.raises(StoreUnavailable):
        Sessions(store).get("AAAA." + "A" * 43)
    store.close()


async def test_postgres_nothing_listening_async() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test?pool_timeout=0.5&connect_timeout=1"
    store = open_async_store(url)
    with pytest.raises(StoreUnavailable):
        await AsyncSessions(store).create("alice")
    await store.close()


def _terminate(postgres_url: str, app: str) -> int:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (app,),
        ).fetchall()
    return len(rows)


@pytest.fixture
def pg_app(postgres_url: str) -> Any:
    import psycopg

    app = f"gptest_{secrets.token_hex(4)}"
    url = f"{postgres_url}?schema={app}&application_name={app}&pool_min_size=2&pool_max_size=2"
    yield app, url
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{app}" CASCADE')


def test_postgres_backends_terminated(postgres_url: str, pg_app: tuple[str, str]) -> None:
    app, url = pg_app
    store = open_store(url)
    store.setup()
    sessions = Sessions(store)
    token, record = sessions.create("alice")
    assert sessions.get(token) is not None
    assert _terminate(postgres_url, app) >= 1
    failures = 0
    for _ in range(5):  # each broken pooled connection fails once, then is replaced
        try:
            got = sessions.get(token)
        except StoreUnavailable:
            failures += 1
            continue
        assert got is not None and got.id == record.id
        break
    else:
        pytest.fail("the store did not recover after its backends were terminated")
    assert failures >= 1
    store.close()


async def test_postgres_backends_terminated_async(
    postgres_url: str, pg_app: tuple[str, str]
) -> None:
    app, url = pg_app
    store = open_async_store(url)
    await store.setup()
    sessions = AsyncSessions(store)
    token, record = await sessions.create("alice")
    assert await sessions.get(token) is not None
    assert _terminate(postgres_url, app) >= 1
    failures = 0
    for _ in range(5):
        try:
            got = await sessions.get(token)
        except StoreUnavailable:
            failures += 1
            continue
        assert got is not None and got.id == record.id
        break
    else:
        pytest.fail("the store did not recover after its backends were terminated")
    assert failures >= 1
    await store.close()


# --- PostgreSQL: a private server crashed mid-test and started again -----------------------------

#: A dead server must fail fast: a pooled connection is waited for 0.3 s, a new one for 1 s.
PG_FAST = {"pool_timeout": 0.3, "connect_timeout": 1}


def test_postgres_server_crash_fails_closed_then_recovers(postgres_server: PostgresServer) -> None:
    """A private server crashes (``pg_ctl stop -m immediate``) under a live store: every
    operation raises StoreUnavailable (never None, False, 0 or []). Started again, the same
    store object recovers, every session committed before the crash is there, and none of the
    refused writes (revoke, revoke_all, rotate, update) happened."""
    store = open_store(postgres_server.url("gptest", **PG_FAST))
    try:
        store.setup()
        sessions = Sessions(store)
        alice = [sessions.create("alice", metadata={"n": i}) for i in range(3)]
        bob = sessions.create("bob")
        assert all(sessions.get(token) is not None for token, _ in [*alice, bob])
        (token, record), (other, other_record) = alice[0], alice[1]

        postgres_server.stop()  # pg_ctl stop -m immediate: every backend dies, no checkpoint
        fails_closed("get", lambda: sessions.get(token))
        fails_closed("get (again)", lambda: sessions.get(token))
        fails_closed("create", lambda: sessions.create("carol"))
        fails_closed("rotate", lambda: sessions.rotate(token))
        fails_closed("update", lambda: sessions.update(token, {"k": 1}))
        fails_closed("revoke", lambda: sessions.revoke(other))
        fails_closed("revoke by id", lambda: sessions.revoke(other_record.id, user_id="alice"))
        fails_closed("revoke_all", lambda: sessions.revoke_all("alice"))
        fails_closed("list", lambda: sessions.list("alice"))

        postgres_server.start()  # crash recovery replays the WAL
        got, _ = eventually(lambda: sessions.get(token))  # the same store object comes back
        assert got is not None and got.id == record.id
        for tok, rec in [*alice, bob]:  # committed before the crash: all there, none revoked
            got, _ = eventually(functools.partial(sessions.get, tok))
            assert got is not None and got.id == rec.id and got.user_id == rec.user_id
        listed, _ = eventually(lambda: sessions.list("alice"))
        assert [r.id for r in listed] == [r.id for _, r in alice]
        assert [r.metadata["n"] for r in listed] == [0, 1, 2]
        carol, _ = eventually(lambda: sessions.create("carol"))
        assert sessions.get(carol[0]) is not None
        assert sessions.revoke_all("alice") == 3
        assert sessions.get(token) is None and sessions.get(bob[0]) is not None
    finally:
        store.close()


async def test_postgres_server_crash_fails_closed_then_recovers_async(
    postgres_server: PostgresServer,
) -> None:
    """The asyncio twin (``AsyncPostgresStore``, whose pool opens on first use)."""
    store = open_async_store(postgres_server.url("gptest", **PG_FAST))
    try:
        await store.setup()
        sessions = AsyncSessions(store)
        alice = [await sessions.create("alice", metadata={"n": i}) for i in range(3)]
        bob = await sessions.create("bob")
        for tok, _ in [*alice, bob]:
            assert await sessions.get(tok) is not None
        (token, record), (other, other_record) = alice[0], alice[1]

        postgres_server.stop()
        await fails_closed_async("get", lambda: sessions.get(token))
        await fails_closed_async("get (again)", lambda: sessions.get(token))
        await fails_closed_async("create", lambda: sessions.create("carol"))
        await fails_closed_async("rotate", lambda: sessions.rotate(token))
        await fails_closed_async("update", lambda: sessions.update(token, {"k": 1}))
        await fails_closed_async("revoke", lambda: sessions.revoke(other))
        await fails_closed_async(
            "revoke by id", lambda: sessions.revoke(other_record.id, user_id="alice")
        )
        await fails_closed_async("revoke_all", lambda: sessions.revoke_all("alice"))
        await fails_closed_async("list", lambda: sessions.list("alice"))

        postgres_server.start()
        got, _ = await eventually_async(lambda: sessions.get(token))
        assert got is not None and got.id == record.id
        for tok, rec in [*alice, bob]:
            got, _ = await eventually_async(functools.partial(sessions.get, tok))
            assert got is not None and got.id == rec.id and got.user_id == rec.user_id
        listed, _ = await eventually_async(lambda: sessions.list("alice"))
        assert [r.id for r in listed] == [r.id for _, r in alice]
        assert [r.metadata["n"] for r in listed] == [0, 1, 2]
        carol, _ = await eventually_async(lambda: sessions.create("carol"))
        assert await sessions.get(carol[0]) is not None
        assert await sessions.revoke_all("alice") == 3
        assert await sessions.get(token) is None and await sessions.get(bob[0]) is not None
    finally:
        await store.close()


def test_postgres_pooled_connections_after_crash(postgres_server: PostgresServer) -> None:
    """After a crash every pooled connection is dead: each may fail one ``get``
    (StoreUnavailable), none may be used twice, and then ``get`` works again on the same store."""
    import psycopg

    app = "gptest_pooled"
    size = 4
    url = postgres_server.url(
        "gptest", **PG_FAST, pool_min_size=size, pool_max_size=size, application_name=app
    )
    store: Any = open_store(url)
    try:
        store.setup()
        store.pool.wait(timeout=30)  # all four connections open: no reader waits for one
        sessions = Sessions(store)
        token, record = sessions.create("alice")
        # Use three connections at once, deterministically: three concurrent gets, each holding
        # its own connection, are stopped by a lock on the table until all three are waiting.
        results: list[Any] = []
        with psycopg.connect(postgres_server.dsn) as blocker:
            blocker.execute(f"LOCK TABLE {store.table('sessions')} IN ACCESS EXCLUSIVE MODE")
            readers = [
                threading.Thread(target=lambda: results.append(sessions.get(token)))
                for _ in range(size - 1)
            ]
            for reader in readers:
                reader.start()
            deadline = time.monotonic() + 30
            while postgres_server.waiting_on_locks(app) < size - 1:
                assert all(r.is_alive() for r in readers), f"a reader failed: {results}"
                assert time.monotonic() < deadline, "the readers never blocked on the lock"
                time.sleep(0.02)
            blocker.rollback()  # releases the lock: the three gets finish
        for reader in readers:
            reader.join(30)
        assert [r.id for r in results] == [record.id] * (size - 1)

        postgres_server.stop()
        postgres_server.start()  # pooled connections now point at a dead server
        dead = 0
        for _attempt in range(RECOVERY_ATTEMPTS):
            try:
                got = sessions.get(token)
            except StoreUnavailable as exc:
                # a dead connection used once (not a wait for the pool to reconnect)
                if type(exc.__cause__).__name__ != "PoolTimeout":
                    dead += 1
                continue
            assert got is not None and got.id == record.id, "a dead connection read 'no session'"
            break
        else:
            pytest.fail(f"get did not recover in {RECOVERY_ATTEMPTS} calls")
        assert 1 <= dead <= size, f"{dead} failures on dead connections (pool of {size})"
        for _ in range(20):  # recovered for good: no dead connection left on the hot path
            got = sessions.get(token)
            assert got is not None and got.id == record.id
    finally:
        store.close()


# --- SQLite --------------------------------------------------------------------------------------


def test_sqlite_locked_database_fails_closed_then_recovers(tmp_path: Path) -> None:
    import sqlite3

    url = f"sqlite:///{tmp_path}/s.db?busy_timeout=0.2"
    store = open_store(url)
    store.setup()
    sessions = Sessions(store)
    token, _ = sessions.create("alice")
    blocker = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreUnavailable):
            sessions.create("bob")
        with pytest.raises(StoreUnavailable):
            sessions.revoke(token)
        assert sessions.get(token) is not None  # WAL: readers are not blocked by the writer
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    assert sessions.revoke(token) is True
    assert sessions.get(sessions.create("bob")[0]) is not None
    store.close()


async def test_sqlite_locked_database_fails_closed_then_recovers_async(tmp_path: Path) -> None:
    """The asyncio twin of the test above: every write waits out the 0.2 s busy timeout in a
    worker thread and raises StoreUnavailable while another connection holds the lock."""
    import sqlite3

    url = f"sqlite:///{tmp_path}/s.db?busy_timeout=0.2"
    store = open_async_store(url)
    await store.setup()
    sessions = AsyncSessions(store)
    token, record = await sessions.create("alice")
    other, other_record = await sessions.create("alice")
    blocker = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another connection holds the write lock
    try:
        await fails_closed_async("create", lambda: sessions.create("bob"))
        await fails_closed_async("rotate", lambda: sessions.rotate(token))
        await fails_closed_async("update", lambda: sessions.update(token, {"k": 1}))
        await fails_closed_async("revoke", lambda: sessions.revoke(token))
        await fails_closed_async(
            "revoke by id", lambda: sessions.revoke(other_record.id, user_id="alice")
        )
        await fails_closed_async("revoke_all", lambda: sessions.revoke_all("alice"))
        got = await sessions.get(token)  # WAL: readers are not blocked by the writer
        assert got is not None and got.id == record.id
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    # The same store object works again, and none of the refused writes happened.
    assert [r.id for r in await sessions.list("alice")] == [record.id, other_record.id]
    assert await sessions.revoke(token) is True
    assert await sessions.get(token) is None and await sessions.get(other) is not None
    assert await sessions.get((await sessions.create("bob"))[0]) is not None
    await store.close()


WRITER = textwrap.dedent(
    """
    import sys
    from gatepass import Sessions
    from gatepass.stores import open_store

    store = open_store(sys.argv[1])
    store.setup()
    sessions = Sessions(store, idle_timeout=3600, absolute_timeout=7200, max_sessions=None)
    for i in range(int(sys.argv[2])):
        token, _ = sessions.create(f"user{i % 7}", metadata={"n": i})
        print(token, flush=True)   # printed only after the INSERT committed
    """
)


def test_sqlite_writer_killed_loses_no_committed_session(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    victim = subprocess.Popen(
        [sys.executable, str(script), url, "1000000"], stdout=subprocess.PIPE, env=env
    )
    survivor = subprocess.Popen(
        [sys.executable, str(script), url, "300"], stdout=subprocess.PIPE, env=env
    )
    assert victim.stdout is not None and survivor.stdout is not None
    committed = [victim.stdout.readline().decode().strip() for _ in range(400)]
    victim.send_signal(signal.SIGKILL)  # mid-load: it is inserting as fast as it can
    victim.wait(30)
    committed += victim.stdout.read().decode().split()  # lines it printed before dying
    out, _ = survivor.communicate(timeout=120)
    assert survivor.returncode == 0
    committed += out.decode().split()
    assert victim.returncode == -signal.SIGKILL
    store = open_store(url)
    sessions = Sessions(store, idle_timeout=3600, absolute_timeout=7200)
    missing = [t for t in committed if sessions.get(t) is None]
    assert len(committed) >= 700 and missing == []
    store.close()
