"""Replicated revocation: another process sees revocations; a lost change stream fails closed,
then the listener resynchronises (full reload) before the cache is trusted again."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from gp_strategy_kit import state_of, wait_until

from gatepass import AccessTokens, AsyncAccessTokens, Key
from gatepass.errors import RevokedToken, StoreUnavailable
from gatepass.stores import open_store
from gatepass.stores.records import RevocationEntry
from gatepass.strategies._access_policy import RevocationCache
from gatepass.strategies.revocation import ReplicatedRevocations

ISS, AUD = "https://auth.example", "api"
SECRET = b"k" * 32


def tokens_for(store: Any, **kw: Any) -> AccessTokens:
    key = Key.from_secret(SECRET, "HS256")
    return AccessTokens(key, issuer=ISS, audience=AUD, revocation="replicated", store=store, **kw)


def test_cache_is_untrusted_until_loaded_and_after_loss() -> None:
    cache = RevocationCache()
    claims = {"sub": "u", "jti": "j", "iat": 1}
    assert cache.check(claims, 2.0) is False  # never loaded: not trusted
    cache.replace([])
    assert cache.check(claims, 2.0) is True
    cache.mark_stale()
    assert cache.check(claims, 2.0) is False


def kill_listener(store: Any, tokens: AccessTokens) -> None:
    """Cut exactly our listener's connection (never other clients of the shared servers)."""
    rev = tokens.revocations
    assert isinstance(rev, ReplicatedRevocations)
    assert rev.listener is not None
    if store.kind == "redis":
        killed = store.client.execute_command("CLIENT", "KILL", "ADDR", rev.listener)
        assert killed in (True, b"OK", "OK")
    else:
        with store.connection() as conn:
            row = conn.execute("SELECT pg_terminate_backend(%s)", (int(rev.listener),)).fetchone()
        assert row[0] is True


@pytest.mark.parametrize("store_url", ["redis", "postgres"], indirect=True)
def test_lost_connection_fails_closed_then_resyncs(store: Any, store_url: str) -> None:
    other = open_store(store_url)  # a second connection: "another process" revoking
    try:
        with tokens_for(store) as tokens, tokens_for(other) as revoker:
            rev = tokens.revocations
            assert isinstance(rev, ReplicatedRevocations)
            rev.retry_delay = 1.0  # widen the stale window so the test can see it
            token, victim = tokens.issue("u1"), tokens.issue("u2")
            assert state_of(tokens, token) == "ok"
            reloads = rev.reloads

            kill_listener(store, tokens)
            # Fail closed: once the loss is noticed, verification refuses to trust the cache.
            assert wait_until(lambda: state_of(tokens, token) == "unavailable")
            # A revocation published while nobody listens...
            revoker.revoke_user("u2")
            # ...is picked up by the full reload after re-subscribing.
            assert wait_until(lambda: rev.reloads > reloads and rev.synchronised)
            assert state_of(tokens, victim) == "revoked"
            assert state_of(tokens, token) == "ok"
            # And the live stream works again.
            revoker.revoke(token)
            assert wait_until(lambda: state_of(tokens, token) == "revoked")
    finally:
        other.close()


@pytest.mark.parametrize("store_url", ["redis", "postgres"], indirect=True)
async def test_async_lost_connection_resyncs(async_store: Any, store_url: str) -> None:
    other = open_store(store_url)
    key = Key.from_secret(SECRET, "HS256")
    try:
        async with AsyncAccessTokens(
            key, issuer=ISS, audience=AUD, revocation="replicated", store=async_store
        ) as tokens:
            rev = tokens.revocations
            token = await tokens.issue("u1")
            await tokens.verify(token)
            before = rev.reloads  # type: ignore[attr-defined]
            listener = rev.listener  # type: ignore[attr-defined]
            if async_store.kind == "redis":
                other.client.execute_command("CLIENT", "KILL", "ADDR", listener)
            else:
                with other.connection() as conn:
                    conn.execute("SELECT pg_terminate_backend(%s)", (int(listener),))
            tokens_sync = tokens_for(other)
            try:
                tokens_sync.revoke_user("u1")
            finally:
                tokens_sync.close()
            import asyncio
            import time

            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    await tokens.verify(token)
                except RevokedToken:
                    break
                except StoreUnavailable:
                    pass
                await asyncio.sleep(0.01)
            with pytest.raises(RevokedToken):
                await tokens.verify(token)
            assert rev.reloads > before  # type: ignore[attr-defined]
    finally:
        other.close()


