"""Security notes "Tokens" 1-12: each test performs the attack and sees it fail.

Tokens are forged byte by byte and signed with the raw primitive (``Key.sign``), so that the
signature is genuinely valid and the property under test is the only thing wrong with the token.
"""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID
from tokhelp import NOW, access_claims, b64d, b64e, compact, forge, load_json

from gatepass import InvalidToken, Key, KeySet, jws, jwt
from gatepass.errors import (
    AlgorithmMismatch,
    BadSignature,
    ClaimError,
    GatepassError,
    InvalidKey,
    KeyNotFound,
    MalformedToken,
    TokenTooLarge,
    UnknownCriticalHeader,
    UnsupportedAlgorithm,
)

ASYMMETRIC = ("RS256", "PS256", "ES256", "EdDSA")


@pytest.fixture(scope="module")
def keys() -> dict[str, Key]:
    made = {alg: Key.generate(alg) for alg in ("RS256", "PS256", "ES256", "ES384", "EdDSA")}
    made["HS256"] = Key.from_secret(b"s" * 32, alg="HS256")
    return made


def _jwt_payload(**extra: Any) -> dict[str, Any]:
    return {"sub": "42", "iat": NOW, "exp": NOW + 900, **extra}


# --- 1. the algorithm comes from the key, never from the header -----------------------------


def test_hs256_token_against_rs256_key_with_public_pem_as_secret(keys: dict[str, Key]) -> None:
    """The 2015 attack: HMAC-sign with the server's public key text and say alg=HS256."""
    for alg in ASYMMETRIC:
        public = keys[alg].public()
        for material in (public.to_pem(), json.dumps(public.to_jwk()).encode()):
            forged = forge(Key.from_secret(material, alg="HS256"), {"alg": "HS256"}, _jwt_payload())
            with pytest.raises(AlgorithmMismatch):
                jwt.verify(forged, public, now=NOW)
            with pytest.raises(KeyNotFound):
                jwt.verify(forged, KeySet([public]), now=NOW)


def test_rs256_token_against_hs256_keyset(keys: dict[str, Key]) -> None:
    token = jwt.encode(_jwt_payload(), keys["RS256"], now=NOW)
    hmac_set = KeySet([keys["HS256"]])
    with pytest.raises(KeyNotFound):
        jwt.verify(token, hmac_set, now=NOW)
    with pytest.raises(AlgorithmMismatch):
        jwt.verify(token, keys["HS256"], now=NOW)


@pytest.mark.parametrize(
    ("signer", "claimed"),
    [
        ("RS256", "PS256"),
        ("RS256", "RS512"),
        ("PS256", "RS256"),
        ("ES256", "ES384"),
        ("ES256", "EdDSA"),
        ("EdDSA", "ES256"),
        ("HS256", "HS512"),
        ("RS256", "HS256"),
    ],
)
def test_header_alg_swapped(keys: dict[str, Key], signer: str, claimed: str) -> None:
    """Sign correctly, then change only the header alg: the key's own alg must win."""
    key = keys[signer]
    header = {"alg": claimed, "kid": key.kid, "typ": "JWT"}
    forged = forge(key, header, _jwt_payload())  # even re-signed over the swapped header
    with pytest.raises(AlgorithmMismatch):
        jwt.verify(forged, key, now=NOW)
    with pytest.raises(KeyNotFound):
        jwt.verify(forged, KeySet([key]), now=NOW)


def test_keyset_kid_with_other_alg(keys: dict[str, Key]) -> None:
    """A kid that exists, with an alg the key under that kid is not bound to."""
    rs, es = keys["RS256"], keys["ES256"]
    keyset = KeySet([rs, es])
    forged = forge(es, {"alg": "ES384", "kid": es.kid}, _jwt_payload())
    with pytest.raises(KeyNotFound):
        jwt.verify(forged, keyset, now=NOW)
    forged = forge(es, {"alg": "ES256", "kid": rs.kid}, _jwt_payload())
    with pytest.raises(KeyNotFound):
        jwt.verify(forged, keyset, now=NOW)


# --- 2. typed keys: a public key can never become an HMAC secret ----------------------------


