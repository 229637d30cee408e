"""Regressions found by a fresh-eyes review; each test performs the attack or failure it guards."""

from __future__ import annotations

import http.server
import json
import secrets
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from gatepass import Key, jws, jwt
from gatepass.errors import InvalidToken, JWKSFetchError, MalformedToken, RevokedToken
from gatepass.stores import open_store
from gatepass.stores import revocation_state as st
from gatepass.stores.revocation_state import Entry
from gatepass.strategies.access import AccessTokens
from gatepass.strategies.jwks_client import JWKSClient

NOW = 1_800_000_000.0


# --- a JWKS URL is public: secret key material served there must never verify tokens -----------


class _Serve(http.server.BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, type[_Serve]]]:
    handler = type("Handler", (_Serve,), {})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/jwks.json", handler
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join()


@pytest.mark.parametrize("kind", ["hmac", "private-ec"])
def test_jwks_with_secret_material_is_refused(
    jwks_server: tuple[str, type[_Serve]], kind: str
) -> None:
    url, handler = jwks_server
    key = Key.from_secret(secrets.token_bytes(32), "HS256") if kind == "hmac" else None
    key = key or Key.generate("ES256")
    handler.body = json.dumps({"keys": [key.to_jwk(private=True)]}).encode()
    # The attacker reads the public document and signs with what it publishes.
    published = Key.from_jwk(json.loads(handler.body)["keys"][0])
    forged = jwt.encode(
        {"sub": "admin", "iss": "i", "aud": "a", "jti": "j", "exp": int(NOW) + 60},
        published,
        typ="at+jwt",
        now=NOW,
    )
    tokens = AccessTokens(JWKSClient(url), issuer="i", audience="a", clock=lambda: NOW)
    with pytest.raises(JWKSFetchError, match="secret key material"):
        tokens.verify(forged)


def test_jwks_with_public_keys_still_works(jwks_server: tuple[str, type[_Serve]]) -> None:
    url, handler = jwks_server
    key = Key.generate("ES256")
    handler.body = json.dumps({"keys": [key.to_jwk(private=False)]}).encode()
    tokens = AccessTokens(key, issuer="i", audience="a", clock=lambda: NOW)
    verifier = AccessTokens(JWKSClient(url), issuer="i", audience="a", clock=lambda: NOW)
    assert verifier.verify(tokens.issue("u"))["sub"] == "u"


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


# --- Redis: re-adding an entry must not shorten its life in the reload index -------------------


def test_redis_index_keeps_the_longest_expiry(redis_url: str) -> None:
    prefix = f"gprr{secrets.token_hex(4)}:"
    store = open_store(f"{redis_url}?prefix={prefix}")
    try:
        # A process with leeway 60 revokes a jti, then one with leeway 0 revokes it again.
        st.add(store, Entry("jti", "J", 0, NOW + 100), NOW)
        st.add(store, Entry("jti", "J", 0, NOW + 40), NOW)
        assert st.lookup(store, "J", None, "u", NOW + 50)[0]  # the denylist still has it
        entries, _ = st.load_all(store, NOW + 50)
        # ... so must a replicated process that reloads (after a reconnect) at that moment.
        assert [e for e in entries if e.key == "J"] == [Entry("jti", "J", 0, NOW + 100)]
    finally:
        keys = list(store.client.scan_iter(match=f"{prefix}*"))
        if keys:
            store.client.delete(*keys)
        store.close()


# --- claims: a number that overflows to infinity is not a valid NumericDate --------------------


@pytest.mark.parametrize("payload", [b'{"sub":"u","exp":1e400}', b'{"sub":"u","nbf":-1e999}'])
def test_overflowing_numbers_are_malformed(payload: bytes) -> None:
    key = Key.generate("ES256")
    token = jws.sign(payload, key)  # signed by the key holder: an issuer bug, not forgery
    with pytest.raises(MalformedToken):
        jwt.verify(token, key, require=(), now=4e12)


def test_ordinary_float_claims_still_parse() -> None:
    key = Key.generate("ES256")
    token = jws.sign(b'{"sub":"u","exp":1800000060.5}', key)
    assert jwt.verify(token, key, now=NOW)["exp"] == 1800000060.5


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
