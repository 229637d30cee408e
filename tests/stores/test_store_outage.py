"""Outages: a store that cannot be reached raises ``StoreUnavailable`` (fail closed, never "no such
session", never a crash), and works again once the backend is back.

Redis: a private ``redis-server`` we SIGKILL and restart. PostgreSQL: a port where nothing listens,
and our own backends terminated with ``pg_terminate_backend``. SQLite: a write lock held by another
connection past the busy timeout, and a writer process SIGKILLed mid-load.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from gp_store_servers import RedisServer, free_port

from gatepass import AsyncSessions, Sessions
from gatepass.errors import StoreUnavailable
from gatepass.stores import open_async_store, open_store

ROOT = Path(__file__).resolve().parents[2]


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


WRITER = textwrap.dedent(
    """
    import sys
    from gatepass import Sessions
    from gatepass.stores import open_store

    store = open_store(sys.argv[1])
    store.setup()
    sessions = Sessions(store, idle_timeout=3600, absolute_timeout=7200)
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