def test_public_key_material_cannot_be_imported_as_hmac(keys: dict[str, Key]) -> None:
    for alg in ASYMMETRIC:
        public = keys[alg].public()
        pem = public.to_pem()
        der = serialization.load_pem_public_key(pem).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        jwk = public.to_jwk()
        for hs in ("HS256", "HS384", "HS512"):
            with pytest.raises(InvalidKey):
                Key.from_pem(pem, alg=hs)
            with pytest.raises(InvalidKey):
                Key.from_pem(pem.decode(), alg=hs)
            with pytest.raises(InvalidKey):
                Key.from_pem(der, alg=hs)
            with pytest.raises(InvalidKey):
                Key.from_jwk(jwk, alg=hs)
            with pytest.raises(InvalidKey):
                Key.from_jwk(dict(jwk, alg=hs))
            with pytest.raises(InvalidKey):
                Key.from_jwk(json.dumps(dict(jwk, alg=hs)))
            with pytest.raises(InvalidKey):
                KeySet.from_jwks({"keys": [dict(jwk, alg=hs)]})
        # And an oct JWK is not an RSA/EC/OKP key either.
        with pytest.raises(InvalidKey):
            Key.from_jwk({"kty": "oct", "k": b64e(pem)}, alg=alg)


def test_pyjwt_advisory_tokens(vectors_dir: Path) -> None:
    """CVE-2022-29217: HS256 tokens signed with OpenSSH public-key text as the secret."""
    data = load_json(vectors_dir / "wordlists" / "pyjwt_ghsa_ffqj_6fqr_9h24.json")
    for vec in data["vectors"]:
        real_alg = "EdDSA" if "EdDSA" in vec["id"] else "ES256"
        public = Key.from_jwk(vec["jwk_public"], alg=real_alg)
        if vec["expected"] == "valid":
            assert jws.verify(vec["token"], public) == b'{"test":1234}'
            continue
        with pytest.raises(AlgorithmMismatch):
            jws.verify(vec["token"], public)
        with pytest.raises(KeyNotFound):
            jws.verify(vec["token"], KeySet([public]))
        # Every way of presenting the public key as key material refuses HS256.
        ssh = vec["public_key_text"].encode()
        for material in (ssh, public.to_pem(), json.dumps(vec["jwk_public"]).encode()):
            with pytest.raises(InvalidKey):
                Key.from_pem(material, alg="HS256")
        with pytest.raises(InvalidKey):
            Key.from_jwk(vec["jwk_public"], alg="HS256")
        # Sanity: the token really is HS256 over the SSH text (so the attack is real).
        assert jws.verify(vec["token"], Key.from_secret(ssh, alg="HS256")) == b'{"test":1234}'


# --- 3. HMAC secrets at least the hash length ----------------------------------------------


