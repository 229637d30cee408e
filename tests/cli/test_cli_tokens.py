"""decode, verify and encode through the real command."""

from __future__ import annotations

import json

import pytest

SECRET = "k9F2-this-is-a-long-random-test-secret-0123456789"


# --- encode -> verify round trips -----------------------------------------------------------


@pytest.mark.parametrize(
    ("alg", "sign_key", "verify_key"),
    [
        ("ES256", "es.key.pem", "es.pub.pem"),
        ("RS256", "rsa.key.pem", "rsa.pub.pem"),
        ("EdDSA", "ed.key.pem", "ed.pub.jwk.json"),
        ("ES256", "es.jwk.json", "es.pub.jwk.json"),
    ],
)
def test_round_trip_asymmetric(gatepass, keys, alg, sign_key, verify_key):
    extra = ["--alg", alg] if alg == "RS256" else []
    made = gatepass("encode", "sub=42", "role=admin", "--key", keys.path(sign_key), *extra)
    assert made.code == 0, made.err
    token = made.out.strip()
    checked = gatepass("verify", token, "--key", keys.path(verify_key), *extra, "--json")
    assert checked.code == 0, checked.err
    doc = checked.json()
    assert doc["valid"] is True
    assert doc["header"]["alg"] == alg
    assert doc["claims"]["sub"] == "42"
    assert doc["claims"]["role"] == "admin"
    assert doc["claims"]["exp"] - doc["claims"]["iat"] == 900  # the 15 min default


def test_round_trip_hs256_secret_env_and_file(gatepass, keys, tmp_path):
    env = {"GP_TEST_SECRET": SECRET}
    made = gatepass("encode", "sub=7", "--secret-env", "GP_TEST_SECRET", env=env)
    assert made.code == 0, made.err
    token = made.out.strip()
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")  # one trailing newline is ignored
    ok = gatepass("verify", token, "--secret-file", str(secret_file), "--alg", "HS256")
    assert ok.code == 0, ok.err
    assert ok.out.startswith("VALID")
    # keygen's HS256 files verify each other's tokens
    made = gatepass("encode", "sub=7", "--secret-file", keys.path("hs.secret"))
    assert made.code == 0, made.err
    assert gatepass("verify", made.out.strip(), "--key", keys.path("hs.jwk.json")).code == 0


def test_verify_from_stdin_with_bearer_and_whitespace(gatepass, keys):
    token = gatepass("encode", "sub=1", "--key", keys.path("es.key.pem")).out.strip()
    result = gatepass(
        "verify", "-", "--key", keys.path("es.pub.pem"), stdin=f"\n  Bearer {token} \n"
    )
    assert result.code == 0, result.err


def test_verify_with_jwks(gatepass, keys, tmp_path):
    jwks = gatepass("jwks", keys.path("es.pub.pem"), keys.path("ed.pub.pem"))
    assert jwks.code == 0, jwks.err
    path = tmp_path / "jwks.json"
    path.write_text(jwks.out)
    for key in ("es.key.pem", "ed.key.pem"):
        token = gatepass("encode", "sub=1", "--key", keys.path(key)).out.strip()
        assert gatepass("verify", token, "--key", str(path)).code == 0


def test_tampered_token_is_invalid(gatepass, keys):
    token = gatepass("encode", "sub=42", "--key", keys.path("es.key.pem")).out.strip()
    header, payload, signature = token.split(".")
    forged_payload = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    result = gatepass(
        "verify", f"{header}.{forged_payload}.{signature}", "--key", keys.path("es.pub.pem")
    )
    assert result.code == 1
    assert "INVALID" in result.err
    as_json = gatepass(
        "verify",
        f"{header}.{forged_payload}.{signature}",
        "--key",
        keys.path("es.pub.pem"),
        "--json",
    )
    assert as_json.code == 1
    doc = as_json.json()
    assert doc["valid"] is False
    assert doc["error"]["code"].startswith("ERR_")


def test_token_signed_by_another_key_is_bad_signature(gatepass, keys, tmp_path):
    assert gatepass("keygen", "ES256", "--out", str(tmp_path / "other")).code == 0
    token = gatepass("encode", "sub=1", "--key", str(tmp_path / "other.key.pem")).out.strip()
    result = gatepass("verify", token, "--key", keys.path("es.pub.pem"), "--json")
    assert result.code == 1
    assert result.json()["error"]["code"] == "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"


