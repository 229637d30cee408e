"""AccessTokens: claims, expiry, token-type confusion, and each revocation mode on every backend."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

import pytest
from gp_strategy_kit import rejected, wait_until

from gatepass import AccessTokens, AsyncAccessTokens, Key, KeyRing, jwt
from gatepass.errors import (
    BadSignature,
    ConfigurationError,
    ExpiredToken,
    InvalidAudience,
    InvalidIssuer,
    InvalidToken,
    InvalidType,
    MalformedToken,
    RevokedToken,
)
from gatepass.stores import open_store
from gp_testkit import FakeClock

ISS, AUD = "https://auth.example", "api"


def make(clock: FakeClock | None = None, **kw: Any) -> AccessTokens:
    ring = kw.pop("keys", None) or KeyRing.generate("ES256")
    return AccessTokens(ring, issuer=ISS, audience=AUD, clock=clock or FakeClock(), **kw)


# --- stateless: claims, expiry, confusion ---------------------------------------------------------


def test_issue_claims_and_header() -> None:
    clock = FakeClock(1_800_000_000.25)
    tokens = make(clock, ttl=600)
    token = tokens.issue("u1", session="sess-public-id", scopes=["read", "write"], claims={"x": 1})
    view = jwt.inspect(token)
    assert view.header["typ"] == "at+jwt"
    c = tokens.verify(token)
    assert (c["iss"], c["aud"], c["sub"], c["sid"]) == (ISS, AUD, "u1", "sess-public-id")
    assert (c["iat"], c["exp"]) == (1_800_000_000, 1_800_000_600)
    assert c["iat_us"] == 1_800_000_000_250_000
    assert c["scope"] == "read write" and c["x"] == 1
    assert len(base64.urlsafe_b64decode(c["jti"] + "==")) >= 16  # 128 random bits
    assert c["jti"] != tokens.verify(tokens.issue("u1"))["jti"]


def test_expiry_boundary() -> None:
    clock = FakeClock()
    tokens = make(clock, ttl=60)
    token = tokens.issue("u1")
    clock.advance(59.999)
    assert tokens.verify(token)["sub"] == "u1"
    clock.advance(0.001)  # now == exp: expired
    with pytest.raises(ExpiredToken):
        tokens.verify(token)


def test_leeway_boundary() -> None:
    clock = FakeClock()
    tokens = make(clock, ttl=60, leeway=5)
    token = tokens.issue("u1")
    clock.advance(64.9)
    tokens.verify(token)
    clock.advance(0.1)
    with pytest.raises(ExpiredToken):
        tokens.verify(token)


def test_other_token_types_never_pass() -> None:
    key = Key.generate("ES256")
    tokens = AccessTokens(key, issuer=ISS, audience=AUD)
    claims = {"iss": ISS, "aud": AUD, "sub": "u1", "jti": "abc"}
    id_token = jwt.encode(claims, key, expires_in=60)  # typ JWT, same key, same claims
    with pytest.raises(InvalidType):
        tokens.verify(id_token)
    no_typ = jwt.encode(claims, key, expires_in=60, typ=None)
    with pytest.raises(InvalidType):
        tokens.verify(no_typ)
    refresh_like = secrets.token_urlsafe(32)  # refresh tokens are opaque
    with pytest.raises(MalformedToken):
        tokens.verify(refresh_like)
    # The right typ is accepted when the claims are complete.
    assert tokens.verify(jwt.encode(claims, key, expires_in=60, typ="at+jwt"))["sub"] == "u1"


def test_missing_claims_and_wrong_issuer_audience() -> None:
    key = Key.generate("ES256")
    tokens = AccessTokens(key, issuer=ISS, audience=AUD)
    with pytest.raises(InvalidToken):  # no jti
        tokens.verify(
            jwt.encode({"iss": ISS, "aud": AUD, "sub": "u"}, key, expires_in=60, typ="at+jwt")
        )
    other_aud = AccessTokens(key, issuer=ISS, audience="other")
    with pytest.raises(InvalidAudience):
        other_aud.verify(tokens.issue("u1"))
    other_iss = AccessTokens(key, issuer="https://evil", audience=AUD)
    with pytest.raises(InvalidIssuer):
        other_iss.verify(tokens.issue("u1"))


def test_tampered_and_foreign_signatures_fail() -> None:
    key = Key.from_secret(b"s" * 32, "HS256")
    tokens = AccessTokens(key, issuer=ISS, audience=AUD)
    token = tokens.issue("u1")
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["sub"] = "admin"
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(BadSignature):
        tokens.verify(f"{head}.{forged_body}.{sig}")
    other = AccessTokens(Key.from_secret(b"t" * 32, "HS256"), issuer=ISS, audience=AUD)
    with pytest.raises(InvalidToken):
        tokens.verify(other.issue("u1"))


def test_configuration_errors() -> None:
    tokens = make()
    with pytest.raises(ConfigurationError):
        tokens.issue("u1", claims={"sub": "admin"})
    with pytest.raises(ConfigurationError):
        tokens.issue("u1", claims={"iat_us": 0})
    with pytest.raises(ConfigurationError):
        tokens.issue("u1", scopes=["a b"])
    with pytest.raises(ConfigurationError):
        tokens.issue("")
    with pytest.raises(ConfigurationError):
        tokens.revoke(tokens.issue("u1"))  # stateless: nothing can be revoked
    with pytest.raises(ConfigurationError):
        tokens.revoke_user("u1")
    with pytest.raises(ConfigurationError):
        make(revocation="denylist")  # needs a store
    with pytest.raises(ConfigurationError):
        make(revocation="bogus")
    with pytest.raises(ConfigurationError):
        AccessTokens(Key.generate("ES256").public(), issuer=ISS, audience=AUD).issue("u")


# --- revocation on every backend ---------------------------------------------------------------


@pytest.fixture(params=["denylist", "replicated"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_revoke_one_token(store: Any, mode: str) -> None:
    clock = FakeClock()
    with make(clock, revocation=mode, store=store) as tokens:
        a, b = tokens.issue("u1"), tokens.issue("u1")
        tokens.revoke(a)
        with pytest.raises(RevokedToken):
            tokens.verify(a)
        assert tokens.verify(b)["sub"] == "u1"
        tokens.revoke(a)  # idempotent
        # Revoking an unsigned or foreign token stores nothing and fails.
        forged = make(clock).issue("u1")
        with pytest.raises(InvalidToken):
            tokens.revoke(forged)
        # Revoking an expired token is a no-op.
        clock.advance(901)
        tokens.revoke(b)


def test_revoke_user_cutoff_and_same_second(store: Any, mode: str) -> None:
    clock = FakeClock(1_800_000_000.25)
    with make(clock, revocation=mode, store=store) as tokens:
        before = tokens.issue("u1")  # iat 1_800_000_000, issued .25
        other_user = tokens.issue("u2")
        clock.now = 1_800_000_000.5
        tokens.revoke_user("u1")  # same second as `before`
        clock.now = 1_800_000_000.75
        after = tokens.issue("u1")  # same iat second, issued after the cut-off
        assert jwt.inspect(before).claims["iat"] == jwt.inspect(after).claims["iat"]
        with pytest.raises(RevokedToken):
            tokens.verify(before)
        assert tokens.verify(after)["sub"] == "u1"
        assert tokens.verify(other_user)["sub"] == "u2"
        # A later cut-off only moves forward; an earlier one cannot un-revoke.
        clock.now = 1_800_000_001.0
        tokens.revoke_user("u1")
        with pytest.raises(RevokedToken):
            tokens.verify(after)


def test_cutoff_without_iat_us_takes_the_safe_side(store: Any) -> None:
    """A token lacking the microsecond companion counts as issued at the start of its second."""
    clock = FakeClock(1_800_000_000.9)
    key = Key.generate("ES256")
    with AccessTokens(
        key, issuer=ISS, audience=AUD, clock=clock, revocation="denylist", store=store
    ) as tokens:
        claims = {"iss": ISS, "aud": AUD, "sub": "u1", "jti": "j-1"}
        bare = jwt.encode(claims, key, expires_in=60, typ="at+jwt", now=1_800_000_000.95)
        tokens.revoke_user("u1")  # cut-off at .9, token "issued" during that second
        with pytest.raises(RevokedToken):
            tokens.verify(bare)


def test_revoke_session(store: Any, mode: str) -> None:
    clock = FakeClock()
    with make(clock, revocation=mode, store=store) as tokens:
        in_session = tokens.issue("u1", session="sid-1")
        other = tokens.issue("u1", session="sid-2")
        no_session = tokens.issue("u1")
        tokens.revoke_session("sid-1")
        with pytest.raises(RevokedToken):
            tokens.verify(in_session)
        tokens.verify(other)
        tokens.verify(no_session)


def test_entries_expire_with_the_tokens(store: Any) -> None:
    clock = FakeClock()
    with make(clock, revocation="denylist", store=store, ttl=60) as tokens:
        token = tokens.issue("u1")
        tokens.revoke(token)
        tokens.revoke_user("u9")
        entries = store.revocation_snapshot(clock())
        assert {(e.kind, e.key) for e in entries} >= {("user", "u9")}
        clock.advance(62)
        # Redis's snapshot also carries its loss marker (kind "all"), which never expires.
        assert [e for e in store.revocation_snapshot(clock()) if e.kind != "all"] == []
        if store.kind != "redis":  # redis: native TTLs (real time); the index purge is by score
            assert store.purge_expired(clock()) >= 2
        else:
            store.purge_expired(clock())


def test_replicated_between_two_instances(store: Any) -> None:
    """Two verifiers with their own listeners: a revocation in one reaches the other."""
    if store.kind == "memory":
        pytest.skip("memory:// is one process; covered by test_revoke_one_token")
    clock = FakeClock()
    ring = KeyRing.generate("ES256")
    with (
        make(clock, keys=ring, revocation="replicated", store=store) as a,
        make(clock, keys=ring, revocation="replicated", store=store) as b,
    ):
        token = a.issue("u1")
        assert b.verify(token)["sub"] == "u1"
        a.revoke(token)
        assert wait_until(lambda: rejected(b, token))
        fresh = a.issue("u2")
        b.revoke_user("u2")
        assert wait_until(lambda: rejected(a, fresh))


async def test_async_modes(async_store: Any, mode: str) -> None:
    clock = FakeClock(1_800_000_000.25)
    ring = KeyRing.generate("ES256")
    async with AsyncAccessTokens(
        ring, issuer=ISS, audience=AUD, clock=clock, revocation=mode, store=async_store
    ) as tokens:
        a, b = await tokens.issue("u1", session="s1"), await tokens.issue("u2")
        assert (await tokens.verify(a))["sid"] == "s1"
        await tokens.revoke(a)
        with pytest.raises(RevokedToken):
            await tokens.verify(a)
        assert (await tokens.verify(b))["sub"] == "u2"
        c = await tokens.issue("u2", session="s2")
        await tokens.revoke_session("s2")
        with pytest.raises(RevokedToken):
            await tokens.verify(c)
        clock.now += 0.25
        await tokens.revoke_user("u2")
        with pytest.raises(RevokedToken):
            await tokens.verify(b)
        clock.now += 0.25
        assert (await tokens.verify(await tokens.issue("u2")))["sub"] == "u2"


async def test_async_stateless() -> None:
    tokens = AsyncAccessTokens(KeyRing.generate("EdDSA"), issuer=ISS, audience=AUD)
    token = await tokens.issue("u1", scopes=("a",))
    assert (await tokens.verify(token))["scope"] == "a"
    with pytest.raises(ConfigurationError):
        await tokens.revoke(token)
    await tokens.aclose()


NOW = 1_800_000_000.0


# --- a revocable token must not outlive the revocation entries that cover it ------------------


@pytest.mark.parametrize("revocation", ["denylist", "replicated"])
def test_token_longer_than_ttl_cannot_resurrect_after_revoke_user(revocation: str) -> None:
    now = [NOW]
    store = open_store("memory://")
    key = Key.generate("ES256")
    # Minted before ttl was lowered from 3600 to 900 (or by an issuer with longer tokens).
    old = AccessTokens(key, issuer="i", audience="a", ttl=3600, clock=lambda: now[0])
    token = old.issue("u1", session="s1")
    with AccessTokens(
        key, issuer="i", audience="a", ttl=900, revocation=revocation, store=store,
        clock=lambda: now[0],
    ) as verifier:  # fmt: skip
        verifier.revoke_user("u1")
        verifier.revoke_session("s1")
        now[0] += 1000  # the cut-off and sid entries (kept ttl + leeway + 1) are gone
        store.purge_expired()
        with pytest.raises(InvalidToken) as caught:
            verifier.verify(token)
        assert "lifetime exceeds ttl" in str(caught.value)
        # Tokens within ttl are unaffected, and revocation still applies to them.
        fresh = verifier.issue("u2")
        assert verifier.verify(fresh)["sub"] == "u2"
        verifier.revoke_user("u2")
        with pytest.raises(RevokedToken):
            verifier.verify(fresh)


# --- a token from an issuer whose clock runs fast can be revoked before it becomes valid --------


def test_token_not_yet_valid_here_can_still_be_revoked() -> None:
    now = [NOW]
    key = Key.generate("ES256")
    access = AccessTokens(
        key,
        issuer="https://i",
        audience="api",
        revocation="denylist",
        store=open_store("memory://"),
        clock=lambda: now[0],
    )
    fast_issuer = AccessTokens(key, issuer="https://i", audience="api", clock=lambda: NOW + 120)
    token = fast_issuer.issue("u1")
    with pytest.raises(InvalidToken):
        access.verify(token)  # issued two minutes in our future: not valid yet
    access.revoke(token)  # ... but revocable now
    now[0] = NOW + 180
    with pytest.raises(RevokedToken):
        access.verify(token)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(InvalidToken):
        access.revoke(forged)  # still no junk in the denylist: the signature is checked first