@pytest.mark.parametrize(("alg", "size"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_short_and_empty_hmac_secrets(alg: str, size: int) -> None:
    for secret in (b"", b"\x00", b"k" * (size - 1)):
        with pytest.raises(InvalidKey):
            Key.from_secret(secret, alg=alg)
        with pytest.raises(InvalidKey):
            Key.from_jwk({"kty": "oct", "k": b64e(secret), "alg": alg})
    assert Key.from_secret(b"k" * size, alg=alg).alg == alg
    with pytest.raises(InvalidKey):
        Key.from_jwk({"kty": "oct", "k": "", "alg": alg})


@pytest.mark.parametrize("name", ["wallarm_jwt.secrets.list", "flask_unsign_wordlist_all.txt"])
def test_leaked_secret_wordlists_refused(vectors_dir: Path, name: str) -> None:
    """Every leaked secret shorter than 32 bytes is refused as an HS256 key."""
    lines = (vectors_dir / "wordlists" / name).read_bytes().split(b"\n")
    short = [line for line in lines if len(line) < 32]
    assert len(short) > 30_000
    accepted = []
    for secret in short:
        try:
            Key.from_secret(secret, alg="HS256")
        except InvalidKey:
            continue
        accepted.append(secret)
    assert not accepted, accepted[:5]


# --- 4. alg none --------------------------------------------------------------------------


@pytest.mark.parametrize("none", ["none", "None", "NONE", "nOnE"])
def test_alg_none_all_casings(keys: dict[str, Key], none: str) -> None:
    payload = _jwt_payload()
    unsigned = compact({"alg": none, "typ": "JWT"}, payload) + "."
    hmac_signed = forge(keys["HS256"], {"alg": none}, payload)
    for token in (unsigned, hmac_signed):
        for key in keys.values():
            with pytest.raises((UnsupportedAlgorithm, MalformedToken)):
                jwt.verify(token, key, now=NOW)
            with pytest.raises(InvalidToken):
                jws.verify(token, KeySet([key]))
    with pytest.raises(GatepassError):
        Key.generate(none)
    with pytest.raises(InvalidKey):
        Key.from_secret(b"k" * 32, alg=none)


# --- 5. keys and key locations never come from the token -----------------------------------


def _self_signed_cert(private: ec.EllipticCurvePrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker")])
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=3650))
        .sign(private, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def test_embedded_jwk_jku_x5u_x5c_are_never_used(keys: dict[str, Key]) -> None:
    victim = keys["ES256"].public()
    attacker_ec = ec.generate_private_key(ec.SECP256R1())
    attacker_pem = attacker_ec.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    attacker = Key.from_pem(attacker_pem, alg="ES256")
    cert = base64.b64encode(_self_signed_cert(attacker_ec)).decode()
    payload = _jwt_payload()
    for kid in (attacker.kid, victim.kid, None):
        base: dict[str, Any] = {"alg": "ES256"} if kid is None else {"alg": "ES256", "kid": kid}
        for extra in (
            {"jwk": attacker.public().to_jwk()},
            {"jku": "https://attacker.example/jwks.json"},
            {"jku": "file:///etc/passwd"},
            {"x5u": "https://attacker.example/cert.pem"},
            {"x5c": [cert]},
            {"jwk": attacker.public().to_jwk(), "x5c": [cert], "jku": "http://127.0.0.1:1/"},
        ):
            forged = forge(attacker, {**base, **extra}, payload)
            with pytest.raises(BadSignature):
                jwt.verify(forged, victim, now=NOW)
            with pytest.raises(InvalidToken):
                jwt.verify(forged, KeySet([victim]), now=NOW)
    # Sanity: the attacker's token is fine for the attacker's own key (the forgery is real).
    assert jwt.verify(forge(attacker, {"alg": "ES256"}, payload), attacker, now=NOW)["sub"] == "42"


# --- 6. crit ------------------------------------------------------------------------------


def test_b64_header_rejected_without_crit(keys: dict[str, Key]) -> None:
    """RFC 7797's ``b64`` changes what the signature covers; a verifier that does not implement
    it refuses the header even when ``crit`` does not list it, rather than guess."""
    key = keys["HS256"]
    for b64 in (False, True):
        forged = forge(key, {"alg": "HS256", "b64": b64}, _jwt_payload())
        with pytest.raises(UnknownCriticalHeader):
            jws.verify(forged, key)
        with pytest.raises(UnknownCriticalHeader):
            jwt.verify(forged, key, now=NOW)


@pytest.mark.parametrize(
    "crit",
    [
        ["exp"],  # unknown extension name
        ["urn:example:unknown"],
        [],  # empty list
        "exp",  # not a list
        {"exp": True},
        None,
        [1],
        ["nothere"],  # a name that is not in the header
        ["alg"],  # registered names must not appear in crit
        ["b64"],
    ],
)
def test_crit_rejected(keys: dict[str, Key], crit: Any) -> None:
    key = keys["HS256"]
    header: dict[str, Any] = {"alg": "HS256", "crit": crit}
    if crit == ["exp"]:
        header["exp"] = NOW + 900
    if crit == ["b64"]:
        header["b64"] = True
    forged = forge(key, header, _jwt_payload())
    with pytest.raises((UnknownCriticalHeader, MalformedToken)):
        jws.verify(forged, key)
    with pytest.raises((UnknownCriticalHeader, MalformedToken)):
        jwt.verify(forged, key, now=NOW)


# --- 7. strict, canonical parsing before any crypto -----------------------------------------


def _hs_token_with(key: Key, chars: str) -> str:
    """An HS256 JWT whose signature segment contains one of ``chars`` (for alphabet tests)."""
    for i in range(10_000):
        token = jwt.encode({"sub": "42", "n": i}, key, now=NOW, expires_in=900)
        if any(c in token.rsplit(".", 1)[1] for c in chars):
            return token
    raise AssertionError("no suitable token found")  # pragma: no cover


def _variants(token: str) -> list[tuple[str, str]]:
    head, payload, sig = token.split(".")
    out: list[tuple[str, str]] = []
    for i, seg in enumerate((head, payload, sig)):
        parts = [head, payload, sig]

        def with_seg(text: str, i: int = i, parts: list[str] = parts) -> str:
            copy = list(parts)
            copy[i] = text
            return ".".join(copy)

        out.append((f"seg{i} padding", with_seg(seg + "=" * (-len(seg) % 4 or 4))))
        out.append((f"seg{i} one pad", with_seg(seg + "=")))
        out.append((f"seg{i} leading space", with_seg(" " + seg)))
        out.append((f"seg{i} trailing newline", with_seg(seg + "\n")))
        out.append((f"seg{i} inner tab", with_seg(seg[:5] + "\t" + seg[5:])))
        out.append((f"seg{i} inner space", with_seg(seg[:5] + " " + seg[5:])))
        out.append((f"seg{i} std alphabet", with_seg(seg.replace("-", "+").replace("_", "/"))))
        out.append((f"seg{i} junk char", with_seg(seg[:3] + "?" + seg[3:])))
        # Four characters keep the length's remainder, so only the alphabet check refuses
        # them: a lenient decoder skips them (PyJWT, Authlib and python-jose did).
        out.append((f"seg{i} four junk chars", with_seg(seg[:3] + "!?*$" + seg[3:])))
        out.append((f"seg{i} line breaks", with_seg(seg[:4] + "\r\n\r\n" + seg[4:])))
        out.append((f"seg{i} non-ascii", with_seg(seg[:3] + "é" + seg[3:])))
        out.append((f"seg{i} nul", with_seg(seg[:3] + "\x00" + seg[3:])))
        out.append((f"seg{i} impossible length", with_seg(seg + "A" * (1 - len(seg) % 4 + 4))))
        # Same decoded bytes, different text: non-zero unused trailing bits.
        if len(seg) % 4 in (2, 3):
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            pos = alphabet.index(seg[-1])
            bits = 4 if len(seg) % 4 == 2 else 2
            for low in range(1, 1 << bits):
                mutated = seg[:-1] + alphabet[(pos & ~((1 << bits) - 1)) | low]
                assert b64d(mutated) == b64d(seg)  # a lenient decoder sees the same bytes
                out.append((f"seg{i} trailing bits {low}", with_seg(mutated)))
    return out


def test_base64_strictness(keys: dict[str, Key]) -> None:
    key = keys["HS256"]
    token = _hs_token_with(key, "-_")
    assert jwt.verify(token, key, now=NOW)["sub"] == "42"
    variants = _variants(token)
    assert any("trailing bits" in name for name, _ in variants)
    accepted = []
    assert sum(1 for name, v in variants if "std alphabet" in name and v != token) >= 1
    for name, variant in variants:
        if variant == token:
            continue  # e.g. the standard alphabet on a segment without '-' or '_'
        try:
            jws.verify(variant, key)
            accepted.append(f"jws: {name}")
        except InvalidToken:
            pass
        try:
            jwt.verify(variant, key, now=NOW)
            accepted.append(f"jwt: {name}")
        except InvalidToken:
            pass
    assert not accepted, accepted
    # Bytes input gets the same treatment.
    with pytest.raises(MalformedToken):
        jws.verify(token.encode() + b" ", key)


@pytest.mark.parametrize(
    "shape",
    ["", ".", "..", "a", "a.b", "a.b.c.d", "a.b.c.d.e", "....", ".a.b", "a.b.", "a..b.c"],
)
def test_exactly_three_segments(keys: dict[str, Key], shape: str) -> None:
    key = keys["HS256"]
    with pytest.raises(MalformedToken):
        jws.verify(shape, key)
    with pytest.raises(MalformedToken):
        jwt.inspect(shape)


def test_extra_or_missing_segments_of_a_valid_token(keys: dict[str, Key]) -> None:
    key = keys["HS256"]
    token = jwt.encode({"sub": "42"}, key, expires_in=60)
    head, payload, sig = token.split(".")
    for variant in (
        f"{head}.{payload}",
        f"{head}.{payload}.{sig}.",
        f"{head}.{payload}.{sig}.{sig}",
        f"{head}..{payload}.{sig}",
        f"{head}.{payload}.{sig}.{head}.{payload}",  # JWE-like five segments
    ):
        with pytest.raises(MalformedToken):
            jws.verify(variant, key)


@pytest.mark.parametrize(
    "value", [b"[]", b'"a string"', b"1", b"1.5", b"null", b"true", b"", b"{", b"\xff\xfe"]
)
def test_header_and_payload_must_be_json_objects(keys: dict[str, Key], value: bytes) -> None:
    key = keys["HS256"]
    with pytest.raises(MalformedToken):
        jws.verify(forge(key, value, b"x"), key)
    with pytest.raises(MalformedToken):
        jwt.verify(forge(key, {"alg": "HS256"}, value), key, now=NOW, require=())
    with pytest.raises(MalformedToken):
        jwt.inspect(forge(key, {"alg": "HS256"}, value))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\xff\xfe", "claims is not valid UTF-8 (a bad byte at 0)"),
        (b'{"sub": }', "claims is not valid JSON (Expecting value: line 1 column 9 (char 8))"),
        (b"", "claims is not valid JSON"),
        (b'{"a":1} x', "claims is not valid JSON (extra data after the JSON object)"),
    ],
)
def test_json_failures_say_which_problem(
    keys: dict[str, Key], payload: bytes, message: str
) -> None:
    """UTF-8 and JSON problems are told apart, with a position, never with an exception name."""
    with pytest.raises(MalformedToken) as failure:
        jwt.inspect(forge(keys["HS256"], {"alg": "HS256"}, payload))
    assert str(failure.value).startswith(message)
    assert "Error)" not in str(failure.value)


