"""Refresh rotation under faults, on real servers: strict single use with ``grace=0`` across
threads and processes, a grace window that a lagging server's clock cannot stretch, and a
rotation that reaches a stalled store after the caller gave up, which must change nothing (the
caller's retry is a rotation, never a theft alarm)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from gatepass import AccessTokens, KeyRing, RefreshTokens
from gatepass.errors import ReusedToken, RevokedToken, StoreUnavailable
from gatepass.stores import open_store
from gatepass.strategies._refresh_policy import ReuseEvent, parse, successor
from gatepass.strategies._session_tokens import hash_token

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "stores"))

from gp_store_servers import REDIS_SERVER, RedisServer

ISS, AUD = "https://auth.example", "api"
SECRET = b"f" * 32


def flow(store: Any, **kw: Any) -> tuple[RefreshTokens, list[ReuseEvent]]:
    events: list[ReuseEvent] = []
    access = AccessTokens(KeyRing.generate("ES256"), issuer=ISS, audience=AUD)
    options: dict[str, Any] = {"secret": SECRET, "on_reuse": events.append, **kw}
    return RefreshTokens(store, access, **options), events


def outcome(refresh: RefreshTokens, token: str) -> str:
    try:
        refresh.rotate(token)
    except ReusedToken:
        return "reused"
    except RevokedToken:
        return "revoked"
    return "ok"


# --- strict single use -----------------------------------------------------------------------


def test_grace_zero_is_strict_single_use_across_threads(store: Any) -> None:
    """16 threads present one token at the same moment, ten times over: exactly one rotation
    each time, the first replay is reported as reuse, and every other caller finds the family
    revoked (the decision is made after the read, and only a compare-and-set applies it)."""
    for _round in range(10):
        refresh, events = flow(store, grace=0)
        r0, _ = refresh.start("u1")
        results = race(refresh, r0, 16)
        assert sorted(results) == ["ok", "reused"] + ["revoked"] * 14, results
        assert len(events) == 1


def race(refresh: RefreshTokens, token: str, callers: int) -> list[str]:
    """The outcomes of ``callers`` threads presenting ``token`` at the same moment."""
    barrier = threading.Barrier(callers)
    results: list[str] = []

    def worker() -> None:
        barrier.wait()
        results.append(outcome(refresh, token))

    threads = [threading.Thread(target=worker) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


CHILD = textwrap.dedent(
    """
    import os, sys
    from gatepass import AccessTokens, KeyRing, RefreshTokens
    from gatepass.errors import ReusedToken, RevokedToken
    from gatepass.stores import open_store

    store = open_store(os.environ["GP_URL"])
    access = AccessTokens(KeyRing.generate("ES256"), issuer="i", audience="a")
    refresh = RefreshTokens(store, access, secret=os.environ["GP_SECRET"].encode(), grace=0)
    print("ready", flush=True)
    for line in sys.stdin:
        token = line.strip()
        if not token:
            break
        try:
            refresh.rotate(token)
            print("ok", flush=True)
        except ReusedToken:
            print("reused", flush=True)
        except RevokedToken:
            print("revoked", flush=True)
    store.close()
    """
)


@pytest.mark.parametrize("store_url", ["sqlite", "postgres"], indirect=True)
def test_grace_zero_is_strict_single_use_across_processes(store: Any, store_url: str) -> None:
    """Four processes, each sent the same token at once, ten rounds: one winner per round."""
    env = dict(os.environ, GP_URL=store_url, GP_SECRET=SECRET.decode())
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        refresh, _ = flow(store, grace=0)
        for _round in range(10):
            r0, _ = refresh.start("u1")
            for child in children:  # four writes in a row: the processes race for the token
                assert child.stdin is not None
                child.stdin.write(r0 + "\n")
                child.stdin.flush()
            answers = []
            for child in children:
                assert child.stdout is not None
                answers.append(child.stdout.readline().strip())
            assert sorted(answers) == ["ok", "reused", "revoked", "revoked"], answers
    finally:
        for child in children:
            if child.stdin is not None:
                child.stdin.write("\n")
                child.stdin.close()
            child.wait(30)


# --- one clock for the grace window ------------------------------------------------------------


def test_a_lagging_server_cannot_stretch_the_grace_window(store: Any) -> None:
    """Server A rotates; server B, whose clock runs 60 s behind, replays the old token. Inside
    the window (measured on the store's clock) B gets the same successor; once the window has
    passed, B's replay is reuse, however far B's own clock lags."""
    refresh_a, events = flow(store, grace=0.3)
    refresh_b, _ = flow(store, grace=0.3, clock=lambda: time.time() - 60)
    r0, _ = refresh_a.start("u1")
    r1, _ = refresh_a.rotate(r0)
    assert refresh_b.rotate(r0)[0] == r1  # the second tab, at once: the same successor
    time.sleep(0.5)
    with pytest.raises(ReusedToken):
        refresh_b.rotate(r0)
    assert len(events) == 0  # B's hook, not A's: B detected it
    with pytest.raises(RevokedToken):
        refresh_a.rotate(r1)


# --- a write the caller stopped waiting for ---------------------------------------------------


@pytest.mark.parametrize("store_url", ["redis", "postgres"], indirect=True)
def test_a_rotation_reaching_the_store_too_late_changes_nothing(store: Any) -> None:
    """The rotation's write carries a deadline on the store's clock (the read's time plus the
    time a caller waits for one command). Sent after it, it is refused by the store itself:
    the caller sees StoreUnavailable, the family is unchanged, and the retry simply rotates."""
    refresh, events = flow(store, grace=0.05)
    r0, _ = refresh.start("u1")
    parsed = parse(r0)
    assert parsed is not None
    read = store.family_read(*parsed)
    assert read.family is not None
    late = getattr(store, "socket_timeout", None) or store.operation_timeout
    time.sleep(late + 0.2)
    with pytest.raises(StoreUnavailable, match="after the caller stopped waiting"):
        store.family_advance(read, hash_token(successor(SECRET, r0)), parsed[1], time.time())
    family = store.family_of(*parsed)
    assert family is not None and family.generation == 0 and not family.revoked
    time.sleep(0.1)  # past the grace window too: only a rotation that applied could be reused
    r1, _ = refresh.rotate(r0)
    assert r1 == successor(SECRET, r0) and events == []


def test_a_redis_stall_longer_than_the_grace_window_is_not_a_theft_alarm(tmp_path: Path) -> None:
    """Redis freezes (SIGSTOP) between the rotation's read and its write. The caller gives up
    after its socket timeout (StoreUnavailable); when Redis resumes, the write it had queued runs
    late and must change nothing, so the client's retry, well past the grace window, rotates
    instead of revoking the family and calling ``on_reuse``."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path / "redis").start()
    store = open_store(f"{server.url}?socket_timeout=0.5")
    try:
        store.setup()
        refresh, events = flow(store, grace=0.2)
        r0, _ = refresh.start("u1")
        parsed = parse(r0)
        assert parsed is not None
        read = store.family_read(*parsed)
        assert server.proc is not None
        os.kill(server.proc.pid, signal.SIGSTOP)
        try:
            with pytest.raises(StoreUnavailable):
                store.family_advance(
                    read, hash_token(successor(SECRET, r0)), parsed[1], time.time()
                )
            time.sleep(1.0)  # longer than the deadline the write carries
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        time.sleep(0.3)  # the queued writes run now, late
        family = store.family_of(*parsed)
        assert family is not None and family.generation == 0 and not family.revoked
        r1, _ = refresh.rotate(r0)  # the client's retry
        assert r1 == successor(SECRET, r0) and events == []
    finally:
        store.close()
        server.kill()
