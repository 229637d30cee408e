"""Security notes, "Sessions, refresh tokens and cookies": the attacks the store and strategy suites
do not already perform. Real Redis and PostgreSQL through the ``store`` fixture (every backend).

Covered here: a leaked store holds no usable refresh token (1); session fixation (3); the gap
between ``Sessions.revoke`` and access tokens (5, an expected failure that documents it); rotation
and updates racing "log out this device" (9); fail-closed verification, refresh and revocation
when Redis or PostgreSQL is down or dies mid-test (10); purge by index and native TTLs (11).
"""

from __future__ import annotations

import contextlib
import inspect
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from secnotes_kit import AUD, ISS, dump_store, secret_parts

from gatepass import AccessTokens, KeyRing, RefreshTokens, Sessions
from gatepass.errors import (
    ConfigurationError,
    InvalidToken,
    ReusedToken,
    RevokedToken,
    StoreUnavailable,
)
from gatepass.stores import open_store
from gatepass.strategies._session_tokens import routing_tag
from gp_testkit import FakeClock

SECRET = b"refresh-successor-key-0123456789abcdef"


def _hybrid(
    store: Any, clock: Callable[[], float], mode: str = "denylist", ring: KeyRing | None = None
) -> tuple[Sessions, AccessTokens, RefreshTokens]:
    sessions = Sessions(store, idle_timeout=86400, absolute_timeout=86400, clock=clock)
    access = AccessTokens(
        ring or KeyRing.generate("ES256"),
        issuer=ISS,
        audience=AUD,
        clock=clock,
        revocation=mode,
        store=store if mode != "stateless" else None,
    )
    refresh = RefreshTokens(store, access, secret=SECRET, clock=clock)
    return sessions, access, refresh


# --- 1: a leaked store or backup holds no usable session or refresh token ----------------------


def test_leaked_store_holds_no_session_or_refresh_token(store: Any) -> None:
    clock = FakeClock()
    sessions, access, refresh = _hybrid(store, clock)
    session_token, record = sessions.create("victim", metadata={"ua": "Firefox"})
    r0, a0 = refresh.start("victim", session=record)
    clock.advance(10)
    r1, _ = refresh.rotate(r0)
    access.revoke(a0)
    dump = dump_store(store)
    assert record.id.encode() in dump  # we really are reading the stored data
    for token in (session_token, r0, r1):
        assert token.encode() not in dump
        for part in secret_parts(token):
            assert part.encode() not in dump, part
    assert SECRET not in dump  # the successor key is configuration, never stored
    # Nothing in the dump works as a token either: the stored hashes are not tokens.
    assert sessions.get(record.id) is None
    with pytest.raises(InvalidToken):
        refresh.rotate("rt_" + routing_tag("victim") + "." + "A" * 22 + "~" + "A" * 43)


# --- 3: session fixation ------------------------------------------------------------------------


def test_session_fixation_a_planted_token_never_becomes_the_victims(store: Any) -> None:
    """The attacker plants a token in the victim's browser before login: their own live session,
    or a well-formed token of their choosing. Logging in never adopts either; the token is always
    chosen by gatepass (``create`` has no parameter that could accept one)."""
    sessions = Sessions(store)
    assert list(inspect.signature(Sessions.create).parameters) == [
        "self",
        "user_id",
        "remember",
        "metadata",
    ]
    planted_live, _ = sessions.create("mallory")
    planted_chosen = routing_tag("victim") + "." + "F" * 43
    victim_token, victim = sessions.create("victim")  # the login
    assert victim_token not in (planted_live, planted_chosen)
    got = sessions.get(planted_live)
    assert got is not None and got.user_id == "mallory"  # still only the attacker's own session
    assert sessions.get(planted_chosen) is None
    with pytest.raises(InvalidToken):
        sessions.rotate(planted_chosen)
    # Privilege change / re-authentication: the token from before is dead at once.
    elevated = sessions.rotate(victim_token, reauthenticated=True)
    assert sessions.get(victim_token) is None
    now = sessions.get(elevated)
    assert now is not None and now.id == victim.id and now.user_id == "victim"


# --- 5: one state model ---------------------------------------------------------------------------


