"""Property tests (hypothesis): mutations never verify, junk never crashes.

* Any single mutation of a valid token (character flip, insertion, deletion, truncation) fails
  with an ``InvalidToken``. Strict canonical base64url is what makes this hold for the unused
  trailing bits of a segment, too.
* Arbitrary text, bytes and JSON fed to every parser raises nothing but ``GatepassError``.
"""

from __future__ import annotations

import contextlib
import json
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tokhelp import NOW, b64e, forge

from gatepass import InvalidToken, Key, KeySet, jws, jwt
from gatepass.errors import ExpiredToken, GatepassError, NotYetValid

EXAMPLES = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TOKEN_CHARS = string.ascii_letters + string.digits + "-_." + "=+/ \n\x00é"

HS = Key.from_secret(b"p" * 32, alg="HS256")
ED = Key.generate("EdDSA")
ES = Key.generate("ES256")
CLAIMS = {"sub": "42", "aud": "api", "exp": NOW + 900, "jti": "abc"}
TOKENS = {alg: jwt.encode(CLAIMS, k, now=NOW) for alg, k in (("HS256", HS), ("EdDSA", ED))}
TOKENS["ES256"] = jwt.encode(CLAIMS, ES, now=NOW)
KEYS = {"HS256": HS, "EdDSA": ED, "ES256": ES}


def _mutations() -> st.SearchStrategy[tuple[str, str, int, str]]:
    return st.tuples(
        st.sampled_from(sorted(TOKENS)),
        st.sampled_from(["flip", "insert", "delete", "truncate"]),
        st.integers(min_value=0, max_value=10_000),
        st.sampled_from(TOKEN_CHARS),
    )


def _mutate(token: str, kind: str, index: int, char: str) -> str:
    i = index % len(token)
    if kind == "flip":
        return token[:i] + char + token[i + 1 :]
    if kind == "insert":
        return token[:i] + char + token[i:]
    if kind == "delete":
        return token[:i] + token[i + 1 :]
    return token[:i]


@EXAMPLES
@given(_mutations())
def test_any_single_mutation_fails(mutation: tuple[str, str, int, str]) -> None:
    alg, kind, index, char = mutation
    token = TOKENS[alg]
    mutated = _mutate(token, kind, index, char)
    assume(mutated != token)
    with pytest.raises(InvalidToken):
        jwt.verify(mutated, KEYS[alg], now=NOW, audience="api")
    with pytest.raises(InvalidToken):
        jws.verify(mutated, KEYS[alg])


def test_unmutated_tokens_verify() -> None:
    for alg, token in TOKENS.items():
        assert jwt.verify(token, KEYS[alg], now=NOW, audience="api") == {**CLAIMS, "iat": NOW}


@EXAMPLES
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=255))
def test_any_bit_flip_in_decoded_segments_fails(position: int, mask: int) -> None:
    """Flip bits in the decoded bytes of any segment, re-encoded canonically."""
    from tokhelp import b64d

    token = TOKENS["HS256"]
    parts = token.split(".")
    lengths = [len(b64d(p)) for p in parts]
    position %= sum(lengths)
    for i, size in enumerate(lengths):
        if position < size:
            raw = bytearray(b64d(parts[i]))
            raw[position] ^= mask
            parts[i] = b64e(bytes(raw))
            break
        position -= size
    with pytest.raises(InvalidToken):
        jwt.verify(".".join(parts), HS, now=NOW, audience="api")


# --- junk never crashes ---------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
JWK_LIKE = st.fixed_dictionaries(
    {"kty": st.sampled_from(["oct", "RSA", "EC", "OKP", "x", ""])},
    optional={
        "alg": st.sampled_from(["HS256", "RS256", "PS256", "ES256", "ES512", "EdDSA", "none", ""])
        | JSON,
        "k": st.text(alphabet=string.ascii_letters + "-_=", max_size=90) | JSON,
        "n": st.text(alphabet=string.ascii_letters + "-_", max_size=40) | JSON,
        "e": st.sampled_from(["AQAB", "Aw", "AQ", "", "AAEAAQ"]) | JSON,
        "crv": st.sampled_from(["P-256", "P-384", "P-521", "Ed25519", "X25519"]) | JSON,
        "x": st.text(alphabet=string.ascii_letters + "-_", max_size=90) | JSON,
        "y": st.text(alphabet=string.ascii_letters + "-_", max_size=90) | JSON,
        "d": st.text(alphabet=string.ascii_letters + "-_", max_size=90) | JSON,
        "use": st.sampled_from(["sig", "enc"]) | JSON,
        "key_ops": st.lists(st.sampled_from(["sign", "verify", "encrypt"])) | JSON,
        "kid": JSON,
    },
)


