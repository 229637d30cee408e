"""RefreshTokens on every backend: rotation, reuse detection, grace window, lifetimes, sessions,
and 200 concurrent rotations of one token (threads and asyncio)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from gp_strategy_kit import AUD, ISS, SECRET, family, setup_flow

from gatepass import (
    AsyncAccessTokens,
    AsyncRefreshTokens,
    AsyncSessions,
    KeyRing,
    Sessions,
)
from gatepass.errors import (
    ExpiredToken,
    InvalidToken,
    MalformedToken,
    ReusedToken,
    RevokedToken,
)
from gatepass.strategies._refresh_policy import ReuseEvent, parse
from gatepass.strategies._session_tokens import hash_token, routing_tag
from gp_testkit import FakeClock


def test_rotation_gives_new_pairs(store: Any) -> None:
    clock = FakeClock()
    refresh, access, _ = setup_flow(store, clock)
    r0, a0 = refresh.start("u1")
    assert access.verify(a0)["sub"] == "u1"
    fam = family(store, r0)
    # rt_<tag>.<family id>~<secret>: 3 + 4 + 1 + 22 + 1 + 43
    assert r0.startswith(f"rt_{routing_tag('u1')}.{fam.id}~") and len(r0) == 74
    assert r0.count(".") == 1  # one dot, as in session tokens: never three JWS segments
    assert hash_token(r0) != r0.encode()
    clock.advance(60)
    r1, a1 = refresh.rotate(r0)
    assert r1 != r0 and access.verify(a1)["sub"] == "u1"
    assert r1[:31] == r0[:31] and r1[31:] != r0[31:]  # same tag and family, new secret
    clock.advance(60)
    r2, _ = refresh.rotate(r1)
    assert family(store, r2).generation == 2
    # The store holds hashes only: the raw token is nowhere in the family record.
    assert r2 not in repr(family(store, r2))


def test_reuse_outside_grace_revokes_family_and_calls_hook(store: Any) -> None:
    """The grace window runs on the store's clock (real time), so the test waits it out."""
    clock = FakeClock()
    refresh, _, events = setup_flow(store, clock, grace=0.05)
    r0, _ = refresh.start("u1")
    r1, _ = refresh.rotate(r0)
    time.sleep(0.1)  # past the grace window
    with pytest.raises(ReusedToken):
        refresh.rotate(r0)  # the thief (or the victim) replays a used token
    assert len(events) == 1
    assert events[0].user_id == "u1" and events[0].family_id == family(store, r1).id
    assert family(store, r1).revoked
    with pytest.raises(RevokedToken):
        refresh.rotate(r1)  # the successor is dead too: the whole family is revoked
    assert len(events) == 1


def test_grace_window_returns_the_same_successor(store: Any) -> None:
    clock = FakeClock()
    refresh, _, events = setup_flow(store, clock)
    r0, _ = refresh.start("u1")
    r1, _ = refresh.rotate(r0)
    clock.advance(4.999)
    again, access_token = refresh.rotate(r0)  # second tab, same moment
    assert again == r1 and access_token
    assert family(store, r1).generation == 1 and not family(store, r1).revoked
    r2, _ = refresh.rotate(r1)  # the family goes on
    assert family(store, r2).generation == 2
    # An older generation is reuse even inside the window.
    with pytest.raises(ReusedToken):
        refresh.rotate(r0)
    assert len(events) == 1


def test_grace_zero_means_every_repeat_is_reuse(store: Any) -> None:
    clock = FakeClock()
    refresh, _, _ = setup_flow(store, clock, grace=0)
    r0, _ = refresh.start("u1")
    refresh.rotate(r0)
    with pytest.raises(ReusedToken):
        refresh.rotate(r0)


def test_idle_and_absolute_lifetimes(store: Any) -> None:
    clock = FakeClock()
    refresh, _, _ = setup_flow(store, clock, idle_timeout=100, absolute_timeout=250)
    r, _ = refresh.start("u1")
    for _ in range(2):
        clock.advance(99.9)
        r, _ = refresh.rotate(r)
    clock.advance(50.2)  # 250.0 since start: the absolute lifetime has ended
    with pytest.raises(ExpiredToken):
        refresh.rotate(r)
    r, _ = refresh.start("u1")
    clock.advance(100)  # exactly the idle timeout
    with pytest.raises(ExpiredToken):
        refresh.rotate(r)


