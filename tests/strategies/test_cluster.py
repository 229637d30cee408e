"""Refresh rotation and replicated revocation on a real three-master Redis Cluster.

Reuses the stores suite's cluster harness (tests/stores/gp_store_servers.py): a private cluster on
free loopback ports, started once for this module and killed afterwards.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gp_strategy_kit import rejected, wait_until

from gp_testkit import FakeClock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "stores"))

from gp_store_servers import REDIS_CLI, REDIS_SERVER, RedisCluster

from gatepass import AccessTokens, Key, RefreshTokens, Sessions
from gatepass.errors import ReusedToken, RevokedToken
from gatepass.stores import open_store

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def cluster_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if REDIS_SERVER is None or REDIS_CLI is None:
        message = "redis-server is not available for the cluster test"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        warnings.warn(f"SKIPPING: {message}", stacklevel=2)
        pytest.skip(message)
    cluster = RedisCluster(tmp_path_factory.mktemp("strategies-cluster")).start()
    store = open_store(cluster.url)
    try:
        yield store
    finally:
        store.close()
        cluster.stop()


def test_refresh_on_cluster(cluster_store: Any) -> None:
    clock = FakeClock()
    sessions = Sessions(cluster_store, idle_timeout=86400, absolute_timeout=86400, clock=clock)
    access = AccessTokens(Key.from_secret(b"c" * 32), issuer="i", audience="a", clock=clock)
    events: list[Any] = []
    refresh = RefreshTokens(
        cluster_store, access, secret=b"s" * 32, clock=clock, on_reuse=events.append
    )
    for user in ("alice", "bob", "carol", "dave"):  # users hash to different slots
        session_token, record = sessions.create(user)
        r0, _ = refresh.start(user, session=record)
        r1, _ = refresh.rotate(r0)
        assert refresh.rotate(r0)[0] == r1  # grace window
        refresh.grace = 0.05  # measured on the server's clock: wait it out
        time.sleep(0.1)
        with pytest.raises(ReusedToken):
            refresh.rotate(r0)
        refresh.grace = 5
        assert sessions.get(session_token) is None
        session_token, record = sessions.create(user)
        r0, _ = refresh.start(user, session=record)
        sessions.revoke(session_token)
        with pytest.raises(RevokedToken):
            refresh.rotate(r0)
    assert len(events) == 4


def test_replicated_revocation_on_cluster(cluster_store: Any) -> None:
    key = Key.from_secret(b"c" * 32)
    with (
        AccessTokens(
            key, issuer="i", audience="a", revocation="replicated", store=cluster_store
        ) as a,
        AccessTokens(
            key, issuer="i", audience="a", revocation="denylist", store=cluster_store
        ) as d,
    ):
        token = a.issue("alice")
        d.revoke(token)  # written through the denylist path, announced on the channel
        assert rejected(d, token)
        assert wait_until(lambda: rejected(a, token))
        other = a.issue("bob")
        a.revoke_user("bob")
        assert rejected(d, other) and rejected(a, other)
