"""KeyRing: rotation without downtime, retirement after the longest token lifetime, JWKS."""

from __future__ import annotations

import pytest

from gatepass import AccessTokens, Key, KeyRing, jwt
from gatepass.errors import ConfigurationError, KeyNotFound, KeyUsageError
from gp_testkit import FakeClock


def test_rotation_keeps_old_tokens_valid_until_they_expire() -> None:
    clock = FakeClock()
    ring = KeyRing.generate("ES256", retain=960, clock=clock)
    tokens = AccessTokens(ring, issuer="https://as", audience="api", ttl=900, clock=clock)
    old_kid = ring.active.kid
    old_token = tokens.issue("u1")

    ring.rotate()
    assert ring.active.kid != old_kid
    new_token = tokens.issue("u1")
    assert jwt.inspect(new_token).header["kid"] == ring.active.kid
    # Both verify: the retired key still verifies.
    assert tokens.verify(old_token)["sub"] == "u1"
    assert tokens.verify(new_token)["sub"] == "u1"

    clock.advance(899)
    assert tokens.verify(old_token)["sub"] == "u1"
    # Past the retention, the retired key is gone (its tokens expired anyway).
    clock.advance(62)
    assert old_kid not in {k.kid for k in ring.keyset()}
    with pytest.raises(KeyNotFound):
        jwt.verify(old_token, ring.keyset(), now=clock() - 900)


def test_staged_key_is_published_before_it_signs() -> None:
    ring = KeyRing.generate("EdDSA")
    nxt = Key.generate("EdDSA")
    ring.stage(nxt)
    published = {k["kid"] for k in ring.jwks()["keys"]}
    assert published == {ring.active.kid, nxt.kid}
    assert all("d" not in jwk for jwk in ring.jwks()["keys"])  # never private members
    assert ring.rotate() is nxt
    assert ring.staged is None
    assert ring.active is nxt


def test_retained_ttl_must_cover_token_lifetime() -> None:
    ring = KeyRing.generate("ES256", retain=300)
    with pytest.raises(ConfigurationError):
        AccessTokens(ring, issuer="https://as", audience="api", ttl=900)


def test_ring_refuses_public_keys_and_duplicate_kids() -> None:
    key = Key.generate("ES256")
    with pytest.raises(KeyUsageError):
        KeyRing(key.public())
    with pytest.raises(ConfigurationError):
        KeyRing(key, retired=[key])
    ring = KeyRing(key)
    with pytest.raises(ConfigurationError):
        ring.rotate(key)


def test_revoke_key_drops_a_leaked_retired_key() -> None:
    clock = FakeClock()
    ring = KeyRing.generate("ES256", clock=clock)
    tokens = AccessTokens(ring, issuer="https://as", audience="api", clock=clock)
    token = tokens.issue("u1")
    leaked = ring.active.kid
    ring.rotate()
    ring.revoke_key(leaked)
    with pytest.raises(KeyNotFound):
        tokens.verify(token)
    with pytest.raises(ConfigurationError):
        ring.revoke_key(ring.active.kid)


def test_hmac_ring_publishes_nothing() -> None:
    ring = KeyRing(Key.from_secret(b"k" * 32, "HS256"))
    assert ring.jwks() == {"keys": []}
