"""Security notes, "Tokens": the attacks that tests/tokens/test_tokens_attacks.py does not already
perform, or performs only against the bare ``jwt.verify``. Here each attack goes through the
entry points an application really uses (``AccessTokens`` with a key ring, a key set from a JWKS
document, a ``JWKSClient`` talking to a real local HTTP(S) server) and the exact key encodings
named in the CVEs (PKCS#1 PEM, X.509 certificate, OpenSSH, DER, JWK JSON).
"""

from __future__ import annotations

import contextlib
import datetime
import http.server
import json
import secrets
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from secnotes_kit import AUD, ISS, b64e, forge, forge_hmac

import gatepass
from gatepass import AccessTokens, Key, KeyRing, KeySet, RefreshTokens, Sessions, jwt
from gatepass.errors import (
    AlgorithmMismatch,
    InvalidKey,
    InvalidToken,
    InvalidType,
    JWKSFetchError,
    KeyNotFound,
    MalformedToken,
    TokenTooLarge,
)
from gatepass.stores import open_store
from gatepass.strategies.jwks_client import JWKSClient
from gatepass.tokens.algorithms import ALGORITHM_SPECS
from gp_testkit import FakeClock

HMAC_ALGS = ("HS256", "HS384", "HS512")
_Private = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def _access_claims(now: float, sub: str = "admin") -> dict[str, Any]:
    return {"iss": ISS, "aud": AUD, "sub": sub, "iat": int(now), "exp": int(now) + 900, "jti": "j"}


# --- 1 + 2: a public key never becomes an HMAC secret, in any encoding ----------------------------