def _linked(store: Any, clock: Callable[[], float], mode: str = "denylist") -> tuple[Any, ...]:
    access = AccessTokens(
        KeyRing.generate("ES256"),
        issuer=ISS,
        audience=AUD,
        clock=clock,
        revocation=mode,
        store=store,
    )
    sessions = Sessions(
        store, idle_timeout=86400, absolute_timeout=86400, clock=clock, access_tokens=access
    )
    return sessions, access


def test_revoking_a_session_directly_ends_its_access_tokens(store: Any) -> None:
    """AuthX's failure: revoking a session left its JWTs valid. With ``access_tokens`` linked,
    ``Sessions.revoke`` (by token, and by public id from a "your devices" page) ends them."""
    clock = FakeClock()
    sessions, access = _linked(store, clock)
    try:
        session_token, record = sessions.create("u1")
        stolen = access.issue("u1", session=record)
        other_token, other = sessions.create("u1")
        other_access = access.issue("u1", session=other)
        assert access.verify(stolen)["sid"] == record.id
        assert sessions.revoke(session_token)
        with pytest.raises(RevokedToken):
            access.verify(stolen)  # the attacker's copy of the bearer token is dead too
        assert access.verify(other_access)["sid"] == other.id  # other devices are untouched
        assert sessions.revoke(other.id, user_id="u1")
        with pytest.raises(RevokedToken):
            access.verify(other_access)
        assert sessions.get(other_token) is None
    finally:
        access.close()


def test_log_out_everywhere_else_keeps_only_the_current_devices_tokens(store: Any) -> None:
    clock = FakeClock()
    sessions, access = _linked(store, clock)
    try:
        current_token, current = sessions.create("u2")
        _, laptop = sessions.create("u2")
        current_access = access.issue("u2", session=current)
        laptop_access = access.issue("u2", session=laptop)
        assert sessions.revoke_all("u2", except_token=current_token) >= 1
        with pytest.raises(RevokedToken):
            access.verify(laptop_access)
        assert access.verify(current_access)["sub"] == "u2"
        assert sessions.revoke_all("u2") >= 1  # "freeze account": every token of the user
        with pytest.raises(RevokedToken):
            access.verify(current_access)
    finally:
        access.close()


def test_linking_stateless_access_tokens_is_refused() -> None:
    """A link that cannot revoke would be a silent lie: refuse it at configuration time."""
    access = AccessTokens(KeyRing.generate("ES256"), issuer=ISS, audience=AUD)
    with pytest.raises(ConfigurationError):
        Sessions(open_store("memory://"), access_tokens=access)


# --- 9: race-safe writes --------------------------------------------------------------------------

THREADS = 6


def _ticking() -> Callable[[], float]:
    ticks = iter(range(10**9))
    lock = threading.Lock()

    def clock() -> float:
        with lock:
            return 1_800_000_000.0 + next(ticks)

    return clock


def _wait_for(predicate: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.0005)


def test_rotations_racing_log_out_this_device_leave_nothing_alive(store: Any) -> None:
    """Log out this device (revoke by public id, from a devices page) while the device's
    requests keep rotating its token: the revocation must win whatever the interleaving. A store
    that looked the session up by id and then deleted the hash it had found would miss a session
    rotated in between, and the device would stay logged in."""
    sessions = Sessions(
        store, idle_timeout=1e6, absolute_timeout=1e9, touch_interval=1, clock=_ticking()
    )
    for _ in range(3):
        token, record = sessions.create("alice")
        live = [token]
        done = threading.Event()
        start = threading.Barrier(THREADS + 1)

        def device(
            live: list[str] = live,
            done: threading.Event = done,
            start: threading.Barrier = start,
        ) -> int:
            start.wait()
            late = 0
            while not done.is_set() or late < 3:  # keep rotating through the revocation
                late += done.is_set()
                with contextlib.suppress(InvalidToken):
                    live.append(sessions.rotate(live[-1]))
            return late

        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(device) for _ in range(THREADS)]
            start.wait()
            _wait_for(lambda: len(live) > 10)  # noqa: B023 - rotations are landing now
            assert sessions.revoke(record.id, user_id="alice") is True
            done.set()
            assert all(f.result() == 3 for f in futures)
        assert len(live) > 10
        assert sessions.list("alice") == []
        assert [t for t in live if sessions.get(t) is not None] == []