def test_bad_tokens(store: Any) -> None:
    refresh, _, _ = setup_flow(store, FakeClock())
    tag = routing_tag("u1")
    junk: list[object] = [
        "",
        "x" * 74,
        "rt_" + "A" * 71,
        f"rt_{tag}." + "A" * 22 + "~" + "A" * 42,  # one character short
        f"rt_{tag}." + "A" * 21 + "~" + "A" * 44,  # the family id one character short
        f"rt_{tag}." + "A" * 22 + "~" + "A" * 42 + "!",
        f"rt_{tag}." + "A" * 22 + "~" + "A" * 42 + "\u00e9",
        f"rt_{tag}." + "A" * 22 + "~" + "A" * 43 + "\n",
        None,
        42,
    ]
    for bad in junk:
        with pytest.raises(MalformedToken):
            refresh.rotate(bad)  # type: ignore[arg-type]
    unknown = f"rt_{tag}." + "A" * 22 + "~" + "A" * 43
    with pytest.raises(InvalidToken):
        refresh.rotate(unknown)
    sessions = Sessions(store)
    session_token, _ = sessions.create("u1")
    with pytest.raises(MalformedToken):  # a session token is not a refresh token
        refresh.rotate(session_token)
    assert not refresh.revoke(unknown)


def test_old_format_tokens_are_malformed(store: Any) -> None:
    """``rt_<tag>.<secret>`` (before the family id joined the token) is refused as malformed on
    every backend, before any store access, even when its secret is a real one."""
    clock = FakeClock()
    refresh, _, events = setup_flow(store, clock)
    r0, _ = refresh.start("u1")
    old_style = r0[:8] + r0[31:]  # rt_<tag>. + the real secret
    assert len(old_style) == 51 and parse(old_style) is None
    with pytest.raises(MalformedToken):
        refresh.rotate(old_style)
    assert not refresh.revoke(old_style)
    with pytest.raises(MalformedToken):
        refresh.rotate("rt_" + routing_tag("u1") + "." + "A" * 43)
    fam = family(store, r0)
    assert fam.generation == 0 and not fam.revoked and events == []
    refresh.rotate(r0)  # the real token is unaffected


def test_forged_token_with_a_real_family_id_is_unknown(store: Any) -> None:
    """The family id in a refresh token is public (a family without a session gives it to
    every access token as ``sid``). An attacker who knows it, and the user's tag, forges
    ``rt_<tag>.<family id>~<made-up secret>``, or splices another family's real secret onto it:
    each hashes to nothing the store holds, so it is an unknown token (``InvalidToken``; not
    reuse, not revocation) and neither rotate nor revoke touches the family."""
    clock = FakeClock()
    refresh, access, events = setup_flow(store, clock)
    r0, a0 = refresh.start("victim")
    r1, _ = refresh.rotate(r0)
    fam = family(store, r1)
    assert access.verify(a0)["sid"] == fam.id and r1[8:30] == fam.id  # public
    other, _ = refresh.start("victim")  # a second login of the same user
    head = r1[:31]  # rt_<tag>.<family id>~
    forged = [
        head + "A" * 43,
        head + other[31:],  # another family's live secret
        other[:31] + r1[31:],  # the victim's live secret under another family's id
        head + "B" * 42 + "A",
    ]
    for token in forged:
        assert parse(token) is not None  # well-formed: it does reach the store
        with pytest.raises(InvalidToken) as info:
            refresh.rotate(token)
        assert type(info.value) is InvalidToken, token
        assert not refresh.revoke(token)
    after = family(store, r1)
    assert after == fam and not after.revoked and events == []
    assert family(store, other).generation == 0 and not family(store, other).revoked
    r2, _ = refresh.rotate(r1)  # the victim goes on
    assert family(store, r2).generation == 2


def test_session_coupling(store: Any) -> None:
    clock = FakeClock()
    sessions = Sessions(store, idle_timeout=86400, absolute_timeout=86400, clock=clock)
    refresh, access, events = setup_flow(store, clock, mode="denylist")
    session_token, record = sessions.create("u1")
    r0, a0 = refresh.start("u1", session=record)
    assert access.verify(a0)["sid"] == record.id
    r1, _ = refresh.rotate(r0)
    # Revoking the session ends the family.
    assert sessions.revoke(session_token)
    with pytest.raises(RevokedToken):
        refresh.rotate(r1)
    # Revoking the family (logout) ends the session and its access tokens.
    session_token, record = sessions.create("u1")
    r0, a0 = refresh.start("u1", session=record)
    assert refresh.revoke(r0)
    assert sessions.get(session_token) is None
    with pytest.raises(RevokedToken):
        access.verify(a0)
    with pytest.raises(RevokedToken):
        refresh.rotate(r0)
    # Reuse ends the session and its access tokens as well.
    session_token, record = sessions.create("u1")
    r0, _ = refresh.start("u1", session=record)
    r1, a1 = refresh.rotate(r0)
    refresh.grace = 0.05  # the window runs on the store's clock (real time): wait it out
    time.sleep(0.1)
    with pytest.raises(ReusedToken):
        refresh.rotate(r0)
    assert events[-1].session_id == record.id
    assert sessions.get(session_token) is None
    with pytest.raises(RevokedToken):
        access.verify(a1)


