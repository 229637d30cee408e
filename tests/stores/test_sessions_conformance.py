"""One conformance suite for sessions, run on every backend (memory, SQLite, Redis, Redis Cluster,
PostgreSQL), through both the blocking and the asyncio API, with an injectable clock."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from gp_session_harness import DEFAULTS, Harness

from gatepass.errors import ConfigurationError, InvalidToken
from gatepass.stores import open_store
from gatepass.strategies._session_policy import touched
from gatepass.strategies._session_tokens import routing_tag

IDLE = DEFAULTS["idle_timeout"]
ABSOLUTE = DEFAULTS["absolute_timeout"]
TOUCH = DEFAULTS["touch_interval"]


def _sync_store(h: Harness) -> Any:
    """A blocking store on the same data (memory: the very same dicts)."""
    if h.store.kind == "memory":
        return getattr(h.store, "sync", h.store)
    store = open_store(h.url)
    return store


def raw_dump(h: Harness) -> bytes:
    """Every byte the backend holds for this test: what a leaked store or backup would contain."""
    kind = h.store.kind
    if kind == "memory":
        st = _sync_store(h)
        return repr(vars(st)).encode()
    if kind == "sqlite":
        path = Path(h.store.path)
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    store = _sync_store(h)
    try:
        if kind == "redis":
            out = b""
            for key in store.client.scan_iter(match=f"{store.prefix}*", count=1000):
                if store.client.type(key) == b"hash":
                    value = repr(store.client.hgetall(key)).encode()
                else:
                    value = store.client.get(key)
                out += key + b"=" + value + b"\n"
            return out
        with store.connection() as conn:
            rows = conn.execute(f"SELECT t::text FROM {store.table('sessions')} t").fetchall()
        return "\n".join(r[0] for r in rows).encode()
    finally:
        store.close()


def stored_last_seen(h: Harness, user_id: str) -> list[float]:
    """``last_seen_at`` as stored (read without touching) for each session of the user."""
    store = _sync_store(h)
    try:
        return sorted(r.last_seen_at for r in store.session_list(user_id, routing_tag(user_id)))
    finally:
        if h.store.kind != "memory":
            store.close()


# --- lifecycle -----------------------------------------------------------------------------------


async def test_lifecycle(harness: Harness) -> None:
    h = harness
    token, record = await h.create("alice", metadata={"ua": "Firefox on Linux", "ip": "192.0.2.1"})
    assert isinstance(token, str) and len(token) >= 43
    assert record.user_id == "alice"
    assert record.created_at == record.last_seen_at == record.authenticated_at == h.clock.now
    assert record.expires_at == h.clock.now + IDLE
    assert record.absolute_expires_at == h.clock.now + ABSOLUTE
    assert record.metadata == {"ua": "Firefox on Linux", "ip": "192.0.2.1"}
    assert record.id not in token and record.remember is False
    assert await h.get(token) == record
    assert await h.revoke(token) is True
    assert await h.get(token) is None
    assert await h.revoke(token) is False


async def test_unknown_and_malformed_tokens(harness: Harness) -> None:
    h = harness
    token, _ = await h.create("alice")
    for junk in ["", "x", token[:-1], token + "A", token[:5] + "!" * 43, "a" * 100_000, None, 42]:
        assert await h.get(junk) is None
    # Exactly a token's length: the hot path hashes these, so the tag a Redis key is built from
    # must still be refused (hash-tag braces, key separators, non-ASCII, lone surrogates).
    secret = token[4:]
    for tag in ["{}{}", "a}:{", "ab:c", "*?[]", "é" * 4, "\ud800" * 4, "AB C"]:
        assert await h.get(tag + secret) is None
    assert await h.get("\ud800" * len(token)) is None and await h.get("é" * len(token)) is None
    assert await h.get(token.replace(".", "!", 1)) is None
    other = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert await h.get(other) is None
    with pytest.raises(InvalidToken):
        await h.rotate("not a token")
    assert await h.get(token) is not None


async def test_store_holds_only_a_hash(harness: Harness) -> None:
    """Leak the whole store: neither the token nor its secret part is in it, and nothing in it
    works as a token."""
    h = harness
    token, record = await h.create("mallory-victim", metadata={"ua": "Chrome"})
    dump = raw_dump(h)
    assert record.id.encode() in dump  # we really are looking at the stored data
    secret = token.split(".", 1)[1]
    assert token.encode() not in dump and secret.encode() not in dump
    digest = hashlib.sha256(token.encode()).digest()
    for candidate in [digest.hex(), record.id, f"{token[:4]}.{digest.hex()[:43]}"]:
        assert await h.get(candidate) is None


# --- timeouts ------------------------------------------------------------------------------------


async def test_idle_timeout(harness: Harness) -> None:
    h = harness
    token, _ = await h.create("alice")
    h.clock.advance(IDLE - 0.5)
    renewed = await h.get(token)
    assert renewed is not None and renewed.last_seen_at == h.clock.now
    assert renewed.expires_at == h.clock.now + IDLE
    h.clock.advance(IDLE - 0.5)
    assert await h.get(token) is not None
    h.clock.advance(IDLE)  # exactly at the idle deadline: dead (now >= expires_at)
    assert await h.get(token) is None


async def test_idle_deadline_is_exact(harness: Harness) -> None:
    h = harness
    token, record = await h.create("alice")
    h.clock.now = record.expires_at - 0.001
    assert await h.get(token) is not None
    h2_token, rec2 = await h.create("bob")
    h.clock.now = rec2.expires_at
    assert await h.get(h2_token) is None


async def test_absolute_timeout_despite_activity(harness: Harness) -> None:
    h = harness
    token, record = await h.create("alice")
    while h.clock.now + TOUCH < record.absolute_expires_at:
        h.clock.advance(TOUCH + 1)
        current = await h.get(token)
        if h.clock.now < record.absolute_expires_at:
            assert current is not None
            assert current.expires_at <= record.absolute_expires_at
    h.clock.now = record.absolute_expires_at
    assert await h.get(token) is None
    with pytest.raises(InvalidToken):
        await h.rotate(token)


async def test_shortened_timeouts_apply_to_existing_sessions(harness: Harness) -> None:
    h = harness
    token, _ = await h.create("alice")
    h.clock.advance(30)
    strict = await h.with_options(idle_timeout=20, absolute_timeout=1000, touch_interval=5)
    assert await strict.get(token) is None  # idle 30 s > new idle timeout 20 s
    assert await h.get(token) is not None  # the old policy still accepts it: nothing was written
    h.clock.advance(1)
    short_life = await h.with_options(idle_timeout=20, absolute_timeout=25, touch_interval=5)
    assert await short_life.get(token) is None  # older than the new absolute lifetime


# --- throttled sliding ---------------------------------------------------------------------------


async def test_touch_is_throttled(harness: Harness) -> None:
    """Within ``touch_interval`` reads write nothing; the first read after it writes once, with
    the deadline the pure policy function computes."""
    h = harness
    token, record = await h.create("alice")
    writes = 0
    seen = stored_last_seen(h, "alice")
    for _ in range(5):
        h.clock.advance(TOUCH / 5 - 0.01)
        assert await h.get(token) is not None
        now_seen = stored_last_seen(h, "alice")
        writes += now_seen != seen
        seen = now_seen
    assert writes == 0
    assert seen == [record.created_at]
    h.clock.advance(1)  # now more than TOUCH after the last write
    before = await h.with_options(**DEFAULTS)
    got = await before.get(token)
    assert got is not None
    expected = touched(record, h.clock.now, before.sessions.lifetimes)
    assert got == expected
    assert stored_last_seen(h, "alice") == [h.clock.now]
    for _ in range(3):
        assert await h.get(token) == expected  # no further write inside the next interval
    assert stored_last_seen(h, "alice") == [expected.last_seen_at]


# --- remember me ---------------------------------------------------------------------------------


async def test_remember_me_limits(harness: Harness) -> None:
    h = harness
    token, record = await h.create("alice", remember=True)
    assert record.remember is True
    assert record.expires_at == h.clock.now + DEFAULTS["remember_idle_timeout"]
    assert record.absolute_expires_at == h.clock.now + DEFAULTS["remember_absolute_timeout"]
    h.clock.advance(IDLE * 2)  # far past the normal idle timeout
    got = await h.get(token)
    assert got is not None and got.expires_at == h.clock.now + DEFAULTS["remember_idle_timeout"]
    h.clock.advance(DEFAULTS["remember_idle_timeout"])
    assert await h.get(token) is None
    token2, record2 = await h.create("alice", remember=True)
    while h.clock.now < record2.absolute_expires_at - 400:
        h.clock.advance(400)
        assert await h.get(token2) is not None
    h.clock.now = record2.absolute_expires_at
    assert await h.get(token2) is None
    token3, _ = await h.create("alice", remember=True)
    # The count may include expired records not yet purged (the two above, on some backends).
    assert await h.revoke_all("alice") >= 1
    assert await h.get(token3) is None


# --- rotation ------------------------------------------------------------------------------------


async def test_rotation(harness: Harness) -> None:
    h = harness
    token, record = await h.create("alice", metadata={"ua": "Safari"})
    await h.update(token, {"cart": 3})
    h.clock.advance(5)
    new = await h.rotate(token)
    assert new != token and new[:4] == token[:4]
    assert await h.get(token) is None
    got = await h.get(new)
    assert got is not None
    assert (got.id, got.user_id, got.created_at, got.metadata, got.data) == (
        record.id,
        "alice",
        record.created_at,
        {"ua": "Safari"},
        {"cart": 3},
    )
    assert got.last_seen_at == h.clock.now and got.authenticated_at == record.authenticated_at
    with pytest.raises(InvalidToken):
        await h.rotate(token)
    h.clock.advance(5)
    newer = await h.rotate(new, reauthenticated=True)
    got = await h.get(newer)
    assert got is not None and got.authenticated_at == h.clock.now
    assert [r.id for r in await h.list("alice")] == [record.id]
    assert await h.revoke(record.id, user_id="alice") is True
    assert await h.get(newer) is None


# --- revocation ----------------------------------------------------------------------------------


async def test_revoke_all_and_all_but_current(harness: Harness) -> None:
    h = harness
    tokens = [(await h.create("alice"))[0] for _ in range(5)]
    bob, _ = await h.create("bob")
    assert await h.revoke_all("alice", except_token=tokens[2]) == 4
    assert [await h.get(t) is not None for t in tokens] == [False, False, True, False, False]
    assert await h.get(bob) is not None
    assert await h.revoke_all("alice") == 1
    assert [await h.get(t) for t in tokens] == [None] * 5
    assert await h.revoke_all("alice") == 0
    assert await h.get(bob) is not None


async def test_revoke_all_is_seen_by_another_store_instance(harness: Harness) -> None:
    """Another process = another store object on the same backend: the very next get fails."""
    h = harness
    if h.store.kind == "memory":
        pytest.skip("memory:// is process-local by definition")
    token, _ = await h.create("alice")
    other = open_store(h.url)
    try:
        from gatepass import Sessions

        remote = Sessions(other, clock=h.clock, **DEFAULTS)
        assert remote.get(token) is not None
        await h.revoke_all("alice")
        assert remote.get(token) is None
    finally:
        other.close()


async def test_list_with_metadata(harness: Harness) -> None:
    h = harness
    t1, r1 = await h.create("alice", metadata={"ua": "Firefox on Linux", "ip": "192.0.2.1"})
    h.clock.advance(1)
    t2, r2 = await h.create("alice", remember=True, metadata={"ua": "iPhone", "ip": "2001:db8::1"})
    await h.create("bob")
    listed = await h.list("alice")
    assert [r.id for r in listed] == [r1.id, r2.id]
    assert [r.metadata["ua"] for r in listed] == ["Firefox on Linux", "iPhone"]
    assert all(r.user_id == "alice" for r in listed)
    assert await h.list("nobody") == []
    h.clock.advance(IDLE)  # r1 idle-expired; r2 (remember-me) not
    assert [r.id for r in await h.list("alice")] == [r2.id]
    assert r1.id not in t1 and r2.id not in t2


async def test_revoke_by_public_id(harness: Harness) -> None:
    h = harness
    token, record = await h.create("alice")
    mallory, _ = await h.create("mallory")
    assert await h.revoke(record.id, user_id="mallory") is False  # not her session
    assert await h.get(token) is not None
    assert await h.revoke("no-such-id", user_id="alice") is False
    assert await h.revoke(record.id, user_id="alice") is True
    assert await h.get(token) is None
    assert await h.get(mallory) is not None
    assert await h.list("alice") == []


# --- data ----------------------------------------------------------------------------------------


async def test_session_data_updates(harness: Harness) -> None:
    h = harness
    token, _ = await h.create("alice")
    rec = await h.update(token, {"theme": "dark", "cart": [1, 2], "nested": {"a": []}})
    assert rec.data == {"theme": "dark", "cart": [1, 2], "nested": {"a": []}}
    rec = await h.update(token, {"cart": None, "lang": "de"})
    assert rec.data == {"theme": "dark", "nested": {"a": []}, "lang": "de"}
    got = await h.get(token)
    assert got is not None and got.data == rec.data
    with pytest.raises(ConfigurationError):
        await h.update(token, {"blob": "x" * 5000})
    with pytest.raises(ConfigurationError):
        await h.update(token, {"k": object()})
    for i in range(3):  # the merged size is checked too
        await h.update(token, {f"k{i}": "y" * 1200})
    with pytest.raises(ConfigurationError):
        await h.update(token, {"k3": "y" * 1200})
    await h.revoke(token)
    with pytest.raises(InvalidToken):
        await h.update(token, {"theme": "light"})


async def test_bad_arguments(harness: Harness) -> None:
    h = harness
    with pytest.raises(ConfigurationError):
        await h.create("")
    with pytest.raises(ConfigurationError):
        await h.create("u" * 300)
    with pytest.raises(ConfigurationError):
        await h.create("alice", metadata={"ip": {1, 2}})
    with pytest.raises(ConfigurationError):
        await h.create("alice", metadata={"ua": "x" * 3000})


async def test_user_ids_with_special_characters(harness: Harness) -> None:
    h = harness
    for uid in ["{weird}", "a:b:c", "ü-ñ ☃", "*", "42"]:
        token, rec = await h.create(uid)
        assert (await h.get(token)).user_id == uid  # type: ignore[union-attr]
        assert [r.id for r in await h.list(uid)] == [rec.id]
        assert await h.revoke_all(uid) == 1


# --- purge ---------------------------------------------------------------------------------------


async def test_purge(harness: Harness) -> None:
    h = harness
    live = [(await h.create("alice", remember=True))[0] for _ in range(3)]
    dead = [(await h.create("alice"))[0] for _ in range(4)]
    h.clock.advance(IDLE + 1)
    removed = await h.purge()
    if h.store.kind == "redis":
        # Redis expires sessions by itself (native TTL on real time); purge only prunes indexes.
        assert removed == 0
        store = _sync_store(h)
        try:
            keys = list(store.client.scan_iter(match=f"{store.prefix}*:s:*"))
            ttls = [store.client.pttl(k) for k in keys]
        finally:
            store.close()
        assert len(keys) == 7 and all(
            0 < t <= 1000 * DEFAULTS["remember_idle_timeout"] for t in ttls
        )
    else:
        assert removed == 4
        assert len(stored_last_seen(h, "alice")) == 3
    assert [await h.get(t) for t in dead] == [None] * 4
    assert None not in [await h.get(t) for t in live]
    assert await h.purge() == 0


@pytest.mark.parametrize("backend", ["redis", "redis_cluster"])  # Redis only: no skipped copies
async def test_redis_index_pruned_after_native_expiry(harness: Harness) -> None:
    h = harness
    assert h.store.kind == "redis"
    _, rec = await h.create("alice")
    token2, _ = await h.create("alice")
    store = _sync_store(h)
    try:
        for key in store.client.scan_iter(match=f"{store.prefix}*:s:*"):
            if rec.id.encode() in store.client.get(key):
                store.client.delete(key)  # what Redis does when the TTL runs out
        assert await h.purge() == 1
        index = next(iter(store.client.scan_iter(match=f"{store.prefix}*:u:*")))
        assert store.client.hlen(index) == 1
    finally:
        store.close()
    assert await h.get(token2) is not None