def test_updates_racing_revoke_never_resurrect_the_session(store: Any) -> None:
    sessions = Sessions(
        store, idle_timeout=1e6, absolute_timeout=1e9, touch_interval=1, clock=_ticking()
    )
    token, _ = sessions.create("alice")
    start = threading.Barrier(THREADS + 1)
    revoked = threading.Event()
    writes: list[int] = []
    after_revoke: list[Any] = []

    def writer(i: int) -> None:
        start.wait()
        j = late = 0
        while not revoked.is_set() or late < 5:
            was_revoked = revoked.is_set()
            late += was_revoked
            j += 1
            try:
                sessions.update(token, {f"w{i}": j})
                sessions.get(token)  # touches race the revoke as well
            except InvalidToken:
                continue
            writes.append(i)
            if was_revoked:
                after_revoke.append((i, j))  # an update succeeded after the revoke returned

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(writer, i) for i in range(THREADS)]
        start.wait()
        _wait_for(lambda: len(writes) > 10)
        assert sessions.revoke(token) is True
        revoked.set()
        for future in futures:
            future.result()
    assert len(writes) > 10
    assert after_revoke == []
    assert sessions.get(token) is None
    assert sessions.list("alice") == []


# --- 10: fail closed ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _assert_every_call_fails_closed(
    sessions: Sessions,
    access: AccessTokens,
    refresh: RefreshTokens,
    tokens: dict[str, str],
) -> None:
    """Never claims, never "no such session", never False for a revocation that did not happen."""
    calls: list[tuple[str, Callable[[], object]]] = [
        ("verify revoked access token", lambda: access.verify(tokens["revoked_access"])),
        ("verify good access token", lambda: access.verify(tokens["access"])),
        ("revoke access token", lambda: access.revoke(tokens["access"])),
        ("revoke user", lambda: access.revoke_user("u1")),
        ("rotate refresh token", lambda: refresh.rotate(tokens["refresh"])),
        ("revoke refresh token", lambda: refresh.revoke(tokens["refresh"])),
        ("start refresh family", lambda: refresh.start("u1")),
        ("get session", lambda: sessions.get(tokens["session"])),
        ("revoke session", lambda: sessions.revoke(tokens["session"])),
        ("revoke all sessions", lambda: sessions.revoke_all("u1")),
    ]
    for name, call in calls:
        with pytest.raises(StoreUnavailable):
            result = call()
            pytest.fail(f"{name} returned {result!r} with the store down")


@pytest.mark.parametrize("kind", ["redis", "postgres"])
def test_nothing_listening_fails_closed(kind: str) -> None:
    port = _free_port()
    if kind == "redis":
        url = f"redis://127.0.0.1:{port}/0?socket_connect_timeout=0.3"
    else:
        url = f"postgresql://postgres@127.0.0.1:{port}/test?pool_timeout=0.3&connect_timeout=1"
    # Tokens minted elsewhere (while the store was up): a working deployment's cookies.
    up = open_store("memory://")
    clock = FakeClock()
    ring = KeyRing.generate("ES256")
    up_sessions, _, up_refresh = _hybrid(up, clock, mode="stateless", ring=ring)
    session_token, record = up_sessions.create("u1")
    refresh_token, access_token = up_refresh.start("u1", session=record)
    down = open_store(url)
    try:
        sessions, access, refresh = _hybrid(down, clock, ring=ring)
        tokens = {
            "session": session_token,
            "refresh": refresh_token,
            "access": access_token,
            "revoked_access": access_token,
        }
        _assert_every_call_fails_closed(sessions, access, refresh, tokens)
    finally:
        down.close()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0?socket_connect_timeout=0.3&socket_timeout=1", proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(10)


def test_redis_dying_mid_flight_fails_closed(
    private_redis: tuple[str, subprocess.Popen[bytes]],
) -> None:
    """Pooled connections that were fine a moment ago break: still fail closed."""
    url, proc = private_redis
    store = open_store(url)
    try:
        store.setup()
        clock = FakeClock()
        sessions, access, refresh = _hybrid(store, clock)
        session_token, record = sessions.create("u1")
        refresh_token, access_token = refresh.start("u1", session=record)
        revoked = access.issue("u1", session=record)
        access.revoke(revoked)
        assert access.verify(access_token)["sub"] == "u1"
        with pytest.raises(RevokedToken):
            access.verify(revoked)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        tokens = {
            "session": session_token,
            "refresh": refresh_token,
            "access": access_token,
            "revoked_access": revoked,
        }
        _assert_every_call_fails_closed(sessions, access, refresh, tokens)
    finally:
        store.close()