@pytest.mark.parametrize(
    "header",
    [
        b'{"alg":"HS256","alg":"HS256"}',
        b'{"alg":"HS256","alg":"none"}',
        b'{"alg":"none","alg":"HS256"}',
        b'{"alg":"HS256","kid":"a","kid":"b"}',
        b'{"alg":"HS256","typ":"JWT","typ":"at+jwt"}',
        b'{"alg":"HS256","x":{"a":1,"a":2}}',
    ],
)
def test_duplicate_header_members(keys: dict[str, Key], header: bytes) -> None:
    key = keys["HS256"]
    with pytest.raises(MalformedToken):
        jws.verify(forge(key, header, b"{}"), key)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"sub":"a","sub":"b","exp":9999999999}',
        b'{"exp":1,"exp":9999999999,"sub":"a"}',
        b'{"sub":"a","exp":9999999999,"x":{"y":1,"y":2}}',
    ],
)
def test_duplicate_claims(keys: dict[str, Key], payload: bytes) -> None:
    key = keys["HS256"]
    with pytest.raises(MalformedToken):
        jwt.verify(forge(key, {"alg": "HS256"}, payload), key, now=NOW)


def test_json_constants_rejected(keys: dict[str, Key]) -> None:
    key = keys["HS256"]
    for payload in (b'{"exp":NaN}', b'{"exp":Infinity}', b'{"exp":-Infinity}'):
        with pytest.raises(MalformedToken):
            jwt.verify(forge(key, {"alg": "HS256"}, payload), key, now=NOW)


