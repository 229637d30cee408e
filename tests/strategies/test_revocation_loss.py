"""A Redis restarted without persistence comes back empty, and without saying so: revoked access
tokens must stay refused all the same (the store's loss marker, decided on in
:mod:`gatepass.strategies._access_policy`), for the denylist, for a replicated verifier that was
running and for one started afterwards, blocking and asyncio. Performed on a private
``redis-server`` (no RDB, no append-only file) that is SIGKILLed and started again."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gp_strategy_kit import state_of, wait_until

from gatepass import AccessTokens, AsyncAccessTokens, KeyRing
from gatepass.errors import RevokedToken, StoreUnavailable
from gatepass.stores import open_async_store, open_store
from gp_testkit import drop_redis_prefix

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "stores"))

from gp_store_servers import RedisServer, running_redis


@pytest.fixture
def volatile_redis(redis_server_path: str, tmp_path: Path) -> Iterator[RedisServer]:
    """A private ``redis-server`` without persistence."""
    with running_redis(tmp_path / "redis") as server:
        yield server


def _settled(tokens: Any, token: str) -> str:
    """The first answer that is not StoreUnavailable (a pooled connection to the killed server
    may fail a call or two while the store reconnects)."""
    for _ in range(50):
        outcome = state_of(tokens, token)
        if outcome != "unavailable":
            return outcome
        time.sleep(0.1)
    return "unavailable"


def test_restart_without_persistence_keeps_tokens_revoked(
    volatile_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Revoke a token (by ``jti``) and a user (cut-off), then SIGKILL the Redis and start it
    again without any persistence: it comes back empty. The denylist, a replicated verifier
    that was running, and one started afterwards all still refuse both tokens (and every other
    token issued before the loss), the loss is logged once, and a new login works."""
    ring = KeyRing.generate("ES256")
    url = volatile_redis.url
    store, later_store = open_store(url), open_store(url)
    options: dict[str, Any] = {"issuer": "i", "audience": "a", "ttl": 300}
    denylist = AccessTokens(ring, revocation="denylist", store=store, **options)
    running = AccessTokens(ring, revocation="replicated", store=store, **options)
    try:
        store.setup()
        assert running.revocations.wait_synchronised(10)
        revoked, frozen_user, bystander = (denylist.issue(u) for u in ("a1", "bob", "carol"))
        denylist.revoke(revoked)
        denylist.revoke_user("bob")
        for verifier in (denylist, running):
            assert wait_until(lambda v=verifier: state_of(v, revoked) == "revoked")
            assert state_of(verifier, frozen_user) == "revoked"
            assert state_of(verifier, bystander) == "ok"

        reloads = running.revocations.reloads
        volatile_redis.kill()
        volatile_redis.start()  # same port, no RDB, no append-only file: an empty server
        assert volatile_redis.cli("dbsize").strip() == "0"
        with caplog.at_level(logging.ERROR, logger="gatepass.revocation"):
            assert _settled(denylist, revoked) == "revoked"
            assert _settled(denylist, frozen_user) == "revoked"
            assert _settled(denylist, bystander) == "revoked"  # issued before the loss
        assert len([r for r in caplog.records if "lost its state" in r.message]) == 1

        # The running verifier kept its entries in memory; once its feed has reloaded it has the
        # loss marker too (until then it still refuses what it knew to be revoked).
        assert wait_until(lambda: running.revocations.reloads > reloads, 20)
        assert running.revocations.wait_synchronised(20)
        later = AccessTokens(ring, revocation="replicated", store=later_store, **options)
        try:
            assert later.revocations.wait_synchronised(10)
            for verifier in (running, later):
                assert [state_of(verifier, t) for t in (revoked, frozen_user, bystander)] == [
                    "revoked"
                ] * 3
            fresh = denylist.issue("a1")  # a new login, after the loss
            for verifier in (denylist, running, later):
                assert state_of(verifier, fresh) == "ok"
        finally:
            later.close()
    finally:
        running.close()
        store.close()
        later_store.close()


async def test_restart_without_persistence_keeps_tokens_revoked_async(
    volatile_redis: RedisServer,
) -> None:
    ring = KeyRing.generate("ES256")
    store = open_async_store(volatile_redis.url)
    tokens = AsyncAccessTokens(
        ring, issuer="i", audience="a", revocation="denylist", store=store, ttl=300
    )
    try:
        await store.setup()
        revoked, frozen_user = await tokens.issue("a1"), await tokens.issue("bob")
        await tokens.revoke(revoked)
        await tokens.revoke_user("bob")
        volatile_redis.kill()
        volatile_redis.start()
        for token in (revoked, frozen_user):
            for _ in range(50):
                try:
                    await tokens.verify(token)
                except StoreUnavailable:
                    continue
                except RevokedToken:
                    break
                pytest.fail("a token revoked before the restart verified after it")
            else:
                pytest.fail("the store did not come back")
        fresh = await tokens.issue("a1")
        assert (await tokens.verify(fresh))["sub"] == "a1"
    finally:
        await store.close()


def test_store_never_set_up_treats_its_first_use_as_a_loss(redis_url: str) -> None:
    """Without ``setup()`` the marker is missing, and missing looks exactly like lost: the first
    lookup writes it, and the token issued before it is refused (fail closed); tokens issued
    afterwards verify. A loss marker published on the change channel is ignored."""
    from gatepass.stores.records import RevocationEntry

    url = f"{redis_url}?prefix=gptest:unset{time.monotonic_ns()}:"
    store = open_store(url)
    try:
        tokens = AccessTokens(
            KeyRing.generate("ES256"), issuer="i", audience="a", revocation="denylist", store=store
        )
        early = tokens.issue("u1")
        time.sleep(0.01)
        assert state_of(tokens, early) == "revoked"
        later = tokens.issue("u1")
        assert state_of(tokens, later) == "ok"
        with pytest.raises(ValueError):
            RevocationEntry.decode("all|inf|99999999999999999|")
    finally:
        drop_redis_prefix(url)
        store.close()
