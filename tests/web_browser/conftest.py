"""Fixtures of the browser tests: see browser_kit.py (they are defined there, for reuse)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_kit import AppServer, contexts, example, other_site, sqlite_in  # noqa: F401  (registers the fixtures)
from gp_store_servers import RedisServer

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own that it may stop: an outage that hurts nobody else. It
    writes an append-only file (fsync always), so starting it again brings the data back."""
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed (Debian's redis-server)"
        if IN_CI:
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(f"SKIPPED LOUDLY: {message}")
    server = RedisServer(tmp_path / "redis", persistent=True).start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="module")
def hybrid_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """``examples/fastapi_hybrid.py`` on a SQLite file, shared by the tests of one module."""
    tmp = tmp_path_factory.mktemp("hybrid")
    with example("fastapi_hybrid", tmp, store=sqlite_in(tmp)) as server:
        yield server