@pytest.mark.parametrize("depth", [40, 1_000, 200_000])
def test_deep_nesting_bounded(keys: dict[str, Key], depth: int) -> None:
    key = keys["HS256"]
    payload = b'{"exp":9999999999,"x":' + b"[" * depth + b"]" * depth + b"}"
    header = b'{"alg":"HS256","x":' + b"[" * depth + b"]" * depth + b"}"
    size = 10 * depth + 1000
    with pytest.raises(MalformedToken):
        jwt.verify(forge(key, {"alg": "HS256"}, payload), key, now=NOW, max_size=size)
    with pytest.raises(MalformedToken):
        jws.verify(forge(key, header, b"x"), key, max_size=size)
    with pytest.raises(MalformedToken):
        jwt.inspect(forge(key, {"alg": "HS256"}, payload), max_size=size)


def test_moderate_nesting_is_fine(keys: dict[str, Key]) -> None:
    key = keys["HS256"]
    claims = {"exp": NOW + 60, "x": {"a": [[{"b": [1, 2, {"c": "d"}]}]]}}
    token = forge(key, {"alg": "HS256"}, claims)
    assert jwt.verify(token, key, now=NOW) == claims


@pytest.mark.parametrize("alg", ["ES256", "ES384"])
def test_ecdsa_signature_encoding_is_exact(keys: dict[str, Key], alg: str) -> None:
    key = keys[alg]
    token = jws.sign(b"payload", key)
    signing_input, sig_b64 = token.rsplit(".", 1)
    raw = b64d(sig_b64)
    half = len(raw) // 2
    r, s = int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
    assert jws.verify(token, key) == b"payload"
    bad = {
        "trailing zero": raw + b"\x00",
        "leading zero": b"\x00" + raw,
        "zero-padded r and s": b"\x00" + raw[:half] + b"\x00" + raw[half:],
        # r stays in place, so only the exact length refuses it: s read from what follows r
        # would be the same number (the malleability jwcrypto and jwx accepted).
        "zero-padded s": raw[:half] + b"\x00" + raw[half:],
        "DER": encode_dss_signature(r, s),
        "truncated": raw[:-1],
        "empty": b"",
        "r and s swapped": raw[half:] + raw[:half],
    }
    for name, sig in bad.items():
        with pytest.raises(InvalidToken):
            jws.verify(f"{signing_input}.{b64e(sig)}", key)
        assert key.verify(signing_input.encode(), sig) is False, name


# --- 8. size limits, checked first ----------------------------------------------------------


