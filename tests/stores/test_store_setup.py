"""Schema creation is explicit and idempotent (docs/stores.md, "Schema").

* ``setup()`` again, on a complete schema, from the same or another store object, is a no-op
  that keeps every record: the SQL catalog is unchanged, and Redis and memory (no schema) gain
  no keys;
* ``setup()`` racing itself from several threads, asyncio tasks and processes on one fresh SQLite
  file and one fresh PostgreSQL schema: every call succeeds, and the result is one schema equal
  to the one a single ``setup()`` creates, which then works;
* a SQL store used before ``setup()`` raises ``StoreError`` naming the fix (not a driver error,
  and not ``StoreUnavailable``: retrying will not help), for every session operation, and works
  once ``setup()`` ran; Redis and memory need no ``setup()`` at all.
"""

from __future__ import annotations

import asyncio
import inspect
import secrets
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gatepass import AsyncSessions, Sessions
from gatepass.errors import InvalidToken, StoreError, StoreUnavailable
from gatepass.stores import open_async_store, open_store
from gatepass.stores.driver_errors import _SCHEMA_HINT
from gatepass.strategies._session_tokens import new_token

THREADS = 8
PROCESSES = 4


async def resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def open_any(url: str, mode: str) -> Any:
    return open_store(url) if mode == "sync" else open_async_store(url)


def sessions_for(store: Any, mode: str) -> Any:
    return Sessions(store) if mode == "sync" else AsyncSessions(store)


# --- what a schema looks like --------------------------------------------------------------------