def test_postgres_connections_killed_mid_flight_never_accept_a_revoked_token(
    postgres_url: str,
) -> None:
    """Our pooled PostgreSQL connections are terminated by the server: each call either fails
    closed or, on a fresh connection, gives the right answer. A revoked token is never accepted."""
    import psycopg

    app = f"gpsec_{int(time.time() * 1000) % 10**9}"
    url = f"{postgres_url}?schema={app}&application_name={app}&pool_min_size=2&pool_max_size=2"
    store = open_store(url)
    try:
        store.setup()
        clock = FakeClock()
        sessions, access, refresh = _hybrid(store, clock)
        session_token, record = sessions.create("u1")
        refresh_token, _ = refresh.start("u1", session=record)
        revoked = access.issue("u1")
        access.revoke(revoked)
        assert sessions.revoke(session_token)
        for _ in range(3):
            with psycopg.connect(postgres_url, autocommit=True) as conn:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s",
                    (app,),
                )
            for call in (
                lambda: access.verify(revoked),
                lambda: refresh.rotate(refresh_token),  # its session is gone
            ):
                with pytest.raises((RevokedToken, StoreUnavailable)):
                    call()
            with contextlib.suppress(StoreUnavailable):
                assert sessions.get(session_token) is None
    finally:
        store.close()
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{app}" CASCADE')


# --- 11: expired state is purged by index, automatically ------------------------------------------


def _some_state(store: Any, clock: FakeClock) -> None:
    sessions, access, refresh = _hybrid(store, clock)
    for i in range(3):
        _, record = sessions.create(f"u{i}")
        r0, a0 = refresh.start(f"u{i}", session=record)
        refresh.rotate(r0)
        access.revoke(a0)
        access.revoke_user(f"u{i}")


def test_sqlite_purge_deletes_through_expiry_indexes(tmp_path: Path) -> None:
    """Every DELETE that purge_expired really runs (traced on the connection) is an index range
    search, not a table scan: purging stays cheap with millions of live rows."""
    store = open_store(f"sqlite:///{tmp_path / 'purge.db'}")
    try:
        store.setup()
        clock = FakeClock()
        _some_state(store, clock)
        statements: list[str] = []
        with store.connection() as conn:
            conn.set_trace_callback(statements.append)
            try:
                removed = store.purge_expired(clock() + 10**8)
            finally:
                conn.set_trace_callback(None)
            deletes = [s for s in statements if s.lstrip().upper().startswith("DELETE")]
            tables = {s.split()[2] for s in deletes}
            assert len(tables) >= 4, deletes  # sessions, refresh tokens and families, revocations
            for sql in deletes:
                plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
                assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, (sql, plan)
                assert "SCAN" not in plan, (sql, plan)
        assert removed >= 3 + 6 + 3  # sessions, refresh rows, revocations
        assert store.purge_expired(clock() + 10**8) == 0
    finally:
        store.close()