def test_expired_token_names_the_expiry_and_at_makes_it_valid(gatepass, keys):
    made = gatepass(
        "encode", "sub=1", "--key", keys.path("es.key.pem"), "--at", "2020-01-01T00:00:00Z"
    )
    assert made.code == 0, made.err
    token = made.out.strip()
    result = gatepass("verify", token, "--key", keys.path("es.pub.pem"))
    assert result.code == 1
    assert "ERR_JWT_EXPIRED" in result.err
    assert "2020-01-01T00:15:00Z" in result.err  # the exp, as a date
    assert "expired" in result.err and "ago" in result.err
    doc = gatepass("verify", token, "--key", keys.path("es.pub.pem"), "--json").json()
    assert doc["error"]["claim"] == "exp"
    assert doc["error"]["exp"]["iso"] == "2020-01-01T00:15:00Z"
    # as of a moment inside the lifetime: valid (ISO and unix seconds)
    for at in ("2020-01-01T00:10:00Z", "1577837400"):
        ok = gatepass("verify", token, "--key", keys.path("es.pub.pem"), "--at", at)
        assert ok.code == 0, ok.err
        assert "expires in 5 min" in ok.out
    assert gatepass("verify", token, "--key", keys.path("es.pub.pem"), "--leeway", "x").code == 2


def test_claim_checks_iss_aud_typ(gatepass, keys):
    token = gatepass(
        "encode",
        "sub=1",
        "iss=https://id.example",
        "aud=api",
        "--typ",
        "at+jwt",
        "--key",
        keys.path("es.key.pem"),
    ).out.strip()
    pub = keys.path("es.pub.pem")
    ok = gatepass(
        "verify",
        token,
        "--key",
        pub,
        "--iss",
        "https://id.example",
        "--aud",
        "api",
        "--typ",
        "at+jwt",
    )
    assert ok.code == 0, ok.err
    cases = [
        (["--iss", "https://evil.example", "--aud", "api"], "ERR_JWT_ISSUER"),
        (["--aud", "other"], "ERR_JWT_AUDIENCE"),
        (["--aud", "api", "--typ", "JWT"], "ERR_JWT_TYPE"),
    ]
    for extra, code in cases:
        bad = gatepass("verify", token, "--key", pub, *extra, "--json")
        assert bad.code == 1
        assert bad.json()["error"]["code"] == code


def test_missing_exp_is_rejected_unless_allowed(gatepass, keys):
    token = gatepass("encode", "sub=1", "--no-exp", "--key", keys.path("es.key.pem")).out.strip()
    bad = gatepass("verify", token, "--key", keys.path("es.pub.pem"), "--json")
    assert bad.code == 1
    assert bad.json()["error"]["code"] == "ERR_JWT_MISSING_CLAIM"
    ok = gatepass("verify", token, "--key", keys.path("es.pub.pem"), "--no-require-exp")
    assert ok.code == 0


def test_max_size(gatepass, keys):
    token = gatepass(
        "encode", "sub=1", f"blob={'x' * 600}", "--key", keys.path("es.key.pem")
    ).out.strip()
    result = gatepass(
        "verify", token, "--key", keys.path("es.pub.pem"), "--max-size", "300", "--json"
    )
    assert result.code == 1
    assert result.json()["error"]["code"] == "ERR_JWS_TOO_LARGE"


# --- key problems: exit 2 with a fix ------------------------------------------------------------


def test_rsa_key_needs_alg(gatepass, keys):
    token = gatepass("encode", "sub=1", "--key", keys.path("rsa.key.pem"))
    assert token.code == 2
    assert "--alg" in token.err
    made = gatepass("encode", "sub=1", "--key", keys.path("rsa.key.pem"), "--alg", "PS256")
    assert made.code == 0
    result = gatepass("verify", made.out.strip(), "--key", keys.path("rsa.pub.pem"))
    assert result.code == 2
    assert "RS256" in result.err and "--alg" in result.err
    # a key bound to RS256 refuses a PS256 token: the algorithm is the key's, not the header's
    mismatch = gatepass(
        "verify", made.out.strip(), "--key", keys.path("rsa.pub.pem"), "--alg", "RS256", "--json"
    )
    assert mismatch.code == 1
    assert mismatch.json()["error"]["code"] == "ERR_JOSE_ALG_MISMATCH"


