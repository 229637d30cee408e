"""The tools page in headless Chromium: decode, verify and encode, attacks, and no network.

Reference tokens come from PyJWT or are built by hand (tools_keys.py); tokens signed in the page
are checked with PyJWT here and with gatepass in test_tools_interop.py. The ``tools`` fixture
fails any test during which the page requested anything but its own files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest
from tools_browser import STATIC, foreign_requests, open_page, read_verify
from tools_keys import (
    HMAC_SECRET,
    b64url,
    claims,
    ec_pair,
    ed_pair,
    hs256_by_hand,
    pyjwt_token,
    rsa_pair,
    tamper_payload,
    unb64url,
)

pytestmark = pytest.mark.browser

ASYMMETRIC = {"RS256": rsa_pair, "ES256": ec_pair}


def decoded(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        """() => ({
            error: document.getElementById('decode-error').classList.contains('hidden')
                ? null : document.getElementById('decode-error').innerText,
            unverified: document.getElementById('decode-unverified').innerText,
            segments: [...document.querySelectorAll('#decode-colored span')]
                .map(s => [s.className, s.textContent]),
            header: document.getElementById('decode-header').innerText,
            claims: Object.fromEntries([...document.querySelectorAll('#decode-claims tbody tr')]
                .map(tr => [tr.dataset.claim, tr.cells[2] ? tr.cells[2].innerText : ''])),
            warnings: [...document.querySelectorAll('#decode-warnings li')]
                .map(li => [li.dataset.severity, li.innerText]),
        })"""
    )
    return result


def warning_text(result: dict[str, Any]) -> str:
    return "\n".join(text for _, text in result["warnings"])


# ---------------------------------------------------------------- decode


@pytest.mark.parametrize("alg", ["HS256", "RS256", "ES256"])
def test_decode_shows_segments_claims_and_not_verified(tools: Any, alg: str) -> None:
    token = pyjwt_token(alg, claims(lifetime=12 * 60 + 20, email="ann@example.com"))
    tools.decode(token)
    result = decoded(tools.page)
    assert result["error"] is None
    assert "Not verified" in result["unverified"]
    head, payload, sig = token.split(".")
    assert result["segments"] == [
        ["seg-header", head],
        ["seg-dot", "."],
        ["seg-payload", payload],
        ["seg-dot", "."],
        ["seg-signature", sig],
    ]
    assert json.loads(result["header"])["alg"] == alg
    assert "expires in 12 min" in result["claims"]["exp"]
    assert "ago" in result["claims"]["iat"]
    assert "personal-data: personal data in claims: email (an e-mail address)" in warning_text(
        result
    )


def test_decode_warnings_without_a_key(tools: Any) -> None:
    token = hs256_by_hand(
        {"alg": "HS256", "kid": "../../../../dev/null", "jku": "https://evil.example/jwks.json"},
        {"sub": "1", "password": "hunter2", "phone_number": "+1 555 0100 200", "iat": 1},
        HMAC_SECRET.encode(),
    )
    tools.decode(token + "x" * 0)
    result = decoded(tools.page)
    text = warning_text(result)
    assert "exp-missing: no exp claim: the token never expires" in text
    assert 'header-jku: the header names a key URL: jku = "https://evil.example/jwks.json"' in text
    assert 'kid-injection: kid "../../../../dev/null" contains a file path' in text
    assert "credential-in-claims: claims that look like credentials: password" in text
    assert "personal-data: personal data in claims: phone_number (a phone number)" in text
    assert "Fix: Select keys only by exact match in a fixed key set" in text
    severities = [sev for sev, _ in result["warnings"]]
    assert severities == sorted(
        severities, key=["critical", "high", "medium", "low", "info"].index
    ), "warnings are ordered by severity"

    sql = hs256_by_hand(
        {"alg": "HS256", "kid": "x' UNION SELECT 'secret' --"},
        claims(lifetime=3 * 3600),
        HMAC_SECRET.encode(),
    )
    tools.decode(sql + "." * 0)
    text = warning_text(decoded(tools.page))
    assert "SQL syntax (SQL injection)" in text
    assert "long-lifetime: lifetime (exp - iat) of 3 h, over 15 min for an access token" in text


def test_decode_warnings_are_ordered_by_severity_even_for_a_broken_payload(tools: Any) -> None:
    """A payload that is not a JSON object used to end the review early, before the sort."""
    head = b64url(b'{"alg":"HS256","kid":"../x"}')
    tools.decode(f"{head}.{b64url(b'[1, 2]')}.{b64url(b'x' * 32)}")
    severities = [sev for sev, _ in decoded(tools.page)["warnings"]]
    assert set(severities) >= {"high", "low"}
    assert severities == sorted(severities, key=["critical", "high", "medium", "low", "info"].index)


def test_decode_alg_none_and_large_token(tools: Any) -> None:
    head = b64url(b'{"alg":"none","typ":"JWT"}')
    body = b64url(json.dumps({"sub": "1", "exp": 2_000_000_000, "blob": "x" * 1200}).encode())
    tools.decode(f"{head}.{body}.")
    result = decoded(tools.page)
    assert result["warnings"][0][0] == "critical"
    assert 'alg-none: alg is "none": the token is unsigned' in result["warnings"][0][1]
    assert "size: the token is" in warning_text(result)


def test_decode_rejects_non_strict_input_with_a_clear_message(tools: Any) -> None:
    token = pyjwt_token("HS256", claims())
    head, rest = token.split(".", 1)
    cases = [
        (head + "==." + rest, 'padding "="'),
        (head + ".+" + rest, "standard base64"),
        (head + "/." + rest, "standard base64"),
        (head + ". " + rest, "whitespace"),
        (head + "\u00e9." + rest, "invalid character"),
        (token + ".extra", "exactly 3 segments"),
        ("a.b.c.d.e", "JWE"),
        (b64url(b"[1]") + "." + rest, "not an object"),
        (b64url(b"\xff\xfe") + "." + rest, "not valid UTF-8"),
    ]
    for bad, message in cases:
        tools.decode(bad)
        error = decoded(tools.page)["error"]
        assert error is not None, bad
        assert message in error, (bad, error)


def test_decode_rejects_non_canonical_trailing_bits(tools: Any) -> None:
    token = pyjwt_token("HS256", claims())
    head, payload, sig = token.split(".")
    # 32-byte HS256 signature: 43 characters, the last one carries 2 unused bits.
    last = sig[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twisted = alphabet[alphabet.index(last) | 1]
    assert twisted != last
    tools.decode(f"{head}.{payload}.{sig[:-1]}{twisted}")
    assert "non-zero unused bits" in (decoded(tools.page)["error"] or "")


# ---------------------------------------------------------------- verify


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_verify_asymmetric_with_pem_and_jwk(tools: Any, alg: str) -> None:
    pair = ASYMMETRIC[alg]()
    token = pyjwt_token(alg, claims())
    result = tools.verify(token, pair.public_pem, alg=alg)
    assert result["verdict"] == "valid", result
    assert result["checks"]["signature"][0] == "pass"
    assert result["checks"]["exp"][0] == "pass"
    assert result["claims"]["sub"] == "user-42"

    jwk = json.loads(
        pyjwt.algorithms.get_default_algorithms()[alg].to_jwk(pair.private_key.public_key())
    )
    jwk["alg"] = alg
    result = tools.verify(token, json.dumps(jwk))
    assert result["verdict"] == "valid", result

    # A private PKCS#8 key works too (only its public part is used), and says so.
    result = tools.verify(token, pair.private_pem, alg=alg)
    assert result["verdict"] == "valid"
    assert any("only its public part" in note for note in result["notes"])


def test_verify_rsa_key_needs_an_algorithm_and_offers_the_tokens(tools: Any) -> None:
    token = pyjwt_token("PS256", claims())
    result = tools.verify(token, rsa_pair().public_pem)
    assert result["verdict"] == "error"
    assert "choose one in the Algorithm list" in result["summary"]
    page = tools.page
    # The token's alg fits an RSA key: one click makes it the user's choice.
    assert page.get_attribute("#verify-offer-alg", "data-alg") == "PS256"
    page.eval_on_selector("#verify-verdict", "n => n.removeAttribute('data-verdict')")
    page.click("#verify-offer-alg")
    page.wait_for_selector("#verify-verdict[data-verdict]")
    assert read_verify(page)["verdict"] == "valid"
    assert page.input_value("#verify-alg") == "PS256"
    # Not offered when the token's alg does not fit the key (an HS256 token, an RSA key).
    result = tools.verify(pyjwt_token("HS256", claims()), rsa_pair().public_pem)
    assert result["verdict"] == "error"
    assert page.locator("#verify-offer-alg").count() == 0


def test_an_hmac_secret_is_offered_the_tokens_alg(tools: Any) -> None:
    token = pyjwt_token("HS384", claims(), secret=HMAC_SECRET * 2)
    result = tools.verify(token, HMAC_SECRET * 2, key_format="secret-text")
    assert result["verdict"] == "error"
    tools.page.click("#verify-offer-alg")
    tools.page.wait_for_function(
        "() => document.getElementById('verify-verdict').dataset.verdict === 'valid'"
    )


def test_verify_runs_as_you_type(tools: Any) -> None:
    page = tools.page
    tools.tab("verify")
    page.eval_on_selector("#verify-verdict", "n => n.removeAttribute('data-verdict')")
    page.fill("#verify-token", pyjwt_token("ES256", claims()))
    page.fill("#verify-key", ec_pair().public_pem)  # no click on Verify
    page.wait_for_selector("#verify-verdict[data-verdict]")
    assert read_verify(page)["verdict"] == "valid"
    page.fill("#verify-aud", "someone-else")
    page.wait_for_function(
        "() => document.getElementById('verify-verdict').dataset.verdict === 'invalid'"
    )


def test_a_weak_secret_is_red_as_the_command_line_refuses_it(tools: Any) -> None:
    """Same policy as `gatepass verify`: a secret shorter than the hash is refused, even when the
    signature matches (it used to be a green Valid with a soft note)."""
    token = pyjwt_token("HS256", claims(), secret="secret")
    result = tools.verify(token, "secret", key_format="secret-text", alg="HS256")
    assert result["verdict"] == "invalid"
    assert "Weak secret: this HMAC secret is 6 bytes" in result["summary"]
    assert "gatepass keygen HS256 --out new" in result["summary"]
    assert result["checks"]["key"][0] == "fail"
    assert result["checks"]["signature"][0] == "pass"
    assert result["claims"] is None


def test_verify_hs256_text_and_base64url_secret(tools: Any) -> None:
    token = pyjwt_token("HS256", claims())
    result = tools.verify(token, HMAC_SECRET, key_format="secret-text", alg="HS256")
    assert result["verdict"] == "valid", result
    b64_secret = b64url(HMAC_SECRET.encode())
    result = tools.verify(token, b64_secret, key_format="secret-b64url", alg="HS256")
    assert result["verdict"] == "valid", result
    result = tools.verify(token, HMAC_SECRET + "x", key_format="secret-text", alg="HS256")
    assert result["verdict"] == "invalid"
    assert result["checks"]["signature"][0] == "fail"


def test_verify_plain_text_is_never_guessed_to_be_a_secret(tools: Any) -> None:
    token = pyjwt_token("HS256", claims())
    result = tools.verify(token, HMAC_SECRET, key_format="auto")
    assert result["verdict"] == "error"
    assert "HMAC secret" in result["summary"]


def verify_with_test_key(tools: Any, token: str, alg: str) -> dict[str, Any]:
    if alg.startswith("HS"):
        return dict(tools.verify(token, HMAC_SECRET, key_format="secret-text", alg=alg))
    return dict(tools.verify(token, ASYMMETRIC[alg]().public_pem, alg=alg))


def test_verify_reports_tampered_token(tools: Any) -> None:
    for alg in ("HS256", "RS256", "ES256"):
        token = tamper_payload(pyjwt_token(alg, claims()), sub="admin")
        result = verify_with_test_key(tools, token, alg)
        assert result["verdict"] == "invalid", alg
        assert "Invalid signature" in result["summary"]
        assert result["checks"]["signature"][0] == "fail"
        assert result["claims"] is None


def test_verify_reports_expired_token(tools: Any) -> None:
    for alg in ("HS256", "RS256", "ES256"):
        token = pyjwt_token(alg, claims(lifetime=-3 * 3600))
        result = verify_with_test_key(tools, token, alg)
        assert result["verdict"] == "invalid", alg
        assert result["checks"]["signature"][0] == "pass"
        assert result["checks"]["exp"][0] == "fail"
        assert "Expired 3 h ago" in result["summary"]
        assert result["claims"] is None


def test_verify_leeway_and_nbf(tools: Any) -> None:
    just_expired = pyjwt_token("ES256", claims(lifetime=-20))
    result = tools.verify(just_expired, ec_pair().public_pem, leeway=60)
    assert result["verdict"] == "valid", result
    result = tools.verify(just_expired, ec_pair().public_pem, leeway=0)
    assert result["verdict"] == "invalid"

    future = claims()
    future["nbf"] = future["iat"] + 300
    result = tools.verify(pyjwt_token("ES256", future), ec_pair().public_pem)
    assert result["verdict"] == "invalid"
    assert result["checks"]["nbf"][0] == "fail"
    assert "Not yet valid" in result["summary"]


def test_verify_requires_exp_by_default(tools: Any) -> None:
    token = pyjwt_token("ES256", {"sub": "1"})
    result = tools.verify(token, ec_pair().public_pem)
    assert result["verdict"] == "invalid"
    assert result["checks"]["exp"][0] == "fail"
    result = tools.verify(token, ec_pair().public_pem, require_exp=False)
    assert result["verdict"] == "valid"


def test_verify_algorithm_confusion_forgery_is_a_mismatch(tools: Any) -> None:
    """The classic attack: HS256 'signed' with the RSA public key PEM as the HMAC secret."""
    public_pem = rsa_pair().public_pem
    forged = hs256_by_hand({"alg": "HS256", "typ": "JWT"}, claims(), public_pem.encode())
    result = tools.verify(forged, public_pem, alg="RS256")
    assert result["verdict"] == "invalid"
    assert "Algorithm mismatch" in result["summary"]
    assert result["checks"]["alg"][0] == "fail"
    assert result["checks"]["signature"][0] == "skip"
    # A JWK that names its alg behaves the same with "From the key".
    jwk = json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(rsa_pair().private_key.public_key()))
    result = tools.verify(forged, json.dumps({**jwk, "alg": "RS256"}))
    assert "Algorithm mismatch" in result["summary"]


def test_verify_alg_none_is_never_valid(tools: Any) -> None:
    head = b64url(b'{"alg":"none"}')
    body = b64url(json.dumps(claims()).encode())
    for alg_value in ("none", "None", "NONE"):
        token = f"{b64url(json.dumps({'alg': alg_value}).encode())}.{body}."
        result = tools.verify(token, HMAC_SECRET, key_format="secret-text", alg="HS256")
        assert result["verdict"] == "invalid", alg_value
        assert "never valid" in result["summary"]
    assert head


def test_verify_ecdsa_signature_must_be_exact_size(tools: Any) -> None:
    token = pyjwt_token("ES256", claims())
    head, payload, sig = token.split(".")
    raw = unb64url(sig)
    padded = head + "." + payload + "." + b64url(b"\x00" + raw)
    result = tools.verify(padded, ec_pair().public_pem)
    assert result["verdict"] == "invalid"
    assert "exactly 64 bytes" in result["checks"]["signature"][1]
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    der = f"{head}.{payload}.{b64url(encode_dss_signature(r, s))}"
    result = tools.verify(der, ec_pair().public_pem)
    assert "DER-encoded" in result["checks"]["signature"][1]


def test_verify_jwks_selects_by_kid(tools: Any) -> None:
    rsa_jwk = json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(rsa_pair().private_key.public_key()))
    ec_jwk = json.loads(pyjwt.algorithms.ECAlgorithm.to_jwk(ec_pair().private_key.public_key()))
    jwks = json.dumps(
        {
            "keys": [
                {**rsa_jwk, "kid": "rsa-1", "alg": "RS256", "use": "sig"},
                {**ec_jwk, "kid": "ec-1", "alg": "ES256", "use": "sig"},
                {**ec_jwk, "kid": "enc-1", "alg": "ES256", "use": "enc"},
            ]
        }
    )
    for alg, kid in (("RS256", "rsa-1"), ("ES256", "ec-1")):
        token = pyjwt_token(alg, claims(), headers={"kid": kid})
        result = tools.verify(token, jwks)
        assert result["verdict"] == "valid", result
        assert kid in result["checks"]["key"][1]
    token = pyjwt_token("ES256", claims(), headers={"kid": "nope"})
    result = tools.verify(token, jwks)
    assert result["verdict"] == "invalid"
    assert "No key in the set has kid" in result["summary"]
    token = pyjwt_token("ES256", claims(), headers={"kid": "enc-1"})
    result = tools.verify(token, jwks)
    assert result["verdict"] == "error"
    assert "use" in result["summary"]


def test_verify_rejects_unknown_crit(tools: Any) -> None:
    token = pyjwt_token("ES256", claims(), headers={"crit": ["exp-ext"], "exp-ext": 1})
    result = tools.verify(token, ec_pair().public_pem)
    assert result["verdict"] == "invalid"
    assert result["checks"]["crit"][0] == "fail"


def test_verify_pkcs1_rsa_public_key_is_converted(tools: Any) -> None:
    from cryptography.hazmat.primitives import serialization

    pkcs1 = (
        rsa_pair()
        .private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        .decode()
    )
    assert "BEGIN RSA PUBLIC KEY" in pkcs1
    result = tools.verify(pyjwt_token("PS256", claims()), pkcs1, alg="PS256")
    assert result["verdict"] == "valid", result
    assert any("PKCS#1" in note for note in result["notes"])


# ---------------------------------------------------------------- encode


def test_encode_with_pasted_pkcs8_key_verifies_with_pyjwt(tools: Any) -> None:
    for alg in ("RS256", "PS256", "ES256"):
        pair = rsa_pair() if alg[0] in "RP" else ec_pair()
        token = tools.sign(alg, pair.private_pem)
        header = pyjwt.get_unverified_header(token)
        assert header["alg"] == alg
        assert header["typ"] == "JWT"
        decoded_claims = pyjwt.decode(token, pair.public_pem, algorithms=[alg])
        assert decoded_claims["sub"] == "user-42"
        assert decoded_claims["exp"] - decoded_claims["iat"] == 15 * 60


def test_switching_algorithm_takes_a_generated_key_off_the_screen(tools: Any) -> None:
    page = tools.page
    tools.sign("ES256", None)
    assert page.is_visible("#gen-output")
    page.select_option("#encode-alg", "HS256")
    assert not page.is_visible("#gen-output")
    assert page.input_value("#encode-key") == ""  # the ES256 key would not sign HS256 anyway
    page.select_option("#encode-alg", "ES256")
    tools.sign("ES256", None)
    page.select_option("#encode-alg", "ES256")  # the same algorithm: the key stays
    assert page.is_visible("#gen-output")


def test_encode_wording_and_claims_table(tools: Any) -> None:
    page = tools.page
    tools.tab("encode")
    page.fill("#encode-claims", "{not json")
    page.click("#encode-sign")
    page.wait_for_selector("#encode-error:not(.hidden)")
    assert page.inner_text("#encode-error").startswith("The claims are not valid JSON")
    tools.decode(pyjwt_token("ES256", claims(lifetime=3600)))
    exp = decoded(page)["claims"]["exp"]
    assert exp.startswith("expires in 60 min"), exp


def test_encode_hs256_secret_and_short_secret_refused(tools: Any) -> None:
    token = tools.sign("HS256", HMAC_SECRET, key_format="secret-text")
    assert pyjwt.decode(token, HMAC_SECRET, algorithms=["HS256"])["sub"] == "user-42"
    with pytest.raises(AssertionError, match="at least 32 bytes"):
        tools.sign("HS256", "secret", key_format="secret-text")


def test_encode_refuses_public_key(tools: Any) -> None:
    with pytest.raises(AssertionError, match="signing needs the private key"):
        tools.sign("ES256", ec_pair().public_pem)


@pytest.mark.parametrize("alg", ["HS256", "RS256", "ES256"])
def test_encode_with_generated_key_then_verify_in_page(tools: Any, alg: str) -> None:
    token = tools.sign(alg, None, claims='{"sub": "generated", "scope": "read"}')
    page = tools.page
    if alg != "HS256":
        public_pem = page.inner_text("#gen-public-pem")
        assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
        assert page.inner_text("#gen-private-pem").startswith("-----BEGIN PRIVATE KEY-----")
        public_jwk = json.loads(page.inner_text("#gen-public-jwk"))
        assert public_jwk["alg"] == alg
        assert "d" not in public_jwk
        assert pyjwt.get_unverified_header(token)["kid"] == public_jwk["kid"]
        assert pyjwt.decode(token, public_pem, algorithms=[alg])["sub"] == "generated"
    else:
        secret = unb64url(page.input_value("#encode-key"))
        assert len(secret) == 32
        assert pyjwt.decode(token, secret, algorithms=["HS256"])["sub"] == "generated"
    page.click("#encode-to-verify")
    page.wait_for_selector("#verify-verdict[data-verdict]")
    assert read_verify(page)["verdict"] == "valid"


# ---------------------------------------------------------------- EdDSA (where supported)


def test_eddsa_feature_detected_and_round_trips(tools: Any) -> None:
    page = tools.page
    supported = page.evaluate("document.body.dataset.ed25519") == "yes"
    if not supported:
        assert "no Ed25519" in page.inner_text("#verify-ed25519")
        pytest.skip("this Chromium's WebCrypto has no Ed25519 (the page says so)")
    token = pyjwt_token("EdDSA", claims())
    result = tools.verify(token, ed_pair().public_pem)
    assert result["verdict"] == "valid", result
    signed = tools.sign("EdDSA", ed_pair().private_pem)
    assert pyjwt.decode(signed, ed_pair().public_pem, algorithms=["EdDSA"])["sub"] == "user-42"
    # RFC 9864's fully specified name "Ed25519" is the same algorithm for an Ed25519 key.
    head = b64url(b'{"alg":"Ed25519","typ":"JWT"}')
    body = b64url(json.dumps(claims()).encode())
    sig = ed_pair().private_key.sign(f"{head}.{body}".encode())
    result = tools.verify(f"{head}.{body}.{b64url(sig)}", ed_pair().public_pem)
    assert result["verdict"] == "valid", result
    # ...but never for a key of another type.
    result = tools.verify(f"{head}.{body}.{b64url(sig)}", ec_pair().public_pem)
    assert "Algorithm mismatch" in result["summary"]


# ---------------------------------------------------------------- no network


def test_no_request_while_verifying_a_token_with_key_urls(
    tools: Any, canary: tuple[str, list[bytes]]
) -> None:
    url, hits = canary
    token = pyjwt_token(
        "ES256",
        claims(),
        headers={"jku": url + "/jwks.json", "x5u": url + "/cert.pem", "kid": url + "/kid"},
    )
    tools.decode(token)
    result = tools.verify(token, ec_pair().public_pem)
    assert result["verdict"] == "valid"
    assert any('"jku" header' in note for note in result["notes"])
    # Let any stray request land before looking.
    tools.page.wait_for_timeout(300)
    assert hits == []
    assert foreign_requests(tools.recorder.all(), tools.base) == []


def test_csp_blocks_requests_the_page_might_attempt(
    tools: Any, canary: tuple[str, list[bytes]]
) -> None:
    """Even injected script cannot phone home: the browser enforces the page's CSP."""
    url, hits = canary
    outcome = tools.page.evaluate(
        """async (url) => {
            const violations = [];
            document.addEventListener('securitypolicyviolation',
                e => violations.push(e.effectiveDirective));
            let fetched = 'fetch ok';
            try { await fetch(url + '/fetch', {mode: 'no-cors'}); }
            catch (e) { fetched = 'fetch blocked'; }
            const img = new Image(); img.src = url + '/img.png';
            document.body.appendChild(img);
            try { new WebSocket(url.replace('http', 'ws') + '/ws'); } catch (e) {}
            await new Promise(r => setTimeout(r, 300));
            return {fetched, violations};
        }""",
        url,
    )
    assert outcome["fetched"] == "fetch blocked"
    assert "connect-src" in outcome["violations"]
    assert "img-src" in outcome["violations"]
    assert hits == [], "the canary received a connection"
    # The blocked attempts may show up as (blocked) request events; drop them for the
    # fixture's own-files check, the canary above is the proof nothing left the page.
    for urls in (tools.recorder.playwright, tools.recorder.cdp):
        canary_urls = (url, url.replace("http", "ws"))
        urls[:] = [u for u in urls if not u.startswith(canary_urls)]