def test_ten_megabyte_junk_is_rejected_before_decoding(keys: dict[str, Key]) -> None:
    junk = "eyJ" + "A" * (10 * 1024 * 1024) + ".x.y"
    for verify_call in (
        lambda: jws.verify(junk, keys["HS256"]),
        lambda: jwt.verify(junk, keys["RS256"]),
        lambda: jws.verify(junk.encode(), KeySet([keys["ES256"]])),
        lambda: jwt.inspect(junk),
        lambda: jws.inspect(junk),
        lambda: jws.verify("\x00" * (10 * 1024 * 1024), keys["HS256"]),
    ):
        with pytest.raises(TokenTooLarge) as info:
            verify_call()
        message = str(info.value)
        assert len(message) < 200
        assert "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" not in message


def test_size_limit_is_configurable(keys: dict[str, Key]) -> None:
    key = keys["HS256"]
    token = jwt.encode({"sub": "42", "pad": "x" * 9000}, key, expires_in=60)
    assert len(token) > 8192
    with pytest.raises(TokenTooLarge):
        jwt.verify(token, key)
    assert jwt.verify(token, key, max_size=20_000)["sub"] == "42"
    small = jwt.encode({"sub": "42"}, key, expires_in=60)
    with pytest.raises(TokenTooLarge):
        jwt.verify(small, key, max_size=len(small) - 1)
    assert jwt.verify(small, key, max_size=len(small))["sub"] == "42"


def test_error_messages_quote_only_a_short_prefix(keys: dict[str, Key]) -> None:
    key = keys["HS256"]
    secret_looking = "SECRET" * 1000
    for token in (secret_looking, secret_looking + ".x", f"{secret_looking}.a.b.c"):
        with pytest.raises(InvalidToken) as info:
            jws.verify(token, key)
        assert len(str(info.value)) < 200
    forged = forge(key, {"alg": "HS256", "kid": "K" * 5000}, _jwt_payload())
    with pytest.raises(InvalidToken) as info:
        jwt.verify(forged, KeySet([key]), now=NOW)
    assert len(str(info.value)) < 200


# --- 9. claims, exactly ------------------------------------------------------------------


@pytest.fixture(scope="module")
def hs() -> Key:
    return Key.from_secret(b"c" * 32, alg="HS256", kid="claims")


def _token(key: Key, claims: dict[str, Any], **headers: Any) -> str:
    return forge(key, {"alg": key.alg, **headers}, claims)


def test_exp_required_by_default(hs: Key) -> None:
    token = _token(hs, {"sub": "42", "iat": NOW})
    with pytest.raises(ClaimError) as info:
        jwt.verify(token, hs, now=NOW)
    assert info.value.claim == "exp"
    assert jwt.verify(token, hs, now=NOW, require=())["sub"] == "42"


def test_exp_boundaries_and_leeway(hs: Key) -> None:
    from gatepass.errors import ExpiredToken

    token = _token(hs, {"exp": NOW})
    with pytest.raises(ExpiredToken):
        jwt.verify(token, hs, now=NOW)  # now == exp is expired
    assert jwt.verify(token, hs, now=NOW - 1)["exp"] == NOW
    assert jwt.verify(token, hs, now=NOW + 9, leeway=10)["exp"] == NOW
    with pytest.raises(ExpiredToken):
        jwt.verify(token, hs, now=NOW + 10, leeway=10)
    fractional = _token(hs, {"exp": NOW + 0.5})
    assert jwt.verify(fractional, hs, now=NOW)["exp"] == NOW + 0.5
    with pytest.raises(ExpiredToken):
        jwt.verify(fractional, hs, now=NOW + 0.5)


def test_time_is_injected_with_now_and_clock_still_works(hs: Key) -> None:
    """``now=`` judges a token at another moment; the deprecated ``clock=`` keeps working."""
    from gatepass.errors import ExpiredToken

    token = _token(hs, {"exp": NOW})
    assert jwt.verify(token, hs, now=NOW - 1)["exp"] == NOW
    assert jwt.verify(token, hs, clock=lambda: NOW - 1)["exp"] == NOW
    with pytest.raises(ExpiredToken):
        jwt.verify(token, hs, clock=lambda: NOW)
    assert jwt.verify(token, hs, now=NOW - 1, clock=lambda: NOW)["exp"] == NOW  # now wins
    with pytest.raises(ExpiredToken):  # no now: the real time, long after NOW + 1
        jwt.verify(token, hs)


def test_nbf_and_future_iat(hs: Key) -> None:
    from gatepass.errors import NotYetValid

    token = _token(hs, {"exp": NOW + 100, "nbf": NOW + 10})
    with pytest.raises(NotYetValid):
        jwt.verify(token, hs, now=NOW)
    assert jwt.verify(token, hs, now=NOW + 10)["nbf"] == NOW + 10
    assert jwt.verify(token, hs, now=NOW, leeway=10)["nbf"] == NOW + 10
    with pytest.raises(NotYetValid):
        jwt.verify(token, hs, now=NOW, leeway=9)


