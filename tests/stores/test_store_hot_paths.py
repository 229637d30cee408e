"""The ``get`` hot path keeps every guarantee of the slow path.

PostgreSQL: many threads on a small pool, a pool of one, errors, close. SQLite: the per-thread
reused cursor holds no read snapshot between calls. Redis: a blocking connection pool, so the
101st concurrent command waits instead of failing.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from gatepass import Sessions
from gatepass.errors import StoreError, StoreUnavailable
from gatepass.stores import open_store

OPTIONS: dict[str, Any] = {"idle_timeout": 3600, "absolute_timeout": 86400, "touch_interval": 60}


# --- PostgreSQL ----------------------------------------------------------------------------------


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    import psycopg

    schema = f"gptest_{secrets.token_hex(4)}"
    yield f"{postgres_url}?schema={schema}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_postgres_gets_from_many_threads_on_a_small_pool(pg_url: str) -> None:
    store = open_store(f"{pg_url}&pool_max_size=3&pool_timeout=10")
    store.setup()
    try:
        sessions = Sessions(store, **OPTIONS)
        tokens = [sessions.create(f"user{i}")[0] for i in range(8)]
        barrier = threading.Barrier(16)

        def work(n: int) -> list[str | None]:
            barrier.wait()
            out = []
            for i in range(60):
                record = sessions.get(tokens[(n + i) % len(tokens)])
                out.append(None if record is None else record.user_id)
            return out

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(work, range(16)))
        for n, got in enumerate(results):
            assert got == [f"user{(n + i) % len(tokens)}" for i in range(60)]
        stats = store.pool.get_stats()
        assert stats["pool_size"] <= 3
        with store.connection() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert sessions.revoke_all("user0") == 1  # a write through the pool, meanwhile
        assert sessions.get(tokens[0]) is None
    finally:
        store.close()


def test_postgres_pool_of_one_serves_gets_and_other_statements(pg_url: str) -> None:
    store = open_store(f"{pg_url}&pool_max_size=1&pool_timeout=1")
    store.setup()
    try:
        sessions = Sessions(store, **OPTIONS)
        token, _ = sessions.create("alice")
        for _ in range(5):
            assert sessions.get(token) is not None
        with store.pool.connection(timeout=1) as conn:  # the only connection is in the pool
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        store.close()


def test_postgres_failed_get_is_an_error_and_the_store_recovers(pg_url: str) -> None:
    store = open_store(f"{pg_url}&pool_max_size=4")
    store.setup()
    try:
        sessions = Sessions(store, **OPTIONS)
        token, _ = sessions.create("alice")
        assert sessions.get(token) is not None
        with store.connection() as conn:
            conn.execute(f"DROP TABLE {store.table('sessions')}")
        with pytest.raises(StoreError):  # a missing table: an error, never "no such session"
            sessions.get(token)
        store.setup()
        token, _ = sessions.create("alice")
        assert sessions.get(token) is not None
    finally:
        store.close()


def test_postgres_close_ends_the_pool(pg_url: str) -> None:
    store = open_store(f"{pg_url}&pool_max_size=4")
    store.setup()
    sessions = Sessions(store, **OPTIONS)
    token, _ = sessions.create("alice")
    assert sessions.get(token) is not None
    store.close()
    assert store.pool.closed
    with pytest.raises(StoreUnavailable):
        sessions.get(token)


# --- SQLite --------------------------------------------------------------------------------------


def test_sqlite_reused_cursor_holds_no_snapshot(tmp_path: Path) -> None:
    """If the hot path's cursor kept its statement open, it would pin a WAL snapshot: checkpoints
    could not finish and the WAL would grow without bound under steady reads."""
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    store.setup()
    sessions = Sessions(store, **OPTIONS)
    token, _ = sessions.create("alice")
    writer = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    try:
        for probe in (token, "AAAA." + "A" * 43):  # a hit and a miss
            sessions.get(probe)
            sessions.create("bob")  # new WAL frames the checkpoint must copy
            busy, _log, _done = writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            assert busy == 0
        assert sessions.get(token) is not None
    finally:
        writer.close()
        store.close()
    with pytest.raises(StoreUnavailable):  # the cached cursor is not used after close()
        sessions.get(token)


def test_sqlite_close_reaches_every_threads_cursor(tmp_path: Path) -> None:
    """The hot path has no closed check of its own: a worker thread whose cursor was cached before
    ``close()`` must still get ``StoreUnavailable``, not a driver error or a record."""
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    store.setup()
    sessions = Sessions(store, **OPTIONS)
    token, _ = sessions.create("alice")
    with ThreadPoolExecutor(max_workers=1) as worker:
        assert worker.submit(sessions.get, token).result() is not None  # caches its cursor
        store.close()
        with pytest.raises(StoreUnavailable, match="closed"):
            worker.submit(sessions.get, token).result()
        with pytest.raises(StoreUnavailable, match="closed"):
            worker.submit(sessions.get, "AAAA." + "A" * 43).result()


# --- Redis ---------------------------------------------------------------------------------------


@pytest.fixture
def redis_prefixed(redis_url: str) -> Iterator[str]:
    import redis

    prefix = f"gptest:{secrets.token_hex(4)}:"
    yield f"{redis_url}?prefix={prefix}"
    client = redis.Redis.from_url(redis_url)
    try:
        for key in list(client.scan_iter(match=f"{prefix}*", count=1000)):
            client.delete(key)
    finally:
        client.close()


def _twelve_threads_on_two_connections(url: str) -> None:
    """12 threads reading one session through a store with 2 connections (per node): every read
    gets its answer (redis-py's default pool fails most of them: MaxConnectionsError)."""
    store = open_store(f"{url}&max_connections=2")
    try:
        sessions = Sessions(store, **OPTIONS)
        token, record = sessions.create("alice")
        barrier = threading.Barrier(12)

        def work(_: int) -> set[str | None]:
            barrier.wait()
            return {getattr(sessions.get(token), "id", None) for _ in range(30)}

        with ThreadPoolExecutor(12) as pool:
            seen = set().union(*pool.map(work, range(12)))
        assert seen == {record.id}
        sessions.revoke(token)
    finally:
        store.close()


def test_redis_more_threads_than_connections_wait(redis_prefixed: str) -> None:
    """redis-py's default pool raises "Too many connections" past its limit (100); gatepass's
    blocking pool makes the extra callers wait for a free connection instead."""
    _twelve_threads_on_two_connections(redis_prefixed)


def test_redis_cluster_more_threads_than_connections_wait(redis_cluster_url: str) -> None:
    """The sync cluster client gets the blocking pool on every node too."""
    _twelve_threads_on_two_connections(f"{redis_cluster_url}?prefix=gptest:{secrets.token_hex(4)}:")


def test_redis_pool_timeout_fails_closed_then_recovers(redis_prefixed: str) -> None:
    store = open_store(f"{redis_prefixed}&max_connections=1&pool_timeout=0.2")
    try:
        sessions = Sessions(store, **OPTIONS)
        token, _ = sessions.create("alice")
        pool = store.client.connection_pool
        held = pool.get_connection()  # the only connection, busy elsewhere
        try:
            with pytest.raises(StoreUnavailable):
                sessions.get(token)
        finally:
            pool.release(held)
        assert sessions.get(token) is not None
    finally:
        store.close()