def test_served_with_csp_header_and_meta(tools: Any, tools_url: str) -> None:
    response = tools.page.request.get(tools_url)
    headers = response.headers
    from gatepass.tools.server import CONTENT_SECURITY_POLICY, META_POLICY

    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    meta = tools.page.get_attribute('meta[http-equiv="Content-Security-Policy"]', "content")
    assert meta == META_POLICY
    assert "connect-src 'none'" in meta


def test_loading_the_page_logs_nothing(browser: Any, tools_url: str) -> None:
    """frame-ancestors in a meta tag made every load log a console error (the footer sends users
    to the developer tools, where they saw it first); over http and from file:// alike."""
    for url in (tools_url, STATIC.as_uri() + "/index.html"):
        context, page, recorder = open_page(browser, url)
        try:
            page.reload()
            page.wait_for_selector("body[data-ready=true]")
            page.wait_for_timeout(300)
            assert recorder.console == [], (url, recorder.console)
        finally:
            context.close()


def test_works_from_file_url(browser: Any) -> None:
    base = STATIC.as_uri() + "/"
    context, page, recorder = open_page(browser, base + "index.html")
    try:
        page.fill("#decode-token", pyjwt_token("ES256", claims()))
        assert "Not verified" in page.inner_text("#decode-unverified")
        page.click("#tab-verify")
        page.fill("#verify-token", pyjwt_token("ES256", claims()))
        page.fill("#verify-key", ec_pair().public_pem)
        page.click("#verify-run")
        page.wait_for_selector("#verify-verdict[data-verdict]")
        assert page.get_attribute("#verify-verdict", "data-verdict") == "valid"
        assert recorder.playwright
        assert foreign_requests(recorder.all(), base) == []
        assert Path(STATIC / "index.html").is_file()
    finally:
        context.close()


