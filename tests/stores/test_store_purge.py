"""``purge_expired`` on the memory, SQLite and PostgreSQL stores, sync and async: a checked cut-off,
bounded SQLite batches that let other writers in, an automatic purge that also runs in processes
creating fewer than 1000 sessions, and the async PostgreSQL purge running the registered steps.

Redis is covered by its own suite (sessions expire there by native TTL); these tests pin
``backend`` to the stores whose purge they check.
"""

from __future__ import annotations

import inspect
import math
import os
import secrets
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from gp_session_harness import DEFAULTS, START, Harness

import gatepass
from gatepass.errors import ConfigurationError
from gatepass.stores import open_async_store, open_store
from gatepass.stores.sqlite.connection import _PURGE_BATCH
from gatepass.stores.sqlrows import SESSION_COLUMNS
from gatepass.strategies._session_tokens import routing_tag
from gp_testkit import FakeClock

IDLE = DEFAULTS["idle_timeout"]
PURGED_BACKENDS = ["memory", "sqlite", "postgres"]


async def _maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def _stored(store: Any, user_id: str) -> int:
    """How many sessions of ``user_id`` the store holds, expired or not (read without touching:
    the store's ``session_list`` decides nothing, it lists what it holds)."""
    return len(await _maybe(store.session_list(user_id, routing_tag(user_id))))


# --- 1: a purge cut-off that is not a point in time is refused, and nothing is deleted ----------


@pytest.mark.parametrize("backend", PURGED_BACKENDS)
@pytest.mark.parametrize(
    "bad",
    ["x", "1e18", math.nan, math.inf, -math.inf, True, False, object(), b"1", [1.0]],
    ids=["str", "numeric-str", "nan", "inf", "-inf", "True", "False", "object", "bytes", "list"],
)
async def test_purge_rejects_a_bad_cut_off_and_deletes_nothing(harness: Harness, bad: Any) -> None:
    h = harness
    for _ in range(2):
        await h.create("alice", remember=True)  # live after the advance
        await h.create("alice")  # dead after the advance
    h.clock.advance(IDLE + 1)
    assert await _stored(h.store, "alice") == 4
    with pytest.raises(ConfigurationError, match="purge time"):
        await _maybe(h.store.purge_expired(bad))
    # SQLite orders every REAL below every TEXT: "x" would have matched all four, live ones too.
    assert await _stored(h.store, "alice") == 4
    assert await h.purge() == 2  # the store still works, and a real cut-off still purges
    assert await _stored(h.store, "alice") == 2


@pytest.mark.parametrize("backend", PURGED_BACKENDS)
async def test_purge_accepts_none_ints_and_floats(harness: Harness) -> None:
    h = harness
    await h.create("alice")
    assert await _maybe(h.store.purge_expired(int(h.clock.now))) == 0  # an int is a time too
    assert await _maybe(h.store.purge_expired(None)) == 1  # None: now (real time, far later)
    await h.create("alice")
    assert await _maybe(h.store.purge_expired(h.clock.now + IDLE)) == 1


# --- 2: SQLite purges in bounded batches ----------------------------------------------------------


def _rows(count: int, user_id: str, expires_at: float) -> list[tuple[Any, ...]]:
    meta = '{"ua":"test"}'
    return [
        (os.urandom(32), f"{user_id}-{i}", user_id, 1.0, 1.0, 1.0, expires_at, 1e12, 0, meta, "{}")
        for i in range(count)
    ]


def _insert(store: Any, rows: list[tuple[Any, ...]]) -> None:
    sql = (
        f"INSERT INTO {store.table('sessions')} (token_hash, {SESSION_COLUMNS}) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?)"
    )
    with store.transaction() as conn:
        conn.executemany(sql, rows)


def _count(conn: sqlite3.Connection, store: Any, user_id: str) -> int:
    sql = f"SELECT count(*) FROM {store.table('sessions')} WHERE user_id = ?"
    return int(conn.execute(sql, (user_id,)).fetchone()[0])


def _traced_session_deletes(statements: list[str], store: Any) -> list[str]:
    table = store.table("sessions")
    return [s for s in statements if s.lstrip().upper().startswith(f"DELETE FROM {table}".upper())]