CHILD = textwrap.dedent(
    """
    import os, sys, time
    from gatepass import AccessTokens, Key
    from gatepass.errors import RevokedToken, StoreUnavailable
    from gatepass.stores import open_store

    store = open_store(os.environ["GP_URL"])
    key = Key.from_secret(os.environ["GP_SECRET"].encode(), "HS256")
    tokens = AccessTokens(key, issuer="https://auth.example", audience="api",
                          revocation="replicated", store=store)
    print("ready", flush=True)
    for line in sys.stdin:
        cmd, _, token = line.strip().partition(" ")
        if cmd == "quit":
            break
        try:
            tokens.verify(token)
            print("ok", flush=True)
        except RevokedToken:
            print("revoked", flush=True)
        except StoreUnavailable:
            print("unavailable", flush=True)
    tokens.close()
    store.close()
    """
)


@pytest.mark.parametrize("store_url", ["sqlite", "redis", "postgres"], indirect=True)
def test_propagation_to_another_process(store: Any, store_url: str, tmp_path: Path) -> None:
    env = dict(os.environ, GP_URL=store_url, GP_SECRET=SECRET.decode())
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "ready"

        def ask(token: str) -> str:
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write(f"verify {token}\n")
            child.stdin.flush()
            return child.stdout.readline().strip()

        with tokens_for(store) as tokens:
            token, other = tokens.issue("u1"), tokens.issue("u2")
            assert wait_until(lambda: ask(token) == "ok")
            tokens.revoke(token)
            assert wait_until(lambda: ask(token) == "revoked")
            assert ask(other) == "ok"
            tokens.revoke_user("u2")
            assert wait_until(lambda: ask(other) == "revoked")
    finally:
        if child.stdin is not None:
            child.stdin.write("quit\n")
            child.stdin.close()
        child.wait(10)


@pytest.mark.parametrize("store_url", ["sqlite", "redis"], indirect=True)
def test_silent_stream_fails_closed(store: Any) -> None:
    """A listener that stops showing signs of life (dead thread, silently dropped TCP
    connection) makes verification fail closed after max_silence."""
    tokens = tokens_for(store)
    rev = tokens.revocations
    assert isinstance(rev, ReplicatedRevocations)
    token = tokens.issue("u1")
    assert state_of(tokens, token) == "ok"
    assert rev.listening
    rev.close()  # the listener is gone; nothing proves the stream alive any more
    assert not rev.listening  # clean shutdown: the thread has ended
    rev.replica.beat -= rev.replica.max_silence + 0.1  # ...for longer than max_silence
    assert state_of(tokens, token) == "unavailable"


def test_memory_replicated_is_always_current() -> None:
    store = open_store("memory://")
    with tokens_for(store) as a, tokens_for(store) as b:
        token = a.issue("u1")
        b.revoke(token)
        assert state_of(b, token) == "revoked"  # the revoking process: at once
        assert wait_until(lambda: state_of(a, token) == "revoked")  # the other: its feed


NOW = 1_800_000_000.0


# --- Redis: re-adding an entry must not shorten its life in the reload index -------------------


def test_redis_index_keeps_the_longest_expiry(redis_url: str) -> None:
    prefix = f"gprr{secrets.token_hex(4)}:"
    store = open_store(f"{redis_url}?prefix={prefix}")
    try:
        # A process with leeway 60 revokes a jti, then one with leeway 0 revokes it again.
        store.revocation_add(RevocationEntry("jti", "J", 0, NOW + 100), NOW)
        store.revocation_add(RevocationEntry("jti", "J", 0, NOW + 40), NOW)
        assert store.revocation_lookup("J", None, "u", NOW + 50).jti  # the denylist has it
        entries = store.revocation_snapshot(NOW + 50)
        # ... so must a replicated process that reloads (after a reconnect) at that moment.
        assert [e for e in entries if e.key == "J"] == [RevocationEntry("jti", "J", 0, NOW + 100)]
    finally:
        keys = list(store.client.scan_iter(match=f"{prefix}*"))
        if keys:
            store.client.delete(*keys)
        store.close()
