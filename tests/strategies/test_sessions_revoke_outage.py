"""Revoking sessions whose access tokens are revoked through another store, which fails between
the two writes: the sessions on SQLite, the access tokens' denylist on a private Redis that the
test really stops.

Each revocation writes twice (the access tokens, then the session records), so a failure in
between must leave what the caller needs to ask again: the session records. The other order
would end the sessions first and leave their access tokens alive, with nothing left to name
them by ("no such session" on every retry). After the ``StoreUnavailable``, the same call once
the store is back must finish the job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from gp_store_servers import RedisServer  # on the path through tests/conftest.py

from gatepass import (
    AccessTokens,
    AsyncAccessTokens,
    AsyncRefreshTokens,
    AsyncSessions,
    KeyRing,
    RefreshTokens,
    Sessions,
)
from gatepass.errors import RevokedToken, StoreUnavailable
from gatepass.stores import open_async_store, open_store

pytestmark = pytest.mark.redis

T = TypeVar("T")
#: The first calls after the restart may meet a connection the restart broke (a
#: ``StoreUnavailable`` that changed nothing): the retry is sent again, a bounded number of times.
TRIES = 3


def urls(tmp_path: Path, redis: RedisServer) -> tuple[str, str]:
    sqlite_url = f"sqlite:///{tmp_path / 'sessions.db'}"
    redis_url = f"{redis.url}?socket_connect_timeout=0.5&socket_timeout=1"
    for url in (sqlite_url, redis_url):
        with contextlib.closing(open_store(url)) as store:
            store.setup()
    return sqlite_url, redis_url


def again(call: Callable[[], T]) -> T:
    for _ in range(TRIES - 1):
        with contextlib.suppress(StoreUnavailable):
            return call()
    return call()


async def again_async(call: Callable[[], Awaitable[T]]) -> T:
    for _ in range(TRIES - 1):
        with contextlib.suppress(StoreUnavailable):
            return await call()
    return await call()


@contextlib.contextmanager
def split(tmp_path: Path, redis: RedisServer) -> Iterator[tuple[Sessions, AccessTokens]]:
    """Blocking sessions on SQLite, linked to access tokens denylisted on ``redis``."""
    sqlite_url, redis_url = urls(tmp_path, redis)
    with (
        contextlib.closing(open_store(sqlite_url)) as sessions_store,
        contextlib.closing(open_store(redis_url)) as revocations,
    ):
        access = AccessTokens(
            KeyRing.generate("ES256"), issuer="i", audience="a", revocation="denylist",
            store=revocations,
        )  # fmt: skip
        yield Sessions(sessions_store, access_tokens=access), access


@contextlib.asynccontextmanager
async def split_async(tmp_path: Path, redis: RedisServer) -> Any:
    sqlite_url, redis_url = urls(tmp_path, redis)
    sessions_store, revocations = open_async_store(sqlite_url), open_async_store(redis_url)
    access = AsyncAccessTokens(
        KeyRing.generate("ES256"), issuer="i", audience="a", revocation="denylist",
        store=revocations,
    )  # fmt: skip
    try:
        yield AsyncSessions(sessions_store, access_tokens=access), access
    finally:
        await sessions_store.close()
        await revocations.close()


def test_revoke_by_token_can_be_sent_again(tmp_path: Path, private_redis: RedisServer) -> None:
    with split(tmp_path, private_redis) as (sessions, access):
        token, record = sessions.create("u1")
        bearer = access.issue("u1", session=record)
        private_redis.kill()
        with pytest.raises(StoreUnavailable):
            sessions.revoke(token)
        private_redis.start()
        assert again(lambda: sessions.revoke(token))  # the session was still there to revoke
        with pytest.raises(RevokedToken):
            access.verify(bearer)
        assert sessions.get(token) is None
        assert not sessions.revoke(token)  # and now it is gone


def test_revoke_all_but_one_can_be_sent_again(tmp_path: Path, private_redis: RedisServer) -> None:
    with split(tmp_path, private_redis) as (sessions, access):
        current, kept = sessions.create("u1")
        others = [sessions.create("u1")[1] for _ in range(2)]
        bearers = [access.issue("u1", session=record) for record in others]
        mine = access.issue("u1", session=kept)
        private_redis.kill()
        with pytest.raises(StoreUnavailable):
            sessions.revoke_all("u1", except_token=current)
        private_redis.start()
        assert again(lambda: sessions.revoke_all("u1", except_token=current)) == 2
        for bearer in bearers:
            with pytest.raises(RevokedToken):
                access.verify(bearer)
        assert access.verify(mine)["sid"] == kept.id  # the kept session's token stays valid
        assert [record.id for record in sessions.list("u1")] == [kept.id]


async def test_async_revoke_by_token_can_be_sent_again(
    tmp_path: Path, private_redis: RedisServer
) -> None:
    async with split_async(tmp_path, private_redis) as (sessions, access):
        token, record = await sessions.create("u1")
        bearer = await access.issue("u1", session=record)
        private_redis.kill()
        with pytest.raises(StoreUnavailable):
            await sessions.revoke(token)
        private_redis.start()
        assert await again_async(lambda: sessions.revoke(token))
        with pytest.raises(RevokedToken):
            await access.verify(bearer)
        assert await sessions.get(token) is None


async def test_async_revoke_all_but_one_can_be_sent_again(
    tmp_path: Path, private_redis: RedisServer
) -> None:
    async with split_async(tmp_path, private_redis) as (sessions, access):
        current, kept = await sessions.create("u1")
        _, other = await sessions.create("u1")
        bearer = await access.issue("u1", session=other)
        mine = await access.issue("u1", session=kept)
        private_redis.kill()
        with pytest.raises(StoreUnavailable):
            await sessions.revoke_all("u1", except_token=current)
        private_redis.start()
        assert await again_async(lambda: sessions.revoke_all("u1", except_token=current)) == 1
        with pytest.raises(RevokedToken):
            await access.verify(bearer)
        assert (await access.verify(mine))["sid"] == kept.id


def test_a_failed_refresh_logout_leaves_the_login_whole(
    tmp_path: Path, private_redis: RedisServer
) -> None:
    """``RefreshTokens.revoke`` revokes the access tokens, then the session, the family last:
    a failure leaves a family that still rotates (the login is on, nothing half-done) and that
    a later logout ends with every access token of it. Revoking the family first would make
    the next refresh a "revoked" while the access tokens of that family live on."""
    with split(tmp_path, private_redis) as (sessions, access):
        _, record = sessions.create("u1")
        refresh = RefreshTokens(sessions.store, access, secret=b"f" * 32, grace=0)
        token, bearer = refresh.start("u1", session=record)
        private_redis.kill()
        with pytest.raises(StoreUnavailable):
            refresh.revoke(token)
        private_redis.start()
        token, second = refresh.rotate(token)  # the refresh still works
        assert again(lambda: refresh.revoke(token))
        for issued in (bearer, second):
            with pytest.raises(RevokedToken):
                access.verify(issued)
        assert sessions.list("u1") == []


async def test_async_refresh_logout_can_be_sent_again(
    tmp_path: Path, private_redis: RedisServer
) -> None:
    """The same logout, sent again once the store is back, does the whole job."""
    async with split_async(tmp_path, private_redis) as (sessions, access):
        _, record = await sessions.create("u1")
        refresh = AsyncRefreshTokens(sessions.store, access, secret=b"f" * 32)
        token, bearer = await refresh.start("u1", session=record)
        private_redis.kill()
        with pytest.raises(StoreUnavailable):
            await refresh.revoke(token)
        private_redis.start()
        assert await again_async(lambda: refresh.revoke(token))
        with pytest.raises(RevokedToken):
            await access.verify(bearer)
        assert await sessions.list("u1") == []
