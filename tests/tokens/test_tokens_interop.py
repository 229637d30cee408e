"""Interop with PyJWT (a test dependency only): tokens cross over in both directions.

Keys are exported from gatepass (``to_pem`` / ``to_jwk``) and handed to PyJWT, so this also
checks that the exports are standard.
"""

from __future__ import annotations

import time
from typing import Any

import jwt as pyjwt
import pytest
from tokhelp import access_claims, b64d

from gatepass import Key, KeySet, jwt

# Every algorithm both libraries implement (PyJWT has no RFC 9864 "Ed25519" name).
COMMON = (
    "HS256",
    "HS384",
    "HS512",
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)


@pytest.fixture(scope="module")
def keys() -> dict[str, Key]:
    return {alg: Key.generate(alg) for alg in COMMON}


def _pyjwt_keys(key: Key) -> tuple[Any, Any]:
    """(signing key, verification key) in the forms PyJWT takes, exported from gatepass."""
    if key.alg.startswith("HS"):
        secret = b64d(key.to_jwk(private=True)["k"])
        return secret, secret
    return key.to_pem(private=True), key.to_pem()


def _claims() -> dict[str, Any]:
    now = int(time.time())
    return access_claims(now)


@pytest.mark.parametrize("alg", COMMON)
def test_pyjwt_tokens_verify_here(keys: dict[str, Key], alg: str) -> None:
    key = keys[alg]
    signing, _ = _pyjwt_keys(key)
    claims = _claims()
    token = pyjwt.encode(claims, signing, algorithm=alg, headers={"kid": key.kid})
    got = jwt.verify(token, key.public() if key.kty != "oct" else key, audience=claims["aud"])
    assert got == claims
    assert jwt.verify(token, KeySet([key]), audience=claims["aud"], issuer=claims["iss"]) == claims
    # Without a kid, a single Key still verifies.
    bare = pyjwt.encode(claims, signing, algorithm=alg)
    assert jwt.verify(bare, key, audience=claims["aud"]) == claims


@pytest.mark.parametrize("alg", COMMON)
def test_our_tokens_verify_in_pyjwt(keys: dict[str, Key], alg: str) -> None:
    key = keys[alg]
    _, verifying = _pyjwt_keys(key)
    claims = _claims()
    token = jwt.encode(claims, key)
    got = pyjwt.decode(token, verifying, algorithms=[alg], audience=claims["aud"])
    assert got == claims
    header = pyjwt.get_unverified_header(token)
    assert header == {"alg": alg, "kid": key.kid, "typ": "JWT"}
    # PyJWT also accepts our public JWK export.
    if key.kty != "oct":
        jwk_key = pyjwt.PyJWK(key.public().to_jwk())
        assert pyjwt.decode(token, jwk_key, algorithms=[alg], audience=claims["aud"]) == claims
        # And our JWKS export through PyJWT's JWK-set parser finds the key by kid.
        jwks = pyjwt.PyJWKSet.from_dict(KeySet([key]).to_jwks())
        assert pyjwt.decode(token, jwks[key.kid], algorithms=[alg], audience=claims["aud"])


@pytest.mark.parametrize("alg", ["HS256", "RS256", "ES256", "EdDSA"])
def test_pyjwt_jwk_export_imports_here(keys: dict[str, Key], alg: str) -> None:
    """A JWK written by PyJWT (from our PEM) imports here with the same thumbprint."""
    key = keys[alg]
    if key.kty == "oct":
        exported = pyjwt.algorithms.HMACAlgorithm.to_jwk(b64d(key.to_jwk(private=True)["k"]))
    else:
        algorithm = pyjwt.get_algorithm_by_name(alg)
        exported = algorithm.to_jwk(algorithm.prepare_key(key.to_pem()))
    imported = Key.from_jwk(exported, alg=alg)
    assert imported.thumbprint() == key.thumbprint()
