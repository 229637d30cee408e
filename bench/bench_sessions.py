"""Sessions benchmark: µs per ``get`` of a live session beside its floor, per backend, one run.

Floors (the unavoidable work, measured in the same process, interleaved with gatepass):
memory = ``sha256(token)`` + a dict lookup (the store keeps only SHA-256 hashes, so hashing is
unavoidable; a bare dict lookup of the raw token is printed for reference); SQLite = the store's
own primary-key SELECT (same SQL) on a connection with the same settings, ``conn.execute(...)``;
Redis = one ``GETEX`` of a JSON string plus ``json.loads``; PostgreSQL = the store's own prepared
primary-key SELECT (same SQL) on a held connection, no pool. References printed beside them:
SQLite with ``sha256(token)`` added, PostgreSQL with the jsonb columns decoded by psycopg. Every
floor that hashes uses the SHA-256 gatepass uses (``hashlib``'s, from a copied context).
Also: ``get`` followed by a read of ``record.metadata`` (the SQL stores decode it lazily), ``get``
over 2,000 sessions with distinct metadata in turn (SQL backends: their decoded-JSON cache
misses), round trips per ``get`` (counted on the client and, for Redis, with
``INFO commandstats``), ``get`` cost with few vs many sessions stored, bytes per session, and
``revoke_all`` of a user with 10,000 sessions.

    .venv/bin/python bench/bench_sessions.py                 # 100k sessions, all backends
    .venv/bin/python bench/bench_sessions.py --sessions 1000000 --backends redis,postgres

The machine is shared and noisy: read the ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import secrets
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gatepass import Sessions
from gatepass.stores import open_store
from gatepass.stores.jsontext import dump_json
from gatepass.stores.redis.keys import encode, ttl_ms
from gatepass.stores.sqlrows import SESSION_COLUMNS, session_values
from gatepass.strategies._session_policy import Lifetimes, new_record
from gatepass.strategies._session_tokens import hash_token, new_token, routing_tag, token_digest

REDIS_URL = os.environ.get("GATEPASS_TEST_REDIS", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get("GATEPASS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
LIFE = Lifetimes(
    idle=3600, absolute=86400, idle_remember=3600, absolute_remember=86400, touch_interval=60
)
OPTIONS = {"idle_timeout": 3600, "absolute_timeout": 86400, "touch_interval": 60}


def per_op(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def compare(
    pairs: dict[str, Callable[[], object]], n: int, rounds: int
) -> dict[str, tuple[float, float, float]]:
    """``(best, median, median ratio)`` of each callable over ``rounds`` interleaved rounds of ``n``
    calls; the ratio is to ``pairs["floor"]`` *in the same round* (when present).

    On a shared machine the best round is the better estimate of the intrinsic cost and the median
    shows how noisy the run was; the median of per-round ratios is the steadiest ratio, because a
    slow spell affects the floor and gatepass of one round alike.
    """
    samples: dict[str, list[float]] = {name: [] for name in pairs}
    for fn in pairs.values():
        per_op(fn, max(1, n // 10))  # warm up
    for _ in range(rounds):
        for name, fn in pairs.items():
            samples[name].append(per_op(fn, n))
    floor = samples.get("floor")
    out = {}
    for name, v in samples.items():
        ratio = statistics.median(x / f for x, f in zip(v, floor, strict=True)) if floor else 1.0
        out[name] = (min(v), statistics.median(v), ratio)
    return out


def make_sessions(
    n: int, users: int, start: float, prefix: str = "user", distinct: bool = False
) -> list[tuple[str, bytes, Any, str]]:
    out = []
    for i in range(n):
        uid = f"{prefix}{i % users}"
        ip = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" if distinct else "192.0.2.7"
        record = new_record(
            uid, LIFE, start, remember=False, metadata={"ua": "Firefox on Linux", "ip": ip}
        )
        token = new_token(uid)
        out.append((token, hash_token(token), record, routing_tag(uid)))
    return out


# --- bulk loaders (setup only; not what is measured) ---------------------------------------------


def bulk_load(store: Any, items: list[tuple[str, bytes, Any, str]]) -> None:
    kind = store.kind
    if kind == "memory":
        for _, h, r, tag in items:
            store.session_create(h, r, tag, keep_until=r.expires_at)
    elif kind == "sqlite":
        rows = [
            (
                h,
                r.id,
                r.user_id,
                r.created_at,
                r.authenticated_at,
                r.last_seen_at,
                r.expires_at,
                r.absolute_expires_at,
                0,
                json.dumps(r.metadata),
                "{}",
            )
            for _, h, r, _ in items
        ]
        with store.transaction() as conn:
            conn.executemany(store._sql_insert, rows)
    elif kind == "redis":
        create = store.scripts["CREATE"]
        for i in range(0, len(items), 2000):
            pipe = store.client.pipeline(transaction=False)
            for _, h, r, tag in items[i : i + 2000]:
                keys = [store.keys.session(tag, h), store.keys.user_index(tag, r.user_id)]
                ttl, index_ttl = (
                    ttl_ms(r.expires_at, r.created_at),
                    ttl_ms(r.absolute_expires_at, r.created_at),
                )
                create(keys=keys, args=[encode(r), ttl, index_ttl, r.id, h.hex()], client=pipe)
            pipe.execute()
    elif kind == "postgres":
        with store.connection() as conn, conn.cursor() as cur:
            cols = f"token_hash, {SESSION_COLUMNS}"
            with cur.copy(f"COPY {store.table('sessions')} ({cols}) FROM STDIN") as copy:
                for _, h, r, _ in items:
                    copy.write_row(session_values(h, r, dump_json))
            conn.execute(f"ANALYZE {store.table('sessions')}")


# --- floors --------------------------------------------------------------------------------------


def floor_for(
    store: Any, token: str, record: Any, kind: str | None = None
) -> tuple[Callable[[], object], Callable[[], None]]:
    """The raw lookup for this backend, and its clean-up."""
    kind = kind or store.kind
    h = hash_token(token)
    if kind == "memory":  # the least a store that keeps only SHA-256 hashes can do
        hashed = {h: record}
        hashed.update({secrets.token_bytes(32): record for _ in range(1000)})
        return (lambda: hashed.get(token_digest(token.encode()))), lambda: None  # as gatepass
    if kind == "memory-dict":  # reference only: a store keeping raw tokens (gatepass never does)
        table = {token: record}
        table.update({secrets.token_urlsafe(32): record for _ in range(1000)})
        return (lambda: table.get(token)), lambda: None
    if kind in {"sqlite", "sqlite+sha256"}:
        conn = store.connect()
        sql = store._sql_get
        if kind == "sqlite+sha256":
            return (
                lambda: conn.execute(sql, (token_digest(token.encode()),)).fetchone()
            ), conn.close
        return (lambda: conn.execute(sql, (h,)).fetchone()), conn.close
    if kind == "redis":
        key = f"{store.prefix}floor:{secrets.token_hex(8)}"
        store.client.set(
            key,
            json.dumps(
                {
                    "user_id": record.user_id,
                    "id": record.id,
                    "created_at": record.created_at,
                    "metadata": record.metadata,
                }
            ),
        )
        client = store.client
        loads = json.loads
        return (lambda: loads(client.getex(key, ex=3600))), lambda: client.delete(key)
    if kind in {"postgres", "postgres+jsonb"}:
        import psycopg

        conn = psycopg.connect(store.conninfo, autocommit=True)
        if kind == "postgres":  # the store's own statement: jsonb columns come back as text
            sql = store.sql.session_get
        else:  # the same columns decoded by psycopg's default jsonb loader (json.loads)
            sql = f"SELECT {SESSION_COLUMNS} FROM {store.table('sessions')} WHERE token_hash = %s"
        return (lambda: conn.execute(sql, (h,), prepare=True).fetchone()), conn.close
    raise AssertionError(kind)


REFERENCES = {
    "memory": "memory-dict",
    "sqlite": "sqlite+sha256",
    "postgres": "postgres+jsonb",
}


def read_metadata(record: Any) -> object:
    """What an app that shows the device on every request does: read ``record.metadata``."""
    return record.metadata["ua"]


def cold_pairs(
    store: Any, sessions: Sessions, items: list[tuple[str, bytes, Any, str]]
) -> tuple[dict[str, Callable[[], object]], Callable[[], None]]:
    """``get`` over many sessions with distinct metadata in turn, beside the same raw lookups."""
    tokens = itertools.cycle([t for t, _, _, _ in items])
    hashes = itertools.cycle([h for _, h, _, _ in items])
    pairs: dict[str, Callable[[], object]] = {
        "gatepass": lambda: sessions.get(next(tokens)),
        "gatepass+metadata": lambda: read_metadata(sessions.get(next(tokens))),
    }
    if store.kind == "sqlite":
        conn = store.connect()
        sql = store._sql_get
        pairs["floor"] = lambda: conn.execute(sql, (next(hashes),)).fetchone()
        return pairs, conn.close
    import psycopg

    pconn = psycopg.connect(store.conninfo, autocommit=True)
    psql = store.sql.session_get
    pairs["floor"] = lambda: pconn.execute(psql, (next(hashes),), prepare=True).fetchone()
    return pairs, pconn.close


# --- round trips ---------------------------------------------------------------------------------


def round_trips(store: Any, sessions: Sessions, token: str, n: int = 200) -> str:
    kind = store.kind
    if kind == "redis":
        client = store.client
        calls = 0
        original = client.execute_command

        def counting(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            return original(*args, **kwargs)

        def get_calls() -> int:
            return int(client.info("commandstats").get("cmdstat_get", {}).get("calls", 0))

        before = get_calls()
        client.execute_command = counting
        try:
            for _ in range(n):
                sessions.get(token)
        finally:
            client.execute_command = original
        server = get_calls() - before
        return (
            f"{calls / n:.2f} client commands/get; server GET calls {server / n:.2f}/get "
            "(INFO commandstats; a shared server: other clients may add)"
        )
    if kind == "postgres":
        import psycopg

        sessions.get(token)
        path = Path(tempfile.mkstemp(suffix=".trace")[1])
        with open(path, "w") as sink:
            conns = []
            for _ in range(store.pool_max_size):
                try:
                    conns.append(store.pool.getconn(timeout=0.5))
                except Exception:
                    break
            for c in conns:
                c.pgconn.trace(sink.fileno())
                c.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
            for c in conns:
                store.pool.putconn(c)
            for _ in range(n):
                sessions.get(token)
            conns = [store.pool.getconn() for _ in range(len(conns))]
            for c in conns:
                c.pgconn.untrace()
                store.pool.putconn(c)
        lines = [line.split("\t") for line in path.read_text().splitlines()]
        path.unlink()
        syncs = sum(
            1 for f in lines if len(f) > 2 and f[0] == "F" and f[2].startswith(("Sync", "Query"))
        )
        return (
            f"{syncs / n:.2f} round trips/get "
            "(libpq trace, Sync messages; the first use of a connection also prepares)"
        )
    return "in-process (no network)"


# --- sizes ---------------------------------------------------------------------------------------


def bytes_per_session(store: Any, n: int) -> str:
    kind = store.kind
    if kind == "memory":
        return "see the memory line below (tracemalloc)"
    if kind == "sqlite":
        with store.connection() as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            size = conn.execute("PRAGMA page_size").fetchone()[0]
        return f"{pages * size / n:.0f} B/session (file incl. indexes)"
    if kind == "redis":
        keys = []
        for key in store.client.scan_iter(match=f"{store.prefix}*:s:*", count=1000):
            keys.append(key)
            if len(keys) >= 200:
                break
        per = statistics.mean(store.client.memory_usage(k, samples=0) for k in keys)
        idx = [k for k in store.client.scan_iter(match=f"{store.prefix}*:u:*", count=1000)][:50]
        per_index = statistics.mean(store.client.memory_usage(k, samples=0) for k in idx)
        fields = statistics.mean(store.client.hlen(k) for k in idx)
        share = per_index / fields
        return (
            f"{per + share:.0f} B/session "
            f"(MEMORY USAGE: {per:.0f} session string + {share:.0f} index share)"
        )
    if kind == "postgres":
        with store.connection() as conn:
            total = conn.execute(
                "SELECT pg_total_relation_size(%s)", (store.table("sessions"),)
            ).fetchone()[0]
        return f"{total / n:.0f} B/session (pg_total_relation_size incl. indexes)"
    raise AssertionError(kind)


def memory_bytes_per_session(n: int = 20000) -> float:
    store = open_store("memory://")
    items = make_sessions(n, 200, time.time())
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    bulk_load(store, items)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    # The records were allocated before tracing; add their retained size once.
    import sys

    record = items[0][2]
    rec_size = (
        sys.getsizeof(record)
        + sys.getsizeof(record.id)
        + sys.getsizeof(record.metadata)
        + sys.getsizeof(record.data)
        + sys.getsizeof(items[0][1])
    )
    return (after - before) / n + rec_size


# --- per backend ---------------------------------------------------------------------------------


def url_for(backend: str, workdir: Path, tag: str) -> str:
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{workdir}/bench.db"
    if backend == "redis":
        return f"{REDIS_URL}?prefix=gpbench:{tag}:"
    return f"{POSTGRES_URL}?schema=gpbench_{tag}&pool_max_size=4"


def cleanup(store: Any) -> None:
    if store.kind == "redis":
        keys = list(store.client.scan_iter(match=f"{store.prefix}*", count=5000))
        for i in range(0, len(keys), 5000):
            store.client.delete(*keys[i : i + 5000])
    elif store.kind == "postgres":
        with store.connection() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')


def bench_backend(backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    tag = secrets.token_hex(3)
    store = open_store(url_for(backend, workdir, tag))
    store.setup()
    try:
        sessions = Sessions(store, **OPTIONS)
        token, record = sessions.create(
            "bench-user", metadata={"ua": "Firefox on Linux", "ip": "192.0.2.7"}
        )
        floor, floor_close = floor_for(store, token, record)
        n, rounds = args.ops[backend], args.rounds
        pairs = {
            "floor": floor,
            "gatepass": lambda: sessions.get(token),
            "gatepass+metadata": lambda: read_metadata(sessions.get(token)),
        }
        closers = [floor_close]
        if backend in REFERENCES:
            ref, ref_close = floor_for(store, token, record, REFERENCES[backend])
            pairs[REFERENCES[backend]] = ref
            closers.append(ref_close)
        small = compare(pairs, n, rounds)
        t0 = time.perf_counter()
        bulk_load(store, make_sessions(args.sessions, max(1, args.sessions // 100), time.time()))
        load_s = time.perf_counter() - t0
        large = compare(pairs, n, rounds)
        cold = None
        if backend in {"sqlite", "postgres"}:
            distinct = make_sessions(2000, 200, time.time(), prefix="cold", distinct=True)
            bulk_load(store, distinct)
            cold_fns, cold_close = cold_pairs(store, sessions, distinct)
            closers.append(cold_close)
            cold = compare(cold_fns, n, rounds)
        trips = round_trips(store, sessions, token)
        size = bytes_per_session(store, args.sessions + 1 + (0 if cold is None else 2000))
        many = make_sessions(10_000, 1, time.time(), prefix="heavy")
        bulk_load(store, many)
        t0 = time.perf_counter()
        revoked = sessions.revoke_all("heavy0")
        revoke_s = time.perf_counter() - t0
        assert revoked == 10_000
        assert sessions.get(many[0][0]) is None and sessions.get(many[-1][0]) is None
        for close in closers:
            close()
        return {
            "backend": backend,
            "small": small,
            "large": large,
            "cold": cold,
            "trips": trips,
            "size": size,
            "revoke_all_s": revoke_s,
            "revoked": revoked,
            "load_s": load_s,
        }
    finally:
        cleanup(store)
        store.close()


def print_rows(backend: str, m: dict[str, tuple[float, float, float]]) -> None:
    fb, fm, _ = m["floor"]
    gb, gm, gr = m["gatepass"]
    print(
        f"{backend:<9} floor {fb:8.2f} ({fm:8.2f})  get {gb:8.2f} ({gm:8.2f})  "
        f"ratio {gb / fb:5.2f} ({gr:5.2f})"
    )
    for name, (rb, rm, rr) in m.items():
        if name in {"floor", "gatepass"}:
            continue
        if name.startswith("gatepass"):
            print(f"{'':<9} {name:<25} {rb:8.2f} ({rm:8.2f})  ratio {rb / fb:5.2f} ({rr:5.2f})")
        else:
            print(
                f"{'':<9} reference {name:<15} {rb:8.2f} ({rm:8.2f})  "
                f"get/reference {gb / rb:5.2f} ({gr / rr:5.2f})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sessions",
        type=int,
        default=100_000,
        help="sessions stored for the scale test (default 100k; try 1000000)",
    )
    parser.add_argument("--backends", default="memory,sqlite,redis,postgres")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    args.ops = {"memory": 20000, "sqlite": 5000, "redis": 1000, "postgres": 1000}
    print(
        f"sessions stored for the scale test: {args.sessions:,}; {args.rounds} interleaved rounds"
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            try:
                results.append(bench_backend(backend, args, Path(tmp)))
            except Exception as exc:  # a missing service skips its backend, loudly
                print(f"{backend}: SKIPPED ({type(exc).__name__}: {exc})")
    print()
    print(
        "µs per get of a live session: best of the rounds (median in brackets); ratio = best "
        "get / best floor (median of the per-round ratios in brackets)"
    )
    for label, which in (("1 session stored", "small"), (f"+{args.sessions:,} stored", "large")):
        print(f"-- {label}")
        for r in results:
            print_rows(r["backend"], r[which])
    print(
        "-- 2,000 sessions with distinct metadata, in turn (the decoded-JSON cache misses); "
        "'+metadata' also reads record.metadata"
    )
    for r in results:
        if r["cold"] is not None:
            print_rows(r["backend"], r["cold"])
    hashed = compare({"hashlib": lambda: token_digest(b"x" * 48)}, 20000, args.rounds)
    print(
        "sha256 of a token alone (hashlib, as gatepass and every floor): "
        f"{hashed['hashlib'][0]:.2f} µs"
    )
    print()
    for r in results:
        print(f"{r['backend']:<9} round trips: {r['trips']}")
    for r in results:
        print(f"{r['backend']:<9} size: {r['size']}")
    if "memory" in args.backends:
        print(
            f"{'memory':<9} size: {memory_bytes_per_session():.0f} B/session "
            "(tracemalloc of the store + record objects)"
        )
    for r in results:
        print(
            f"{r['backend']:<9} revoke_all of one user with {r['revoked']:,} sessions: "
            f"{r['revoke_all_s'] * 1000:.1f} ms "
            f"(bulk load of {args.sessions:,}: {r['load_s']:.1f} s)"
        )


if __name__ == "__main__":
    main()