def test_sqlite_purge_deletes_every_expired_row_in_bounded_batches(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'batches.db'}")
    try:
        store.setup()
        dead = 2 * _PURGE_BATCH + 2000
        _insert(store, _rows(dead, "dead", 100.0) + _rows(50, "live", 1e9))
        statements: list[str] = []
        with store.connection() as conn:
            conn.set_trace_callback(statements.append)
            try:
                removed = store.purge_expired(1000.0)
            finally:
                conn.set_trace_callback(None)
            assert removed == dead  # the other tables (refresh, revocations) are empty
            assert _count(conn, store, "dead") == 0
            assert _count(conn, store, "live") == 50
            deletes = _traced_session_deletes(statements, store)
            assert len(deletes) == 3, deletes  # 5000, 5000, 2000: one transaction each
            assert statements.count("COMMIT") >= 3
            for sql in deletes:
                assert f"LIMIT {_PURGE_BATCH}" in sql
                plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
                # The outer DELETE by primary key, the inner SELECT by the expiry index.
                assert any("USING PRIMARY KEY (token_hash=?)" in p for p in plan), plan
                assert any(
                    f"USING COVERING INDEX {store.prefix}sessions_expiry (expires_at<?)" in p
                    for p in plan
                ), plan
                assert not any(p.startswith("SCAN") for p in plan), plan
        assert store.purge_expired(1000.0) == 0
    finally:
        store.close()


def test_sqlite_purge_lets_another_writer_in_between_batches(tmp_path: Path) -> None:
    """A writer with a short busy timeout, started while a large purge runs, commits before the
    purge's last batch: the purge does not hold the write lock from start to end."""
    path = tmp_path / "writer.db"
    store = open_store(f"sqlite:///{path}")
    try:
        store.setup()
        dead = 12 * _PURGE_BATCH
        _insert(store, _rows(dead, "dead", 100.0) + _rows(5, "live", 1e9))
        purge_started = threading.Event()
        writer_done = threading.Event()
        failures: list[BaseException] = []
        seen_by_each_batch: list[bool] = []

        def trace(statement: str) -> None:
            if _traced_session_deletes([statement], store):
                seen_by_each_batch.append(writer_done.is_set())
                purge_started.set()

        def writer() -> None:
            conn = sqlite3.connect(path, timeout=0.5, isolation_level=None)
            try:
                conn.execute("PRAGMA busy_timeout = 500")
                purge_started.wait(60)
                conn.execute(
                    f"INSERT INTO {store.table('sessions')} (token_hash, {SESSION_COLUMNS}) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    _rows(1, "writer", 1e9)[0],
                )
                writer_done.set()
            except BaseException as exc:  # reported below, in the test's thread
                failures.append(exc)
            finally:
                conn.close()

        thread = threading.Thread(target=writer)
        thread.start()
        with store.connection() as conn:
            conn.set_trace_callback(trace)
            try:
                removed = store.purge_expired(1000.0)
            finally:
                conn.set_trace_callback(None)
                purge_started.set()
            thread.join()
            assert failures == []
            assert removed == dead
            assert len(seen_by_each_batch) == 13  # 12 full batches, then one that finds none
            # Some batch started after the writer had committed: it got in between batches.
            assert True in seen_by_each_batch[1:], seen_by_each_batch
            assert _count(conn, store, "dead") == 0
            assert _count(conn, store, "live") == 5
            assert _count(conn, store, "writer") == 1
    finally:
        store.close()


# --- 3: the automatic purge starts at a random point ----------------------------------------------


async def _creates_until_purged(url: str, mode: str, clock: FakeClock) -> int:
    """On a fresh store object: one session that then expires, then creations until the
    automatic purge removes it; returns how many creations that took (after the first one)."""
    if mode == "sync":
        store: Any = open_store(url)
        sessions: Any = gatepass.Sessions(store, clock=clock, **DEFAULTS)
    else:
        store = open_async_store(url)
        sessions = gatepass.AsyncSessions(store, clock=clock, **DEFAULTS)
    try:
        await _maybe(sessions.create("doomed"))
        clock.advance(IDLE + 1)
        for count in range(1, 2001):
            await _maybe(sessions.create("filler"))
            if await _stored(store, "doomed") == 0:
                return count
        raise AssertionError("no automatic purge in 2000 creations")
    finally:
        await _maybe(store.close())


