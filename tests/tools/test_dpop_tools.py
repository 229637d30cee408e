"""The tools page and ``gatepass decode`` on DPoP (RFC 9449): one view, two implementations.

``gatepass/cli/dpop_view.py`` and ``static/dpop.js`` each turn a decoded token into the ``dpop``
document (a proof's key thumbprint, request, age, jti, ath, nonce, leaked private members; a
token's binding). One table of tokens runs through both, in headless Chromium, and the documents
must be equal; the Decode pane's DPoP card is then checked as a person sees it. The page's own
fixture fails any test in which the page requested anything but its own files.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from gatepass import Key, jwt
from gatepass.cli.audit_rules import rules
from gatepass.cli.dpop_view import describe
from gatepass.tokens import dpop

RFC = json.loads(
    (Path(__file__).parents[1] / "tokens" / "data" / "rfc9449_examples.json").read_text()
)
NOW = 1_800_000_000
ISSUER = Key.generate("ES256")
CLIENT = Key.generate("ES256")
RSA_CLIENT = Key.generate("PS256")
ED_CLIENT = Key.generate("EdDSA")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: Any, claims: Any) -> str:
    return (
        f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}.{_b64(b'x' * 64)}"
    )


def _proof(key: Key, **options: Any) -> str:
    return dpop.create_proof(key, method="GET", url="https://api.example/orders", **options)


CLAIMS = {"jti": "j1", "htm": "GET", "htu": "https://api.example/", "iat": NOW}
BOUND = jwt.encode(
    {"sub": "u1", "cnf": {"jkt": CLIENT.thumbprint()}}, ISSUER, expires_in=900, now=NOW
)

CASES: list[tuple[str, str]] = [
    *((vector["id"], vector["proof"]) for vector in RFC["proofs"]),
    ("rfc-bound-token", RFC["bound_access_token"]["token"]),
    ("es256", _proof(CLIENT, access_token=BOUND, nonce="n1", now=NOW - 12)),
    ("ps256-stale", _proof(RSA_CLIENT, now=NOW - 600)),
    ("eddsa-future", _proof(ED_CLIENT, now=NOW + 30)),
    ("almost-now", _proof(CLIENT, now=NOW + 3)),
    (
        "private-key",
        forged({"typ": "dpop+jwt", "alg": "ES256", "jwk": CLIENT.to_jwk(True)}, CLAIMS),
    ),
    (
        "secret-key",
        forged({"typ": "DPoP+JWT", "alg": "HS256", "jwk": {"kty": "oct", "k": "c2VjcmV0"}}, CLAIMS),
    ),
    ("no-jwk", forged({"typ": "dpop+jwt", "alg": "ES256"}, {"htm": 5})),
    ("jwk-not-object", forged({"typ": "dpop+jwt", "alg": "ES256", "jwk": ["x"]}, CLAIMS)),
    (
        "jwk-short",
        forged({"typ": "dpop+jwt", "alg": "ES256", "jwk": {"kty": "EC", "x": "a"}}, CLAIMS),
    ),
    ("proof-payload-array", forged({"typ": "dpop+jwt", "alg": "ES256"}, [1])),
    ("bound", BOUND),
    ("cnf-x5t", forged({"alg": "ES256"}, {"sub": "u", "cnf": {"x5t#S256": "abc"}})),
    ("cnf-junk", forged({"alg": "ES256"}, {"sub": "u", "cnf": "jkt"})),
    ("bearer", jwt.encode({"sub": "u1"}, ISSUER, expires_in=900, now=NOW)),
]


def _python_view(token: str) -> Any:
    header_seg, payload_seg, _ = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(header_seg + "=" * (-len(header_seg) % 4)))
    payload = json.loads(base64.urlsafe_b64decode(payload_seg + "=" * (-len(payload_seg) % 4)))
    return describe(header, payload if isinstance(payload, dict) else None, NOW)


def test_the_window_in_the_rules_file_is_the_verifiers() -> None:
    window = rules().data["dpop"]
    assert (window["max_age"], window["leeway"]) == (dpop.DEFAULT_MAX_AGE, dpop.DEFAULT_LEEWAY)
    assert window["typ"] == dpop.DPOP_TYP


@pytest.mark.browser
@pytest.mark.parametrize(("name", "token"), CASES, ids=[c[0] for c in CASES])
def test_page_and_command_line_describe_alike(tools: Any, name: str, token: str) -> None:
    page = tools.page.evaluate(
        """([token, now]) => { const t = GPJose.parseToken(token);
            return GPDPoP.describe(t.header, t.payload, now); }""",
        [token, NOW],
    )
    assert page == _python_view(token), name


@pytest.mark.browser
def test_decode_pane_shows_a_proofs_key_and_request(tools: Any) -> None:
    proof = _proof(CLIENT, access_token=BOUND, now=NOW)
    tools.page.evaluate(f"() => {{ GPJose.nowSeconds = () => {NOW + 4}; }}")
    tools.decode(proof)
    card = tools.page.wait_for_selector("#decode-dpop[data-kind=proof]")
    assert card.get_attribute("data-jkt") == CLIENT.thumbprint()
    shown = tools.page.evaluate(
        """() => Object.fromEntries(['jkt', 'request', 'iat', 'jti', 'ath', 'nonce']
            .map(n => [n, document.getElementById('decode-dpop-' + n).innerText]))"""
    )
    assert shown["jkt"] == CLIENT.thumbprint()
    assert shown["request"] == "GET https://api.example/orders"
    assert shown["iat"] == "made 4 s ago"
    assert shown["ath"] == dpop.access_token_hash(BOUND)
    assert shown["nonce"] == "(none)"
    warnings = tools.page.inner_text("#decode-warnings")
    assert "header-jwk" not in warnings and "exp-missing" not in warnings


@pytest.mark.browser
def test_decode_pane_flags_a_private_key_and_names_a_binding(tools: Any) -> None:
    leaky = forged({"typ": "dpop+jwt", "alg": "ES256", "jwk": CLIENT.to_jwk(True)}, CLAIMS)
    tools.decode(leaky)
    tools.page.wait_for_selector("#decode-dpop[data-kind=proof]")
    summary = tools.page.locator("#decode-dpop-summary")
    assert "PRIVATE key (d): refused by verifiers" in summary.inner_text()
    assert summary.get_attribute("class") == "bad"
    first = tools.page.locator("#decode-warnings li").first
    assert first.get_attribute("data-id") == "dpop-private-key"
    assert first.get_attribute("data-severity") == "critical"

    tools.decode(BOUND)
    tools.page.wait_for_selector("#decode-dpop[data-kind=bound_token]")
    assert tools.page.inner_text("#decode-dpop-summary") == (
        f"bound to key {CLIENT.thumbprint()}: usable only with a DPoP proof from that key"
    )
    assert not tools.page.locator("#decode-dpop-proof").is_visible()

    tools.decode(jwt.encode({"sub": "u1"}, ISSUER, expires_in=900))
    tools.page.wait_for_selector("#decode-dpop:not([data-kind])", state="attached")
    assert not tools.page.locator("#decode-dpop").is_visible()
