"""Wycheproof JOSE vectors: json_web_signature_test.json and json_web_key_test.json.

Each group's key is imported the way an application would (``Key.from_jwk`` or, for a JWK set,
``KeySet.from_jwks``; the group's ``public`` key when it has one, else ``private``), then every
case's token goes through ``jws.verify``. A key import that raises ``InvalidKey`` is an
"invalid" verdict for every case of the group. Anything other than a returned payload,
``InvalidToken`` or ``InvalidKey`` is a crash and fails the test.

Eight cases of json_web_signature_test.json are known upstream defects (see
../shared/vectors/README.md) and accept either verdict; the test records which one gatepass gives.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tokhelp import load_json

from gatepass import InvalidToken, Key, KeySet, jws
from gatepass.errors import InvalidKey, MalformedToken

# 367/370: byte-identical to valid 357; 372/373: '?' inside base64 but marked valid;
# 346/347/350/351: the key's alg (PS256 / "ES521") differs from the token's (PS384 / ES512).
KNOWN_DEFECTIVE = {346, 347, 350, 351, 367, 370, 372, 373}


def _jwk(value: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(value) if isinstance(value, str) else value
    return parsed


def _group_key(group: dict[str, Any]) -> Key | KeySet | InvalidKey:
    jwk = _jwk(group.get("public", group.get("private")))
    try:
        if "keys" in jwk:
            return KeySet.from_jwks(jwk)
        return Key.from_jwk(jwk)
    except InvalidKey as exc:
        return exc


def _verdict(key: Key | KeySet | InvalidKey, token: str) -> str:
    if isinstance(key, InvalidKey):
        return "invalid"
    try:
        jws.verify(token, key)
    except (InvalidToken, InvalidKey):
        return "invalid"
    return "valid"


def _cases(data: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for group in data["testGroups"]:
        for case in group["tests"]:
            yield group, case


def _run(data: dict[str, Any], defective: set[int]) -> tuple[list[str], dict[int, str]]:
    failures: list[str] = []
    either: dict[int, str] = {}
    for group in data["testGroups"]:
        key = _group_key(group)
        for case in group["tests"]:
            try:
                got = _verdict(key, case["jws"])
            except Exception as exc:  # a crash is always a failure
                failures.append(f"tc{case['tcId']} {case['comment']}: crashed {exc!r}")
                continue
            expected = case["result"]
            if case["tcId"] in defective or expected == "acceptable":
                either[case["tcId"]] = got
            elif got != expected:
                why = f" (key import: {key})" if isinstance(key, InvalidKey) else ""
                failures.append(
                    f"tc{case['tcId']} {group['comment']}/{case['comment']}: expected {expected},"
                    f" got {got}{why}"
                )
    return failures, either


def test_json_web_signature(vectors_dir: Path, record_property: Any) -> None:
    data = load_json(vectors_dir / "wycheproof" / "json_web_signature_test.json")
    assert sum(1 for _ in _cases(data)) == 401
    failures, either = _run(data, KNOWN_DEFECTIVE)
    record_property("either_verdict", json.dumps(either, sort_keys=True))
    assert not failures, f"{len(failures)} of 401 cases wrong:\n" + "\n".join(failures)
    # What gatepass does with the defective cases, pinned so a change is noticed:
    # 367/370 are the valid MAC of 357 -> valid; 372/373 contain '?' -> invalid (strict base64);
    # 346/347/350/351 bind a different alg -> invalid.
    assert either == {
        346: "invalid",
        347: "invalid",
        350: "invalid",
        351: "invalid",
        367: "valid",
        370: "valid",
        372: "invalid",
        373: "invalid",
    }


def test_json_web_key(vectors_dir: Path) -> None:
    data = load_json(vectors_dir / "wycheproof" / "json_web_key_test.json")
    assert sum(1 for _ in _cases(data)) == 26
    failures, either = _run(data, set())
    assert not either
    assert not failures, f"{len(failures)} of 26 cases wrong:\n" + "\n".join(failures)


@pytest.mark.parametrize(
    ("comment", "alg"),
    [("rsa_encryption", "RS256"), ("ec_key_for_encryption", "ES256")],
)
def test_encryption_keys_refused_even_with_explicit_alg(
    vectors_dir: Path, comment: str, alg: str
) -> None:
    """Groups 17-20 have no ``alg``, so plain import already fails. Supplying the alg explicitly
    must still refuse them: ``use: enc`` or ``key_ops`` without ``verify``."""
    data = load_json(vectors_dir / "wycheproof" / "json_web_signature_test.json")
    groups = [g for g in data["testGroups"] if g["comment"] == comment]
    assert len(groups) == 2  # one with use=enc, one with key_ops=[encrypt(, decrypt)]
    for group in groups:
        jwk = _jwk(group["public"])
        token = group["tests"][0]["jws"]
        # The same token verifies with the same key material marked for signing ...
        sig_jwk = {k: v for k, v in jwk.items() if k not in ("use", "key_ops")}
        assert jws.verify(token, Key.from_jwk(sig_jwk, alg=alg)) == b"foo"
        # ... and is refused when the key says it is for encryption.
        with pytest.raises((InvalidKey, InvalidToken)):
            jws.verify(token, Key.from_jwk(jwk, alg=alg))
        with pytest.raises((InvalidKey, InvalidToken)):
            jws.verify(token, KeySet.from_jwks({"keys": [dict(jwk, alg=alg)]}))


def test_json_web_crypto_jws_groups_and_jwe_refused(vectors_dir: Path) -> None:
    """The older combined file: its 49 JWS cases get their verdicts; its JWE tokens (five
    segments) are never parsed as a JWS."""
    data = load_json(vectors_dir / "wycheproof" / "json_web_crypto_test.json")
    jws_groups = [g for g in data["testGroups"] if all("jws" in t for t in g["tests"])]
    jwe_cases = [t for g in data["testGroups"] for t in g["tests"] if "jwe" in t]
    assert sum(len(g["tests"]) for g in jws_groups) == 49 and len(jwe_cases) == 34
    failures, either = _run({"testGroups": jws_groups}, set())
    assert not either
    assert not failures, "\n".join(failures)
    key = Key.from_secret(b"k" * 32)
    for case in jwe_cases:
        with pytest.raises(MalformedToken):
            jws.verify(case["jwe"], key)