@pytest.mark.parametrize("served", [True, False])
def test_token_handed_over_in_the_url_fragment(browser: Any, tools_url: str, served: bool) -> None:
    """``#token=...`` (the reference app's "open in the tools page") fills the Decode pane; the
    fragment never reaches a server, and the page drops it from the address bar and history."""
    token = pyjwt_token("ES256", claims(sub="fragment-user"))
    base = tools_url if served else STATIC.as_uri() + "/"
    start = base if served else base + "index.html"
    context, page, recorder = open_page(browser, f"{start}#token={token}")
    try:
        assert page.input_value("#decode-token") == token
        assert decoded(page)["claims"]["sub"].count("Subject") == 1
        assert page.evaluate("location.hash") == ""
        assert all("#" not in url and token not in url for url in recorder.all())
        assert foreign_requests(recorder.all(), base) == []
    finally:
        context.close()


def test_screenshot_for_review(tools: Any, tmp_path: Path) -> None:
    """Renders all three panes (kept as an artefact for a human to look at)."""
    token = pyjwt_token("ES256", claims(email="ann@example.com"))
    tools.decode(token)
    tools.page.screenshot(path=str(tmp_path / "decode.png"), full_page=True)
    tools.verify(token, ec_pair().public_pem)
    tools.page.screenshot(path=str(tmp_path / "verify.png"), full_page=True)
    tools.sign("ES256", None)
    tools.page.screenshot(path=str(tmp_path / "encode.png"), full_page=True)
    assert (tmp_path / "encode.png").stat().st_size > 10_000


