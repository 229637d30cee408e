"""Hostile input on every store (issue 12): ids no store can hold alike (lone surrogates, NUL)
and a clock returning junk. Each entry point of Sessions, AccessTokens and RefreshTokens refuses
them the same way on memory, SQLite, Redis, Redis Cluster and PostgreSQL, through both APIs, and
nothing is written."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from gatepass import AsyncSessions, Sessions
from gatepass.stores import open_async_store, open_store

# --- ids: one check for every entry point and every store ----------------------------------------

#: Ids no store can hold alike: lone surrogates (UTF-8 cannot encode them) and NUL (PostgreSQL
#: ``text`` cannot hold it). Every entry point refuses them with ConfigurationError.
BAD_IDS = ["\ud800", "alice\udfff", "\ud83d\ude00", "\x00", "alice\x00"]
#: Ids every store keeps as they are: a token issued for any of them verifies everywhere.
GOOD_IDS = ["ünïcødé 😀", "tab\there", "\x01", "\\u0000", "x" * 255, "a:b{c}"]


def _fronts(store: Any, mode: str, clock: Any) -> tuple[Any, Any, Any]:
    from gatepass import AccessTokens, AsyncAccessTokens, AsyncRefreshTokens, RefreshTokens
    from gatepass.tokens.keys import Key

    key = Key.generate("ES256")
    common = {"issuer": "https://issuer.test", "audience": "api", "clock": clock}
    if mode == "sync":
        access: Any = AccessTokens(key, revocation="denylist", store=store, **common)
        return access, RefreshTokens(store, access, clock=clock), Sessions(store, clock=clock)
    access = AsyncAccessTokens(key, revocation="denylist", store=store, **common)
    return access, AsyncRefreshTokens(store, access, clock=clock), AsyncSessions(store, clock=clock)


async def _call(result: Any) -> Any:
    return await result if asyncio.iscoroutine(result) else result


async def test_ids_are_checked_alike_on_every_store(store_url: str, mode: str) -> None:
    """Lone surrogates and NUL in a user id, a session id or a token id: ConfigurationError from
    every entry point (before any store call), on every backend and through both APIs; a token
    gatepass issued for any other id verifies, and is revoked, on every backend; a signed token
    from elsewhere carrying such text in ``sub``, ``jti`` or ``sid`` is InvalidToken, not a
    driver error or a StoreError on one backend only."""
    from gatepass.errors import ConfigurationError, InvalidToken, RevokedToken
    from gatepass.tokens import jws
    from gp_testkit import FakeClock

    clock = FakeClock(1_700_000_000.0)
    store: Any = open_store(store_url) if mode == "sync" else open_async_store(store_url)
    await _call(store.setup())
    access, refresh, sessions = _fronts(store, mode, clock)
    try:
        for bad in BAD_IDS:
            calls = {
                "AccessTokens.issue": lambda: access.issue(bad),  # noqa: B023
                "AccessTokens.issue(session=)": lambda: access.issue("bob", session=bad),  # noqa: B023
                "AccessTokens.revoke_user": lambda: access.revoke_user(bad),  # noqa: B023
                "AccessTokens.revoke_session": lambda: access.revoke_session(bad),  # noqa: B023
                "RefreshTokens.start": lambda: refresh.start(bad),  # noqa: B023
                "RefreshTokens.start(session=)": lambda: refresh.start("bob", session=bad),  # noqa: B023
                "Sessions.create": lambda: sessions.create(bad),  # noqa: B023
                "Sessions.list": lambda: sessions.list(bad),  # noqa: B023
                "Sessions.revoke_all": lambda: sessions.revoke_all(bad),  # noqa: B023
            }
            for name, call in calls.items():
                with pytest.raises(ConfigurationError):
                    await _call(call())
                    pytest.fail(f"{name}({bad!r}) was accepted")
        for good in GOOD_IDS:
            token = await _call(access.issue(good, session="sid-1"))
            assert (await _call(access.verify(token)))["sub"] == good
            pair = await _call(refresh.start(good))
            assert (await _call(access.verify(pair[1])))["sub"] == good
            await _call(access.revoke_user(good))
            clock.advance(1)
            with pytest.raises(RevokedToken):
                await _call(access.verify(token))
        key = access.keys
        for claim in ("sub", "jti", "sid"):
            # (In JSON text the escaped pair \ud83d\ude00 is one valid character.)
            for bad in ("\ud800", "alice\udfff", "\x00", "alice\x00"):
                now = int(clock())
                claims = {"iss": "https://issuer.test", "aud": "api", "iat": now, "exp": now + 60}
                claims |= {"sub": "bob", "jti": "j1", claim: bad}
                # JSON escapes carry what UTF-8 cannot (ensure_ascii writes \ud800 as is).
                forged = jws.sign(json.dumps(claims).encode(), key, {"typ": "at+jwt"})
                with pytest.raises(InvalidToken):
                    await _call(access.verify(forged))
    finally:
        await _call(access.close())
        await _call(store.close())


def test_store_urls_with_lone_surrogates_or_nul_are_configuration_errors() -> None:
    from gatepass.errors import ConfigurationError

    for url in (
        "postgresql://postgres@127.0.0.1/te\ud800st",
        "postgresql://postgres@127.0.0.1/test?application_name=\udfff",
        "postgresql://postgres@127.0.0.1/te\x00st",
        "redis://127.0.0.1:6379/0?prefix=\ud800",
        "sqlite:///s\ud800.db",
        "memory://?prefix=a\x00",
    ):
        for opener in (open_store, open_async_store):
            with pytest.raises(ConfigurationError, match="valid Unicode text without NUL"):
                opener(url)


# --- a clock returning junk ----------------------------------------------------------------------

JUNK_READINGS: list[Any] = [None, "1800000000", float("nan"), float("inf"), float("-inf")]


async def test_a_junk_clock_is_a_configuration_error_and_stores_nothing(
    store_url: str, mode: str
) -> None:
    """A clock returning None, a string, NaN or an infinity: ConfigurationError from every
    strategy entry point that reads it, on every backend and through both APIs, and nothing
    was written: once the clock is sane again, every session, token and family is as it was
    (a logout of linked sessions or of a refresh family stops before its first write, not
    between the session's removal and the revocation of its access tokens)."""
    from gatepass.errors import ConfigurationError
    from gp_testkit import FakeClock

    clock = FakeClock(1_800_000_000.0)
    store: Any = open_store(store_url) if mode == "sync" else open_async_store(store_url)
    await _call(store.setup())
    access, refresh, sessions = _fronts(store, mode, clock)
    try:
        linked = type(sessions)(store, clock=clock, access_tokens=access)
        token, record = await _call(sessions.create("alice"))
        refresh_token, access_token = await _call(refresh.start("alice", session=record))
        before = await _call(store.revocation_snapshot(clock()))
        clock.advance(60)  # a touch would be due: get must not write one with a junk time
        calls: dict[str, Callable[[], Any]] = {
            "Sessions.create": lambda: sessions.create("bob"),
            "Sessions.get": lambda: sessions.get(token),
            "Sessions.rotate": lambda: sessions.rotate(token),
            "Sessions.update": lambda: sessions.update(token, {"k": 1}),
            "Sessions.list": lambda: sessions.list("alice"),
            "Sessions.purge": sessions.purge,
            "AccessTokens.issue": lambda: access.issue("bob"),
            "AccessTokens.verify": lambda: access.verify(access_token),
            "AccessTokens.revoke": lambda: access.revoke(access_token),
            "AccessTokens.revoke_user": lambda: access.revoke_user("alice"),
            "AccessTokens.revoke_session": lambda: access.revoke_session(record),
            "RefreshTokens.start": lambda: refresh.start("bob"),
            "RefreshTokens.rotate": lambda: refresh.rotate(refresh_token),
            "RefreshTokens.revoke": lambda: refresh.revoke(refresh_token),
            "Sessions.revoke (linked)": lambda: linked.revoke(token),
            "Sessions.revoke by id (linked)": lambda: linked.revoke(record.id, user_id="alice"),
            "Sessions.revoke_all (linked)": lambda: linked.revoke_all("alice"),
            "Sessions.revoke_all except (linked)": lambda: linked.revoke_all("alice", token),
        }
        sane = clock.now
        for junk in JUNK_READINGS:
            clock.now = junk
            for name, call in calls.items():
                with pytest.raises(ConfigurationError, match="clock"):
                    await _call(call())
                    pytest.fail(f"{name} accepted the clock reading {junk!r}")
        clock.now = sane
        assert await _call(store.revocation_snapshot(clock())) == before
        assert [r.id for r in await _call(sessions.list("bob"))] == []
        listed = await _call(sessions.list("alice"))
        assert [(r.id, r.last_seen_at, dict(r.data)) for r in listed] == [
            (record.id, record.last_seen_at, {})
        ]
        assert (await _call(access.verify(access_token)))["sub"] == "alice"
        rotated = await _call(refresh.rotate(refresh_token))  # generation 0 was never rotated
        assert (await _call(access.verify(rotated[1])))["sub"] == "alice"
    finally:
        await _call(access.close())
        await _call(store.close())
