"""JWK and JWKS documents: parsed as strictly as tokens, and every import path refuses weak keys.

A JWK set usually arrives over the network (the JWKS client), so its text gets the token parser:
duplicate member names, NaN, deep nesting and oversized documents are refused with InvalidKey
(JWKSFetchError from the client), never loaded with whichever duplicate a parser happens to keep.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tokhelp import load_json

from gatepass import JWKSClient, Key, KeySet
from gatepass.errors import InvalidKey, JWKSFetchError
from gatepass.tokens.jwk import MAX_KEY_DOCUMENT_SIZE
from gp_testkit import document_server

EC = Key.generate("ES256", kid="ec-1")
EC_JWK = json.dumps(EC.public().to_jwk())


def _replace_member(jwk_text: str, name: str, twice: str) -> str:
    """The JWK text with ``"name": ...`` written twice: the real value, then ``twice``."""
    doc = json.loads(jwk_text)
    return jwk_text[:-1] + f', "{name}": {json.dumps(twice)}}}' if name in doc else jwk_text


@pytest.mark.parametrize(
    ("text", "what"),
    [
        (
            '{"kty": "oct", "kid": "a", "kid": "evil", "alg": "HS256", "k": "' + "a" * 43 + '"}',
            "kid",
        ),
        (_replace_member(EC_JWK, "x", EC.public().to_jwk()["y"]), "x"),
        (_replace_member(EC_JWK, "alg", "ES384"), "alg"),
    ],
)
def test_jwk_text_with_a_duplicate_member_is_refused(text: str, what: str) -> None:
    assert text.count(f'"{what}"') == 2
    with pytest.raises(InvalidKey, match=f"duplicate member name '{what}'"):
        Key.from_jwk(text)
    with pytest.raises(InvalidKey, match=f"duplicate member name '{what}'"):
        Key.from_jwk(text.encode())
    with pytest.raises(InvalidKey, match=f"duplicate member name '{what}'"):
        KeySet.from_jwks('{"keys": [' + text + "]}")


def test_jwks_with_two_keys_members_is_refused() -> None:
    """``{"keys": [], "keys": [...]}`` loaded silently with one parser's choice of the two."""
    text = '{"keys": [], "keys": [' + EC_JWK + "]}"
    with pytest.raises(InvalidKey, match="duplicate member name 'keys'"):
        KeySet.from_jwks(text)
    # The same set without the duplicate loads: it is the duplicate that is refused.
    assert [k.kid for k in KeySet.from_jwks('{"keys": [' + EC_JWK + "]}")] == ["ec-1"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"keys": [' + "[" * 20 + "]" * 20 + "]}", "nested more than 16 levels"),
        ('{"keys": [], "n": NaN}', "not valid JSON"),
        ('{"keys": [], "n": 1e400}', "not valid JSON"),
        ('{"keys": []} extra', "not valid JSON"),
        ("[]", "must be a JSON object"),
        ("", "not valid JSON"),
    ],
)
def test_jwks_text_is_parsed_like_a_token_header(text: str, match: str) -> None:
    with pytest.raises(InvalidKey, match=match):
        KeySet.from_jwks(text)


def test_key_documents_are_bounded_and_utf8() -> None:
    huge = '{"keys": [], "pad": "' + "x" * MAX_KEY_DOCUMENT_SIZE + '"}'
    with pytest.raises(InvalidKey, match=f"the limit is {MAX_KEY_DOCUMENT_SIZE}"):
        KeySet.from_jwks(huge)
    with pytest.raises(InvalidKey, match=f"the limit is {MAX_KEY_DOCUMENT_SIZE}"):
        Key.from_jwk(huge)
    with pytest.raises(InvalidKey, match="not valid UTF-8"):
        KeySet.from_jwks(b'{"keys": [], "x": "\xff"}')
    with pytest.raises(InvalidKey, match="not valid UTF-8"):
        Key.from_jwk('{"kty": "oct", "k": "\ud800"}')


def test_jwks_client_refuses_a_duplicate_member_from_the_network() -> None:
    """The client's network input goes through the strict parser (KeySet.from_jwks on text)."""
    other = Key.generate("ES256", kid="evil").public().to_jwk()
    with document_server() as server:
        server.body = ('{"keys": [' + EC_JWK + '], "keys": [' + json.dumps(other) + "]}").encode()
        with pytest.raises(JWKSFetchError, match="malformed JWKS"):
            JWKSClient(server.url).keyset()
        server.body = ('{"keys": [' + EC_JWK + "]}").encode()
        assert [k.kid for k in JWKSClient(server.url).keyset()] == ["ec-1"]


# --- every import path refuses what it must ----------------------------------------------------


@pytest.mark.parametrize(
    "member",
    [{"alg": []}, {"alg": {}}, {"kty": []}, {"kty": {"a": 1}}, {"crv": []}, {"use": []}],
)
def test_jwks_with_unhashable_members_is_invalid_key_not_type_error(member: dict[str, Any]) -> None:
    """Members are untrusted JSON: a list or object must not reach a set lookup (TypeError)."""
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
    with pytest.raises(InvalidKey, match="ROCA"):
        KeySet.from_jwks(json.dumps({"keys": [jwk]}))
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
