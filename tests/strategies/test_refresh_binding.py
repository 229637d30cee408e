"""What a refresh family keeps from its login, on every backend: the scopes, the time of
authentication and the DPoP key (RFC 9449 5). A rotation repeats the first two in every access
token and needs a proof from the key; a refresh token stolen without the key is refused and the
family stays usable by the client that holds it."""

from __future__ import annotations

from typing import Any

import pytest
from gp_strategy_kit import family, setup_flow

from gatepass import AccessTokens, AsyncAccessTokens, AsyncRefreshTokens, Key, KeyRing
from gatepass.errors import DPoPBindingMismatch, ReusedToken
from gatepass.stores.records import Family
from gatepass.strategies._refresh_policy import parse
from gatepass.tokens import dpop
from gatepass.tokens.dpop_replay import MemoryReplayCache
from gp_testkit import FakeClock

ISS, AUD = "https://auth.example", "api"
URL = "https://app.example/auth/refresh"


def test_rotation_keeps_scopes_and_login_time(store: Any) -> None:
    clock = FakeClock()
    refresh, access, _ = setup_flow(store, clock)
    login_at = clock() - 30
    r0, a0 = refresh.start("u1", scopes=("read", "write"), auth_time=login_at)
    first = access.verify(a0)
    assert first["scope"] == "read write" and first["auth_time"] == int(login_at)
    stored = family(store, r0)
    assert stored.scopes == ("read", "write") and stored.auth_time == login_at
    clock.advance(600)
    r1, a1 = refresh.rotate(r0)
    clock.advance(600)
    _, a2 = refresh.rotate(r1)
    for token in (a1, a2):
        claims = access.verify(token)
        # A refresh is not a login: "logged in within the last N minutes" is still 20 minutes ago.
        assert claims["scope"] == "read write"
        assert claims["auth_time"] == int(login_at)
        assert claims["iat"] > first["iat"]


def test_a_family_started_without_login_time_takes_its_start(store: Any) -> None:
    clock = FakeClock()
    refresh, access, _ = setup_flow(store, clock)
    r0, _ = refresh.start("u1")
    assert family(store, r0).auth_time == clock() and family(store, r0).scopes == ()
    clock.advance(60)
    assert access.verify(refresh.rotate(r0)[1])["auth_time"] == int(clock() - 60)


def proof_jkt(key: Key, verifier: dpop.DPoPVerifier) -> str:
    """The thumbprint the web layer hands the strategy: from a proof it verified."""
    proof = dpop.create_proof(key, method="POST", url=URL)
    return verifier.verify(proof, method="POST", url=URL).jkt


def test_bound_family_rotates_only_with_its_key(store: Any) -> None:
    clock = FakeClock()
    # grace=0: the grace window runs on the store's real clock, and this test needs a reuse.
    refresh, access, events = setup_flow(store, clock, grace=0)
    verifier = dpop.DPoPVerifier(replay=MemoryReplayCache())
    device, thief = Key.generate("ES256"), Key.generate("ES256")
    r0, a0 = refresh.start("u1", jkt=proof_jkt(device, verifier))
    bound: Family = family(store, r0)
    assert bound.jkt == device.thumbprint()
    assert access.verify(
        a0,
        proof=verifier.verify(
            dpop.create_proof(device, method="GET", url=URL, access_token=a0),
            method="GET",
            url=URL,
            access_token=a0,
        ),
    )["cnf"] == {"jkt": device.thumbprint()}

    # The stolen cookie, without the key and with another key: refused, nothing written.
    with pytest.raises(DPoPBindingMismatch):
        refresh.rotate(r0)
    with pytest.raises(DPoPBindingMismatch):
        refresh.rotate(r0, jkt=proof_jkt(thief, verifier))
    assert family(store, r0) == bound and events == []

    # The device still rotates, and every token stays bound to its key.
    r1, a1 = refresh.rotate(r0, jkt=proof_jkt(device, verifier))
    assert family(store, r1).generation == 1
    with pytest.raises(DPoPBindingMismatch):
        access.verify(a1)  # presented as a plain bearer token
    # An old token without the key is refused as unproven: it does not burn the family...
    for _ in range(3):
        with pytest.raises(DPoPBindingMismatch):
            refresh.rotate(r0)
    assert not family(store, r1).revoked and events == []
    # ...while the same reuse with the key (the device's own old token) still is one.
    with pytest.raises(ReusedToken):
        refresh.rotate(r0, jkt=device.thumbprint())
    assert family(store, r1).revoked and len(events) == 1


def test_an_unbound_family_binds_the_access_token_to_the_proof_not_itself(store: Any) -> None:
    """RFC 9449 5: a token request with a proof gets an access token bound to its key; the
    family stays unbound (the first proof it sees may be a thief's)."""
    clock = FakeClock()
    refresh, access, _ = setup_flow(store, clock)
    key = Key.generate("ES256")
    r0, _ = refresh.start("u1")
    r1, a1 = refresh.rotate(r0, jkt=key.thumbprint())
    made = dpop.create_proof(key, method="GET", url=URL, access_token=a1)
    proof = dpop.DPoPVerifier(replay=MemoryReplayCache()).verify(
        made, method="GET", url=URL, access_token=a1
    )
    assert access.verify(a1, proof=proof)["cnf"] == {"jkt": key.thumbprint()}
    assert family(store, r1).jkt is None
    _, a2 = refresh.rotate(r1)
    assert "cnf" not in access.verify(a2)


def test_access_tokens_bind_to_a_key() -> None:
    key = KeyRing.generate("ES256")
    access = AccessTokens(key, issuer=ISS, audience=AUD)
    verifier = dpop.DPoPVerifier(replay=MemoryReplayCache())
    device, thief = Key.generate("ES256"), Key.generate("ES256")
    token = access.issue("u1", jkt=device.thumbprint())

    def proof(k: Key, t: str = token) -> dpop.DPoPProof:
        made = dpop.create_proof(k, method="GET", url=URL, access_token=t)
        return verifier.verify(made, method="GET", url=URL, access_token=t)

    assert access.verify(token, proof=proof(device))["cnf"]["jkt"] == device.thumbprint()
    with pytest.raises(DPoPBindingMismatch):
        access.verify(token)
    with pytest.raises(DPoPBindingMismatch):
        access.verify(token, proof=proof(thief))
    plain = access.issue("u1")
    with pytest.raises(DPoPBindingMismatch):
        access.verify(plain, proof=proof(device, plain))
    assert access.verify(plain)["sub"] == "u1"
    with pytest.raises(Exception, match="may not override cnf"):
        access.issue("u1", claims={"cnf": {"jkt": device.thumbprint()}})


async def test_async_bound_family(async_store: Any) -> None:
    clock = FakeClock()
    access = AsyncAccessTokens(KeyRing.generate("ES256"), issuer=ISS, audience=AUD, clock=clock)
    refresh = AsyncRefreshTokens(async_store, access, secret=b"r" * 32, clock=clock)
    device = Key.generate("ES256").thumbprint()
    r0, _ = await refresh.start("u1", scopes=["admin"], jkt=device)
    with pytest.raises(DPoPBindingMismatch):
        await refresh.rotate(r0)
    r1, a1 = await refresh.rotate(r0, jkt=device)
    parsed = parse(r1)
    assert parsed is not None
    stored = await async_store.family_of(*parsed)
    assert stored is not None and stored.jkt == device and stored.scopes == ("admin",)
    with pytest.raises(DPoPBindingMismatch):
        await access.verify(a1)