def _private(alg: str) -> _Private:
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def _certificate_pem(private: _Private) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "victim")])
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(7)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=3650))
        .sign(private, None if isinstance(private, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _public_encodings(private: _Private) -> dict[str, bytes]:
    """The public key as every text or blob the CVEs turned into an HMAC secret."""
    public = private.public_key()
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    found = {
        "SPKI PEM": public.public_bytes(serialization.Encoding.PEM, spki),
        "SPKI DER": public.public_bytes(serialization.Encoding.DER, spki),  # python-jose DER
        "OpenSSH": public.public_bytes(  # PyJWT CVE-2022-29217
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ),
        "X.509 certificate": _certificate_pem(private),
    }
    if isinstance(public, rsa.RSAPublicKey):  # PyJWT CVE-2017-11424: PKCS#1 "RSA PUBLIC KEY"
        found["PKCS#1 PEM"] = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        )
    return found


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_no_public_key_encoding_can_become_an_hmac_key(alg: str) -> None:
    private = _private(alg)
    encodings = _public_encodings(private)
    victim = Key.from_pem(encodings["X.509 certificate"], alg=alg)  # verifier loads the cert
    jwk = victim.to_jwk()
    encodings["JWK JSON"] = json.dumps(jwk).encode()  # PyJWT CVE-2026-48526, Authlib 2024-37568
    encodings["JWKS JSON"] = json.dumps({"keys": [jwk]}).encode()
    now = 1_800_000_000
    for material in encodings.values():
        for hs in HMAC_ALGS:
            # No constructor turns the public material into an HMAC key ...
            with pytest.raises(InvalidKey):
                Key.from_pem(material, alg=hs)
            with pytest.raises(InvalidKey):
                Key.from_jwk(jwk, alg=hs)
            with pytest.raises(InvalidKey):
                KeySet.from_jwks({"keys": [dict(jwk, alg=hs)]})
            # ... and a token HMAC-signed with it fails against the real key, whatever the kid.
            for header in ({"alg": hs}, {"alg": hs, "kid": victim.kid}):
                forged = forge_hmac(material, header, {"sub": "admin", "exp": now + 60})
                with pytest.raises(AlgorithmMismatch):
                    jwt.verify(forged, victim, now=now)
                with pytest.raises(KeyNotFound):
                    jwt.verify(forged, KeySet([victim]), now=now)
        # A JWKS that tries to publish the same bytes as an "oct" key next to the public key
        # is refused as a whole (a set is secrets or public keys, never both).
        smuggled = {"kty": "oct", "alg": "HS256", "kid": victim.kid, "k": b64e(material)}
        with pytest.raises(InvalidKey):
            KeySet.from_jwks({"keys": [jwk, smuggled]})


def test_key_confusion_through_access_tokens_with_a_migrating_ring() -> None:
    """A ring migrating from HS256 to ES256 holds both kinds of key: the header still cannot pick
    the HMAC path for the public key, nor the public key for the HMAC path."""
    clock = FakeClock()
    es = Key.generate("ES256")
    hs = Key.from_secret(secrets.token_bytes(32), "HS256")
    ring = KeyRing(es, retired=[hs], clock=clock)
    tokens = AccessTokens(ring, issuer=ISS, audience=AUD, clock=clock)
    assert tokens.verify(tokens.issue("u1"))["sub"] == "u1"
    published = json.dumps(ring.jwks()).encode()
    assert b'"oct"' not in published  # the HMAC secret is never published
    public = es.public()
    der = serialization.load_pem_public_key(public.to_pem()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = _access_claims(clock())
    verifier_only = AccessTokens(KeySet.from_jwks(published), issuer=ISS, audience=AUD, clock=clock)
    for material in (public.to_pem(), der, json.dumps(public.to_jwk()).encode(), published):
        for kid in (es.kid, hs.kid, None):
            header: dict[str, Any] = {"alg": "HS256", "typ": "at+jwt"}
            if kid is not None:
                header["kid"] = kid
            forged = forge_hmac(material, header, claims)
            with pytest.raises(InvalidToken):
                tokens.verify(forged)
            with pytest.raises(KeyNotFound):  # the JWKS has no HMAC key at all
                verifier_only.verify(forged)
    # Sanity: the forgery machinery is real (the ring's own HMAC key accepts its own forgery).
    assert tokens.verify(forge(hs, {"alg": "HS256", "kid": hs.kid, "typ": "at+jwt"}, claims))


# --- 5 + 11: key locations from the token are never fetched; the JWKS client is careful --------


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, bytes]
    paths: list[str]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """TLS handshakes our client aborts on purpose are not test output."""


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        body = self.server.routes.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body or b"")

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _serve(tls: ssl.SSLContext | None = None) -> Iterator[tuple[_Server, str]]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.routes, srv.paths = {}, []
    if tls is not None:
        srv.socket = tls.wrap_socket(srv.socket, server_side=True)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    scheme = "https" if tls is not None else "http"
    try:
        yield srv, f"{scheme}://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def test_jku_x5u_jwk_headers_are_never_fetched_or_trusted() -> None:
    """PyJWT CVE-2026-48522 fetched the token's ``jku``; Authlib CVE-2026-27962 verified with the
    token's embedded ``jwk``. The attacker serves a JWKS of their own key on the same loopback
    server the real JWKS lives on: it is never requested and never used."""
    victim = Key.generate("ES256")
    attacker = Key.generate("ES256")
    with _serve() as (srv, base):
        srv.routes["/jwks.json"] = json.dumps(KeySet([victim.public()]).to_jwks()).encode()
        srv.routes["/attacker.json"] = json.dumps(KeySet([attacker.public()]).to_jwks()).encode()
        clock = FakeClock()
        tokens = AccessTokens(
            JWKSClient(f"{base}/jwks.json"), issuer=ISS, audience=AUD, clock=clock
        )
        genuine = forge(
            victim,
            {"alg": "ES256", "kid": victim.kid, "typ": "at+jwt"},
            _access_claims(clock(), "u1"),
        )
        assert tokens.verify(genuine)["sub"] == "u1"
        claims = _access_claims(clock())
        for kid in (victim.kid, attacker.kid):
            for extra in (
                {"jku": f"{base}/attacker.json"},
                {"x5u": f"{base}/attacker.json"},
                {"jwk": attacker.public().to_jwk()},
                {"jku": "file:///etc/passwd"},
            ):
                header = {"alg": "ES256", "kid": kid, "typ": "at+jwt", **extra}
                with pytest.raises(InvalidToken):
                    tokens.verify(forge(attacker, header, claims))
        assert "/attacker.json" not in srv.paths
        assert set(srv.paths) == {"/jwks.json"}