@pytest.mark.parametrize("backend", PURGED_BACKENDS)
async def test_one_store_purges_within_1000_creates_from_a_random_start(harness: Harness) -> None:
    """Every store object purges within its first 1000 creations (and in every 1000 after), but
    not all at the same one: with a fixed start, each of these would take exactly 999."""
    h = harness
    counts = [await _creates_until_purged(h.url, h.mode, h.clock) for _ in range(3)]
    assert all(1 <= n <= 1000 for n in counts), counts
    assert len(set(counts)) > 1, counts  # all equal by chance: probability 1e-6


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_stores_creating_fewer_than_1000_sessions_purge_sometimes(
    kind: str, tmp_path: Path
) -> None:
    """A CLI tool or a serverless function creates a few sessions per process: across 200 such
    store objects of 100 creations each, some purge (about 10%: once per 1000 creations)."""
    url = "memory://" if kind == "memory" else f"sqlite:///{tmp_path / 'few.db'}?synchronous=OFF"
    if kind == "sqlite":
        first = open_store(url)
        first.setup()
        first.close()
    clock = FakeClock(START)
    purged = 0
    for i in range(200):
        store: Any = open_store(url)
        try:
            sessions = gatepass.Sessions(store, clock=clock, **DEFAULTS)
            doomed = f"doomed-{i}"
            sessions.create(doomed)
            clock.advance(IDLE + 1)
            for _ in range(99):
                sessions.create("filler")
            purged += store.session_list(doomed, routing_tag(doomed)) == []
        finally:
            store.close()
    # Binomial(200, 0.099): 0 has probability 1e-9, 100 or more far less.
    assert 0 < purged < 100, purged


# --- 4: the async PostgreSQL purge removes every kind of state ----------------------------------


@pytest.mark.parametrize("backend", ["postgres"])
@pytest.mark.parametrize("mode", ["async"])
async def test_async_postgres_purge_removes_expired_refresh_families_and_revocations(
    harness: Harness,
) -> None:
    h = harness
    store = h.store
    clock = h.clock
    access = gatepass.AsyncAccessTokens(
        gatepass.KeyRing.generate("ES256"),
        issuer="https://issuer.test",
        audience="api",
        clock=clock,
        revocation="denylist",
        store=store,
    )
    refresh = gatepass.AsyncRefreshTokens(
        store, access, secret=b"purge-test-successor-key-0123456789", clock=clock
    )
    try:
        _, record = await h.create("u1")
        r0, a0 = await refresh.start("u1", session=record)
        await refresh.rotate(r0)
        await access.revoke(a0)
        await access.revoke_user("u1")
        tables = ["refresh_families", "refresh_tokens", "revocations"]

        async def expired_rows(now: float) -> dict[str, int]:
            counts = {}
            async with store.connection() as conn:
                for name in tables:
                    cur = await conn.execute(
                        f"SELECT count(*) FROM {store.table(name)} WHERE expires_at <= %s", (now,)
                    )
                    counts[name] = (await cur.fetchone())[0]
            return counts

        later = clock.advance(10**8)
        before = await expired_rows(later)
        assert all(before.values()), before  # each table holds state that has now expired
        removed = await h.purge()
        assert await expired_rows(later) == dict.fromkeys(tables, 0)
        assert removed == 1 + sum(before.values())  # the session, then families and revocations
    finally:
        await access.aclose()


def test_sqlite_refresh_and_revocation_purges_are_batched_too(tmp_path: Path) -> None:
    """The purges of refresh tokens and families and of revocations go through the
    same batched delete: the refresh token table grows by one row per rotation, so it is
    usually the largest backlog of all."""
    store = open_store(f"sqlite:///{tmp_path / 'steps.db'}")
    try:
        store.setup()
        dead = _PURGE_BATCH + 10
        tok, fam, rev = (
            store.table(n) for n in ("refresh_tokens", "refresh_families", "revocations")
        )
        with store.transaction() as conn:
            conn.executemany(
                f"INSERT INTO {tok} (token_hash, family_id, generation, expires_at) "
                "VALUES (?,?,?,?)",
                [(secrets.token_bytes(32), f"f{i}", 0, 100.0) for i in range(dead)]
                + [(secrets.token_bytes(32), "live", 0, 1e9)],
            )
            conn.executemany(
                f"INSERT INTO {rev} (kind, key, value, expires_at, seq) VALUES (?,?,?,?,?)",
                [("jti", f"k{i}", 1, 100.0, i) for i in range(dead)],
            )
        statements: list[str] = []
        with store.connection() as conn:
            conn.set_trace_callback(statements.append)
            try:
                removed = store.purge_expired(1000.0)
            finally:
                conn.set_trace_callback(None)
            assert removed == 2 * dead
            assert conn.execute(f"SELECT family_id FROM {tok}").fetchall() == [("live",)]
            assert conn.execute(f"SELECT count(*) FROM {rev} WHERE kind != '#'").fetchone() == (0,)
        for table in (tok, fam, rev):
            deletes = [s for s in statements if s.startswith(f"DELETE FROM {table}")]
            assert deletes and all(f"LIMIT {_PURGE_BATCH}" in s for s in deletes), (table, deletes)
        assert len([s for s in statements if s.startswith(f"DELETE FROM {tok}")]) == 2
    finally:
        store.close()
