"""Logging out a session that has already idled out still revokes its access tokens, on every
backend and in real time: the session's record is kept for as long as an access token issued
for it may live (``AccessTokens.retention``), so logout can still name its ``sid``.

Real time, not an injected clock: Redis expires records by its own TTL, which a test clock does
not move, and that TTL is exactly what must outlive the idle deadline here.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from gatepass import AccessTokens, AsyncAccessTokens, AsyncSessions, KeyRing, Sessions
from gatepass.errors import RevokedToken

IDLE = 0.5
OPTIONS: dict[str, Any] = {"idle_timeout": IDLE, "absolute_timeout": 60, "touch_interval": 0.1}


def linked(store: Any) -> tuple[Sessions, AccessTokens]:
    access = AccessTokens(
        KeyRing.generate("ES256"), issuer="i", audience="a", revocation="denylist", store=store
    )
    return Sessions(store, access_tokens=access, **OPTIONS), access


def test_revoke_by_token_after_idle_out(store: Any) -> None:
    sessions, access = linked(store)
    token, record = sessions.create("u1")
    bearer = access.issue("u1", session=record)
    time.sleep(IDLE + 0.2)
    assert sessions.get(token) is None  # idled out
    assert access.verify(bearer)["sid"] == record.id  # ...but its access token still verified
    assert sessions.revoke(token)  # logout
    with pytest.raises(RevokedToken):
        access.verify(bearer)


def test_revoke_by_id_and_revoke_all_after_idle_out(store: Any) -> None:
    sessions, access = linked(store)
    _, idle = sessions.create("u1")
    kept_token, kept = sessions.create("u1")
    _, other = sessions.create("u1")
    by_id, by_all = access.issue("u1", session=idle), access.issue("u1", session=other)
    current = access.issue("u1", session=kept)
    time.sleep(IDLE + 0.2)
    assert sessions.revoke(idle.id, user_id="u1")  # "your devices": end that one
    with pytest.raises(RevokedToken):
        access.verify(by_id)
    assert sessions.revoke_all("u1", except_token=kept_token) == 1  # "log out other devices"
    with pytest.raises(RevokedToken):
        access.verify(by_all)
    assert access.verify(current)["sid"] == kept.id  # the kept session's token stays valid


async def test_async_revoke_after_idle_out(async_store: Any) -> None:
    access = AsyncAccessTokens(
        KeyRing.generate("ES256"),
        issuer="i",
        audience="a",
        revocation="denylist",
        store=async_store,
    )
    sessions = AsyncSessions(async_store, access_tokens=access, **OPTIONS)
    token, record = await sessions.create("u1")
    bearer = await access.issue("u1", session=record)
    time.sleep(IDLE + 0.2)
    assert await sessions.get(token) is None
    assert await sessions.revoke(token)
    with pytest.raises(RevokedToken):
        await access.verify(bearer)
