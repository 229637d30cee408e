"""Bad input to Sessions / AsyncSessions, on every backend and through both APIs.

Each input either works the same on memory, SQLite, Redis, Redis Cluster and PostgreSQL, or is
refused by all of them with the one documented exception (``ConfigurationError`` for a bad
argument, ``InvalidToken`` for a token that cannot be a session), before any store call: the
tests check that nothing was stored and that an existing session is unchanged. Before these
checks, a lone surrogate raised ``UnicodeEncodeError``, deep nesting ``RecursionError``, an
infinite timeout ``OverflowError`` (Redis), and NUL was kept by three backends and refused by
PostgreSQL alone.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from gp_session_harness import DEFAULTS, Harness

from gatepass.errors import ConfigurationError, InvalidToken
from gatepass.stores import open_store
from gatepass.stores.limits import MAX_TIMEOUT
from gatepass.strategies._session_input import MAX_DATA_BYTES, MAX_JSON_DEPTH
from gp_testkit import nested_object


def stored_sessions(h: Harness) -> int:
    """How many session records the backend holds for this test (read without touching)."""
    kind = h.store.kind
    if kind == "memory":
        return len(h.store.table("sessions"))
    store = open_store(h.url)
    try:
        if kind == "redis":
            keys = store.client.scan_iter(match=f"{store.prefix}*:s:*", count=1000)
            return sum(1 for _ in keys)
        with store.connection() as conn:
            row = conn.execute(f"SELECT count(*) FROM {store.table('sessions')}").fetchone()
        return int(row[0])
    finally:
        store.close()


async def snapshot(h: Harness, token: str, user_id: str) -> tuple[Any, ...]:
    """What must not change: the session itself, the user's list and the number stored."""
    record = await h.get(token)
    assert record is not None
    listed = [(r.id, dict(r.metadata), dict(r.data)) for r in await h.list(user_id)]
    return record.id, dict(record.metadata), dict(record.data), listed, stored_sessions(h)


def _nested(depth: int) -> dict[str, Any]:
    """A JSON object nesting ``depth`` levels of objects and arrays (the top level is 1)."""
    value: Any = "leaf"
    for level in range(depth - 1):
        value = {"k": value} if level % 2 else [value]
    return {"k": value}


BAD_USER_IDS: list[Any] = [
    "\ud800",
    "alice\udfff",
    "\ud83d\ude00",  # a surrogate *pair* in a str is still two lone surrogates to UTF-8
    "\x00",
    "alice\x00",
    "",
    "x" * 256,
    5,
    b"alice",
    ["alice"],
]

BAD_JSON: list[Any] = [
    {"\ud800": 1},
    {"k": "\udfff"},
    {"k": ["ok", {"\ud800": 1}]},
    {"k": "a\x00b"},
    {"a\x00": 1},
    {"k": {"n": ["\x00"]}},
    {"k": "\\\x00"},
    {"k": math.nan},
    {"k": object()},
    {"k": 1e16},
    {1: "non-str key"},
    [("k", 1)],
    "k=1",
    5,
    _nested(MAX_JSON_DEPTH + 1),
    nested_object(100_000),
]


async def test_bad_user_ids_are_refused_everywhere(harness: Harness) -> None:
    h = harness
    token, record = await h.create("alice", metadata={"ua": "x"})
    before = await snapshot(h, token, "alice")
    for bad in BAD_USER_IDS:
        with pytest.raises(ConfigurationError, match="user_id"):
            await h.create(bad)
        with pytest.raises(ConfigurationError, match="user_id"):
            await h.create(bad, remember=True, metadata={"ua": "x"})
        with pytest.raises(ConfigurationError, match="user_id"):
            await h.list(bad)
        with pytest.raises(ConfigurationError, match="user_id"):
            await h.revoke_all(bad)
        with pytest.raises(ConfigurationError, match="user_id"):
            await h.revoke_all(bad, except_token=token)
        with pytest.raises(ConfigurationError, match="user_id"):
            await h.revoke(record.id, user_id=bad)
    assert await snapshot(h, token, "alice") == before


async def test_unusual_but_valid_user_ids_behave_the_same_everywhere(harness: Harness) -> None:
    h = harness
    for user_id in ["ünïcødé 😀", "tab\there", "\x01\x1f", "\\u0000", "x" * 255, " "]:
        token, record = await h.create(user_id)
        got = await h.get(token)
        assert got is not None and got.user_id == user_id and type(got.user_id) is str
        assert [r.id for r in await h.list(user_id)] == [record.id]
        assert await h.revoke(record.id, user_id=user_id)
        assert await h.get(token) is None
        await h.create(user_id)
        assert await h.revoke_all(user_id) == 1
        assert await h.list(user_id) == []
    assert stored_sessions(h) == 0


