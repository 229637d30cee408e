"""Regressions for implementation bugs found by this suite (one test per fix)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tokhelp import load_json

from gatepass import Key, KeySet, jws, jwt
from gatepass.errors import ConfigurationError, InvalidKey, KeyUsageError


@pytest.mark.parametrize(
    "member",
    [{"alg": []}, {"alg": {}}, {"kty": []}, {"kty": {"a": 1}}, {"crv": []}, {"use": []}],
)
def test_jwks_with_unhashable_members_is_invalid_key_not_type_error(member: dict[str, Any]) -> None:
    """KeySet.from_jwks used to raise TypeError (unhashable) from its skip check."""
    for base in ({"kty": "oct", "k": "a" * 43}, {"kty": "EC", "crv": "P-256"}):
        jwk = {**base, **member}
        try:
            keys = KeySet.from_jwks({"keys": [jwk]})
        except InvalidKey:
            continue
        assert len(keys) == 0 and keys.skipped  # skipped as not understood is fine too


def _roca_jwk(vectors_dir: Path) -> dict[str, Any]:
    data = load_json(vectors_dir / "wycheproof" / "json_web_key_test.json")
    group = next(g for g in data["testGroups"] if g["comment"] == "jws_rsa_roca_key")
    public = group["public"]
    jwk: dict[str, Any] = (json.loads(public) if isinstance(public, str) else public)["keys"][0]
    return jwk


def _int(b64: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)), "big")


def test_roca_keys_refused_on_every_import_path(vectors_dir: Path) -> None:
    jwk = _roca_jwk(vectors_dir)
    with pytest.raises(InvalidKey, match="ROCA"):
        Key.from_jwk(jwk)
    with pytest.raises(InvalidKey, match="ROCA"):
        KeySet.from_jwks({"keys": [jwk]})
    pem = (
        rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"]))
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(InvalidKey, match="ROCA"):
        Key.from_pem(pem, alg="RS256")
    # Ordinary keys pass the fingerprint test.
    for _ in range(3):
        assert Key.generate("RS256").alg == "RS256"


def test_jwks_mixing_hmac_secrets_and_asymmetric_keys_refused() -> None:
    secret = Key.from_secret(b"s" * 32, kid="hs")
    ec_key = Key.generate("ES256", kid="ec")
    with pytest.raises(InvalidKey):
        KeySet.from_jwks({"keys": [secret.to_jwk(private=True), ec_key.to_jwk()]})
    # Each kind alone is fine; so is an in-process set across kids (e.g. a key ring migrating
    # from HS256 to ES256), which never came from a JWK document.
    assert len(KeySet.from_jwks({"keys": [secret.to_jwk(private=True)]})) == 1
    assert len(KeySet.from_jwks({"keys": [ec_key.to_jwk()]})) == 1
    assert len(KeySet([secret, ec_key.public()])) == 2


def test_header_cache_keeps_json_types_apart() -> None:
    """1, 1.0 and True are equal in Python but different JSON; the header cache mixed them."""
    key = Key.from_secret(b"k" * 32)
    for value in (1, True, 1.0, "1", [1], 0, False):
        token = jws.sign(b"x", key, headers={"x": value})
        header = jws.inspect(token).header
        assert header["x"] == value and type(header["x"]) is type(value)


def test_hmac_key_ops_verify_only_cannot_sign() -> None:
    key = Key.from_jwk(
        {
            "kty": "oct",
            "alg": "HS256",
            "k": base64.urlsafe_b64encode(b"v" * 32).decode().rstrip("="),
            "key_ops": ["verify"],
        }
    )
    with pytest.raises(KeyUsageError):
        key.sign(b"x")
    with pytest.raises(KeyUsageError):
        jws.sign(b"x", key)


def test_encode_refuses_what_verify_would_refuse() -> None:
    key = Key.from_secret(b"k" * 32)
    for claims in ({"sub": "\ud800"}, {"x": "a\udfff"}):
        with pytest.raises(ConfigurationError):
            jwt.encode(claims, key, expires_in=60)
    with pytest.raises(ConfigurationError):
        jws.sign(b"x", key, headers={"x": "\ud800"})
    deep: Any = 1
    for _ in range(20):
        deep = [deep]
    with pytest.raises(ConfigurationError):
        jwt.encode({"x": deep}, key, expires_in=60)
    shallow: Any = 1
    for _ in range(10):
        shallow = [shallow]
    token = jwt.encode({"x": shallow}, key, expires_in=60)
    assert jwt.verify(token, key)["x"] == shallow
