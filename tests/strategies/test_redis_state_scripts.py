"""Purging refresh-family and revocation state through the store, blocking and asyncio, on Redis
and PostgreSQL; the Redis purge checks its cut-off before deleting anything.

Redis keeps refresh families and tokens under native TTLs (nothing to purge) and the revocation
change index (a sorted set scored by expiry) without one: ``purge_expired`` trims it.
PostgreSQL deletes expired rows of ``refresh_families``, ``refresh_tokens`` and ``revocations``.
"""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from gatepass import (
    AccessTokens,
    AsyncAccessTokens,
    AsyncRefreshTokens,
    AsyncSessions,
    KeyRing,
    RefreshTokens,
    Sessions,
)
from gatepass.errors import ConfigurationError
from gatepass.stores import open_async_store, open_store
from gatepass.strategies._session_tokens import hash_token, routing_tag
from gp_testkit import FakeClock

ISS, AUD = "https://auth.example", "api"
SECRET = b"p" * 32
TABLES = ["refresh_families", "refresh_tokens", "revocations"]


def _expired_rows(store_url: str, now: float) -> dict[str, int]:
    """Rows that expired by ``now``, per table (PostgreSQL), read on a connection of our own."""
    store = open_store(store_url)
    try:
        counts = {}
        with store.connection() as conn:
            for name in TABLES:
                row = conn.execute(
                    f"SELECT count(*) FROM {store.table(name)} WHERE expires_at <= %s", (now,)
                ).fetchone()
                counts[name] = int(row[0])
        return counts
    finally:
        store.close()


def _revocation_index(store_url: str) -> int:
    store = open_store(store_url)
    try:
        return int(store.client.zcard(store.keys.revocation_index))
    finally:
        store.close()


@pytest.mark.parametrize("store_url", ["redis", "postgres"], indirect=True)
async def test_async_purge_removes_expired_refresh_and_revocation_state(
    store_url: str, async_store: Any
) -> None:
    clock = FakeClock()
    sessions = AsyncSessions(async_store, idle_timeout=3600, absolute_timeout=7200, clock=clock)
    access = AsyncAccessTokens(
        KeyRing.generate("ES256"),
        issuer=ISS,
        audience=AUD,
        clock=clock,
        revocation="denylist",
        store=async_store,
    )
    refresh = AsyncRefreshTokens(async_store, access, secret=SECRET, clock=clock)
    try:
        for user in ("u1", "u2"):
            _, record = await sessions.create(user)
            r0, a0 = await refresh.start(user, session=record)
            await refresh.rotate(r0)
            await access.revoke(a0)
            await access.revoke_user(user)
        clock.advance(10**8)
        later = clock()
        if async_store.kind == "redis":
            assert _revocation_index(store_url) == 4
            assert await sessions.purge() >= 4
            assert _revocation_index(store_url) == 0
        else:
            before = _expired_rows(store_url, later)
            assert all(before.values()), before
            assert await sessions.purge() >= sum(before.values())
            assert _expired_rows(store_url, later) == dict.fromkeys(TABLES, 0)
        assert await async_store.purge_expired(later) == 0
    finally:
        await access.aclose()


def _redis_state(store: Any, clock: FakeClock) -> tuple[str, str]:
    """A live session, a dangling index entry (its session expired by TTL) and revocation
    entries; returns the user index key and the revocation index key."""
    sessions = Sessions(store, idle_timeout=3600, absolute_timeout=7200, clock=clock)
    access = AccessTokens(
        KeyRing.generate("ES256"),
        issuer=ISS,
        audience=AUD,
        clock=clock,
        revocation="denylist",
        store=store,
    )
    refresh = RefreshTokens(store, access, secret=SECRET, clock=clock)
    sessions.create("alice")
    gone, record = sessions.create("alice")
    refresh.start("alice", session=record)
    store.client.delete(store.keys.key(routing_tag("alice"), "s", hash_token(gone).hex()))
    access.revoke(access.issue("alice"))
    access.revoke_user("alice")
    return store.keys.key(routing_tag("alice"), "u", "alice"), store.keys.revocation_index


@pytest.mark.parametrize("store_url", ["redis"], indirect=True)
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("bad", ["x", "1e18", math.nan, math.inf, True, b"1"], ids=repr)
async def test_redis_purge_rejects_a_bad_cut_off_and_deletes_nothing(
    store_url: str, mode: str, bad: Any
) -> None:
    store = open_store(store_url)
    try:
        store.setup()
        clock = FakeClock(time.time() - 10**6)  # revocations expire in the (real) past
        index, revocations = _redis_state(store, clock)
        assert (store.client.hlen(index), store.client.zcard(revocations)) == (2, 2)
        target: Any = store if mode == "sync" else open_async_store(store_url)
        try:
            with pytest.raises(ConfigurationError, match="purge time"):
                if mode == "sync":
                    target.purge_expired(bad)
                else:
                    await target.purge_expired(bad)
            assert (store.client.hlen(index), store.client.zcard(revocations)) == (2, 2)
            # No cut-off means now (real time) for every kind of state.
            if mode == "sync":
                removed = target.purge_expired()
            else:
                removed = await target.purge_expired()
            assert removed == 1 + 2  # the dangling index entry, both revocation entries
            assert (store.client.hlen(index), store.client.zcard(revocations)) == (1, 0)
        finally:
            if mode == "async":
                await target.close()
    finally:
        store.close()