def test_key_errors_exit_2(gatepass, keys, tmp_path):
    token = gatepass("encode", "sub=1", "--key", keys.path("es.key.pem")).out.strip()
    junk = tmp_path / "junk.txt"
    junk.write_text("not a key")
    cases = [
        ([], "no key"),
        (["--key", str(tmp_path / "missing.pem")], "No such file"),
        (["--key", str(junk)], "neither PEM nor"),
        (["--secret-file", keys.path("es.pub.pem")], "PEM key, not an HMAC secret"),
        (["--secret-file", keys.path("hs.jwk.json")], "use --key"),
        (["--secret-env", "GP_TEST_UNSET_VARIABLE"], "not set"),
        (["--key", keys.path("es.pub.pem"), "--secret-file", keys.path("hs.secret")], "not both"),
    ]
    for extra, words in cases:
        result = gatepass("verify", token, *extra)
        assert result.code == 2, (extra, result.err)
        assert words in result.err, (extra, result.err)
        assert result.err.count("\n") == 1  # one line, no traceback


def test_encode_with_public_key_is_refused(gatepass, keys):
    result = gatepass("encode", "sub=1", "--key", keys.path("es.pub.pem"))
    assert result.code == 2
    assert "private key" in result.err


def test_short_secret_refused_for_signing_and_never_echoed(gatepass):
    env = {"GP_TEST_SECRET": "hunter2-short"}
    result = gatepass("encode", "sub=1", "--secret-env", "GP_TEST_SECRET", env=env)
    assert result.code == 2
    assert "needs at least 32" in result.err
    assert "hunter2-short" not in result.out + result.err


def test_secret_is_never_echoed(gatepass, make_token):
    env = {"GP_TEST_SECRET": SECRET}
    token = gatepass("encode", "sub=1", "--secret-env", "GP_TEST_SECRET", env=env).out.strip()
    for args in (
        ("verify", token, "--secret-env", "GP_TEST_SECRET"),
        ("verify", token + "x", "--secret-env", "GP_TEST_SECRET"),
        ("verify", token, "--secret-env", "GP_TEST_SECRET", "--alg", "ES256"),
        ("verify", token, "--secret-env", "GP_TEST_SECRET", "--json"),
        ("audit", token, "--secret-env", "GP_TEST_SECRET", "--json"),
        ("encode", "sub=1", "--secret-env", "GP_TEST_SECRET", "--json"),
    ):
        result = gatepass(*args, env=env)
        assert SECRET not in result.out + result.err, args


def test_secret_on_command_line_needs_insecure_flag(gatepass):
    refused = gatepass("encode", "sub=1", "--secret", SECRET)
    assert refused.code == 2
    assert "--secret-env" in refused.err
    assert SECRET not in refused.err
    forced = gatepass("encode", "sub=1", "--secret", SECRET, "--insecure-secret-arg")
    assert forced.code == 0
    assert "warning" in forced.err and "process list" in forced.err
    assert SECRET not in forced.out + forced.err


# --- encode details ---------------------------------------------------------------------------


def test_encode_values_claims_file_headers_and_kid(gatepass, keys, tmp_path):
    claims_file = tmp_path / "claims.json"
    claims_file.write_text(json.dumps({"sub": "from-file", "org": "acme"}))
    made = gatepass(
        "encode",
        "--claims",
        str(claims_file),
        "sub=99",
        "n=5",
        "admin=true",
        'scope=["read","write"]',
        "name=Ada Lovelace",
        "--header",
        "x-test=1",
        "--kid",
        "2026-01",
        "--typ",
        "at+jwt",
        "--expires-in",
        "2h",
        "--key",
        keys.path("es.key.pem"),
        "--json",
    )
    assert made.code == 0, made.err
    doc = made.json()
    claims, header = doc["claims"], doc["header"]
    assert claims["sub"] == "99"  # sub stays a string (RFC 7519 StringOrURI)
    assert claims["n"] == 5 and claims["admin"] is True
    assert claims["scope"] == ["read", "write"]
    assert claims["name"] == "Ada Lovelace" and claims["org"] == "acme"
    assert claims["exp"] - claims["iat"] == 7200
    assert header["kid"] == "2026-01" and header["typ"] == "at+jwt" and header["x-test"] == 1
    # the renamed key still verifies (kid is only a label on the same key)
    assert (
        gatepass("verify", doc["token"], "--key", keys.path("es.pub.pem"), "--typ", "at+jwt").code
        == 0
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["bad-pair"], "not key=value"),
        (["--expires-in", "soon"], "not a duration"),
        (["--expires-in", "1h", "--no-exp"], "contradict"),
        (["--header", "alg=none"], "--alg"),
        (["--at", "yesterday"], "ISO 8601"),
        (["--claims", "/nonexistent/claims.json"], "No such file"),
    ],
)
def test_encode_usage_errors(gatepass, keys, args, words):
    result = gatepass("encode", "sub=1", *args, "--key", keys.path("es.key.pem"))
    assert result.code == 2
    assert words in result.err


