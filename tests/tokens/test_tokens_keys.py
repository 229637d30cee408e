"""Key and KeySet behaviour: generation, round trips, thumbprints, selection, usage rules."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tokhelp import b64e

from gatepass import InvalidToken, Key, KeySet, jws, jwt
from gatepass.errors import (
    AmbiguousKey,
    BadSignature,
    GatepassError,
    InvalidKey,
    KeyNotFound,
    KeyUsageError,
)
from gatepass.tokens.algorithms import ALGORITHMS

EXPECTED_ALGORITHMS = (
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
    "Ed25519",
)
KTY = {"HS": "oct", "RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


@pytest.fixture(scope="module")
def generated() -> dict[str, Key]:
    return {alg: Key.generate(alg) for alg in ALGORITHMS}


def test_algorithm_list() -> None:
    assert tuple(ALGORITHMS) == EXPECTED_ALGORITHMS


@pytest.mark.parametrize("alg", EXPECTED_ALGORITHMS)
def test_generate_sign_verify_roundtrip(generated: dict[str, Key], alg: str) -> None:
    key = generated[alg]
    assert key.alg == alg
    assert key.kty == KTY[alg[:2]]
    assert key.is_private
    assert key.kid == key.thumbprint()
    data = b"the signing input"
    sig = key.sign(data)
    assert key.verify(data, sig) is True
    assert key.verify(data + b"!", sig) is False
    assert key.verify(data, sig[:-1] + bytes([sig[-1] ^ 1])) is False
    token = jws.sign(b"hello", key)
    assert jws.verify(token, key) == b"hello"

    if key.kty == "oct":
        with pytest.raises(KeyUsageError):
            key.public()
        with pytest.raises(KeyUsageError):
            key.to_pem()
        with pytest.raises(KeyUsageError):
            key.to_pem(private=True)
        again = Key.from_jwk(key.to_jwk(private=True))
        assert again.alg == alg and again.kid == key.kid
        assert again.verify(data, sig)
        assert jws.verify(token, again) == b"hello"
        return

    public = key.public()
    assert not public.is_private
    assert public.alg == alg and public.kid == key.kid
    assert public.thumbprint() == key.thumbprint()
    assert public.verify(data, sig)
    assert jws.verify(token, public) == b"hello"
    with pytest.raises(KeyUsageError):
        public.sign(data)
    with pytest.raises(KeyUsageError):
        jws.sign(b"x", public)
    with pytest.raises(KeyUsageError):
        jwt.encode({"sub": "1"}, public)

    jwk = key.to_jwk()
    assert jwk["alg"] == alg and jwk["kid"] == key.kid and jwk["use"] == "sig"
    assert "d" not in jwk and "p" not in jwk
    from_public_jwk = Key.from_jwk(jwk)
    assert not from_public_jwk.is_private
    assert from_public_jwk.kid == key.kid
    assert jws.verify(token, from_public_jwk) == b"hello"
    assert Key.from_jwk(json.dumps(jwk)).kid == key.kid

    private_jwk = key.to_jwk(private=True)
    assert "d" in private_jwk
    from_private_jwk = Key.from_jwk(private_jwk)
    assert from_private_jwk.is_private
    assert from_private_jwk.verify(data, from_private_jwk.sign(data))
    assert public.verify(data, from_private_jwk.sign(data))

    pem = key.to_pem()
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    from_pem = Key.from_pem(pem, alg=alg)
    assert not from_pem.is_private and from_pem.kid == key.kid
    assert jws.verify(token, from_pem) == b"hello"
    private_pem = key.to_pem(private=True)
    assert b"PRIVATE KEY" in private_pem
    from_private_pem = Key.from_pem(private_pem.decode(), alg=alg, kid="custom")
    assert from_private_pem.is_private and from_private_pem.kid == "custom"
    assert public.verify(data, from_private_pem.sign(data))
    with pytest.raises(KeyUsageError):
        public.to_pem(private=True)


@pytest.mark.parametrize(("alg", "default"), [("ES256", "ES256"), ("ES512", "ES512")])
def test_pem_alg_decided_by_curve(generated: dict[str, Key], alg: str, default: str) -> None:
    assert Key.from_pem(generated[alg].to_pem()).alg == default
    assert Key.from_pem(generated["EdDSA"].to_pem()).alg == "EdDSA"
    # RSA keys serve six algorithms: the caller must choose.
    with pytest.raises(InvalidKey):
        Key.from_pem(generated["RS256"].to_pem())
    # A curve that disagrees with the requested alg is refused.
    with pytest.raises(InvalidKey):
        Key.from_pem(generated["ES256"].to_pem(), alg="ES384")


def test_encrypted_pem(generated: dict[str, Key]) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    raw = load_pem_private_key(generated["ES256"].to_pem(private=True), None)
    pem = raw.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    assert Key.from_pem(pem, alg="ES256", password=b"pw").kid == generated["ES256"].kid
    with pytest.raises(InvalidKey):
        Key.from_pem(pem, alg="ES256", password=b"wrong")
    with pytest.raises(InvalidKey):
        Key.from_pem(pem, alg="ES256")


def test_rfc7638_thumbprint_example() -> None:
    """RFC 7638 section 3.1: the RFC 7517 A.1 RSA key has this thumbprint."""
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_B"
        "JECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FD"
        "W2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4"
        "vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    expected = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    key = Key.from_jwk({"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256"})
    assert key.thumbprint() == expected
    assert key.kid == expected  # kid defaults to the thumbprint
    # An explicit kid is kept, and does not change the thumbprint.
    named = Key.from_jwk({"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"})
    assert named.kid == "2011-04-29" and named.thumbprint() == expected
    # Bound to another algorithm, the thumbprint (of the key, not the alg) is the same.
    assert Key.from_jwk({"kty": "RSA", "n": n, "e": "AQAB"}, alg="PS256").thumbprint() == expected


def test_rsa_below_2048_bits_refused() -> None:
    with pytest.raises(InvalidKey):
        Key.generate("RS256", size=1024)
    with pytest.raises(InvalidKey):
        Key.generate("PS256", size=2047)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = small.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(InvalidKey):
        Key.from_pem(pem, alg="RS256")
    public_pem = small.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(InvalidKey):
        Key.from_pem(public_pem, alg="RS256")
    numbers = small.public_key().public_numbers()
    jwk = {
        "kty": "RSA",
        "alg": "RS256",
        "n": b64e(numbers.n.to_bytes(128, "big")),
        "e": b64e(numbers.e.to_bytes(3, "big")),
    }
    with pytest.raises(InvalidKey):
        Key.from_jwk(jwk)
    big = Key.generate("RS256", size=3072)
    assert jws.verify(jws.sign(b"x", big), big.public()) == b"x"


def test_keyset_selects_by_kid_and_alg(generated: dict[str, Key]) -> None:
    a = Key.generate("ES256", kid="a")
    b = Key.generate("ES256", kid="b")
    r = Key.from_pem(generated["RS256"].to_pem(private=True), alg="RS256", kid="r")
    keys = KeySet([a, b, r])
    assert len(keys) == 3 and list(keys) == [a, b, r]
    assert keys.find("a", "ES256") is a
    assert keys.find("b", "ES256") is b
    assert keys.find("r", "RS256") is r
    for kid, alg in (("a", "ES384"), ("a", "RS256"), ("c", "ES256"), ("r", "PS256")):
        with pytest.raises(KeyNotFound):
            keys.find(kid, alg)
    with pytest.raises(KeyNotFound):
        keys.find(None, "ES256")  # two ES256 keys and no kid: ambiguous
    assert jws.verify(jws.sign(b"1", b), keys) == b"1"
    # A token signed by "a" but claiming kid "b" is checked with b's key, and fails.
    token = jws.sign(b"1", a, headers={"kid": "b"})
    with pytest.raises(BadSignature):
        jws.verify(token, keys)

    jwks = keys.to_jwks()
    assert [k["kid"] for k in jwks["keys"]] == ["a", "b", "r"]
    assert all("d" not in k for k in jwks["keys"])
    loaded = KeySet.from_jwks(json.dumps(jwks))
    assert jws.verify(jws.sign(b"2", a), loaded) == b"2"
    assert not any(k.is_private for k in loaded)


def test_keyset_needs_exactly_one_match() -> None:
    one = Key.from_secret(b"1" * 32, kid="same")
    two = Key.from_secret(b"2" * 32, kid="same")
    keys = KeySet([one, two])
    token = jws.sign(b"x", one)
    # Two matches have their own error (and code); it is still a KeyNotFound for old callers.
    with pytest.raises(AmbiguousKey, match="2 keys match kid 'same'") as two_match:
        keys.find("same", "HS256")
    assert two_match.value.code == "ERR_JWKS_MULTIPLE_MATCHING_KEYS"
    assert isinstance(two_match.value, KeyNotFound)
    with pytest.raises(AmbiguousKey):
        jws.verify(token, keys)
    with pytest.raises(KeyNotFound, match="the set has kids 'same'") as none_match:
        keys.find("other", "HS256")
    assert not isinstance(none_match.value, AmbiguousKey)
    assert none_match.value.code == "ERR_JWKS_NO_MATCHING_KEY"
    # The same for a JWKS with a duplicate kid (Wycheproof jws_duplicate_kid).
    dup = {
        "keys": [
            {"kty": "oct", "alg": "HS256", "kid": "k", "k": b64e(b"1" * 32)},
            {"kty": "oct", "alg": "HS256", "kid": "k", "k": b64e(b"2" * 32)},
        ]
    }
    with pytest.raises(AmbiguousKey):
        jws.verify(jws.sign(b"x", Key.from_secret(b"1" * 32, kid="k")), KeySet.from_jwks(dup))


def test_bad_signature_names_the_tokens_kid_beside_the_keys() -> None:
    signer = Key.generate("ES256", kid="signing-2025")
    verifier = Key.generate("ES256", kid="signing-2026").public()
    token = jws.sign(b"x", signer)
    with pytest.raises(BadSignature, match=r"'signing-2026'.*the token names kid 'signing-2025'"):
        jws.verify(token, verifier)
    same_kid = Key.generate("ES256", kid="signing-2025").public()
    with pytest.raises(BadSignature) as failure:
        jws.verify(token, same_kid)
    assert "the token names" not in str(failure.value)


def test_keyset_refuses_mixed_key_types_for_one_kid(generated: dict[str, Key]) -> None:
    ec_key = Key.generate("ES256", kid="shared")
    rsa_key = Key.from_pem(generated["RS256"].to_pem(), alg="RS256", kid="shared")
    hmac_key = Key.from_secret(b"h" * 32, kid="shared")
    for mix in ([ec_key, rsa_key], [hmac_key, ec_key], [rsa_key, hmac_key]):
        with pytest.raises(InvalidKey):
            KeySet(mix)
    with pytest.raises(InvalidKey):
        KeySet.from_jwks({"keys": [ec_key.to_jwk(), hmac_key.to_jwk(private=True)]})
    # Same kid, same type, different algs (RS256 and PS256 on one RSA key) is allowed: the
    # token's alg then picks exactly one of them.
    ps = Key.from_pem(generated["RS256"].to_pem(), alg="PS256", kid="shared")
    keys = KeySet([rsa_key, ps])
    assert keys.find("shared", "PS256") is ps


def test_enc_keys_and_key_ops_refused_for_verification(generated: dict[str, Key]) -> None:
    key = generated["ES256"]
    token = jws.sign(b"x", key)
    jwk = key.public().to_jwk()
    for bad in (
        dict(jwk, use="enc"),
        dict(jwk, key_ops=["encrypt"]),
        dict(jwk, key_ops=["sign"]),
        dict(jwk, key_ops=[]),
        {k: v for k, v in dict(jwk, key_ops=["wrapKey", "deriveKey"]).items() if k != "use"},
    ):
        try:
            loaded = Key.from_jwk(bad)
        except InvalidKey:
            continue  # refused at import: fine
        with pytest.raises((InvalidToken, KeyUsageError)):
            jws.verify(token, loaded)
        with pytest.raises((InvalidToken, KeyUsageError)):
            loaded.verify(b"x", b"y" * 64)
        with pytest.raises(InvalidToken):
            jws.verify(token, KeySet([loaded]))
    # A JWKS that also publishes encryption keys still serves its signature keys.
    jwks = {"keys": [dict(jwk, use="enc", kid="enc-key"), jwk]}
    assert jws.verify(token, KeySet.from_jwks(jwks)) == b"x"
    # key_ops with verify is fine.
    assert jws.verify(token, Key.from_jwk(dict(jwk, key_ops=["verify"]))) == b"x"


def test_hmac_key_ops_sign_only_cannot_verify() -> None:
    secret = b64e(b"z" * 32)
    signer = Key.from_jwk({"kty": "oct", "k": secret, "alg": "HS256", "key_ops": ["sign"]})
    token = jws.sign(b"x", signer)
    with pytest.raises((InvalidToken, KeyUsageError)):
        jws.verify(token, signer)


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA", "HS256"])
def test_jwk_alg_conflicts(generated: dict[str, Key], alg: str) -> None:
    key = generated[alg]
    jwk = key.to_jwk(private=key.kty == "oct")
    other = "HS384" if alg == "HS256" else "PS256" if alg == "RS256" else "ES384"
    with pytest.raises(InvalidKey):
        Key.from_jwk(jwk, alg=other)  # the JWK says alg X, the caller asks for Y
    stripped = {k: v for k, v in jwk.items() if k != "alg"}
    if key.kty in ("RSA", "oct"):
        with pytest.raises(InvalidKey):
            Key.from_jwk(stripped)  # no alg anywhere: refuse to guess
    else:
        assert Key.from_jwk(stripped).alg == alg


def test_bad_jwk_material() -> None:
    ec = Key.generate("ES256").to_jwk(private=True)
    for bad in (
        dict(ec, x=ec["y"]),  # not on the curve
        dict(ec, d=Key.generate("ES256").to_jwk(private=True)["d"]),  # d for another point
        dict(ec, crv="P-384"),
        dict(ec, x=ec["x"] + "A"),
        dict(ec, x="AA" + ec["x"]),
        dict(ec, x=ec["x"] + "="),
        dict(ec, kty="RSA"),
        dict(ec, kid=7),
    ):
        with pytest.raises(InvalidKey):
            Key.from_jwk(bad)
    ed = Key.generate("EdDSA").to_jwk(private=True)
    for bad in (dict(ed, crv="X25519"), dict(ed, x=ed["x"][:-2]), dict(ed, d=ed["x"])):
        with pytest.raises(InvalidKey):
            Key.from_jwk(bad)
    with pytest.raises(InvalidKey):
        Key.from_jwk({"kty": "RSA", "alg": "RS256", "n": "AQAB", "e": "AQ"})


def test_errors_have_stable_codes() -> None:
    from gatepass import errors

    codes = {
        cls.code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, GatepassError)
    }
    assert "ERR_JWT_EXPIRED" in codes
    assert "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" in codes