def test_200_concurrent_rotations_threads(store: Any) -> None:
    clock = FakeClock()
    refresh, _, events = setup_flow(store, clock)
    r0, _ = refresh.start("u1")
    barrier = threading.Barrier(200)
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        try:
            nxt, _ = refresh.rotate(r0)
        except BaseException as exc:  # collected and asserted below
            with lock:
                errors.append(exc)
            return
        with lock:
            results.append(nxt)

    threads = [threading.Thread(target=worker) for _ in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 200 and len(set(results)) == 1  # everyone got THE successor
    fam = family(store, results[0])
    assert fam.generation == 1 and not fam.revoked and events == []


def test_200_concurrent_rotations_without_grace_exactly_one_wins(store: Any) -> None:
    clock = FakeClock()
    refresh, _, events = setup_flow(store, clock, grace=0)
    r0, _ = refresh.start("u1")
    barrier = threading.Barrier(200)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        try:
            refresh.rotate(r0)
            result = "ok"
        except ReusedToken:
            result = "reused"
        except RevokedToken:
            result = "revoked"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker) for _ in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1
    assert outcomes.count("reused") == 1  # the first replay revokes the family...
    assert outcomes.count("revoked") == 198  # ...and everyone after finds it revoked
    assert family(store, r0).generation == 1 and family(store, r0).revoked
    assert len(events) == 1


async def test_200_concurrent_rotations_asyncio(async_store: Any) -> None:
    clock = FakeClock()
    access = AsyncAccessTokens(KeyRing.generate("ES256"), issuer=ISS, audience=AUD, clock=clock)
    events: list[ReuseEvent] = []

    async def hook(event: ReuseEvent) -> None:
        events.append(event)

    refresh = AsyncRefreshTokens(
        async_store, access, grace=5, secret=SECRET, clock=clock, on_reuse=hook
    )
    r0, a0 = await refresh.start("u1")
    assert (await access.verify(a0))["sub"] == "u1"
    results = await asyncio.gather(*(refresh.rotate(r0) for _ in range(200)))
    assert len({r for r, _ in results}) == 1
    r1 = results[0][0]
    r2, _ = await refresh.rotate(r1)
    refresh.grace = 0.05  # the window runs on the store's clock (real time): wait it out
    await asyncio.sleep(0.1)
    with pytest.raises(ReusedToken):
        await refresh.rotate(r1)
    assert len(events) == 1 and events[0].user_id == "u1"
    with pytest.raises(RevokedToken):
        await refresh.rotate(r2)
    assert await refresh.revoke(r2)  # revoking a revoked family is fine
    assert not await refresh.revoke("junk")


async def test_async_session_coupling(async_store: Any) -> None:
    clock = FakeClock()
    sessions = AsyncSessions(async_store, idle_timeout=86400, absolute_timeout=86400, clock=clock)
    access = AsyncAccessTokens(
        KeyRing.generate("ES256"),
        issuer=ISS,
        audience=AUD,
        clock=clock,
        revocation="denylist",
        store=async_store,
    )
    refresh = AsyncRefreshTokens(async_store, access, secret=SECRET, clock=clock)
    session_token, record = await sessions.create("u1")
    r0, a0 = await refresh.start("u1", session=record)
    assert await refresh.revoke(r0)
    assert await sessions.get(session_token) is None
    with pytest.raises(RevokedToken):
        await access.verify(a0)
    session_token, record = await sessions.create("u1")
    r0, _ = await refresh.start("u1", session=record.id)
    await sessions.revoke(session_token)
    with pytest.raises(RevokedToken):
        await refresh.rotate(r0)


def test_purge_drops_expired_families(store: Any) -> None:
    clock = FakeClock()
    refresh, _, _ = setup_flow(store, clock, idle_timeout=10, absolute_timeout=20)
    r0, _ = refresh.start("u1")
    refresh.rotate(r0)
    if store.kind == "redis":
        return  # native TTLs (real time) do this on Redis
    assert store.purge_expired(clock() + 21) >= 3
    with pytest.raises(InvalidToken):
        refresh.rotate(r0)
