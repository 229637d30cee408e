"""Web-layer benchmark: the cost a middleware adds to one request, gatepass beside its peers.

Every variant is the same tiny app behind a different middleware, called directly (ASGI:
``await app(scope, receive, send)``; WSGI: ``app(environ, start_response)``) so that no HTTP
client or server hides the differences (``shared/notes/performance.md``). Added cost = variant
minus the bare app, medians of interleaved rounds. The realistic case is the headline: many
distinct sessions and tokens in turn (``--sessions``), not one hot credential.

Targets (issue 9):
  bearer HS256, stateless         added cost <= 0.25x the PyJWT middleware's added cost
  session cookie on SQLite        added cost <= 0.7x Starlette's signed-cookie SessionMiddleware
  session cookie on Redis         added cost <= 1.1x one raw Redis GET round trip
  hybrid access token, ES256,
  replicated revocation           added cost <= jwt.verify(ES256) + 5 µs
  WSGI                            the same ratios against Flask's signed-cookie session

    .venv/bin/python bench/bench_web.py
    .venv/bin/python bench/bench_web.py --sessions 1000 --rounds 5 --no-redis

Whole-server throughput (uvicorn + a load generator) is ``bench/bench_web_server.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from web_apps import (
    AUD,
    ISS,
    asgi_variants,
    wsgi_variants,
)

REDIS_URL = os.environ.get("GATEPASS_TEST_REDIS", "redis://127.0.0.1:6379/15")


def _asgi_loop(app: Any, scopes: list[dict[str, Any]]) -> Callable[[int], Awaitable[float]]:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    count = len(scopes)

    async def run(n: int) -> float:
        start = time.perf_counter()
        for i in range(n):
            await app(scopes[i % count], receive, send)
        return (time.perf_counter() - start) / n * 1e6

    return run


def _wsgi_loop(app: Any, environs: list[dict[str, Any]]) -> Callable[[int], float]:
    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return None

    count = len(environs)

    def run(n: int) -> float:
        start = time.perf_counter()
        for i in range(n):
            env = environs[i % count]
            env["wsgi.input"].seek(0)
            for _chunk in app(dict(env), start_response):
                pass
        return (time.perf_counter() - start) / n * 1e6

    return run


def _floor_sqlite(db: Path, n: int) -> Callable[[int], float]:
    """One primary-key SELECT of a session row by its hash, as the store does: the floor of
    any session lookup on SQLite (distinct rows in turn, like the middleware variant)."""
    import sqlite3

    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    hashes = [row[0] for row in conn.execute("SELECT token_hash FROM gatepass_sessions")]
    sql = "SELECT * FROM gatepass_sessions WHERE token_hash = ?"

    def run(count: int) -> float:
        total = len(hashes)
        start = time.perf_counter()
        for i in range(count):
            conn.execute(sql, (hashes[i % total],)).fetchone()
        return (time.perf_counter() - start) / count * 1e6

    return run


def _floor_es256(count_tokens: int) -> Callable[[int], float]:
    """``jwt.verify`` of ES256 access tokens with the same claim checks, distinct tokens in turn
    (as the middleware variant sees them: a repeated token would hit the decode caches)."""
    from gatepass import Key, jwt

    key = Key.generate("ES256")
    public = key.public()
    tokens = [
        jwt.encode({"sub": f"user-{i}", "iss": ISS, "aud": AUD}, key, expires_in=900)
        for i in range(count_tokens)
    ]

    def run(count: int) -> float:
        total = len(tokens)
        start = time.perf_counter()
        for i in range(count):
            jwt.verify(tokens[i % total], public, issuer=ISS, audience=AUD)
        return (time.perf_counter() - start) / count * 1e6

    return run


async def _floor_redis_get(
    url: str, count_keys: int, *, blocking_pool: bool = False
) -> Callable[[int], Awaitable[float]]:
    """One ``GET`` round trip per request of a 300-byte value, distinct keys in turn: through
    redis-py's default pool, or (``blocking_pool``) through the ``BlockingConnectionPool`` the
    store uses (a burst beyond ``max_connections`` waits instead of failing), which shows how
    much of the gap to the raw ``GET`` is the pool class rather than gatepass."""
    import redis.asyncio as aredis

    if blocking_pool:
        pool = aredis.BlockingConnectionPool.from_url(url, timeout=5, max_connections=100)
        client = aredis.Redis.from_pool(pool)
    else:
        client = aredis.Redis.from_url(url)
    prefix = f"gpbenchweb:{secrets.token_hex(4)}:"
    async with client.pipeline(transaction=False) as pipe:
        for i in range(count_keys):
            pipe.set(f"{prefix}{i}", b"x" * 300, ex=600)
        await pipe.execute()
    keys = [f"{prefix}{i}" for i in range(count_keys)]

    async def run(count: int) -> float:
        start = time.perf_counter()
        for i in range(count):
            await client.get(keys[i % count_keys])
        return (time.perf_counter() - start) / count * 1e6

    return run


def _table(title: str, medians: dict[str, float], base: str) -> dict[str, float]:
    added = {name: value - medians[base] for name, value in medians.items()}
    print(f"\n{title}")
    print(f"{'variant':44} {'µs/request':>11} {'added µs':>9}")
    for name, value in medians.items():
        print(f"{name:44} {value:11.1f} {added[name]:9.1f}")
    return added


def _ratio(label: str, value: float, reference: float, target: str) -> None:
    ratio = value / reference if reference > 0 else float("inf")
    print(f"  {label:58} {ratio:5.2f}x   (target {target})")


async def _asgi_part(args: argparse.Namespace, tmp: Path) -> None:
    variants = await asgi_variants(tmp, args.sessions, None if args.no_redis else REDIS_URL)
    runners = {name: _asgi_loop(app, scopes) for name, (app, scopes) in variants.items()}
    floors: dict[str, Callable[[int], Awaitable[float]]] = {}
    if not args.no_redis:
        floors["redis GET round trip (floor)"] = await _floor_redis_get(REDIS_URL, args.sessions)
        floors["redis GET, BlockingConnectionPool"] = await _floor_redis_get(
            REDIS_URL, args.sessions, blocking_pool=True
        )
    sync_floors = {
        "jwt.verify ES256 (floor)": _floor_es256(min(args.sessions, 2000)),
        "SQLite primary-key SELECT (floor)": _floor_sqlite(tmp / "web.db", args.n),
    }
    samples: dict[str, list[float]] = {name: [] for name in [*runners, *floors, *sync_floors]}
    for fn in runners.values():
        await fn(max(1, args.n // 5))  # warm up
    for _ in range(args.rounds):
        for name, fn in [*runners.items(), *floors.items()]:
            samples[name].append(await fn(args.n))
        for name, sync_fn in sync_floors.items():
            samples[name].append(sync_fn(args.n))
    medians = {name: statistics.median(v) for name, v in samples.items()}
    added = _table("ASGI: direct await app(scope, receive, send)", medians, "bare app")
    print("\nASGI ratios (added cost):")
    _ratio(
        "gatepass bearer HS256 / PyJWT bearer middleware",
        added["gatepass bearer HS256 (stateless)"],
        added["PyJWT bearer middleware (HS256)"],
        "<= 0.25x",
    )
    _ratio(
        "gatepass session SQLite / Starlette SessionMiddleware",
        added["gatepass session cookie (SQLite)"],
        added["Starlette SessionMiddleware (signed cookie)"],
        "<= 0.7x",
    )
    _ratio(
        "gatepass session SQLite / its floor (one primary-key SELECT)",
        added["gatepass session cookie (SQLite)"],
        medians["SQLite primary-key SELECT (floor)"],
        "(reference)",
    )
    if not args.no_redis:
        _ratio(
            "gatepass session Redis / raw Redis GET",
            added["gatepass session cookie (Redis)"],
            medians["redis GET round trip (floor)"],
            "<= 1.1x",
        )
        _ratio(
            "gatepass session Redis / GET through the store's pool class",
            added["gatepass session cookie (Redis)"],
            medians["redis GET, BlockingConnectionPool"],
            "(reference)",
        )
    extra = added["gatepass hybrid ES256 (replicated)"] - medians["jwt.verify ES256 (floor)"]
    print(
        f"  {'gatepass hybrid ES256 replicated minus jwt.verify ES256':58} {extra:+5.1f} µs"
        "   (target <= +5 µs)"
    )
    _strategy_only(args, added, medians)


#: gatepass variant -> its strategy-only twin (``web_apps.StrategyOnly``).
_TWINS = {
    "gatepass bearer HS256 (stateless)": "strategy only: bearer HS256",
    "gatepass session cookie (SQLite)": "strategy only: session SQLite",
    "gatepass session cookie (Redis)": "strategy only: session Redis",
    "gatepass hybrid ES256 (replicated)": "strategy only: hybrid ES256",
}


def _strategy_only(
    args: argparse.Namespace, added: dict[str, float], medians: dict[str, float]
) -> None:
    """The same targets for a middleware that does nothing but call the strategy: where one of
    these misses too, no web layer built on the strategy can meet it; the rest is the web
    layer's own share (request view, CSRF, principal, refusals, ``Vary``)."""
    print("\nThe same ratios for the strategy-only middleware (the floor of any web layer):")
    _ratio(
        "strategy only, bearer HS256 / PyJWT bearer middleware",
        added["strategy only: bearer HS256"],
        added["PyJWT bearer middleware (HS256)"],
        "<= 0.25x",
    )
    _ratio(
        "strategy only, session SQLite / Starlette SessionMiddleware",
        added["strategy only: session SQLite"],
        added["Starlette SessionMiddleware (signed cookie)"],
        "<= 0.7x",
    )
    if not args.no_redis:
        _ratio(
            "strategy only, session Redis / raw Redis GET",
            added["strategy only: session Redis"],
            medians["redis GET round trip (floor)"],
            "<= 1.1x",
        )
    extra = added["strategy only: hybrid ES256"] - medians["jwt.verify ES256 (floor)"]
    print(f"  {'strategy only, hybrid ES256 minus jwt.verify ES256':58} {extra:+5.1f} µs")
    print("\nThe web layer's own share (gatepass variant minus its strategy-only twin):")
    for variant, twin in _TWINS.items():
        if variant in added:
            print(f"  {variant:58} {added[variant] - added[twin]:5.1f} µs")


