"""The per-user session cap (``max_sessions``), on every backend, blocking and asyncio: a login
beyond it revokes the user's oldest session, records that are no longer live first, together
with its access tokens when those are linked; other users are untouched."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from gp_session_harness import DEFAULTS, Harness

from gatepass import AccessTokens, AsyncAccessTokens, KeyRing, Sessions
from gatepass.errors import ConfigurationError, RevokedToken
from gatepass.stores import open_store

IDLE = DEFAULTS["idle_timeout"]


async def _aw(value: Any) -> Any:
    """The result of a blocking call, or of an asyncio one, awaited."""
    return await value if inspect.isawaitable(value) else value


async def test_login_beyond_the_cap_evicts_the_oldest(harness: Harness) -> None:
    h = await harness.with_options(max_sessions=3, **DEFAULTS)
    bob, _ = await h.create("bob")
    made = []
    for _ in range(5):
        made.append(await h.create("alice"))
        h.clock.advance(1)
    assert [r.id for r in await h.list("alice")] == [r.id for _, r in made[2:]]
    assert [await h.get(t) is not None for t, _ in made] == [False, False, True, True, True]
    assert await h.get(bob) is not None


async def test_records_no_longer_live_are_evicted_first(harness: Harness) -> None:
    h = await harness.with_options(max_sessions=3, **DEFAULTS)
    first, _ = await h.create("alice")  # idles out below, but stays stored (not purged)
    kept = []
    for _ in range(2):
        h.clock.advance(1)
        kept.append(await h.create("alice", remember=True))
    h.clock.advance(IDLE + 1)
    newest = await h.create("alice")
    assert [r.id for r in await h.list("alice")] == [r.id for _, r in [*kept, newest]]
    assert all([await h.get(t) is not None for t, _ in [*kept, newest]])
    assert await h.get(first) is None


async def test_evicted_session_takes_its_access_tokens_along(harness: Harness) -> None:
    kind = AsyncAccessTokens if harness.mode == "async" else AccessTokens
    access: Any = kind(
        KeyRing.generate("ES256"),
        issuer="i",
        audience="a",
        revocation="denylist",
        store=harness.store,
        clock=harness.clock,
    )
    h = await harness.with_options(max_sessions=1, access_tokens=access, **DEFAULTS)
    _, old = await h.create("alice")
    bearer = await _aw(access.issue("alice", session=old))
    h.clock.advance(1)
    _, new = await h.create("alice")
    fresh = await _aw(access.issue("alice", session=new))
    with pytest.raises(RevokedToken):
        await _aw(access.verify(bearer))
    assert (await _aw(access.verify(fresh)))["sid"] == new.id


def test_no_cap_and_bad_caps() -> None:
    store = open_store("memory://")
    sessions = Sessions(store, max_sessions=None)
    tokens = [sessions.create("alice")[0] for _ in range(150)]
    assert all(sessions.get(t) is not None for t in tokens)
    assert Sessions(store).max_sessions == 100  # the documented default
    for bad in (0, -1, 1.5, True, "3"):
        with pytest.raises(ConfigurationError, match="max_sessions"):
            Sessions(store, max_sessions=bad)  # type: ignore[arg-type]