# --- decode -----------------------------------------------------------------------------------


def test_decode_human_and_json(gatepass, keys):
    token = gatepass("encode", "sub=42", "--key", keys.path("es.key.pem")).out.strip()
    human = gatepass("decode", token)
    assert human.code == 0
    assert "NOT VERIFIED" in human.out
    assert '"sub": "42"' in human.out
    assert "expires in 15 min" in human.out
    assert "\x1b[" not in human.out  # not a terminal: no colour
    doc = gatepass("decode", "--json", token).json()
    assert doc["verified"] is False
    assert "NOT VERIFIED" in doc["note"]
    assert doc["header"]["alg"] == "ES256"
    assert doc["claims"]["sub"] == "42"
    assert doc["times"]["exp"]["relative"] == "expires in 15 min"
    assert set(doc) >= {"header", "claims", "signature", "times", "warnings", "size"}


def test_decode_relative_times_and_colour(gatepass, keys):
    token = gatepass(
        "encode", "sub=1", "--key", keys.path("es.key.pem"), "--at", "2026-01-01T00:00:00Z"
    ).out.strip()
    later = gatepass("decode", token, "--at", "2026-01-01T03:15:00Z")
    assert "expired 3 h ago" in later.out
    assert "2026-01-01T00:15:00Z" in later.out
    coloured = gatepass("decode", token, "--color", "always")
    assert "\x1b[" in coloured.out
    no_colour = gatepass("decode", token, "--color", "always", env={"NO_COLOR": "1"})
    assert "\x1b[" in no_colour.out  # an explicit --color always wins over NO_COLOR


def test_decode_from_stdin_and_warnings(gatepass, make_token):
    token = make_token({"alg": "none"}, {"sub": "1"})
    result = gatepass("decode", "-", stdin=token + "\n")
    assert result.code == 0, result.err
    assert "alg-none" in result.out and "exp-missing" in result.out


@pytest.mark.parametrize("junk", ["not-a-token", "a.b", "eyJhbGciOiJIUzI1NiJ9.%%%.abc"])
def test_decode_malformed_exit_1(gatepass, junk):
    result = gatepass("decode", junk)
    assert result.code == 1
    assert "invalid token" in result.err and "ERR_JWS_MALFORMED" in result.err


def test_empty_stdin_is_a_usage_error(gatepass):
    result = gatepass("decode", "-", stdin="   \n")
    assert result.code == 2
    assert "empty" in result.err


def test_huge_stdin_is_refused_without_reading_it_all(gatepass):
    result = gatepass("decode", "-", stdin="a" * 5_000_000)
    assert result.code == 2
    assert "larger than" in result.err


def test_long_values_are_shortened_in_the_human_view(gatepass, keys, tmp_path):
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps({"sub": "1", "blob": "x" * 133_000, "list": ["y" * 50] * 40}))
    token = gatepass("encode", "--claims", str(claims), "--key", keys.path("es.key.pem")).out
    (tmp_path / "token.txt").write_text(token)
    human = gatepass("decode", "-", stdin=token)
    assert human.code == 0
    assert len(human.out) < 3000
    assert "(133002 characters; --json shows all)" in human.out
    whole = gatepass("decode", "-", "--json", stdin=token).json()
    assert whole["claims"]["blob"] == "x" * 133_000