def _wsgi_part(args: argparse.Namespace, tmp: Path) -> None:
    variants = wsgi_variants(tmp, args.sessions)
    runners = {name: _wsgi_loop(app, envs) for name, (app, envs) in variants.items()}
    samples: dict[str, list[float]] = {name: [] for name in runners}
    for fn in runners.values():
        fn(max(1, args.n // 5))
    for _ in range(args.rounds):
        for name, fn in runners.items():
            samples[name].append(fn(args.n))
    medians = {name: statistics.median(v) for name, v in samples.items()}
    added = _table("WSGI (Flask): direct app(environ, start_response)", medians, "Flask bare")
    print("\nWSGI ratios (added cost):")
    _ratio(
        "gatepass bearer HS256 / PyJWT bearer decorator",
        added["Flask + gatepass bearer HS256"],
        added["Flask + PyJWT bearer (HS256)"],
        "<= 0.25x",
    )
    _ratio(
        "gatepass session SQLite / Flask signed-cookie session",
        added["Flask + gatepass session (SQLite)"],
        added["Flask signed-cookie session"],
        "<= 0.7x",
    )
    _ratio(
        "strategy only, bearer HS256 / PyJWT bearer decorator",
        added["Flask + strategy only: bearer HS256"],
        added["Flask + PyJWT bearer (HS256)"],
        "<= 0.25x",
    )
    print("\nThe web layer's own share (gatepass variant minus its strategy-only twin):")
    for variant, twin in (
        ("Flask + gatepass bearer HS256", "Flask + strategy only: bearer HS256"),
        ("Flask + gatepass session (SQLite)", "Flask + strategy only: session SQLite"),
    ):
        print(f"  {variant:58} {added[variant] - added[twin]:5.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000, help="distinct credentials")
    parser.add_argument("--n", type=int, default=2_000, help="requests per round and variant")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--no-redis", action="store_true", help="skip the Redis variants")
    args = parser.parse_args()
    print(
        f"gatepass web benchmark: {args.sessions} distinct credentials, {args.rounds} rounds "
        f"of {args.n} requests per variant, interleaved; Python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_asgi_part(args, Path(tmp)))
        _wsgi_part(args, Path(tmp))


if __name__ == "__main__":
    main()
