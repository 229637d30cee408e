"""The hot path, observed from the servers: one command / one statement per ``get``, and a write
only when the throttled touch is due (Redis ``INFO commandstats`` on a private server, a libpq
protocol trace and the row's ``ctid`` on PostgreSQL, ``PRAGMA data_version`` on SQLite)."""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path
from typing import Any

from gp_session_harness import START
from gp_store_servers import RedisServer

from gatepass import Sessions
from gatepass.stores import open_store
from gp_testkit import FakeClock


def _commandstats(server: RedisServer) -> dict[str, int]:
    stats: dict[str, int] = {}
    for line in server.cli("info", "commandstats").splitlines():
        if line.startswith("cmdstat_"):
            name, _, rest = line.partition(":")
            calls = int(rest.split(",")[0].split("=")[1])
            if not name.startswith(("cmdstat_info", "cmdstat_config")):
                stats[name.removeprefix("cmdstat_")] = calls
    return stats


def test_redis_one_command_per_get_and_throttled_writes(
    redis_server_bin: str, tmp_path: Path
) -> None:
    server = RedisServer(tmp_path / "redis").start()
    try:
        clock = FakeClock(START)
        store = open_store(server.url)
        sessions = Sessions(
            store, idle_timeout=100, absolute_timeout=1000, touch_interval=10, clock=clock
        )
        store.setup()  # loads the scripts
        token, _ = sessions.create("alice")
        server.cli("config", "resetstat")
        for _ in range(20):
            clock.advance(0.4)
            assert sessions.get(token) is not None
        # One round trip each: a plain GET. No write inside the touch interval.
        assert _commandstats(server) == {"get": 20}
        server.cli("config", "resetstat")
        clock.advance(10)
        assert sessions.get(token) is not None
        # The due touch: the GET plus one compare-and-set EVALSHA, whose GET and SET run inside.
        assert _commandstats(server) == {"get": 2, "evalsha": 1, "set": 1}
        store.close()
    finally:
        server.kill()


def test_postgres_one_statement_per_get_and_throttled_writes(
    postgres_url: str, tmp_path: Path
) -> None:
    import psycopg

    schema = f"gptest_{secrets.token_hex(4)}"
    store = open_store(f"{postgres_url}?schema={schema}&pool_min_size=1&pool_max_size=1")
    try:
        store.setup()
        clock = FakeClock(START)
        sessions = Sessions(
            store, idle_timeout=100, absolute_timeout=1000, touch_interval=10, clock=clock
        )
        token, record = sessions.create("alice")

        def ctid() -> str:
            with psycopg.connect(postgres_url) as conn:
                sql = f"SELECT ctid::text FROM {store.table('sessions')} WHERE id = %s"
                return str(conn.execute(sql, (record.id,)).fetchone()[0])  # type: ignore[index]

        assert sessions.get(token) is not None  # prepares the statement (once per connection)
        trace = tmp_path / "libpq.trace"
        before = ctid()
        with open(trace, "w") as sink:
            with store.pool.connection() as conn:  # the pool's only connection
                conn.pgconn.trace(sink.fileno())
                conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
            for _ in range(10):
                clock.advance(0.5)
                assert sessions.get(token) is not None
            with store.pool.connection() as conn:
                conn.pgconn.untrace()
        assert ctid() == before  # no write inside the touch interval
        frontend = [line.split("\t") for line in trace.read_text().splitlines()]
        syncs = [f for f in frontend if len(f) > 2 and f[0] == "F" and f[2].startswith("Sync")]
        queries = [f for f in frontend if len(f) > 2 and f[0] == "F" and f[2].startswith("Query")]
        assert len(syncs) + len(queries) == 10  # one round trip (one statement) per get
        clock.advance(10)
        assert sessions.get(token) is not None
        assert ctid() != before  # the due touch wrote once
    finally:
        store.close()
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_sqlite_writes_only_when_due(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    store.setup()
    clock = FakeClock(START)
    sessions = Sessions(
        store, idle_timeout=100, absolute_timeout=1000, touch_interval=10, clock=clock
    )
    token, _ = sessions.create("alice")
    observer = sqlite3.connect(tmp_path / "s.db")

    def version() -> Any:
        return observer.execute("PRAGMA data_version").fetchone()[0]

    start = version()
    for _ in range(10):
        clock.advance(0.5)
        assert sessions.get(token) is not None
    assert version() == start
    clock.advance(10)
    assert sessions.get(token) is not None
    assert version() != start
    observer.close()
    store.close()


def test_memory_writes_only_when_due() -> None:
    store = open_store("memory://")
    clock = FakeClock(START)
    sessions = Sessions(
        store, idle_timeout=100, absolute_timeout=1000, touch_interval=10, clock=clock
    )
    token, _ = sessions.create("alice")
    stored = next(iter(store.table("sessions").values()))
    for _ in range(10):
        clock.advance(0.5)
        assert sessions.get(token) is stored  # the very object: nothing was rewritten
    clock.advance(10)
    assert sessions.get(token) is not stored


def test_redis_one_command_per_dpop_proof(redis_server_bin: str, tmp_path: Path) -> None:
    """The shared replay cache: one ``SET NX PX`` per proof, fresh or replayed, nothing else."""
    import time

    from gatepass.strategies.dpop import StoreReplayCache

    server = RedisServer(tmp_path / "redis").start()
    try:
        store = open_store(server.url)
        store.setup()  # connects
        cache = StoreReplayCache(store)
        ids = [secrets.token_hex(32) for _ in range(10)]
        server.cli("config", "resetstat")
        later = time.time() + 60
        assert [cache.seen(i, later) for i in ids] == [False] * 10
        assert [cache.seen(i, later) for i in ids] == [True] * 10
        assert _commandstats(server) == {"set": 20}
        store.close()
    finally:
        server.kill()
