"""Fixtures for the store and session conformance suites: every backend, sync and async.

``backend`` is one of memory, sqlite, redis (the shared server, db 15, a private key prefix per
test), redis_cluster (a private three-master cluster started once per run) and postgres (a private
schema per test, dropped afterwards). ``harness`` wraps :class:`gatepass.Sessions` or
:class:`gatepass.AsyncSessions` behind awaitable methods so one test body covers both APIs.
"""

from __future__ import annotations

import os
import secrets
import shutil
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from gp_session_harness import DEFAULTS, START, Harness
from gp_store_servers import (
    REDIS_CLI,
    REDIS_SERVER,
    RedisCluster,
)

import gatepass
from gatepass.stores import open_async_store, open_store
from gp_testkit import FakeClock

BACKENDS = ["memory", "sqlite", "redis", "redis_cluster", "postgres"]


def _missing(what: str, how: str) -> None:
    """As tests/conftest.py: skip loudly on a laptop, fail under CI=true."""
    message = f"{what} is not available: {how}"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI=true and {message}", pytrace=False)
    warnings.warn(f"SKIPPING: {message}", stacklevel=2)
    pytest.skip(f"SKIPPED LOUDLY: {message}")


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if REDIS_SERVER is None or REDIS_CLI is None:
        _missing("redis-server", "install Debian's redis-server to run the cluster tests")
    cluster = RedisCluster(tmp_path_factory.mktemp("redis-cluster")).start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


def _cleanup_redis(url: str, prefix: str) -> None:
    import redis
    from redis.cluster import RedisCluster as Cluster

    client: Any
    if url.startswith("redis+cluster://"):
        client = Cluster.from_url(url.replace("redis+cluster://", "redis://"))
    else:
        client = redis.Redis.from_url(url)
    try:
        for key in list(client.scan_iter(match=f"{prefix}*", count=1000)):
            client.delete(key)
    finally:
        client.close()


def _drop_schema(postgres_url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL private to this test on ``backend``; its data is removed afterwards."""
    token = secrets.token_hex(4)
    if backend == "memory":
        yield "memory://"
    elif backend == "sqlite":
        yield f"sqlite:///{tmp_path}/sessions.db"
    elif backend in {"redis", "redis_cluster"}:
        base = request.getfixturevalue("redis_url" if backend == "redis" else "redis_cluster_url")
        prefix = f"gptest:{token}:"
        yield f"{base}?prefix={prefix}"
        _cleanup_redis(base, prefix)
    elif backend == "postgres":
        base = request.getfixturevalue("postgres_url")
        schema = f"gptest_{token}"
        yield f"{base}?schema={schema}&pool_max_size=20"
        _drop_schema(base, schema)
    else:  # pragma: no cover
        raise AssertionError(backend)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def harness(store_url: str, mode: str) -> AsyncIterator[Harness]:
    clock = FakeClock(START)
    if mode == "sync":
        store = open_store(store_url)
        store.setup()
        sessions: Any = gatepass.Sessions(store, clock=clock, **DEFAULTS)
    else:
        store = open_async_store(store_url)
        await store.setup()
        sessions = gatepass.AsyncSessions(store, clock=clock, **DEFAULTS)
    try:
        yield Harness(sessions, store, clock, mode, store_url)
    finally:
        if mode == "sync":
            store.close()
        else:
            await store.close()


@pytest.fixture
def redis_server_bin() -> str:
    if REDIS_SERVER is None:
        _missing("redis-server", "install Debian's redis-server")
    return shutil.which("redis-server") or ""


@pytest.fixture
def private_cluster(tmp_path: Path) -> Iterator[RedisCluster]:
    """A private, persistent three-master cluster for one test that may stop its nodes (the
    session-wide ``redis_cluster_url`` cluster is shared and must stay up). A node timeout of 1 s
    (not 2 s) so that a killed master is marked failed, and a restarted one accepted back, in
    about two seconds."""
    if REDIS_SERVER is None or REDIS_CLI is None:
        _missing("redis-server", "install Debian's redis-server to run the cluster tests")
    cluster = RedisCluster(tmp_path / "cluster", persistent=True, node_timeout_ms=1000)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
