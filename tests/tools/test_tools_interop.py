"""The page and gatepass's Python token core agree, both ways, for every algorithm.

Tokens signed in the page verify with ``gatepass.jwt.verify`` / ``jws.verify``; tokens from
``gatepass.jwt.encode`` verify in the page (with PEM, JWK and JWKS keys). The page's default
``kid`` (RFC 7638 thumbprint) is the same as gatepass's.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from tools_keys import unb64url

from gatepass import InvalidToken, Key, KeySet, jws, jwt
from gatepass.errors import AlgorithmMismatch, BadSignature, ExpiredToken

pytestmark = pytest.mark.browser

ALGS = [
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
]


def ed25519_ok(tools: Any) -> bool:
    return bool(tools.page.evaluate("document.body.dataset.ed25519") == "yes")


def test_tokens_signed_in_the_page_verify_with_gatepass(tools: Any) -> None:
    page = tools.page
    for alg in ALGS:
        if alg == "EdDSA" and not ed25519_ok(tools):
            continue
        token = tools.sign(alg, None, claims='{"sub": "page-' + alg + '", "scope": "read"}')
        header = jwt.inspect(token).header
        assert header["alg"] == alg
        if alg.startswith("HS"):
            secret = unb64url(page.input_value("#encode-key"))
            key = Key.from_secret(secret, alg)
            jwk_key = Key.from_jwk(json.loads(page.inner_text("#gen-private-jwk")))
        else:
            key = Key.from_pem(page.inner_text("#gen-public-pem"), alg)
            jwk_key = Key.from_jwk(json.loads(page.inner_text("#gen-public-jwk")))
            assert not jwk_key.is_private
            # The private key the page shows is usable by gatepass too.
            private = Key.from_pem(page.inner_text("#gen-private-pem"), alg)
            assert private.public().thumbprint() == key.thumbprint()
        assert header["kid"] == key.thumbprint() == jwk_key.kid
        claims = jwt.verify(token, key)
        assert claims["sub"] == "page-" + alg
        assert claims["exp"] - claims["iat"] == 900
        assert jwt.verify(token, KeySet([jwk_key]))["sub"] == "page-" + alg
        assert json.loads(jws.verify(token, key))["sub"] == "page-" + alg
        # And gatepass still rejects the page's token once tampered with.
        head, payload, sig = token.split(".")
        flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
        with pytest.raises(InvalidToken):
            jwt.verify(f"{head}.{payload}.{flipped}", key)


def test_tokens_from_gatepass_verify_in_the_page(tools: Any) -> None:
    for alg in ALGS:
        if alg == "EdDSA" and not ed25519_ok(tools):
            continue
        key = Key.generate(alg)
        token = jwt.encode({"sub": "py-" + alg}, key, expires_in=600)
        if alg.startswith("HS"):
            secret = key.to_jwk(private=True)["k"]
            result = tools.verify(token, secret, key_format="secret-b64url", alg=alg)
            assert result["verdict"] == "valid", (alg, result)
            result = tools.verify(token, json.dumps(key.to_jwk(private=True)))
        else:
            result = tools.verify(token, key.to_pem().decode(), alg=alg)
            assert result["verdict"] == "valid", (alg, result)
            result = tools.verify(token, json.dumps(key.to_jwk()))
        assert result["verdict"] == "valid", (alg, result)
        assert result["claims"]["sub"] == "py-" + alg


def test_gatepass_jwks_selects_by_kid_in_the_page(tools: Any) -> None:
    keys = [Key.generate("ES256"), Key.generate("RS256"), Key.generate("ES384")]
    jwks = json.dumps(KeySet([k.public() for k in keys]).to_jwks())
    for key in keys:
        token = jwt.encode({"sub": key.alg}, key, expires_in=60)
        result = tools.verify(token, jwks)
        assert result["verdict"] == "valid", result
        assert key.kid in result["checks"]["key"][1]


def test_page_and_gatepass_agree_on_failures(tools: Any) -> None:
    key = Key.generate("ES256")
    expired = jwt.encode({"sub": "x"}, key, expires_in=60, now=time.time() - 3600)
    with pytest.raises(ExpiredToken):
        jwt.verify(expired, key.public())
    result = tools.verify(expired, key.to_pem().decode())
    assert result["verdict"] == "invalid"
    assert result["checks"]["exp"][0] == "fail"

    other = Key.generate("ES256")
    forged = jwt.encode({"sub": "x"}, other, expires_in=60)
    with pytest.raises(BadSignature):
        jwt.verify(forged, key.public())
    assert tools.verify(forged, key.to_pem().decode())["checks"]["signature"][0] == "fail"

    hs = Key.generate("HS256")
    confused = jwt.encode({"sub": "x"}, hs, expires_in=60)
    with pytest.raises(AlgorithmMismatch):
        jwt.verify(confused, key.public())
    assert "Algorithm mismatch" in tools.verify(confused, key.to_pem().decode())["summary"]


def test_page_signed_token_with_pasted_gatepass_key(tools: Any) -> None:
    for alg in ("RS256", "ES256", "HS256"):
        key = Key.generate(alg)
        if alg.startswith("HS"):
            token = tools.sign(alg, json.dumps(key.to_jwk(private=True)))
        else:
            token = tools.sign(alg, key.to_pem(private=True).decode())
        assert jwt.inspect(token).header["kid"] == key.kid
        assert jwt.verify(token, key if alg.startswith("HS") else key.public())["sub"] == "user-42"
