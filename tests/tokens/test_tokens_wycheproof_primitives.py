"""Wycheproof primitive vectors through ``Key.verify(data, signature)``, the raw JWS primitive.

Keys are imported from each group's ``publicKeyJwk`` / ``keyJwk`` with the JWS algorithm the
file tests (built from ``publicKey`` where a group has no JWK). Verdicts are compared per file;
a failure lists every wrong case. JWS profile rules that make some raw-primitive "valid" cases
invalid here are applied explicitly and explained where they are applied:

* ECDSA: the JWS signature is exactly r||s at the curve's size (P1363), as in these files.
* RSA-PSS: JWS PS* fixes the salt length to the hash length (RFC 7518 3.5), so the ``mgf1_0``
  file (salt length 0) is entirely invalid for JWS.
* HMAC: JWS never truncates tags (short ``tagSize`` groups are invalid) and RFC 7518 3.2 forbids
  keys shorter than the hash output (gatepass refuses them at import).

secp256k1 (ES256K) and Ed448 are not gatepass algorithms: those files are skipped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from tokhelp import b64e, load_json

from gatepass import Key
from gatepass.errors import GatepassError, InvalidKey

ECDSA_FILES = {
    "ecdsa_secp256r1_sha256_p1363_test.json": ("ES256", 32),
    "ecdsa_secp384r1_sha384_p1363_test.json": ("ES384", 48),
    "ecdsa_secp521r1_sha512_p1363_test.json": ("ES512", 66),
}
RSA_FILES = {
    "rsa_signature_2048_sha256_test.json": "RS256",
    "rsa_signature_3072_sha384_test.json": "RS384",
    "rsa_signature_3072_sha512_test.json": "RS512",
    "rsa_signature_4096_sha512_test.json": "RS512",
}
PSS_FILES = {
    "rsa_pss_2048_sha256_mgf1_0_test.json": "PS256",
    "rsa_pss_2048_sha256_mgf1_32_test.json": "PS256",
    "rsa_pss_2048_sha384_mgf1_48_test.json": "PS384",
    "rsa_pss_3072_sha256_mgf1_32_test.json": "PS256",
    "rsa_pss_4096_sha384_mgf1_48_test.json": "PS384",
    "rsa_pss_4096_sha512_mgf1_64_test.json": "PS512",
}
HMAC_FILES = {
    "hmac_sha256_test.json": ("HS256", hashlib.sha256),
    "hmac_sha384_test.json": ("HS384", hashlib.sha384),
    "hmac_sha512_test.json": ("HS512", hashlib.sha512),
}
UNSUPPORTED = {
    "ecdsa_secp256k1_sha256_p1363_test.json": "secp256k1 (ES256K) is not a gatepass algorithm",
    "ed448_test.json": "Ed448 is not supported (gatepass signs EdDSA with Ed25519 only)",
}


def _hex_to_b64(value: str, size: int | None = None) -> str:
    raw = bytes.fromhex(value).lstrip(b"\x00") or b"\x00"
    if size is not None:
        raw = raw.rjust(size, b"\x00")
    return b64e(raw)


def _verify(key: Key, msg: str, sig: str) -> str:
    """``valid`` / ``invalid``; a GatepassError from verify counts as invalid, anything else
    propagates (a crash fails the file)."""
    try:
        ok = key.verify(bytes.fromhex(msg), bytes.fromhex(sig))
    except GatepassError:
        return "invalid"
    assert isinstance(ok, bool)
    return "valid" if ok else "invalid"


def _compare(
    rows: list[tuple[int, str, str, str]], record_property: Any, name: str, total: int
) -> None:
    """rows: (tcId, comment, expected, got). 'acceptable' accepts either and is recorded."""
    assert len(rows) == total, f"{name}: ran {len(rows)} of {total} cases"
    failures = [
        f"tc{tc} {comment!r}: expected {exp}, got {got}"
        for tc, comment, exp, got in rows
        if exp not in ("acceptable", got)
    ]
    acceptable = {tc: got for tc, _, exp, got in rows if exp == "acceptable"}
    record_property("acceptable_verdicts", json.dumps(acceptable))
    assert not failures, f"{name}: {len(failures)} of {total} wrong:\n" + "\n".join(failures)


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_curves_are_skipped(name: str) -> None:
    pytest.skip(UNSUPPORTED[name])


@pytest.mark.parametrize("name", sorted(ECDSA_FILES))
def test_ecdsa_p1363(vectors_dir: Path, record_property: Any, name: str) -> None:
    alg, size = ECDSA_FILES[name]
    data = load_json(vectors_dir / "wycheproof" / name)
    crv = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}[alg]
    rows = []
    for group in data["testGroups"]:
        jwk = group.get("publicKeyJwk")
        if jwk is None:  # a few edge-case groups carry only the affine coordinates
            pub = group["publicKey"]
            jwk = {
                "kty": "EC",
                "crv": crv,
                "x": _hex_to_b64(pub["wx"], size),
                "y": _hex_to_b64(pub["wy"], size),
            }
        key = Key.from_jwk(jwk, alg=alg)
        for case in group["tests"]:
            rows.append((case["tcId"], case["comment"], case["result"], _verify(key, **_ms(case))))
    _compare(rows, record_property, name, data["numberOfTests"])


def _ms(case: dict[str, Any]) -> dict[str, str]:
    return {"msg": case["msg"], "sig": case["sig"]}


@pytest.mark.parametrize("name", sorted(RSA_FILES))
def test_rsa_pkcs1(vectors_dir: Path, record_property: Any, name: str) -> None:
    alg = RSA_FILES[name]
    data = load_json(vectors_dir / "wycheproof" / name)
    rows = []
    for group in data["testGroups"]:
        key = Key.from_jwk(group["keyJwk"], alg=alg)
        for case in group["tests"]:
            rows.append((case["tcId"], case["comment"], case["result"], _verify(key, **_ms(case))))
    _compare(rows, record_property, name, data["numberOfTests"])


@pytest.mark.parametrize("name", sorted(PSS_FILES))
def test_rsa_pss(vectors_dir: Path, record_property: Any, name: str) -> None:
    alg = PSS_FILES[name]
    data = load_json(vectors_dir / "wycheproof" / name)
    hash_len = {"PS256": 32, "PS384": 48, "PS512": 64}[alg]
    rows = []
    for group in data["testGroups"]:
        jwk = group.get("keyJwk") or group.get("publicKeyJwk")
        if jwk is None:  # the mgf1_0 file has no JWK: build it from the modulus and exponent
            pub = group["publicKey"]
            jwk = {
                "kty": "RSA",
                "n": _hex_to_b64(pub["modulus"]),
                "e": _hex_to_b64(pub["publicExponent"]),
            }
        key = Key.from_jwk(jwk, alg=alg)
        # JWS PS* requires salt length == hash length (RFC 7518 3.5): any other sLen is invalid.
        salt_ok = group["sLen"] == hash_len and group["mgfSha"] == group["sha"]
        for case in group["tests"]:
            expected = case["result"] if salt_ok else "invalid"
            if not salt_ok and case["comment"] == f"s_len changed to {hash_len}":
                # The one case of the sLen=0 file signed with salt length == hash length: wrong
                # for that file's parameters, but exactly what JWS PS* prescribes, so valid here.
                expected = "valid"
            rows.append((case["tcId"], case["comment"], expected, _verify(key, **_ms(case))))
    _compare(rows, record_property, name, data["numberOfTests"])


@pytest.mark.parametrize("alg", ["EdDSA", "Ed25519"])
def test_ed25519(vectors_dir: Path, record_property: Any, alg: str) -> None:
    data = load_json(vectors_dir / "wycheproof" / "ed25519_test.json")
    rows = []
    for group in data["testGroups"]:
        key = Key.from_jwk(group["publicKeyJwk"], alg=alg)
        for case in group["tests"]:
            rows.append((case["tcId"], case["comment"], case["result"], _verify(key, **_ms(case))))
    _compare(rows, record_property, f"ed25519_test.json/{alg}", data["numberOfTests"])


@pytest.mark.parametrize("name", sorted(HMAC_FILES))
def test_hmac(vectors_dir: Path, record_property: Any, name: str) -> None:
    alg, digest = HMAC_FILES[name]
    data = load_json(vectors_dir / "wycheproof" / name)
    hash_bits = digest().digest_size * 8
    rows = []
    refused_short_keys = 0
    for group in data["testGroups"]:
        for case in group["tests"]:
            secret = bytes.fromhex(case["key"])
            if group["keySize"] < hash_bits:
                # RFC 7518 3.2: "A key of the same size as the hash output ... or larger MUST be
                # used". The vector's verdict is about raw HMAC; for JWS the key itself is
                # unusable, so the correct outcome is a refusal at import (InvalidKey), whatever
                # the tag. We still check the vector with the stdlib so that a "valid" case
                # really is a correct MAC (the refusal is about the key, not a wrong result).
                with pytest.raises(InvalidKey):
                    Key.from_secret(secret, alg=alg)
                full = hmac.new(secret, bytes.fromhex(case["msg"]), digest).digest()
                tag = bytes.fromhex(case["tag"])
                raw_ok = hmac.compare_digest(full[: len(tag)], tag)
                assert raw_ok == (case["result"] == "valid"), case["tcId"]
                refused_short_keys += 1
                rows.append((case["tcId"], case["comment"], "invalid", "invalid"))
                continue
            key = Key.from_secret(secret, alg=alg)
            # JWS never truncates an HMAC tag: every short-tag case is invalid for JWS.
            expected = case["result"] if group["tagSize"] == hash_bits else "invalid"
            got = _verify(key, case["msg"], case["tag"])
            rows.append((case["tcId"], case["comment"], expected, got))
            if expected == "valid":
                # And the primitive agrees with itself: sign() produces exactly this tag.
                assert key.sign(bytes.fromhex(case["msg"])).hex() == case["tag"]
    short_key_cases = sum(len(g["tests"]) for g in data["testGroups"] if g["keySize"] < hash_bits)
    assert refused_short_keys == short_key_cases > 0
    _compare(rows, record_property, name, data["numberOfTests"])