def test_other_pem_forms_sign_and_verify(tools: Any) -> None:
    """PKCS#1 and SEC1 private keys are converted in the page; a certificate gives its key."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    traditional = serialization.PrivateFormat.TraditionalOpenSSL
    rsa_pkcs1 = rsa_pair().private_key.private_bytes(
        serialization.Encoding.PEM, traditional, serialization.NoEncryption()
    )
    ec_sec1 = ec_pair().private_key.private_bytes(
        serialization.Encoding.PEM, traditional, serialization.NoEncryption()
    )
    assert b"BEGIN RSA PRIVATE KEY" in rsa_pkcs1 and b"BEGIN EC PRIVATE KEY" in ec_sec1
    token = tools.sign("RS512", rsa_pkcs1.decode())
    assert pyjwt.decode(token, rsa_pair().public_pem, algorithms=["RS512"])["sub"] == "user-42"
    token = tools.sign("ES256", ec_sec1.decode())
    assert pyjwt.decode(token, ec_pair().public_pem, algorithms=["ES256"])["sub"] == "user-42"

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gatepass test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ec_pair().private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(ec_pair().private_key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    result = tools.verify(pyjwt_token("ES256", claims()), cert_pem)
    assert result["verdict"] == "valid", result
    assert any("certificate" in note for note in result["notes"])


def test_key_errors_are_explained(tools: Any) -> None:
    token = pyjwt_token("ES256", claims())
    cases = [
        ("-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----", "invalid character"),
        (
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----",
            "encrypted",
        ),
        ('{"kty": "EC", "crv": "P-256", "x": "AA=="}', "needs the member"),
        ('{"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}', "unsupported EC curve"),
        ('{"keys": []}', "no usable key"),
        ("{not json", "not valid JSON"),
    ]
    for key, message in cases:
        result = tools.verify(token, key)
        assert result["verdict"] == "error", key
        assert message in result["summary"], (key, result["summary"])
    result = tools.verify(token, rsa_pair().public_pem, alg="ES256")
    assert result["verdict"] == "error"
    assert "ES256 needs an EC P-256 key" in result["summary"]


def test_duplicate_members_are_ambiguous_and_refused(tools: Any) -> None:
    """{"alg":"HS256","alg":"none"}: JSON.parse keeps the last; strict parsers refuse it."""
    import hashlib
    import hmac

    head = b64url(b'{"alg":"ES256","\\u0061lg":"HS256"}')
    body = b64url(json.dumps(claims()).encode())
    mac = hmac.new(HMAC_SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    token = f"{head}.{body}.{b64url(mac)}"
    tools.decode(token)
    assert "not-canonical: gatepass's strict parser refuses the token" in warning_text(
        decoded(tools.page)
    )
    result = tools.verify(token, HMAC_SECRET, key_format="secret-text", alg="HS256")
    assert result["verdict"] == "invalid"
    assert result["checks"]["format"][0] == "fail"

    nested: Any = 1
    for _ in range(17):
        nested = [nested]
    deep = b64url(json.dumps({"sub": "x", "exp": 2_000_000_000, "n": nested}).encode())
    token = b64url(b'{"alg":"HS256"}') + "." + deep + "." + b64url(mac)
    result = tools.verify(token, HMAC_SECRET, key_format="secret-text", alg="HS256")
    assert "levels deep" in result["summary"]
