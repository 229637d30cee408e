"""Refresh-token benchmark: round trips per rotation and µs per rotation, per backend.

Round trips: Redis ``INFO commandstats`` before and after N rotations (calls per rotation, by
command, split into the commands the client sent, counted on the client as well, and those run
inside the scripts), for a family without a session and for one bound to a session;
PostgreSQL statements sent per rotation (counted on the client: psycopg ``execute``); memory and
SQLite are in-process (a read, then a compare-and-set under the lock / in ``BEGIN IMMEDIATE``).

Cost: µs per store rotation alone (``family_read``, the rule, ``family_advance``: what
``RefreshTokens.rotate`` does before it signs), and per full ``RefreshTokens.rotate`` (which also
signs the new access token: HS256 here, to keep the signature from dominating), next to one raw
round trip of the backend (``PING`` / ``SELECT 1`` / dict lookup / SQLite ``SELECT 1``).

    .venv/bin/python bench/bench_refresh.py
    .venv/bin/python bench/bench_refresh.py --n 2000 --backends redis,postgres

The machine is shared and noisy: read the ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from gatepass import AccessTokens, Key, RefreshTokens, Sessions
from gatepass.stores import open_store
from gatepass.strategies._refresh_policy import decide, parse, successor

REDIS_URL = os.environ.get("GATEPASS_TEST_REDIS", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get("GATEPASS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
SECRET = b"s" * 32


def urls(tag: str, tmp: Path) -> dict[str, str]:
    return {
        "memory": "memory://",
        "sqlite": f"sqlite:///{tmp / 'bench.db'}",
        "redis": f"{REDIS_URL}?prefix=gprbench{tag}:",
        "postgres": f"{POSTGRES_URL}?schema=gp_bench&prefix=r{tag}_",
    }


def raw_round_trip(store: Any) -> Any:
    if store.kind == "memory":
        table = store.table("refresh_families")
        return lambda: table.get("x")
    if store.kind == "sqlite":

        def sqlite_rt() -> None:
            with store.connection() as conn:
                conn.execute("SELECT 1").fetchone()

        return sqlite_rt
    if store.kind == "redis":
        return store.client.ping

    def pg_rt() -> None:
        with store.connection() as conn:
            conn.execute("SELECT 1").fetchone()

    return pg_rt


def chain(refresh: RefreshTokens, n: int, session: object = None) -> tuple[float, str]:
    token, _ = refresh.start("bench-user", session=session)
    start = time.perf_counter()
    for _ in range(n):
        token, _ = refresh.rotate(token)
    return (time.perf_counter() - start) / n * 1e6, token


def store_only(store: Any, refresh: RefreshTokens, n: int) -> float:
    token, _ = refresh.start("bench-user")
    start = time.perf_counter()
    for _ in range(n):
        nxt = successor(SECRET, token)
        old = parse(token)
        new = parse(nxt)
        assert old is not None and new is not None
        read = store.family_read(*old)
        now = time.time()
        assert decide(read, now=now, idle=3600, grace=5) == "rotated"
        assert store.family_advance(read, new[0], old[1], now)
        token = nxt
    return (time.perf_counter() - start) / n * 1e6


def redis_commandstats(store: Any) -> dict[str, int]:
    info = store.client.info("commandstats")
    return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in info.items()}


def redis_trips(store: Any, refresh: RefreshTokens, n: int, session: object) -> str:
    """Commands per rotation: sent by the client (counted on the client: every command is one
    round trip, nothing is pipelined) and run inside the scripts (server ``commandstats`` minus
    what the client sent). The shared server may serve other clients meanwhile: a noisy
    ``inside`` figure means that, the ``sent`` one is exact."""
    client = store.client
    sent: dict[str, int] = {}
    original = client.execute_command

    def counting(*args: Any, **kwargs: Any) -> Any:
        name = str(args[0]).lower()
        sent[name] = sent.get(name, 0) + 1
        return original(*args, **kwargs)

    token, _ = refresh.start("bench-user", session=session)
    before = redis_commandstats(store)
    client.execute_command = counting
    try:
        for _ in range(n):
            token, _ = refresh.rotate(token)
    finally:
        del client.execute_command
    after = redis_commandstats(store)
    ran = {k: after.get(k, 0) - before.get(k, 0) - sent.get(k, 0) for k in after}
    inside = {k: v / n for k, v in ran.items() if v > 0 and k != "info"}
    return (
        " + ".join(f"{k.upper()} {v / n:.2f}" for k, v in sorted(sent.items()))
        + " (inside: "
        + ", ".join(f"{k.upper()} {v:.2f}" for k, v in sorted(inside.items()))
        + ")"
    )


def count_pg_statements(refresh: RefreshTokens, n: int) -> float:
    import psycopg

    calls = 0
    original = psycopg.Connection.execute

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return original(self, *args, **kwargs)

    token, _ = refresh.start("bench-user")
    psycopg.Connection.execute = counting  # type: ignore[method-assign]
    try:
        for _ in range(n):
            token, _ = refresh.rotate(token)
    finally:
        psycopg.Connection.execute = original  # type: ignore[method-assign]
    return calls / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backends", default="memory,sqlite,redis,postgres")
    args = parser.parse_args()
    tag = secrets.token_hex(3)
    access = AccessTokens(Key.from_secret(b"a" * 32, "HS256"), issuer="i", audience="a")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        all_urls = urls(tag, Path(tmp))
        for name in args.backends.split(","):
            store = open_store(all_urls[name])
            store.setup()
            refresh = RefreshTokens(store, access, secret=SECRET, idle_timeout=3600)
            trips = "read + compare-and-set (in process)"
            if name == "redis":
                chain(refresh, 10)  # loads the scripts (a fresh server answers NOSCRIPT once)
                _, record = Sessions(store, idle_timeout=7200).create("bench-user")
                chain(refresh, 10, session=record)
                trips = (
                    "no session: "
                    + redis_trips(store, refresh, 200, None)
                    + "; session-bound: "
                    + redis_trips(store, refresh, 200, record)
                )
            elif name == "postgres":
                trips = f"{count_pg_statements(refresh, 200):.2f} statement(s)"
            rt = raw_round_trip(store)
            for _ in range(100):
                rt()
            chain(refresh, 300)  # warm up: PostgreSQL prepares statements per pooled connection
            floors, olds, fulls = [], [], []
            for _ in range(args.rounds):
                start = time.perf_counter()
                for _ in range(args.n):
                    rt()
                floors.append((time.perf_counter() - start) / args.n * 1e6)
                olds.append(store_only(store, refresh, args.n))
                fulls.append(chain(refresh, args.n)[0])
            floor, only, full = (statistics.median(x) for x in (floors, olds, fulls))
            rows.append((name, trips, floor, only, full))
            store.purge_expired(time.time() + 10 * 86400)
            if name == "redis":
                keys = list(store.client.scan_iter(match=f"gprbench{tag}:*", count=1000))
                if keys:
                    store.client.delete(*keys)
            if name == "postgres":
                with store.connection() as conn:
                    for t in ("refresh_tokens", "refresh_families", "sessions", "revocations"):
                        conn.execute(f"DROP TABLE IF EXISTS {store.table(t)} CASCADE")
            store.close()
    print(f"\n## Refresh rotation per backend (µs/op, median of {args.rounds} rounds of {args.n})")
    print(
        "| backend | round trips per rotation | raw round trip | store rotation "
        "| full rotate (new pair) | store / raw |\n|---|---|---|---|---|---|"
    )
    for name, trips, floor, only, full in rows:
        print(f"| {name} | {trips} | {floor:.1f} | {only:.1f} | {full:.1f} | {only / floor:.2f}x |")


if __name__ == "__main__":
    main()