def _only_gatepass_errors(call: Any, *args: Any, **kwargs: Any) -> None:
    with contextlib.suppress(GatepassError):
        call(*args, **kwargs)


@EXAMPLES
@given(st.text(max_size=300) | st.binary(max_size=300))
def test_token_parsers_raise_only_invalid_token(junk: str | bytes) -> None:
    for call in (
        lambda: jwt.verify(junk, HS),
        lambda: jws.verify(junk, KeySet([HS, ED])),
        lambda: jwt.inspect(junk),
        lambda: jws.inspect(junk),
    ):
        with contextlib.suppress(InvalidToken):
            call()


@EXAMPLES
@given(
    st.lists(
        st.text(alphabet=string.ascii_letters + string.digits + "-_", max_size=40),
        min_size=3,
        max_size=3,
    )
)
def test_three_segment_junk(segments: list[str]) -> None:
    token = ".".join(segments)
    for call in (lambda: jwt.verify(token, ES), lambda: jwt.inspect(token)):
        with contextlib.suppress(InvalidToken):
            call()


@EXAMPLES
@given(JSON, JSON)
def test_signed_arbitrary_json_never_crashes(header: Any, payload: Any) -> None:
    """Correctly signed tokens with arbitrary JSON header/payload: claims or InvalidToken."""
    if isinstance(header, dict):
        header = {**header, "alg": "HS256"} if len(header) % 2 else header
    token = forge(HS, json.dumps(header).encode(), json.dumps(payload).encode())
    for call in (
        lambda: jwt.verify(token, HS, now=NOW),
        lambda: jwt.verify(token, KeySet([HS]), require=(), audience="a", issuer="b", typ="JWT"),
        lambda: jws.verify(token, HS),
        lambda: jwt.inspect(token),
    ):
        with contextlib.suppress(InvalidToken):
            call()


@EXAMPLES
@given(JWK_LIKE | JSON)
def test_jwk_import_raises_only_invalid_key(jwk: Any) -> None:
    _only_gatepass_errors(Key.from_jwk, jwk) if isinstance(jwk, dict) else None
    _only_gatepass_errors(Key.from_jwk, json.dumps(jwk))
    _only_gatepass_errors(Key.from_jwk, json.dumps(jwk), alg="ES256")
    _only_gatepass_errors(KeySet.from_jwks, {"keys": [jwk]})
    _only_gatepass_errors(KeySet.from_jwks, json.dumps({"keys": [jwk, jwk]}))
    _only_gatepass_errors(KeySet.from_jwks, json.dumps(jwk))


@EXAMPLES
@given(st.text(max_size=400) | st.binary(max_size=400))
def test_text_importers_raise_only_invalid_key(junk: str | bytes) -> None:
    _only_gatepass_errors(Key.from_jwk, junk)
    _only_gatepass_errors(KeySet.from_jwks, junk)
    _only_gatepass_errors(Key.from_pem, junk)
    _only_gatepass_errors(Key.from_pem, junk, alg="RS256")
    pem = b"-----BEGIN PUBLIC KEY-----\n" + (junk.encode() if isinstance(junk, str) else junk)
    _only_gatepass_errors(Key.from_pem, pem + b"\n-----END PUBLIC KEY-----\n")
    _only_gatepass_errors(Key.from_pem, pem.replace(b"PUBLIC", b"PRIVATE"), password=b"pw")


CLAIMS_JSON = st.dictionaries(st.text(max_size=10), JSON, max_size=6)
HEADER_EXTRA = st.dictionaries(
    st.text(max_size=6).filter(lambda n: n not in {"alg", "crit", "b64", "zip", "enc"}),
    JSON,
    max_size=3,
)


@EXAMPLES
@given(CLAIMS_JSON, HEADER_EXTRA, st.sampled_from(sorted(KEYS)))
def test_what_gatepass_signs_it_verifies(
    claims: dict[str, Any], headers: dict[str, Any], alg: str
) -> None:
    """encode either refuses (GatepassError) or makes a token verify() accepts unchanged."""
    key = KEYS[alg]
    try:
        token = jwt.encode(claims, key, headers=headers, now=NOW)
    except GatepassError:
        return
    aud = claims.get("aud")
    audience = aud[0] if isinstance(aud, list) else aud
    try:
        got = jwt.verify(token, key, now=NOW, require=(), audience=audience)
    except (ExpiredToken, NotYetValid) as exc:
        assert exc.claim in claims  # a time window the caller chose, not a format problem
        return
    assert got == {"iat": NOW, **claims}
