"""Store fixtures for the security-notes tests: every backend, real servers, private names.

Redis: db 15 of the shared server with a private key prefix per test. PostgreSQL: a private
schema per test, dropped afterwards. SQLite: a file in the test's tmp_path.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatepass.stores import open_store
from gp_testkit import drop_redis_prefix

BACKENDS = ["memory", "sqlite", "redis", "postgres"]


def backend_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    tag = secrets.token_hex(4)
    if kind == "memory":
        return "memory://"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'secnotes.db'}"
    if kind == "redis":
        return f"{request.getfixturevalue('redis_url')}?prefix=gpsec{tag}:&max_connections=200"
    return f"{request.getfixturevalue('postgres_url')}?schema=gpsec_{tag}&pool_max_size=12"


def drop(url: str) -> None:
    if url.startswith("redis"):
        drop_redis_prefix(url)
    elif url.startswith("postgresql"):
        import psycopg

        base, _, query = url.partition("?")
        schema = dict(p.split("=", 1) for p in query.split("&"))["schema"]
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = backend_url(str(request.param), tmp_path, request)
    yield url
    drop(url)


@pytest.fixture
def store(store_url: str) -> Iterator[Any]:
    s = open_store(store_url)
    s.setup()
    yield s
    s.close()
