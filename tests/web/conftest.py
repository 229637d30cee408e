"""Stores for the web tests: SQLite in the test's tmp_path, the shared Redis and PostgreSQL
under private names, and a private Redis server that a test may stop and start again."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from gp_testkit import drop_postgres_schema, drop_redis_prefix


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'web.db'}"


@pytest.fixture
def redis_web_url(redis_url: str) -> Iterator[str]:
    url = f"{redis_url}?prefix=gpweb{secrets.token_hex(4)}:"
    yield url
    drop_redis_prefix(url)


@pytest.fixture
def postgres_web_url(postgres_url: str) -> Iterator[str]:
    url = f"{postgres_url}?schema=gpweb_{secrets.token_hex(4)}"
    yield url
    drop_postgres_schema(url)
