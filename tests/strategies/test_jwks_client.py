"""JWKS client against a real local HTTP server (stdlib http.server on 127.0.0.1)."""

from __future__ import annotations

import contextlib
import http.server
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from gatepass import AccessTokens, AsyncAccessTokens, Key, KeySet, jwt
from gatepass.errors import ConfigurationError, JWKSFetchError, KeyNotFound
from gatepass.strategies.jwks_client import AsyncJWKSClient, JWKSClient
from gp_testkit import FakeClock


@dataclass
class Behaviour:
    """What the server answers next; tests change it between requests."""

    body: bytes = b""
    status: int = 200
    delay: float = 0.0
    location: str | None = None
    trickle: float = 0.0  # seconds between single body bytes
    flood: int = 0  # bytes of junk to send after the body, without a Content-Length
    flooded: int = 0  # how many of them the client took before it hung up
    finished: threading.Event = field(default_factory=threading.Event)
    hits: int = 0
    paths: list[str] = field(default_factory=list)


class _Handler(http.server.BaseHTTPRequestHandler):
    behaviour: Behaviour

    def do_GET(self) -> None:
        b = self.server.behaviour  # type: ignore[attr-defined]
        b.hits += 1
        b.paths.append(self.path)
        if b.delay:
            time.sleep(b.delay)
        self.send_response(b.status)
        if b.location:
            self.send_header("Location", b.location)
        self.send_header("Content-Type", "application/json")
        if not b.flood:
            self.send_header("Content-Length", str(len(b.body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client may have timed out and gone
            if b.flood:
                self.wfile.write(b.body)
                chunk = b"a" * 65536
                while b.flooded < b.flood:
                    self.wfile.write(chunk)
                    b.flooded += len(chunk)
            elif b.trickle:
                for i in range(len(b.body)):
                    self.wfile.write(b.body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(b.trickle)
            else:
                self.wfile.write(b.body)
        b.finished.set()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def http_server() -> Iterator[http.server.ThreadingHTTPServer]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


@pytest.fixture
def server(http_server: http.server.ThreadingHTTPServer) -> tuple[str, Behaviour]:
    """A fresh behaviour per test on the module's real server."""
    behaviour = Behaviour()
    http_server.behaviour = behaviour  # type: ignore[attr-defined]
    return f"http://127.0.0.1:{http_server.server_address[1]}/jwks.json", behaviour


def jwks_of(*keys: Key) -> bytes:
    return json.dumps(KeySet([k.public() for k in keys]).to_jwks()).encode()


def test_fetch_cache_and_max_age(server: tuple[str, Behaviour]) -> None:
    url, b = server
    key = Key.generate("ES256")
    b.body = jwks_of(key)
    clock = FakeClock(0)
    client = JWKSClient(url, clock=clock)
    assert client.get_key(key.kid, "ES256").kid == key.kid
    assert client.get_key(key.kid, "ES256").kid == key.kid
    assert b.hits == 1  # cached
    clock.advance(599)
    client.keyset()
    assert b.hits == 1
    clock.advance(2)  # past max_age (600 s): refetched
    client.keyset()
    assert b.hits == 2


def test_unknown_kid_refetch_limited_by_cooldown(server: tuple[str, Behaviour]) -> None:
    url, b = server
    old, new = Key.generate("ES256"), Key.generate("ES256")
    b.body = jwks_of(old)
    clock = FakeClock(0)
    client = JWKSClient(url, clock=clock)
    client.keyset()
    b.body = jwks_of(old, new)
    # Within the cooldown (30 s) an unknown kid does not cause a fetch.
    clock.advance(10)
    for _ in range(50):
        with pytest.raises(KeyNotFound):
            client.get_key("attacker-random-kid", "ES256")
    with pytest.raises(KeyNotFound):
        client.get_key(new.kid, "ES256")
    assert b.hits == 1
    clock.advance(21)
    # After the cooldown, one unknown kid triggers exactly one refetch and is found.
    assert client.get_key(new.kid, "ES256").kid == new.kid
    assert b.hits == 2
    for _ in range(50):
        with pytest.raises(KeyNotFound):
            client.get_key("attacker-random-kid", "ES256")
    assert b.hits == 2  # the set was just fetched: the cooldown holds again


def test_failure_keeps_last_good_set(server: tuple[str, Behaviour]) -> None:
    url, b = server
    key = Key.generate("ES256")
    b.body = jwks_of(key)
    clock = FakeClock(0)
    client = JWKSClient(url, clock=clock)
    client.keyset()
    b.status, b.body = 500, b"oops"
    clock.advance(700)  # stale: a refetch is attempted and fails
    assert client.get_key(key.kid, "ES256").kid == key.kid
    assert b.hits == 2
    b.status, b.body = 200, b"{not json"
    clock.advance(31)
    assert client.get_key(key.kid, "ES256").kid == key.kid  # malformed: still the old set
    assert b.hits == 3
    # A failing endpoint is not hammered: attempts are spaced by the cooldown.
    for _ in range(20):
        client.keyset()
    assert b.hits == 3


def test_no_set_and_failure_raises_fetch_error(server: tuple[str, Behaviour]) -> None:
    url, b = server
    b.status, b.body = 503, b""
    client = JWKSClient(url)
    with pytest.raises(JWKSFetchError):
        client.keyset()


@pytest.mark.parametrize(
    "body",
    [b"[]", b'{"keys": {}}', b'{"keys": [42]}', b"\xff\xfe", b'{"keys": []}', b"x" * 10],
)
def test_malformed_jwks(server: tuple[str, Behaviour], body: bytes) -> None:
    url, b = server
    b.body = body
    with pytest.raises(JWKSFetchError):
        JWKSClient(url).keyset()


def test_oversized_jwks_refused(server: tuple[str, Behaviour]) -> None:
    url, b = server
    b.body = b'{"keys": [], "pad": "' + b"a" * 2000 + b'"}'
    with pytest.raises(JWKSFetchError, match="larger"):
        JWKSClient(url, max_bytes=1000).keyset()


def test_a_flooding_server_is_cut_off_at_the_size_cap(server: tuple[str, Behaviour]) -> None:
    """A JWKS endpoint (hostile, or a misrouted download) streams without end and without a
    Content-Length: the client stops reading at ``max_bytes`` and hangs up, instead of holding
    the whole body in memory before it looks at its size (Authlib CVE-2025-61920 spent 4 GB on
    one oversized header). The server sees the connection drop long before its 64 MiB are out."""
    url, b = server
    b.body, b.flood = b'{"keys": [], "pad": "', 64 * 1024 * 1024
    with pytest.raises(JWKSFetchError, match="larger"):
        JWKSClient(url, max_bytes=1000).keyset()
    assert b.finished.wait(30)
    assert b.flooded < 16 * 1024 * 1024  # at most what the socket buffers held


def test_redirect_refused(server: tuple[str, Behaviour]) -> None:
    url, b = server
    key = Key.generate("ES256")
    b.status, b.location, b.body = 302, url + "?evil=1", jwks_of(key)
    with pytest.raises(JWKSFetchError, match="redirect"):
        JWKSClient(url).keyset()
    assert b.paths == ["/jwks.json"]  # the redirect target was never requested


def test_timeout(server: tuple[str, Behaviour]) -> None:
    url, b = server
    b.delay, b.body = 1.0, jwks_of(Key.generate("ES256"))
    with pytest.raises(JWKSFetchError, match=r"timed out|fetch failed"):
        JWKSClient(url, timeout=0.2).keyset()


def test_trickling_server_cannot_hold_the_fetch(server: tuple[str, Behaviour]) -> None:
    """Each byte arrives well within the socket timeout; the whole fetch still has a deadline."""
    url, b = server
    b.body, b.trickle = jwks_of(Key.generate("ES256")), 0.05
    with pytest.raises(JWKSFetchError, match="timed out"):
        JWKSClient(url, timeout=0.3).keyset()


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/jwks.json",
        "http://10.0.0.1/jwks.json",
        "http://169.254.169.254/latest",
        "file:///etc/passwd",
        "ftp://example.com/jwks",
        "data:application/json,{}",
        "https:///nohost",
        "jwks.json",
    ],
)
def test_refused_urls(url: str) -> None:
    with pytest.raises(ConfigurationError):
        JWKSClient(url)
    with pytest.raises(ConfigurationError):
        AsyncJWKSClient(url)


def test_allowed_urls() -> None:
    for url in ("https://issuer.example/jwks", "http://localhost:8080/j", "http://[::1]/j"):
        JWKSClient(url)


def test_exactly_one_key_by_kid_and_alg(server: tuple[str, Behaviour]) -> None:
    url, b = server
    k = Key.generate("ES256")
    enc = dict(Key.generate("ES256").to_jwk(), use="enc", kid="enc-key")
    doc = json.loads(jwks_of(k))
    doc["keys"].append(enc)
    b.body = json.dumps(doc).encode()
    client = JWKSClient(url)
    assert client.get_key(k.kid, "ES256").kid == k.kid
    with pytest.raises(KeyNotFound):
        client.get_key(k.kid, "RS256")  # alg must match the key's own alg
    with pytest.raises(KeyNotFound):
        client.get_key("enc-key", "ES256")  # not a signature key


def test_access_tokens_verify_through_jwks(server: tuple[str, Behaviour]) -> None:
    url, b = server
    signer = Key.generate("ES256")
    b.body = jwks_of(signer)
    issuer = AccessTokens(signer, issuer="https://as", audience="api")
    verifier = AccessTokens(JWKSClient(url), issuer="https://as", audience="api")
    token = issuer.issue("u1")
    assert verifier.verify(token)["sub"] == "u1"
    with pytest.raises(ConfigurationError):
        verifier.issue("u1")
    # A token signed by a key the JWKS does not have fails.
    rogue = AccessTokens(Key.generate("ES256"), issuer="https://as", audience="api")
    with pytest.raises(KeyNotFound):
        verifier.verify(rogue.issue("u1"))


async def test_async_client(server: tuple[str, Behaviour]) -> None:
    url, b = server
    old, new = Key.generate("EdDSA"), Key.generate("EdDSA")
    b.body = jwks_of(old)
    clock = FakeClock(0)
    client = AsyncJWKSClient(url, clock=clock)
    assert (await client.get_key(old.kid, "EdDSA")).kid == old.kid
    b.body = jwks_of(old, new)
    with pytest.raises(KeyNotFound):
        await client.get_key(new.kid, "EdDSA")  # cooldown
    clock.advance(31)
    assert (await client.get_key(new.kid, "EdDSA")).kid == new.kid
    b.status = 500
    clock.advance(601)
    assert (await client.get_key(new.kid, "EdDSA")).kid == new.kid  # last good set kept
    assert b.hits == 3
    tokens = AsyncAccessTokens(client, issuer="https://as", audience="api")
    token = jwt.encode(
        {"sub": "u", "jti": "j1", "iss": "https://as", "aud": "api"},
        new,
        expires_in=60,
        typ="at+jwt",
    )
    assert (await tokens.verify(token))["sub"] == "u"


async def test_async_redirect_and_timeout(server: tuple[str, Behaviour]) -> None:
    url, b = server
    b.status, b.location = 301, "https://elsewhere.example/jwks"
    with pytest.raises(JWKSFetchError):
        await AsyncJWKSClient(url).keyset()
    b.status, b.location, b.delay = 200, None, 1.0
    with pytest.raises(JWKSFetchError):
        await AsyncJWKSClient(url, timeout=0.2).keyset()


# --- a JWKS URL is public: secret key material served there must never verify tokens ---------

NOW = 1_800_000_000.0


@pytest.mark.parametrize("kind", ["hmac", "private-ec"])
def test_jwks_with_secret_material_is_refused(server: tuple[str, Behaviour], kind: str) -> None:
    url, behaviour = server
    key = Key.from_secret(secrets.token_bytes(32), "HS256") if kind == "hmac" else None
    key = key or Key.generate("ES256")
    behaviour.body = json.dumps({"keys": [key.to_jwk(private=True)]}).encode()
    # The attacker reads the public document and signs with what it publishes.
    published = Key.from_jwk(json.loads(behaviour.body)["keys"][0])
    forged = jwt.encode(
        {"sub": "admin", "iss": "i", "aud": "a", "jti": "j", "exp": int(NOW) + 60},
        published,
        typ="at+jwt",
        now=NOW,
    )
    tokens = AccessTokens(JWKSClient(url), issuer="i", audience="a", clock=lambda: NOW)
    with pytest.raises(JWKSFetchError, match="secret key material"):
        tokens.verify(forged)


def test_jwks_with_public_keys_still_works(server: tuple[str, Behaviour]) -> None:
    url, behaviour = server
    key = Key.generate("ES256")
    behaviour.body = json.dumps({"keys": [key.to_jwk(private=False)]}).encode()
    tokens = AccessTokens(key, issuer="i", audience="a", clock=lambda: NOW)
    verifier = AccessTokens(JWKSClient(url), issuer="i", audience="a", clock=lambda: NOW)
    assert verifier.verify(tokens.issue("u"))["sub"] == "u"