def test_postgres_expiring_tables_are_indexed_and_purged_by_index(postgres_url: str) -> None:
    schema = f"gpsec_purge_{int(time.time() * 1000) % 10**9}"
    store = open_store(f"{postgres_url}?schema={schema}")
    try:
        store.setup()
        clock = FakeClock()
        _some_state(store, clock)
        with store.connection() as conn:
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT table_name FROM information_schema.columns "
                    "WHERE table_schema = %s AND column_name = 'expires_at'",
                    (schema,),
                )
            ]
            assert len(tables) >= 4, tables
            for table in tables:
                defs = [
                    r[0]
                    for r in conn.execute(
                        "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
                        (schema, table),
                    )
                ]
                assert any("(expires_at" in d for d in defs), (table, defs)
            with conn.transaction():
                conn.execute("SET LOCAL enable_seqscan = off")  # the plan for a large table
                sql = store.sql.session_purge.replace("%s", "1e18")
                plan = " | ".join(r[0] for r in conn.execute("EXPLAIN " + sql))
            assert "Index" in plan and "Seq Scan" not in plan, plan
        assert store.purge_expired(clock() + 10**8) >= 3 + 6 + 3
        assert store.purge_expired(clock() + 10**8) == 0
    finally:
        store.close()
        import psycopg

        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_redis_state_expires_by_itself(redis_url: str) -> None:
    """Redis: every key carries a native TTL but two: the revocation change index, trimmed by
    score on every write and by purge, and the revocation loss marker, one small string that
    must outlive everything (docs/access-tokens.md)."""
    prefix = f"gpsecttl{int(time.time() * 1000) % 10**9}:"
    store = open_store(f"{redis_url}?prefix={prefix}")
    try:
        store.setup()
        clock = FakeClock(time.time())  # native TTLs run on real time
        _some_state(store, clock)
        client = store.client
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        assert len(keys) >= 10
        without_ttl = sorted(k for k in keys if client.pttl(k) < 0)
        assert without_ttl == [f"{prefix}{{rv}}:{name}".encode() for name in ("index", "since")]
        assert client.zcard(without_ttl[0]) == 6
        store.purge_expired(clock() + 10**8)
        assert client.zcard(without_ttl[0]) == 0
    finally:
        client = store.client
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)
        store.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_sql_stores_purge_dead_sessions_by_themselves(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Nobody calls purge: dead sessions still do not pile up (amortised: once in every 1000
    creations, from a random start, so the purge falls somewhere inside the 1000 creates below)."""
    schema = f"gpsec_auto_{int(time.time() * 1000) % 10**9}"
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'auto.db'}?synchronous=OFF"
    else:
        url = f"{request.getfixturevalue('postgres_url')}?schema={schema}"
    store = open_store(url)
    try:
        store.setup()
        clock = FakeClock()
        sessions = Sessions(
            store,
            idle_timeout=10,
            absolute_timeout=20,
            touch_interval=1,
            clock=clock,
            max_sessions=None,  # a thousand sessions of one user, all kept
        )
        dead = [sessions.create("alice")[0] for _ in range(10)]
        clock.advance(30)
        for _ in range(1000):
            sessions.create("bob")
        with store.connection() as conn:
            rows = conn.execute(
                f"SELECT user_id, count(*) FROM {store.table('sessions')} GROUP BY user_id"
            ).fetchall()
        assert dict(rows) == {"bob": 1000}
        assert [sessions.get(t) for t in dead] == [None] * 10
    finally:
        store.close()
        if kind == "postgres":
            import psycopg

            with psycopg.connect(request.getfixturevalue("postgres_url"), autocommit=True) as c:
                c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def test_async_sessions_revoke_their_access_tokens_too() -> None:
    from gatepass import AsyncAccessTokens, AsyncSessions, open_async_store

    store = open_async_store("memory://")
    clock = FakeClock()
    async with AsyncAccessTokens(
        KeyRing.generate("ES256"),
        issuer=ISS,
        audience=AUD,
        clock=clock,
        revocation="denylist",
        store=store,
    ) as access:
        sessions = AsyncSessions(store, clock=clock, access_tokens=access)
        keep_token, keep = await sessions.create("u3")
        gone_token, gone = await sessions.create("u3")
        keep_access = await access.issue("u3", session=keep)
        gone_access = await access.issue("u3", session=gone)
        await sessions.revoke_all("u3", except_token=keep_token)
        with pytest.raises(RevokedToken):
            await access.verify(gone_access)
        assert (await access.verify(keep_access))["sid"] == keep.id
        assert await sessions.revoke(keep_token)
        with pytest.raises(RevokedToken):
            await access.verify(keep_access)
        assert await sessions.get(gone_token) is None


def test_reuse_revokes_the_thiefs_access_token_even_without_a_session(store: Any) -> None:
    """RFC 9700 reuse detection must contain the theft: the access token the thief got from
    the stolen refresh token dies with the family, even when no session record anchors it."""
    clock = FakeClock()
    access = AccessTokens(
        KeyRing.generate("ES256"),
        issuer=ISS,
        audience=AUD,
        clock=clock,
        revocation="denylist",
        store=store,
    )
    refresh = RefreshTokens(store, access, secret=SECRET, clock=clock, grace=0)
    first, _ = refresh.start("victim")  # no session=
    clock.advance(10)
    _, thief_access = refresh.rotate(first)  # the thief uses the stolen token first
    assert access.verify(thief_access)["sub"] == "victim"
    clock.advance(10)
    with pytest.raises(ReusedToken):
        refresh.rotate(first)  # the victim's client presents it again
    with pytest.raises(RevokedToken):
        access.verify(thief_access)
