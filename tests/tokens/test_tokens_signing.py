"""What gatepass signs: only tokens it can verify itself, with headers that keep their JSON types,
and only with keys allowed to sign."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from gatepass import Key, jws, jwt
from gatepass.errors import ConfigurationError, KeyUsageError


def test_header_cache_keeps_json_types_apart() -> None:
    """1, 1.0 and True are equal in Python but different JSON: the header cache keeps them apart."""
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


def test_public_keys_cannot_sign() -> None:
    for alg in ("ES256", "EdDSA", "RS256"):
        public = Key.generate(alg).public()
        with pytest.raises(KeyUsageError, match="public"):
            public.sign(b"x")
        with pytest.raises(KeyUsageError, match="public"):
            jwt.encode({"sub": "1"}, public)


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