async def test_bad_metadata_is_refused_everywhere(harness: Harness) -> None:
    h = harness
    token, _ = await h.create("alice", metadata={"ua": "x"})
    before = await snapshot(h, token, "alice")
    for bad in BAD_JSON:
        with pytest.raises(ConfigurationError, match="metadata"):
            await h.create("bob", metadata=bad)
        with pytest.raises(ConfigurationError, match="metadata"):
            await h.create("alice", remember=True, metadata=bad)
    assert await h.list("bob") == []
    assert await snapshot(h, token, "alice") == before


async def test_bad_data_is_refused_everywhere(harness: Harness) -> None:
    h = harness
    token, _ = await h.create("alice", metadata={"ua": "x"})
    await h.update(token, {"keep": 1})
    before = await snapshot(h, token, "alice")
    for bad in BAD_JSON:
        with pytest.raises(ConfigurationError, match="data"):
            await h.update(token, bad)
    # Each patch fits, the merged data does not: refused by the store's own check, unchanged.
    await h.update(token, {"a": "x" * (MAX_DATA_BYTES // 2)})
    before = await snapshot(h, token, "alice")
    with pytest.raises(ConfigurationError, match="data"):
        await h.update(token, {"b": "x" * (MAX_DATA_BYTES // 2)})
    assert await snapshot(h, token, "alice") == before


async def test_edge_json_round_trips_identically_everywhere(harness: Harness) -> None:
    """What is accepted comes back the same from every backend (PostgreSQL's jsonb included)."""
    h = harness
    metadata = {
        "escape": "\\u0000",  # six characters, not NUL
        "backslashes": "\\\\u0000\\",
        "control": "\x01\x1f\n",
        "emoji": "😀",
        "big": 2**70,
        "near": 9999999999999998.0,
        "tiny": 5e-324,
        "zero": -0.0,  # PostgreSQL has no negative zero: 0.0 everywhere
        "deepest": _nested(MAX_JSON_DEPTH - 1)["k"],
    }
    token, record = await h.create("alice", metadata=metadata)
    await h.update(token, {"data": metadata})
    got = await h.get(token)
    assert got is not None
    for value in (record.metadata, got.metadata, got.data["data"]):
        assert value == metadata
        assert type(value["near"]) is float and type(value["big"]) is int
        assert math.copysign(1.0, value["zero"]) == 1.0


@pytest.mark.parametrize(
    "bad",
    [None, 5, b"x", ["x"], "", "x" * 48, "\ud800" * 48, "é" * 48],
    ids=repr,
)
async def test_tokens_that_cannot_be_sessions(harness: Harness, bad: Any) -> None:
    h = harness
    token, _ = await h.create("alice")
    before = await snapshot(h, token, "alice")
    assert await h.get(bad) is None
    with pytest.raises(InvalidToken):
        await h.rotate(bad)
    with pytest.raises(InvalidToken):
        await h.update(bad, {"k": 1})
    assert await h.revoke(bad) is False
    assert await h.revoke_all("bob", except_token=bad) == 0
    assert await snapshot(h, token, "alice") == before


async def test_the_token_bytes_are_not_the_token(harness: Harness) -> None:
    h = harness
    token, _ = await h.create("alice")
    before = await snapshot(h, token, "alice")
    raw = token.encode()
    assert await h.get(raw) is None
    with pytest.raises(InvalidToken):
        await h.rotate(raw)
    assert await h.revoke(raw) is False
    assert await snapshot(h, token, "alice") == before


BAD_TIMEOUTS: list[dict[str, Any]] = [
    {"idle_timeout": "x"},
    {"idle_timeout": None},
    {"absolute_timeout": "1000"},
    {"idle_timeout": True},
    {"touch_interval": math.nan},
    {"touch_interval": -1},
    {"idle_timeout": math.inf},
    {"absolute_timeout": math.inf},
    {"remember_absolute_timeout": math.inf},
    {"remember_idle_timeout": 10**400},
    {"absolute_timeout": MAX_TIMEOUT * 2},
]


async def test_bad_timeouts_are_refused_and_the_longest_allowed_works(harness: Harness) -> None:
    h = harness
    token, _ = await h.create("alice")
    before = await snapshot(h, token, "alice")
    for bad in BAD_TIMEOUTS:
        with pytest.raises(ConfigurationError):
            await h.with_options(**{**DEFAULTS, **bad})
    assert await snapshot(h, token, "alice") == before
    # The largest lifetimes every backend stores exactly (Redis: an integer TTL in ms).
    longest = await h.with_options(
        idle_timeout=MAX_TIMEOUT,
        absolute_timeout=MAX_TIMEOUT,
        remember_idle_timeout=MAX_TIMEOUT,
        remember_absolute_timeout=MAX_TIMEOUT,
        touch_interval=10,
    )
    for remember in (False, True):
        long_token, record = await longest.create("carol", remember=remember)
        assert record.absolute_expires_at == record.created_at + MAX_TIMEOUT
        h.clock.advance(3600)
        assert await longest.get(long_token) is not None  # renewed: a write with that TTL
        long_token = await longest.rotate(long_token)
        assert (await longest.update(long_token, {"k": 1})).data == {"k": 1}
    assert len(await longest.list("carol")) == 2
    assert await longest.revoke_all("carol") == 2