@pytest.mark.parametrize("bad", ["1700000000", True, False, None, [NOW], {"t": NOW}])
@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_time_claims_must_be_numbers(hs: Key, claim: str, bad: Any) -> None:
    claims: dict[str, Any] = {"exp": NOW + 100, claim: bad}
    with pytest.raises((ClaimError, MalformedToken)):
        jwt.verify(_token(hs, claims), hs, now=NOW)


def test_issuer_exact(hs: Key) -> None:
    from gatepass.errors import InvalidIssuer

    expected = "https://issuer.example"
    ok = _token(hs, {"exp": NOW + 60, "iss": expected})
    assert jwt.verify(ok, hs, now=NOW, issuer=expected)["iss"] == expected
    for iss in (
        "issuer",
        "https://issuer.example/",
        "https://issuer.example.evil",
        "HTTPS://ISSUER.EXAMPLE",
        "",
        [expected],
        {"iss": expected},
        1,
        None,
    ):
        token = _token(hs, {"exp": NOW + 60, "iss": iss})
        with pytest.raises((InvalidIssuer, ClaimError)):
            jwt.verify(token, hs, now=NOW, issuer=expected)
    with pytest.raises(InvalidIssuer):
        jwt.verify(_token(hs, {"exp": NOW + 60}), hs, now=NOW, issuer=expected)


def test_audience_exact(hs: Key) -> None:
    from gatepass.errors import InvalidAudience

    expected = "https://api.example"
    for aud in (expected, [expected], ["other", expected]):
        token = _token(hs, {"exp": NOW + 60, "aud": aud})
        assert jwt.verify(token, hs, now=NOW, audience=expected)["aud"] == aud
    bad_audiences: list[Any] = [
        "api.example",
        "https://api.example.evil",
        "https://api",
        "",
        [],
        ["other"],
        [expected, 1],
        [1],
        [[expected]],
        {"aud": expected},
        1,
        None,
        True,
    ]
    for aud in bad_audiences:
        token = _token(hs, {"exp": NOW + 60, "aud": aud})
        with pytest.raises((InvalidAudience, ClaimError)):
            jwt.verify(token, hs, now=NOW, audience=expected)
    # A token meant for some audience is not for a verifier that expects none (RFC 7519
    # 4.1.3): otherwise a token issued for another API passes at every audience-less one.
    token = _token(hs, {"exp": NOW + 60, "aud": "https://other.example"})
    with pytest.raises(InvalidAudience):
        jwt.verify(token, hs, now=NOW)
    with pytest.raises(InvalidAudience):
        jwt.verify(_token(hs, {"exp": NOW + 60}), hs, now=NOW, audience=expected)


def test_typ_check(hs: Key) -> None:
    from gatepass.errors import InvalidType

    at = jwt.encode({"sub": "1"}, hs, typ="at+jwt", expires_in=60, now=NOW)
    plain = jwt.encode({"sub": "1"}, hs, expires_in=60, now=NOW)
    assert jwt.verify(at, hs, typ="at+jwt", now=NOW)["sub"] == "1"
    assert jwt.verify(plain, hs, typ="JWT", now=NOW)["sub"] == "1"
    with pytest.raises(InvalidType):
        jwt.verify(plain, hs, typ="at+jwt", now=NOW)
    with pytest.raises(InvalidType):
        jwt.verify(at, hs, typ="JWT", now=NOW)
    for spelled in ("application/at+jwt", "AT+JWT", "Application/At+JWT"):
        token = _token(hs, {"exp": NOW + 60}, typ=spelled)
        assert jwt.verify(token, hs, typ="at+jwt", now=NOW)["exp"] == NOW + 60
        assert jwt.verify(token, hs, typ="application/at+jwt", now=NOW)["exp"] == NOW + 60
    for wrong in ("at+jwt ", "jwt", "application/jwt", "at+jwt+x", "xapplication/at+jwt"):
        with pytest.raises(InvalidType):
            jwt.verify(_token(hs, {"exp": NOW + 60}, typ=wrong), hs, typ="at+jwt", now=NOW)
    no_typ = _token(hs, {"exp": NOW + 60})
    with pytest.raises(InvalidType):
        jwt.verify(no_typ, hs, typ="at+jwt", now=NOW)
    with pytest.raises(InvalidToken):
        jwt.verify(_token(hs, {"exp": NOW + 60}, typ=["at+jwt"]), hs, typ="at+jwt", now=NOW)


