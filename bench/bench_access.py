"""Access-token benchmark: verify cost per revocation mode beside plain ``jwt.verify``, and the
revocation propagation delay between two processes.

Part 1 (one process, interleaved rounds, median): ``jwt.verify`` of the same token with the same
key and claim checks (the floor for an access token), then ``AccessTokens.verify`` in each mode:
stateless, replicated (memory, Redis: no I/O per verify), denylist (memory, SQLite, Redis,
PostgreSQL: one lookup). Target: replicated within 1.1x of plain verify.

Part 2 (two processes): a child process runs ``AccessTokens(revocation="replicated")`` on the same
store and records, for each revocation, the wall-clock instant its cache applied it; the parent
records the instant it started ``revoke()``. Delay = applied - started (includes the revoke round
trip). Median and p99 per backend. Target: under 50 ms on loopback Redis.

    .venv/bin/python bench/bench_access.py
    .venv/bin/python bench/bench_access.py --alg HS256 --revocations 300 --backends redis

The machine is shared and noisy: read the ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gatepass import AccessTokens, Key, jwt
from gatepass.stores import open_store

REDIS_URL = os.environ.get("GATEPASS_TEST_REDIS", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get("GATEPASS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
ISS, AUD = "https://auth.example", "api"


def per_op(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def sample(pairs: dict[str, Callable[[], object]], n: int, rounds: int) -> dict[str, list[float]]:
    """µs/op of each callable in ``rounds`` short interleaved rounds of ``n`` calls."""
    samples: dict[str, list[float]] = {name: [] for name in pairs}
    for fn in pairs.values():
        per_op(fn, max(1, n // 10))
    for _ in range(rounds):
        for name, fn in pairs.items():
            samples[name].append(per_op(fn, n))
    return samples


def compare(pairs: dict[str, Callable[[], object]], n: int, rounds: int) -> dict[str, float]:
    return {name: statistics.median(v) for name, v in sample(pairs, n, rounds).items()}


def store_urls(tag: str, tmp: Path) -> dict[str, str]:
    return {
        "memory": "memory://",
        "sqlite": f"sqlite:///{tmp / 'bench.db'}",
        "redis": f"{REDIS_URL}?prefix=gpbench{tag}:",
        "postgres": f"{POSTGRES_URL}?schema=gp_bench&prefix=b{tag}_",
    }


def open_ready(url: str) -> Any:
    store = open_store(url)
    store.setup()
    return store


def cleanup(urls: dict[str, str]) -> None:
    import psycopg
    import redis

    from gatepass.stores.urls import postgres_parts, redis_parts

    driver, prefix, *_ = redis_parts(urls["redis"])
    client = redis.Redis.from_url(driver)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()
    conninfo, options = postgres_parts(urls["postgres"])
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'gp_bench' AND tablename LIKE %s",
            (options["prefix"] + "%",),
        ).fetchall()
        for (name,) in rows:
            conn.execute(f'DROP TABLE IF EXISTS "gp_bench"."{name}" CASCADE')


def part1(key: Key, urls: dict[str, str], backends: list[str], n: int, rounds: int) -> None:
    print(f"\n## Verify cost per revocation mode ({key.alg}, µs/op, median of {rounds} rounds)")
    stores = {name: open_ready(urls[name]) for name in backends}
    made: list[AccessTokens] = []

    def make(**kw: Any) -> AccessTokens:
        t = AccessTokens(key, issuer=ISS, audience=AUD, **kw)
        made.append(t)
        return t

    base = make()
    token = base.issue("user-1", session="sid-1", scopes=["read"])
    pairs: dict[str, Callable[[], object]] = {
        "plain jwt.verify (floor)": lambda: jwt.verify(
            token, key, issuer=ISS, audience=AUD, typ="at+jwt", require=("exp", "iat", "sub", "jti")
        ),
        "stateless": lambda: base.verify(token),
    }
    for name in ("memory", "redis", "postgres", "sqlite"):
        if name in stores:
            rep = make(revocation="replicated", store=stores[name])
            rep.revoke_user("someone-else")  # a non-empty cache
            pairs[f"replicated ({name})"] = lambda rep=rep: rep.verify(token)  # type: ignore[misc]
    for name in ("memory", "sqlite", "redis", "postgres"):
        if name in stores:
            den = make(revocation="denylist", store=stores[name])
            pairs[f"denylist ({name})"] = lambda den=den: den.verify(token)  # type: ignore[misc]
    samples = sample(pairs, n, rounds)
    base_samples = samples["plain jwt.verify (floor)"]
    floor = statistics.median(base_samples)
    # Ratios are taken round by round (each round is a few ms: load drifts less within it).
    print("| mode | µs/op | ratio to plain verify (median of per-round ratios) |")
    print("|---|---|---|")
    for name, values in samples.items():
        ratio = statistics.median(v / b for v, b in zip(values, base_samples, strict=True))
        print(f"| {name} | {statistics.median(values):.1f} | {ratio:.2f}x |")
    # The verify loop above is noisy on a shared machine; the revocation check alone is what a
    # mode adds to plain verify, measured here on its own (same claims, same cache).
    claims = base.verify(token)
    checks: dict[str, Callable[[], object]] = {}
    for t in made:
        if t.mode == "replicated":
            label = f"replicated ({t.revocations.store.kind}) check"  # type: ignore[attr-defined]
            checks[label] = lambda t=t: t.revocations.check(claims, 0.0)  # type: ignore[misc]
    added = compare(checks, n * 10, rounds)
    print("\n| added by the mode (check alone) | µs/op | (plain verify + check) / plain verify |")
    print("|---|---|---|")
    for name, value in added.items():
        print(f"| {name} | {value:.2f} | {(floor + value) / floor:.3f}x |")
    for t in made:
        t.close()
    for s in stores.values():
        s.close()


CHILD = textwrap.dedent(
    """
    import os, sys, time
    from gatepass import AccessTokens, Key
    from gatepass.stores import open_store

    store = open_store(os.environ["GP_URL"])
    key = Key.from_secret(b"b" * 32, "HS256")
    tokens = AccessTokens(key, issuer="i", audience="a", revocation="replicated", store=store,
                          poll_interval=float(os.environ["GP_POLL"]))
    cache = tokens.revocations.replica.cache
    original = cache.apply

    def apply(entry):
        seen = time.time()
        original(entry)
        if entry.kind == "jti":
            print(f"{entry.key} {seen!r}", flush=True)

    cache.apply = apply
    print("ready", flush=True)
    sys.stdin.readline()
    tokens.close()
    store.close()
    """
)


def part2(urls: dict[str, str], backends: list[str], count: int, poll: float) -> None:
    print(f"\n## Revocation propagation between two processes ({count} revocations)")
    print("| backend | channel | median ms | p99 ms | max ms |\n|---|---|---|---|---|")
    channels = {
        "redis": "pub/sub",
        "postgres": "LISTEN/NOTIFY",
        "sqlite": f"poll {poll * 1000:g} ms",
    }
    for name in ("redis", "postgres", "sqlite"):
        if name not in backends:
            continue
        store = open_ready(urls[name])
        env = dict(os.environ, GP_URL=urls[name], GP_POLL=str(poll))
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert child.stdin is not None and child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        key = Key.from_secret(b"b" * 32, "HS256")
        tokens = AccessTokens(key, issuer="i", audience="a", revocation="denylist", store=store)
        delays = []
        for _ in range(count):
            token = tokens.issue("u")
            started = time.time()
            tokens.revoke(token)
            _jti, seen = child.stdout.readline().split()
            delays.append((float(seen) - started) * 1000)
            # A random gap, so revocations do not lock into the SQLite poll phase.
            time.sleep(random.uniform(0.001, max(0.005, poll if name == "sqlite" else 0.005)))
        child.stdin.write("quit\n")
        child.stdin.flush()
        child.wait(10)
        delays.sort()
        p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
        median = statistics.median(delays)
        print(f"| {name} | {channels[name]} | {median:.2f} | {p99:.2f} | {delays[-1]:.2f} |")
        tokens.close()
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alg", default="HS256,ES256")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=61)
    parser.add_argument("--revocations", type=int, default=200)
    parser.add_argument("--poll", type=float, default=0.05, help="SQLite poll interval (s)")
    parser.add_argument("--backends", default="memory,sqlite,redis,postgres")
    args = parser.parse_args()
    backends = args.backends.split(",")
    tag = secrets.token_hex(3)
    with tempfile.TemporaryDirectory() as tmp:
        urls = store_urls(tag, Path(tmp))
        try:
            for alg in args.alg.split(","):
                key = Key.from_secret(b"b" * 64, alg) if alg.startswith("HS") else Key.generate(alg)
                part1(key, urls, backends, args.n, args.rounds)
            if args.revocations:
                part2(urls, backends, args.revocations, args.poll)
        finally:
            cleanup(urls)


if __name__ == "__main__":
    main()
