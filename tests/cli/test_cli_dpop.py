"""``gatepass decode`` and ``audit`` on DPoP proofs and bound tokens (RFC 9449), as a process.

RFC 9449's printed proofs and bound token are the fixed points: the thumbprint decode shows for a
proof is the one the RFC's token carries in ``cnf.jkt``. Proofs made here by the token layer check
the rest (ath, nonce, age); a proof that leaks its private key is flagged, never shown as usual.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gatepass import Key
from gatepass.errors import InvalidDPoPProof
from gatepass.tokens import dpop
from gatepass.tokens._b64 import b64encode
from gatepass.tokens.dpop_replay import MemoryReplayCache

RFC = json.loads(
    (Path(__file__).parents[1] / "tokens" / "data" / "rfc9449_examples.json").read_text()
)
RFC_PROOFS = {vector["id"]: vector for vector in RFC["proofs"]}
RFC_JKT = RFC["jkt"]["value"]
NOW = 1_800_000_000


def _decode(gatepass: Any, token: str, *extra: str) -> dict[str, Any]:
    result = gatepass("decode", token, "--json", *extra)
    assert result.code == 0, result.err
    doc: dict[str, Any] = result.json()
    return doc


@pytest.mark.parametrize("vid", sorted(RFC_PROOFS))
def test_rfc_proofs_show_the_thumbprint_the_rfcs_token_is_bound_to(gatepass: Any, vid: str) -> None:
    vector = RFC_PROOFS[vid]
    iat = vector["claims"]["iat"]
    view = _decode(gatepass, vector["proof"], "--at", str(iat + 7))["dpop"]
    assert view["kind"] == "proof"
    assert view["jkt"] == RFC_JKT
    assert view["htm"] == vector["method"]
    assert view["htu"] == vector["claims"]["htu"]
    assert view["jti"] == vector["claims"]["jti"]
    assert view["ath"] == vector["claims"].get("ath")
    assert (view["iat"], view["iat_age_seconds"], view["iat_note"]) == (iat, 7, "made 7 s ago")
    assert view["private_key_members"] == []


def test_rfc_bound_token_names_its_key(gatepass: Any) -> None:
    doc = _decode(gatepass, RFC["bound_access_token"]["token"])
    assert doc["dpop"] == {
        "kind": "bound_token",
        "jkt": RFC_JKT,
        "summary": f"bound to key {RFC_JKT}: usable only with a DPoP proof from that key",
    }
    text = gatepass("decode", RFC["bound_access_token"]["token"]).out
    assert f"bound to key {RFC_JKT}: usable only with a DPoP proof from that key" in text


def test_a_proof_made_here_shows_request_age_ath_and_nonce(gatepass: Any) -> None:
    key = Key.generate("ES256")
    proof = dpop.create_proof(
        key,
        method="POST",
        url="https://API.example:443/orders?page=2#x",
        access_token="at.example.token",
        nonce="n-42",
        now=NOW,
    )
    doc = _decode(gatepass, proof, "--at", str(NOW + 75))
    view = doc["dpop"]
    assert view["jkt"] == key.thumbprint()
    assert (view["htm"], view["htu"]) == ("POST", "https://api.example/orders")
    assert view["ath"] == dpop.access_token_hash("at.example.token")
    assert view["nonce"] == "n-42"
    assert view["iat_age_seconds"] == 75
    assert view["iat_note"] == ("made 75 s ago: older than the 60 s a default verifier accepts")
    # A proof has no exp, iss, aud or sub and carries its key: none of that is a warning for it.
    assert doc["warnings"] == []
    text = gatepass("decode", proof, "--at", str(NOW - 30)).out
    assert f"key thumbprint (jkt): {key.thumbprint()}" in text
    assert "request: POST https://api.example/orders" in text
    assert "iat: dated 30 s in the future: beyond the 5 s a default verifier allows" in text
    assert "nonce: n-42" in text


def _forge(header: dict[str, Any], claims: dict[str, Any]) -> str:
    def seg(value: dict[str, Any]) -> str:
        return b64encode(json.dumps(value).encode())

    return f"{seg(header)}.{seg(claims)}.{b64encode(b'x' * 64)}"


def test_a_private_key_in_the_proofs_jwk_is_flagged(gatepass: Any) -> None:
    key = Key.generate("ES256")
    leaked = key.to_jwk(private=True)  # the private JWK: d beside x and y
    assert "d" in leaked
    claims = {"jti": "j1", "htm": "GET", "htu": "https://api.example/", "iat": NOW}
    proof = _forge({"typ": "dpop+jwt", "alg": "ES256", "jwk": leaked}, claims)
    verifier = dpop.DPoPVerifier(replay=MemoryReplayCache())
    with pytest.raises(InvalidDPoPProof, match="private key material"):
        verifier.verify(proof, method="GET", url="https://api.example/", now=NOW)

    doc = _decode(gatepass, proof, "--at", str(NOW))
    assert doc["dpop"]["private_key_members"] == ["d"]
    assert doc["dpop"]["jkt"] == key.thumbprint()  # the thumbprint hashes public members only
    assert "PRIVATE key (d): refused by verifiers" in doc["dpop"]["summary"]
    assert [w["id"] for w in doc["warnings"]] == ["dpop-private-key"]
    assert doc["warnings"][0]["severity"] == "critical"

    text = gatepass("decode", proof, "--at", str(NOW)).out
    assert "PRIVATE KEY in jwk (d): refused by verifiers;" in text
    assert "dpop-private-key: the DPoP proof's jwk holds private key material (d)" in text
    audit = gatepass("audit", proof, "--no-crack", "--at", str(NOW))
    assert audit.code == 1  # critical: over the default --fail-on high


def test_a_proof_without_its_key_or_claims_is_flagged(gatepass: Any) -> None:
    proof = _forge({"typ": "dpop+jwt", "alg": "ES256"}, {"htm": "GET"})
    doc = _decode(gatepass, proof)
    assert doc["dpop"]["jkt"] is None
    assert doc["dpop"]["jwk_problem"] == "the header has no jwk"
    assert doc["dpop"]["iat_note"] == "no iat: every verifier refuses the proof"
    ids = {w["id"]: w["title"] for w in doc["warnings"]}
    assert ids == {
        "dpop-jwk-missing": (
            "the DPoP proof has no usable public key in jwk (the header has no jwk)"
        ),
        "dpop-claims-missing": "the DPoP proof lacks jti, htu, iat",
    }


def test_plain_tokens_have_no_dpop_section(gatepass: Any, keys: Any) -> None:
    token = gatepass("encode", "sub=1", "--key", keys.path("es.key.pem")).out.strip()
    assert _decode(gatepass, token)["dpop"] is None
    assert "DPoP" not in gatepass("decode", token).out
    other = gatepass(
        "encode", "sub=1", 'cnf={"x5t#S256": "abc"}', "--key", keys.path("es.key.pem")
    ).out.strip()
    view = _decode(gatepass, other)["dpop"]
    assert view["jkt"] is None
    assert view["summary"].startswith("bound by cnf (x5t#S256), not by a DPoP key thumbprint")