def test_max_age_uses_iat(hs: Key) -> None:
    from gatepass.errors import ExpiredToken

    token = _token(hs, {"exp": NOW + 3600, "iat": NOW - 100})
    assert jwt.verify(token, hs, now=NOW, max_age=101)["iat"] == NOW - 100
    with pytest.raises(ExpiredToken):
        jwt.verify(token, hs, now=NOW, max_age=100)
    with pytest.raises(ExpiredToken):
        jwt.verify(token, hs, now=NOW, max_age=50)
    with pytest.raises(ClaimError):
        jwt.verify(_token(hs, {"exp": NOW + 3600}), hs, now=NOW, max_age=50)


# --- 10. one unambiguous result ---------------------------------------------------------------


def test_expired_token_with_bad_signature_is_bad_signature(keys: dict[str, Key]) -> None:
    for key in (keys["HS256"], keys["RS256"], keys["ES256"]):
        expired = jwt.encode({"sub": "42"}, key, expires_in=10, now=NOW - 1000)
        head, payload, sig = expired.split(".")
        raw = bytearray(b64d(sig))
        raw[-1] ^= 1
        forged = f"{head}.{payload}.{b64e(bytes(raw))}"
        with pytest.raises(BadSignature):
            jwt.verify(forged, key)
        with pytest.raises(BadSignature):
            jwt.verify(forged, key, issuer="nobody", audience="nobody", typ="other")
        # A forged payload: also BadSignature, never the claim error.
        tampered = f"{head}.{b64e(json.dumps({'sub': '1', 'exp': 1}).encode())}.{sig}"
        with pytest.raises(BadSignature):
            jwt.verify(tampered, key)


def test_claims_never_returned_with_an_error(keys: dict[str, Key]) -> None:
    """verify either returns claims or raises; the exception carries no claims."""
    key = keys["HS256"]
    expired = jwt.encode({"sub": "42"}, key, expires_in=10, now=NOW - 1000)
    with pytest.raises(InvalidToken) as info:
        jwt.verify(expired, key)
    assert "42" not in repr(info.value.args)
    assert not any(isinstance(v, dict) for v in vars(info.value).values())


def test_access_claims_roundtrip(keys: dict[str, Key]) -> None:
    for alg in ("HS256", "RS256", "ES256", "EdDSA"):
        claims = access_claims()
        token = jwt.encode(claims, keys[alg], now=NOW)
        got = jwt.verify(
            token, keys[alg], now=NOW + 1, audience=claims["aud"], issuer=claims["iss"]
        )
        assert got == claims


# --- 12. no JWE, no compression ------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "HS256", "zip": "DEF"},
        {"alg": "HS256", "enc": "A256GCM"},
        {"alg": "PBES2-HS256+A128KW", "p2c": 10_000_000},
        {"alg": "dir", "enc": "A128GCM"},
        {"alg": "RSA-OAEP", "enc": "A128GCM"},
    ],
)
def test_jwe_and_compression_headers_rejected(keys: dict[str, Key], header: dict[str, Any]) -> None:
    key = keys["HS256"]
    with pytest.raises(InvalidToken):
        jws.verify(forge(key, header, b"{}"), key)
    # A five-segment JWE is not even parsed.
    with pytest.raises(MalformedToken):
        jws.verify(compact(header, b"") + ".a.b.c", key)


@pytest.mark.parametrize(
    "header",
    [
        {},
        {"typ": "JWT"},
        {"alg": None},
        {"alg": 256},
        {"alg": ["HS256"]},
        {"alg": {"name": "HS256"}},
        {"alg": "HS256", "kid": 5},
        {"alg": "HS256", "kid": ["a"]},
        {"alg": "HS256", "typ": None},
        {"alg": "HS256", "cty": {}},
    ],
)
def test_header_member_types(keys: dict[str, Key], header: dict[str, Any]) -> None:
    key = keys["HS256"]
    token = forge(key, header, _jwt_payload())
    with pytest.raises(MalformedToken):
        jws.verify(token, key)
    with pytest.raises(MalformedToken):
        jwt.verify(token, KeySet([key]), now=NOW)


@pytest.mark.parametrize("alg", ["hs256", "HS256 ", " HS256", "HS-256", "RS1", "ES256K", "Ed448"])
def test_unknown_or_misspelled_algorithms(keys: dict[str, Key], alg: str) -> None:
    key = keys["HS256"]
    with pytest.raises(UnsupportedAlgorithm):
        jws.verify(forge(key, {"alg": alg}, b"{}"), key)
    with pytest.raises(InvalidKey):
        Key.generate(alg)
