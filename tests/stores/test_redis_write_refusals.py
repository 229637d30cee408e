"""A Redis that is up but refuses writes is an outage: ``StoreUnavailable`` (a 503 with
``Retry-After`` on the web), not a ``StoreError`` (a 500).

Two ways a real server gets there (``gp_redis_refusals``), both performed on a private
``redis-server``: its memory is full, and it cannot persist. Both pass once the operator acts,
and reads still work meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gp_redis_refusals import FAULTS
from gp_store_servers import RedisServer, running_redis

from gatepass import AsyncSessions, Sessions
from gatepass.errors import StoreUnavailable
from gatepass.stores import open_async_store, open_store

pytestmark = pytest.mark.redis


@pytest.fixture
def redis(redis_server_bin: str, tmp_path: Path) -> Iterator[RedisServer]:
    with running_redis(tmp_path / "redis") as server:
        yield server


@pytest.mark.parametrize("fault", list(FAULTS))
def test_blocking_sessions(fault: str, redis: RedisServer) -> None:
    store = open_store(redis.url)
    try:
        store.setup()
        sessions = Sessions(store)
        token, _ = sessions.create("alice")
        with FAULTS[fault](redis):
            with pytest.raises(StoreUnavailable):
                sessions.create("bob")
            assert sessions.get(token) is not None  # reads still work
        assert sessions.create("bob")[1].user_id == "bob"
    finally:
        store.close()


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_asyncio_sessions(fault: str, redis: RedisServer) -> None:
    store = open_async_store(redis.url)
    try:
        await store.setup()
        sessions = AsyncSessions(store)
        token, _ = await sessions.create("alice")
        with FAULTS[fault](redis):
            with pytest.raises(StoreUnavailable):
                await sessions.create("bob")
            assert await sessions.get(token) is not None
        assert (await sessions.create("bob"))[1].user_id == "bob"
    finally:
        await store.close()
