"""Store fixtures for the strategy tests: every backend, real servers, private names.

Each test gets its own key prefix (Redis) or table prefix in a private schema (PostgreSQL), so
parallel runs and other helpers' tests never see each other's rows.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatepass.stores import open_async_store, open_store
from gp_testkit import drop_redis_prefix

BACKENDS = ["memory", "sqlite", "redis", "postgres"]
PG_SCHEMA = "gp_strategies_test"


def make_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    tag = secrets.token_hex(4)
    if kind == "memory":
        return "memory://"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'gatepass.db'}"
    if kind == "redis":
        base = request.getfixturevalue("redis_url")
        # redis-py's default pool refuses (not queues) a 101st concurrent command; the
        # 200-way concurrency tests need more connections (reported to the stores owner).
        return f"{base}?prefix=gpst{tag}:&max_connections=400"
    base = request.getfixturevalue("postgres_url")
    return f"{base}?schema={PG_SCHEMA}&prefix=t{tag}_"


def cleanup(url: str) -> None:
    if url.startswith("redis"):
        drop_redis_prefix(url)
    elif url.startswith("postgresql"):
        import psycopg

        from gatepass.stores.urls import postgres_parts

        conninfo, options = postgres_parts(url)
        prefix = options["prefix"]
        with psycopg.connect(conninfo, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE %s",
                (PG_SCHEMA, prefix + "%"),
            ).fetchall()
            for (name,) in rows:
                conn.execute(f'DROP TABLE IF EXISTS "{PG_SCHEMA}"."{name}" CASCADE')


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = make_url(request.param, tmp_path, request)
    yield url
    cleanup(url)


@pytest.fixture
def store(store_url: str) -> Iterator[Any]:
    s = open_store(store_url)
    s.setup()
    yield s
    s.close()


@pytest.fixture
async def async_store(store_url: str) -> Any:
    s = open_async_store(store_url)
    await s.setup()
    yield s
    await s.close()