def sqlite_catalog(path: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
    finally:
        conn.close()


_PG_CATALOG = {
    "relations": (
        "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s ORDER BY 1, 2"
    ),
    "columns": (
        "SELECT table_name, column_name, data_type, is_nullable, column_default"
        " FROM information_schema.columns WHERE table_schema = %s"
        " ORDER BY table_name, ordinal_position"
    ),
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s ORDER BY 1",
    "constraints": (
        "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
        " JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = %s ORDER BY 1, 2"
    ),
    "functions": (
        "SELECT p.proname, pg_get_function_identity_arguments(p.oid), p.prosrc FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s ORDER BY 1, 2"
    ),
}


def pg_catalog(postgres_url: str, schema: str) -> dict[str, list[tuple[str, ...]]]:
    """The schema's objects, with its name replaced so that two schemas can be compared."""
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        return {
            what: [
                tuple(str(value).replace(schema, "<schema>") for value in row)
                for row in conn.execute(sql, (schema,)).fetchall()
            ]
            for what, sql in _PG_CATALOG.items()
        }


def redis_snapshot(store_url: str) -> dict[bytes, bytes | None]:
    """Every key under the test's prefix with its serialised value (``DUMP``), TTLs left out."""
    import redis
    from redis.cluster import RedisCluster

    base, _, query = store_url.partition("?")
    prefix = query.removeprefix("prefix=")
    client: Any
    if base.startswith("redis+cluster://"):
        client = RedisCluster.from_url(base.replace("redis+cluster://", "redis://"))
    else:
        client = redis.Redis.from_url(base)
    try:
        keys = sorted(client.scan_iter(match=f"{prefix}*", count=1000))
        return {key: client.dump(key) for key in keys}
    finally:
        client.close()


def snapshot(backend: str, store: Any, store_url: str, request: pytest.FixtureRequest) -> Any:
    if backend == "sqlite":
        return sqlite_catalog(store.path)
    if backend == "postgres":
        return pg_catalog(request.getfixturevalue("postgres_url"), store.schema)
    if backend in {"redis", "redis_cluster"}:
        return redis_snapshot(store_url)
    return {name: dict(store.table(name)) for name in ("sessions", "users")}


@pytest.fixture
def pg_reference(postgres_url: str) -> Iterator[dict[str, list[tuple[str, ...]]]]:
    """The catalog of a private schema that one lone ``setup()`` created."""
    schema = f"gptest_ref_{secrets.token_hex(4)}"
    store = open_store(f"{postgres_url}?schema={schema}")
    try:
        store.setup()
        yield pg_catalog(postgres_url, schema)
    finally:
        store.close()
        import psycopg

        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_reference(tmp_path: Path) -> list[tuple[Any, ...]]:
    store = open_store(f"sqlite:///{tmp_path / 'reference.db'}")
    try:
        store.setup()
        return sqlite_catalog(store.path)
    finally:
        store.close()


# --- setup() again -------------------------------------------------------------------------------


async def test_setup_again_is_a_no_op_that_keeps_data(
    store_url: str, backend: str, mode: str, request: pytest.FixtureRequest
) -> None:
    """A redeploy runs ``setup()`` again (here twice, from the running store and from a new one)
    on a complete schema holding live sessions: nothing changes and every session survives."""
    first = open_any(store_url, mode)
    second = None
    try:
        await resolve(first.setup())
        s = sessions_for(first, mode)
        token, record = await resolve(s.create("alice", metadata={"ua": "test"}))
        await resolve(s.update(token, {"cart": [1, 2]}))
        other, _ = await resolve(s.create("bob"))
        before = snapshot(backend, first, store_url, request)
        if backend in {"sqlite", "postgres"}:
            assert before  # there is a schema to keep
        await resolve(first.setup())
        await resolve(first.setup())
        views = [s]
        if backend != "memory":  # memory:// is private to its store object
            second = open_any(store_url, mode)
            await resolve(second.setup())
            await resolve(second.setup())
            views.append(sessions_for(second, mode))
        assert snapshot(backend, first, store_url, request) == before
        for view in views:
            got = await resolve(view.get(token))
            assert got is not None and got.id == record.id
            assert dict(got.data) == {"cart": [1, 2]} and dict(got.metadata) == {"ua": "test"}
            assert await resolve(view.get(other)) is not None
            assert [r.id for r in await resolve(view.list("alice"))] == [record.id]
    finally:
        for store in (first, second):
            if store is not None:
                await resolve(store.close())


# --- setup() racing itself -----------------------------------------------------------------------

#: A process that opens its own store, says "ready", waits for "go" and runs ``setup()`` once.
_CHILD = r"""
import sys
from gatepass.stores import open_store

store = open_store(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
try:
    store.setup()
except BaseException as exc:
    print(f"error {type(exc).__module__}.{type(exc).__name__}: {exc}", flush=True)
else:
    print("ok", flush=True)
finally:
    store.close()
"""


def _setup_racing(url: str, *, threads: int, tasks: int, processes: int) -> list[str]:
    """Start every participant, then let all of their ``setup()`` calls go at once."""
    outcomes: list[str] = []
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    go = threading.Barrier(threads + (1 if tasks else 0) + 1, timeout=60)

    def in_thread() -> None:
        store = open_store(url)
        try:
            go.wait()
            store.setup()
            outcomes.append("ok")
        except BaseException as exc:
            outcomes.append(f"error {type(exc).__module__}.{type(exc).__name__}: {exc}")
        finally:
            store.close()

    async def in_tasks() -> None:
        stores = [open_async_store(url) for _ in range(tasks)]
        try:
            await asyncio.to_thread(go.wait)
            results = await asyncio.gather(*(s.setup() for s in stores), return_exceptions=True)
            outcomes.extend(
                "ok" if r is None else f"error {type(r).__module__}.{type(r).__name__}: {r}"
                for r in results
            )
        finally:
            for store in stores:
                await store.close()

    workers = [threading.Thread(target=in_thread) for _ in range(threads)]
    if tasks:
        workers.append(threading.Thread(target=asyncio.run, args=(in_tasks(),)))
    try:
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline().strip()
            assert line == "ready", child.communicate(timeout=60)[1]
        for worker in workers:
            worker.start()
        go.wait()  # the threads and tasks go now...
        for child in children:  # ...and so do the processes
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        for child in children:
            out, err = child.communicate(timeout=60)
            outcomes.append(out.strip() if child.returncode == 0 else f"exit {err}")
        for worker in workers:
            worker.join(timeout=60)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    return outcomes


#: Who races, and on how many fresh databases (rounds). The races inside SQLite and PostgreSQL
#: are decided in microseconds, so the cheap in-process races run on many fresh files/schemas.
RACES: dict[str, tuple[dict[str, int], int, int]] = {
    # name: (participants, SQLite rounds, PostgreSQL rounds)
    "threads": ({"threads": THREADS, "tasks": 0, "processes": 0}, 30, 5),
    "tasks": ({"threads": 0, "tasks": THREADS, "processes": 0}, 30, 5),
    "processes": ({"threads": 0, "tasks": 0, "processes": PROCESSES}, 3, 2),
    "all": ({"threads": THREADS, "tasks": THREADS, "processes": PROCESSES}, 2, 1),
}


def _works(url: str) -> None:
    store = open_store(url)
    try:
        s = Sessions(store)
        token, _ = s.create("alice")
        assert s.get(token) is not None
        assert s.revoke_all("alice") == 1
    finally:
        store.close()


@pytest.mark.parametrize("race", list(RACES))
def test_concurrent_setup_on_a_fresh_sqlite_file(
    tmp_path: Path, race: str, sqlite_reference: list[tuple[Any, ...]]
) -> None:
    """Several app instances start at once on a new database file and all run ``setup()``."""
    participants, rounds, _ = RACES[race]
    for n in range(rounds):
        path = tmp_path / f"fresh{n}.db"
        url = f"sqlite:///{path}"
        outcomes = _setup_racing(url, **participants)
        assert outcomes == ["ok"] * sum(participants.values()), f"round {n}: {outcomes}"
        assert sqlite_catalog(str(path)) == sqlite_reference  # one schema, the right one
        _works(url)


@pytest.mark.parametrize("race", list(RACES))
def test_concurrent_setup_on_a_fresh_postgres_schema(
    postgres_url: str, race: str, pg_reference: dict[str, list[tuple[str, ...]]]
) -> None:
    """The same on a new PostgreSQL schema (``setup()`` creates the schema too)."""
    import psycopg

    participants, _, rounds = RACES[race]
    for n in range(rounds):
        schema = f"gptest_race_{secrets.token_hex(4)}"
        url = f"{postgres_url}?schema={schema}"
        try:
            outcomes = _setup_racing(url, **participants)
            assert outcomes == ["ok"] * sum(participants.values()), f"round {n}: {outcomes}"
            assert pg_catalog(postgres_url, schema) == pg_reference
            _works(url)
        finally:
            with psycopg.connect(postgres_url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# --- used before setup() -------------------------------------------------------------------------

#: Every session operation, given the Sessions object and a well-formed token.
OPERATIONS: dict[str, Callable[[Any, str], Any]] = {
    "create": lambda s, token: s.create("alice"),
    "get": lambda s, token: s.get(token),
    "rotate": lambda s, token: s.rotate(token),
    "update": lambda s, token: s.update(token, {"k": 1}),
    "revoke": lambda s, token: s.revoke(token),
    "revoke_id": lambda s, token: s.revoke("A" * 22, user_id="alice"),  # a well-formed id
    "revoke_all": lambda s, token: s.revoke_all("alice"),
    "list": lambda s, token: s.list("alice"),
    "purge": lambda s, token: s.purge(),
}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@pytest.mark.parametrize("operation", list(OPERATIONS))
async def test_sql_store_used_before_setup_says_call_setup(
    store_url: str, mode: str, operation: str
) -> None:
    """The fixture's SQLite file and PostgreSQL schema do not exist yet: every operation raises
    ``StoreError`` (not ``StoreUnavailable``) with the hint, the driver error chained. After
    ``setup()`` the very same store object works (nothing poisoned by the failure)."""
    store = open_any(store_url, mode)
    try:
        s = sessions_for(store, mode)
        run = OPERATIONS[operation]
        with pytest.raises(StoreError) as caught:
            await resolve(run(s, new_token("alice")))
        error = caught.value
        assert not isinstance(error, StoreUnavailable), error
        assert str(error).endswith(_SCHEMA_HINT), error
        driver = type(error.__cause__).__module__
        assert driver.startswith(("sqlite3", "psycopg")), repr(error.__cause__)

        await resolve(store.setup())
        token, _ = await resolve(s.create("alice"))
        await resolve(run(s, token))  # a live session now: no error of any kind
    finally:
        await resolve(store.close())


@pytest.mark.parametrize("backend", ["memory", "redis", "redis_cluster"])
@pytest.mark.parametrize("operation", list(OPERATIONS))
async def test_schemaless_store_needs_no_setup(store_url: str, mode: str, operation: str) -> None:
    """Redis and memory have no schema: ``setup()`` is optional (Redis loads its scripts on
    first use instead), so every operation works on a store that never ran it."""
    store = open_any(store_url, mode)
    try:
        s = sessions_for(store, mode)
        run = OPERATIONS[operation]
        try:
            await resolve(run(s, new_token("alice")))  # an unknown token: no error but this
        except InvalidToken:
            assert operation in {"rotate", "update"}
        token, _ = await resolve(s.create("alice"))
        await resolve(run(s, token))
    finally:
        await resolve(store.close())