def _self_signed_tls(tmp_path: Path) -> ssl.SSLContext:
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(private, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


def test_jwks_over_https_with_an_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    """Https only means nothing if the certificate is not checked: a man in the middle with a
    self-signed certificate (right host name, wrong issuer) serves its own keys. Refused."""
    attacker = Key.generate("ES256")
    with _serve(_self_signed_tls(tmp_path)) as (srv, base):
        srv.routes["/jwks.json"] = json.dumps(KeySet([attacker.public()]).to_jwks()).encode()
        client = JWKSClient(f"{base}/jwks.json", timeout=2)
        with pytest.raises(JWKSFetchError, match="SSLCertVerificationError"):
            client.keyset()
        assert srv.paths == []  # no HTTP request ever went over the unverified channel


def test_jwks_client_defaults_are_panva_jose_defaults() -> None:
    client = JWKSClient("https://issuer.example/jwks.json")
    assert client.timeout == 5.0
    assert client._policy.cooldown == 30.0
    assert client._policy.max_age == 600.0


# --- 8: size limits on every entry point, before any work -----------------------------------------


def test_ten_megabyte_tokens_through_every_entry_point() -> None:
    """Rejected before decoding, with a short message, and without a JWKS fetch."""
    junk = "eyJ" + "A" * (10 * 1024 * 1024) + ".e30.AAAA"
    with _serve() as (srv, base):
        srv.routes["/jwks.json"] = json.dumps(
            KeySet([Key.generate("ES256").public()]).to_jwks()
        ).encode()
        verifiers = [
            AccessTokens(KeyRing.generate("ES256"), issuer=ISS, audience=AUD),
            AccessTokens(JWKSClient(f"{base}/jwks.json"), issuer=ISS, audience=AUD),
        ]
        for verifier in verifiers:
            with pytest.raises(TokenTooLarge) as info:
                verifier.verify(junk)
            message = str(info.value)
            assert len(message) < 200 and "AAAAAAAAAAAAAAAAAAAAAAAAAA" not in message
        assert srv.paths == []
    store = open_store("memory://")
    access = AccessTokens(KeyRing.generate("ES256"), issuer=ISS, audience=AUD)
    with pytest.raises(MalformedToken) as refused:
        RefreshTokens(store, access).rotate(junk)
    assert len(str(refused.value)) < 200
    assert Sessions(store).get(junk) is None


# --- 10: one token type per purpose -------------------------------------------------------------


def test_no_token_passes_for_another_kind() -> None:
    """Session token, refresh token, access token and an ID token made with the *same* key and
    claims: each verifier accepts only its own kind."""
    store = open_store("memory://")
    clock = FakeClock()
    ring = KeyRing.generate("ES256", clock=clock)
    access = AccessTokens(ring, issuer=ISS, audience=AUD, clock=clock)
    sessions = Sessions(store, clock=clock)
    refresh = RefreshTokens(store, access, secret=b"s" * 32, clock=clock)
    session_token, record = sessions.create("u1")
    refresh_token, access_token = refresh.start("u1", session=record)
    claims = jwt.inspect(access_token).claims
    id_token = jwt.encode(claims, ring.active, typ="JWT", now=clock())
    refresh_jwt = jwt.encode(claims, ring.active, typ="rt+jwt", now=clock())
    assert access.verify(access_token)["sub"] == "u1"
    for wrong_typ in (id_token, refresh_jwt):
        with pytest.raises(InvalidType):
            access.verify(wrong_typ)
    for opaque in (session_token, refresh_token):
        with pytest.raises(MalformedToken):
            access.verify(opaque)
    for not_refresh in (session_token, access_token, id_token):
        with pytest.raises(MalformedToken):
            refresh.rotate(not_refresh)
    for not_session in (refresh_token, access_token, id_token):
        assert sessions.get(not_session) is None
    # Each still works for its own purpose afterwards (nothing above consumed it).
    assert sessions.get(session_token) is not None
    assert refresh.rotate(refresh_token)[0].startswith("rt_")


# --- 12: no JWE, no compression, no PBES2 -------------------------------------------------------


def test_there_is_no_jwe_to_attack() -> None:
    assert not hasattr(gatepass, "jwe")
    jwe_algs = ("dir", "RSA1_5", "RSA-OAEP", "A128KW", "ECDH-ES", "PBES2-HS256+A128KW", "A128GCM")
    for alg in jwe_algs:
        assert alg not in ALGORITHM_SPECS
        with pytest.raises(InvalidKey):
            Key.generate(alg)
    families = {spec.family for spec in ALGORITHM_SPECS.values()}
    assert families == {"HMAC", "RSA", "RSA-PSS", "ECDSA", "EdDSA"}
