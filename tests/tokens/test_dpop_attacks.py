"""DPoP proof attacks (RFC 9449 4.3 and 11): each test performs the attack and sees it fail.

Proofs are forged byte by byte with genuinely valid signatures (``dpophelp.forge_proof``), so the
property under test is the only thing wrong with them. Errors are checked by class: every proof
failure is an ``InvalidDPoPProof``; the subclasses say what differed (request, time, nonce).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from dpophelp import NOW, URL, forge_proof, public_jwk, verifier_at
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokhelp import b64e, compact, forge

from gatepass import Key, jwt
from gatepass.errors import (
    DPoPProofOutOfWindow,
    DPoPRequestMismatch,
    GatepassError,
    InvalidDPoPProof,
    MalformedToken,
)
from gatepass.tokens import dpop

ALGS = ("ES256", "ES384", "ES512", "PS256", "RS256", "EdDSA", "Ed25519")


@pytest.fixture(scope="module")
def keys() -> dict[str, Key]:
    return {alg: Key.generate(alg) for alg in (*ALGS, "PS384", "RS512")}


def _check(proof: str, **request: Any) -> dpop.DPoPProof:
    request.setdefault("method", "GET")
    request.setdefault("url", URL)
    return verifier_at(**request.pop("options", {})).verify(proof, **request)


# --- the honest path --------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
def test_created_proofs_verify_and_carry_the_key_thumbprint(keys: dict[str, Key], alg: str) -> None:
    key = keys[alg]
    proof = dpop.create_proof(key, method="GET", url=URL, access_token="at-1", nonce="n-1", now=NOW)
    view = jwt.inspect(proof)
    assert view.header == {"typ": "dpop+jwt", "alg": alg, "jwk": public_jwk(key)}
    assert set(view.claims) == {"jti", "htm", "htu", "iat", "ath", "nonce"}
    assert len(view.claims["jti"]) == 22  # 128 random bits
    result = _check(proof, access_token="at-1", nonce="n-1")
    assert (result.jkt, result.iat, result.alg) == (key.thumbprint(), NOW, alg)
    assert result.jti == view.claims["jti"]


# --- a proof for another request --------------------------------------------------------------


def test_proof_for_another_method(keys: dict[str, Key]) -> None:
    for htm, method in (("POST", "GET"), ("get", "GET"), ("GET", "HEAD"), ("GET ", "GET")):
        with pytest.raises(DPoPRequestMismatch) as caught:
            _check(forge_proof(keys["ES256"], claims={"htm": htm}), method=method)
        assert caught.value.claim == "htm"


@pytest.mark.parametrize(
    ("htu", "url"),
    [
        ("https://api.example/orders", "https://api.example/orders/1"),
        ("https://api.example/orders", "https://api.example/orders/"),
        ("https://api.example/orders", "https://api.example/Orders"),
        ("https://api.example/orders", "http://api.example/orders"),
        ("https://api.example/orders", "https://api.example:8443/orders"),
        ("https://api.example/orders", "https://api.example.evil/orders"),
        ("https://api.example/orders", "https://evil.example/orders"),
        ("https://api.example/a%2Fb", "https://api.example/a/b"),  # an encoded / is not a /
        ("https://api.example/orders", "https://api.example/orders%3F"),
    ],
)
def test_proof_for_another_url(keys: dict[str, Key], htu: str, url: str) -> None:
    for proof_url, request_url in ((htu, url), (url, htu)):
        proof = forge_proof(keys["ES256"], claims={"htu": proof_url})
        with pytest.raises(DPoPRequestMismatch) as caught:
            _check(proof, url=request_url)
        assert caught.value.claim == "htu"


@pytest.mark.parametrize(
    ("htu", "url"),
    [
        ("https://api.example/orders", "HTTPS://API.EXAMPLE/orders"),
        ("https://api.example:443/orders", "https://api.example/orders"),
        ("https://api.example:/orders", "https://api.example/orders"),
        ("http://api.example:80/orders", "http://api.example/orders"),
        ("https://api.example:8443/orders", "https://api.example:08443/orders"),
        ("https://api.example", "https://api.example/"),
        ("https://api.example/%7Eme/a%2fb", "https://api.example/~me/a%2Fb"),
        ("https://api.example/orders", "https://api.example/orders?page=2#top"),
        ("https://api.example/orders?x=1#f", "https://api.example/orders?y=2"),
        ("https://[::1]:8443/orders", "HTTPS://[::1]:8443/orders?q"),
        ("https://[2001:DB8::1]/orders", "https://[2001:db8::1]:443/orders"),
    ],
)
def test_equivalent_urls_match(keys: dict[str, Key], htu: str, url: str) -> None:
    for proof_url, request_url in ((htu, url), (url, htu)):
        _check(forge_proof(keys["ES256"], claims={"htu": proof_url}), url=request_url)


def test_dot_segments_never_match(keys: dict[str, Key]) -> None:
    """A proof for /a must not pass at /a/../b (a router may serve /a/{path} there), nor the
    other way round, in any spelling: such URLs are refused, never resolved."""
    key = keys["ES256"]
    with pytest.raises(DPoPRequestMismatch):
        _check(
            forge_proof(key, claims={"htu": "https://api.example/a"}),
            url="https://api.example/a/../b",
        )
    for htu in (
        "https://api.example/a/../b",
        "https://api.example/a/./b",
        "https://api.example/a/%2e%2E/b",
        "https://api.example/a/.%2E/b",
        "https://api.example/a/%2e/b",
        "https://api.example/..",
        "https://api.example/b/.",
    ):
        with pytest.raises(InvalidDPoPProof, match="dot segments"):
            _check(forge_proof(key, claims={"htu": htu}), url="https://api.example/b")
        with pytest.raises(DPoPRequestMismatch, match="dot segments"):
            _check(forge_proof(key, claims={"htu": "https://api.example/b"}), url=htu)
    # Dots inside a segment are ordinary characters.
    _check(
        forge_proof(key, claims={"htu": "https://api.example/a..b/.well-known"}),
        url="https://api.example/a..b/.well-known",
    )


def test_query_and_fragment_tricks(keys: dict[str, Key]) -> None:
    key = keys["ES256"]
    tricks = [
        ("https://api.example/b#/../a", "https://api.example/a"),
        ("https://api.example/b?/../a", "https://api.example/a"),
        ("https://api.example/b?x=#/a", "https://api.example/a"),
        ("https://api.example/a", "https://api.example/b?https://api.example/a"),
        ("https://api.example/a", "https://api.example/b#https://api.example/a"),
    ]
    for htu, url in tricks:
        with pytest.raises(DPoPRequestMismatch):
            _check(forge_proof(key, claims={"htu": htu}), url=url)


@pytest.mark.parametrize(
    "htu",
    [
        "https://api.example@evil.example/orders",  # user info: the host is evil.example
        "https://user:pw@api.example/orders",
        "https://api.example\\@evil.example/orders",  # WHATWG parsers read \ as /
        "https://api.example/ord ers",
        "https://api.example/ord\tors",
        "https://api.example/orders\n",
        "https://api.exämple/orders",
        "https://api.example/%zzorders",
        "https://api.example/orders%4",
        "https://%61pi.example/orders",
        "https://[::1%25eth0]/orders",
        "https://api.example:65536/orders",
        "https://api.example:0/orders",
        "https://api.example:123456/orders",
        "https:///orders",
        "//api.example/orders",
        "/orders",
        "ftp://api.example/orders",
        "javascript://api.example/%0Aalert(1)",
        "https://api.example/a[1]",
        "",
    ],
)
def test_htu_that_cannot_be_compared_safely_is_refused(keys: dict[str, Key], htu: str) -> None:
    with pytest.raises(InvalidDPoPProof) as caught:
        _check(forge_proof(keys["ES256"], claims={"htu": htu}))
    assert type(caught.value) is InvalidDPoPProof


# --- time -------------------------------------------------------------------------------------


def test_stale_and_future_proofs(keys: dict[str, Key]) -> None:
    key = keys["ES256"]
    cases = [  # (iat, accepted at NOW with max_age=60, leeway=5)
        (NOW, True),
        (NOW - 59.999, True),
        (NOW - 60, False),
        (NOW - 3600, False),
        (NOW + 5, True),
        (NOW + 5.001, False),
        (NOW + 86400 * 365, False),
        (0, False),
        (-1, False),
    ]
    for iat, accepted in cases:
        proof = forge_proof(key, claims={"iat": iat})
        if accepted:
            assert _check(proof).iat == iat
        else:
            with pytest.raises(DPoPProofOutOfWindow):
                _check(proof)
    # The window is configurable, both ways.
    _check(forge_proof(key, claims={"iat": NOW - 250}), options={"max_age": 300})
    with pytest.raises(DPoPProofOutOfWindow):
        _check(forge_proof(key, claims={"iat": NOW - 11}), options={"max_age": 10})
    with pytest.raises(DPoPProofOutOfWindow):
        _check(forge_proof(key, claims={"iat": NOW + 1}), options={"leeway": 0})


def test_iat_must_be_a_number(keys: dict[str, Key]) -> None:
    for iat in (str(NOW), True, None, [NOW], {"t": NOW}, 10**400, -(10**400)):
        with pytest.raises(InvalidDPoPProof, match="iat"):
            _check(forge_proof(keys["ES256"], claims={"iat": iat}))


# --- the access token hash --------------------------------------------------------------------


def test_wrong_or_missing_ath(keys: dict[str, Key]) -> None:
    key = keys["ES256"]
    bound_to_a = forge_proof(key, claims={"ath": dpop.access_token_hash("token-a")})
    assert _check(bound_to_a, access_token="token-a").jkt == key.thumbprint()
    for token in ("token-b", "token-a ", ""):
        with pytest.raises(DPoPRequestMismatch) as caught:
            _check(bound_to_a, access_token=token)
        assert caught.value.claim == "ath"
    for ath in (None, 42, dpop.access_token_hash("token-a").rstrip("A") + "B"):
        proof = forge_proof(key, claims={"ath": ath})
        with pytest.raises(DPoPRequestMismatch):
            _check(proof, access_token="token-a")
    # Without an access token the ath is not looked at (a token endpoint request).
    _check(bound_to_a)
    with pytest.raises(MalformedToken):
        _check(bound_to_a, access_token="tökén")


# --- whose key, which algorithm -----------------------------------------------------------------


def test_proof_signed_by_another_key_than_its_jwk(keys: dict[str, Key]) -> None:
    victim, thief = keys["ES256"], Key.generate("ES256")
    proof = forge_proof(thief, jwk_of=victim)
    with pytest.raises(InvalidDPoPProof, match="signature") as caught:
        _check(proof)
    assert type(caught.value) is InvalidDPoPProof
    # Swapping the victim's header onto the thief's proof fails the same way.
    genuine = forge_proof(victim).split(".")
    mine = forge_proof(thief).split(".")
    with pytest.raises(InvalidDPoPProof, match="signature"):
        _check(".".join((genuine[0], mine[1], mine[2])))


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", "", "HS256", "HS384", "HS512"])
def test_alg_none_and_hmac_proofs(keys: dict[str, Key], alg: str) -> None:
    ec = keys["ES256"]
    secret = Key.from_secret(b"s" * 64, alg="HS512")
    payload = {"jti": "j", "htm": "GET", "htu": URL, "iat": NOW}
    for jwk in (public_jwk(ec), {"kty": "oct", "k": b64e(b"s" * 64)}, {"kty": "oct"}):
        header = {"typ": "dpop+jwt", "alg": alg, "jwk": jwk}
        unsigned = compact(header, payload) + "."
        hmac_signed = (
            compact(header, payload) + "." + b64e(secret.sign(compact(header, payload).encode()))
        )
        for proof in (unsigned, hmac_signed):
            with pytest.raises(InvalidDPoPProof) as caught:
                _check(proof)
            assert type(caught.value) is InvalidDPoPProof


def test_alg_outside_the_allow_list(keys: dict[str, Key]) -> None:
    proof = forge_proof(keys["PS256"])
    _check(proof)
    with pytest.raises(InvalidDPoPProof, match="not accepted"):
        _check(proof, options={"algorithms": ("ES256", "EdDSA")})
    # A header naming an allowed alg while the key is of another type does not get around it.
    with pytest.raises(InvalidDPoPProof):
        _check(forge_proof(keys["PS256"], header={"alg": "ES256"}), options={"algorithms": "ES256"})


@pytest.mark.parametrize("alg", ["ES256", "PS256", "EdDSA"])
def test_private_key_in_the_jwk(keys: dict[str, Key], alg: str) -> None:
    key = keys[alg]
    private = {m: v for m, v in key.to_jwk(private=True).items() if m not in ("alg", "kid", "use")}
    with pytest.raises(InvalidDPoPProof, match="private"):
        _check(forge_proof(key, header={"jwk": private}))
    for member in ("d", "p", "q", "dp", "dq", "qi", "oth", "k"):
        with pytest.raises(InvalidDPoPProof, match="private"):
            _check(forge_proof(key, header={"jwk": {**public_jwk(key), member: "AAAA"}}))


def test_key_type_must_fit_alg(keys: dict[str, Key]) -> None:
    p384 = public_jwk(keys["ES384"])
    cases = [
        (keys["ES256"], {"alg": "ES256", "jwk": public_jwk(keys["EdDSA"])}),
        (keys["ES256"], {"alg": "ES256", "jwk": p384}),
        (keys["ES384"], {"alg": "ES256", "jwk": p384}),
        (keys["RS256"], {"alg": "RS256", "jwk": public_jwk(keys["ES256"])}),
        (keys["EdDSA"], {"alg": "EdDSA", "jwk": {**public_jwk(keys["EdDSA"]), "crv": "Ed448"}}),
        (keys["PS256"], {"alg": "PS256", "jwk": {**public_jwk(keys["PS256"]), "alg": "RS256"}}),
        (keys["ES256"], {"alg": "ES256", "jwk": {**public_jwk(keys["ES256"]), "use": "enc"}}),
        (
            keys["ES256"],
            {"alg": "ES256", "jwk": {**public_jwk(keys["ES256"]), "key_ops": ["sign"]}},
        ),
        (keys["ES256"], {"alg": "ES256", "jwk": {**public_jwk(keys["ES256"]), "x": "AAAA"}}),
    ]
    for signer, header in cases:
        with pytest.raises(InvalidDPoPProof, match="jwk"):
            _check(forge_proof(signer, header=header))


def test_weak_rsa_keys_are_refused() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    numbers = weak.public_key().public_numbers()
    jwk = {"kty": "RSA", "n": b64e(numbers.n.to_bytes(128, "big")), "e": "AQAB"}
    header = {"typ": "dpop+jwt", "alg": "RS256", "jwk": jwk}
    with pytest.raises(InvalidDPoPProof, match="2048"):
        _check(compact(header, {"jti": "j", "htm": "GET", "htu": URL, "iat": NOW}) + ".AAAA")


def test_key_location_headers_are_refused_and_kid_is_never_looked_up(keys: dict[str, Key]) -> None:
    key = keys["ES256"]
    for name, value in (
        ("jku", "https://evil.example/jwks.json"),
        ("x5u", "https://evil.example/cert.pem"),
        ("x5c", ["MIIB"]),
        ("x5t", "AAAA"),
        ("x5t#S256", "AAAA"),
    ):
        with pytest.raises(InvalidDPoPProof, match=name):
            _check(forge_proof(key, header={name: value}))
    # A kid naming some server key changes nothing: the proof's key is its jwk.
    server_key = Key.generate("ES256")
    result = _check(forge_proof(key, header={"kid": server_key.kid}))
    assert result.jkt == key.thumbprint() != server_key.thumbprint()


def test_crit_is_refused(keys: dict[str, Key]) -> None:
    for crit in (["exp"], ["htm"], [], "htm"):
        with pytest.raises(InvalidDPoPProof, match="crit"):
            _check(forge_proof(keys["ES256"], header={"crit": crit, "htm": "x"}))


# --- type, shape, size ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typ", ["JWT", "at+jwt", "application/dpop+jwt", "DPOP+JWT", "dpop", "", 7]
)
def test_wrong_typ(keys: dict[str, Key], typ: object) -> None:
    with pytest.raises(InvalidDPoPProof):
        _check(forge_proof(keys["ES256"], header={"typ": typ}))
    with pytest.raises(InvalidDPoPProof, match="typ"):
        _check(forge_proof(keys["ES256"], drop=("typ",)))


def test_other_signed_jwts_never_pass_as_proofs(keys: dict[str, Key]) -> None:
    """RFC 9449 11.5: an access token (or any JWT) with the same claims is not a proof."""
    key = keys["ES256"]
    claims = {"jti": "j", "htm": "GET", "htu": URL, "iat": NOW, "exp": NOW + 60}
    for typ in ("at+jwt", "JWT", None):
        token = jwt.encode(claims, key, typ=typ, headers={"jwk": public_jwk(key)}, now=NOW)
        with pytest.raises(InvalidDPoPProof, match="typ"):
            _check(token)


def test_missing_parts(keys: dict[str, Key]) -> None:
    key = keys["ES256"]
    for name in ("jti", "htm", "htu", "iat", "alg", "jwk"):
        with pytest.raises(InvalidDPoPProof, match=name):
            _check(forge_proof(key, drop=(name,)))


def test_claim_types_and_jti_bounds(keys: dict[str, Key]) -> None:
    key = keys["ES256"]
    for claims in ({"jti": ""}, {"jti": 7}, {"jti": ["a"]}, {"htm": ["GET"]}, {"htu": {"u": URL}}):
        with pytest.raises(InvalidDPoPProof):
            _check(forge_proof(key, claims=claims))
    _check(forge_proof(key, claims={"jti": "j" * 128}))
    with pytest.raises(InvalidDPoPProof, match="jti"):
        _check(forge_proof(key, claims={"jti": "j" * 129}))
    with pytest.raises(InvalidDPoPProof, match="jti"):
        _check(forge_proof(key, claims={"jti": "j" * 33}), options={"max_jti_length": 32})
    # Any text is a fine jti, even one no UTF-8 encoder accepts (a lone surrogate).
    _check(forge_proof(key, claims={"jti": "\ud800 é 🔑"}))


def test_duplicate_json_members(keys: dict[str, Key]) -> None:
    key = keys["ES256"]
    jwk = json.dumps(public_jwk(key), separators=(",", ":"))
    header = f'{{"typ":"dpop+jwt","alg":"ES256","jwk":{jwk}}}'
    claims = f'{{"jti":"j","htm":"GET","htu":"{URL}","iat":{NOW}}}'
    evil = "https://evil.example/x"
    for bad_header, bad_claims in (
        (header.replace('"typ"', '"typ":"JWT","typ"'), claims),
        (header.replace('"alg"', '"alg":"HS256","alg"'), claims),
        (header.replace('"kty"', '"x":"AAAA","kty"'), claims),
        (header, claims.replace('"htu"', f'"htu":"{evil}","htu"')),
        (header, claims.replace('"iat"', '"iat":1,"iat"')),
    ):
        with pytest.raises(InvalidDPoPProof, match="duplicate"):
            _check(forge(key, bad_header, bad_claims))
    _check(forge(key, header, claims))  # the same bytes without duplicates pass


def test_oversized_proofs_are_refused_before_decoding(keys: dict[str, Key]) -> None:
    junk = "eyJ" + "A" * (10 * 1024 * 1024) + ".x.y"
    started = time.perf_counter()
    with pytest.raises(InvalidDPoPProof, match="limit is 4096") as caught:
        _check(junk)
    assert len(str(caught.value)) < 120
    # (No timing asserted: the message proves the size check came first; this is for the log.)
    print(f"10 MB junk proof refused in {(time.perf_counter() - started) * 1e6:.0f} µs")
    big = forge_proof(keys["ES256"], claims={"pad": "p" * 4000})
    with pytest.raises(InvalidDPoPProof, match="limit"):
        _check(big)
    _check(big, options={"max_size": 8192})
    with pytest.raises(InvalidDPoPProof, match="limit is 600"):
        _check(forge_proof(keys["RS256"]), options={"max_size": 600})


def test_signature_is_checked_before_any_claim(keys: dict[str, Key]) -> None:
    """A forged proof that is also stale, for another URL, or replayed says "bad proof"."""
    key = keys["ES256"]
    verifier = verifier_at()
    for claims in ({"iat": 0}, {"htu": "https://evil.example/"}, {"htm": "POST"}, {"jti": 5}):
        forged = forge_proof(key, claims=claims)[:-4] + "AAAA"
        with pytest.raises(InvalidDPoPProof) as caught:
            verifier.verify(forged, method="GET", url=URL)
        assert type(caught.value) is InvalidDPoPProof, claims


def test_error_messages_quote_only_a_short_prefix(keys: dict[str, Key]) -> None:
    key = keys["ES256"]
    long = "https://api.example/" + "x" * 5000
    for proof in (
        forge_proof(key, claims={"htu": long}),
        forge_proof(key, claims={"htm": "X" * 3000}),
        forge_proof(key, header={"typ": "t" * 3000}),
        forge_proof(key, header={"alg": "a" * 3000}),
    ):
        with pytest.raises(InvalidDPoPProof) as caught:
            _check(proof, options={"max_size": 100_000})
        assert len(str(caught.value)) < 200


# --- properties -------------------------------------------------------------------------------

EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEY = Key.generate("ES256")
VALID = dpop.create_proof(KEY, method="GET", url=URL, now=NOW)


@EXAMPLES
@given(st.integers(min_value=0, max_value=10_000), st.sampled_from("AQgw-_.=+/ x\x00é"))
def test_any_single_change_of_a_valid_proof_fails(index: int, char: str) -> None:
    i = index % len(VALID)
    for changed in (VALID[:i] + char + VALID[i + 1 :], VALID[:i] + VALID[i + 1 :], VALID[:i]):
        if changed == VALID:
            continue
        with pytest.raises(InvalidDPoPProof):
            verifier_at().verify(changed, method="GET", url=URL)


@EXAMPLES
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_junk_raises_only_invalid_dpop_proof(junk: str | bytes) -> None:
    with pytest.raises(InvalidDPoPProof):
        verifier_at().verify(junk, method="GET", url=URL)


@EXAMPLES
@given(
    st.dictionaries(
        st.sampled_from(["jti", "htm", "htu", "iat", "ath", "nonce", "cnf"]),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
            lambda inner: (
                st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3)
            ),
            max_leaves=8,
        ),
    )
)
def test_arbitrary_signed_claims_raise_only_gatepass_errors(claims: dict[str, Any]) -> None:
    proof = forge_proof(KEY, claims=claims)
    try:
        verifier_at().verify(proof, method="GET", url=URL, access_token="t", nonce="n")
    except GatepassError as exc:
        assert isinstance(exc, InvalidDPoPProof)
