"""RFC 9449's own examples (tests/tokens/data/rfc9449_examples.json, with its attribution).

Each printed proof verifies with the key in its own header at the time it was made (its ``iat``)
and yields the thumbprint the RFC's bound access token carries (Figures 8 and 9); the resource
request proof carries the hash of the RFC's access token. Each also fails as the RFC says it must
when anything about the request, the time or the bytes differs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tokhelp import flip_segment_byte

from gatepass import Key, jwt
from gatepass.errors import (
    DPoPBindingMismatch,
    DPoPProofOutOfWindow,
    DPoPProofReplayed,
    DPoPRequestMismatch,
    InvalidDPoPProof,
)
from gatepass.tokens import dpop
from gatepass.tokens.dpop_replay import MemoryReplayCache

DATA = json.loads((Path(__file__).parent / "data" / "rfc9449_examples.json").read_text())
PROOFS = {vector["id"]: vector for vector in DATA["proofs"]}


class Clock:
    """A clock the test sets: verifier and replay cache read the same one."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _verifier(now: float, max_age: float = dpop.DEFAULT_MAX_AGE) -> dpop.DPoPVerifier:
    clock = Clock(now)
    return dpop.DPoPVerifier(replay=MemoryReplayCache(clock=clock), clock=clock, max_age=max_age)


def _verify(verifier: dpop.DPoPVerifier, vector: dict[str, Any], **changes: Any) -> dpop.DPoPProof:
    request = {
        "method": vector["method"],
        "url": vector["url"],
        "access_token": vector.get("access_token"),
        **changes,
    }
    return verifier.verify(vector.get("proof_text", vector["proof"]), **request)


@pytest.mark.parametrize("vid", sorted(PROOFS))
def test_rfc_proof_verifies_at_its_own_time(vid: str) -> None:
    vector = PROOFS[vid]
    claims = vector["claims"]
    assert jwt.inspect(vector["proof"]).claims == claims  # the transcription is the RFC's
    result = _verify(_verifier(claims["iat"]), vector)
    assert result == dpop.DPoPProof(DATA["jkt"]["value"], claims["jti"], claims["iat"], "ES256")


def test_rfc_thumbprint_and_access_token_hash() -> None:
    jwk = {k: v for k, v in DATA["public_jwk"].items() if not k.startswith("_")}
    assert Key.from_jwk(jwk).thumbprint() == DATA["jkt"]["value"]
    vector = PROOFS["figure-13-and-14-protected-resource-request"]
    assert dpop.access_token_hash(vector["access_token"]) == vector["claims"]["ath"]
    bound = DATA["bound_access_token"]
    assert jwt.inspect(bound["token"]).claims == bound["claims"]
    assert dpop.token_jkt(bound["claims"]) == DATA["jkt"]["value"]


@pytest.mark.parametrize("vid", sorted(PROOFS))
def test_rfc_proof_fails_at_todays_clock_and_after_its_window(vid: str) -> None:
    vector = PROOFS[vid]
    iat = vector["claims"]["iat"]
    real_clock = dpop.DPoPVerifier(replay=MemoryReplayCache())  # years after the RFC
    too_late = _verifier(iat + dpop.DEFAULT_MAX_AGE)
    too_early = _verifier(iat - dpop.DEFAULT_LEEWAY - 1)
    for verifier in (real_clock, too_late, too_early):
        with pytest.raises(DPoPProofOutOfWindow):
            _verify(verifier, vector)
    # One second inside either edge still passes.
    _verify(_verifier(iat + dpop.DEFAULT_MAX_AGE - 1), vector)
    _verify(_verifier(iat - dpop.DEFAULT_LEEWAY), vector)


@pytest.mark.parametrize("vid", sorted(PROOFS))
def test_rfc_proof_with_any_segment_changed_fails(vid: str) -> None:
    vector = PROOFS[vid]
    for segment in range(3):
        changed = {**vector, "proof_text": flip_segment_byte(vector["proof"], segment)}
        with pytest.raises(InvalidDPoPProof):
            _verify(_verifier(vector["claims"]["iat"]), changed)


def test_rfc_proofs_bound_to_another_request() -> None:
    token_request = PROOFS["figure-2-and-5-token-request"]
    resource = PROOFS["figure-13-and-14-protected-resource-request"]
    iat = resource["claims"]["iat"]
    cases = [
        (token_request, {"method": "GET"}, "htm"),
        (token_request, {"url": "https://server.example.com/authorize"}, "htu"),
        (token_request, {"url": "https://evil.example/token"}, "htu"),
        (resource, {"url": "http://resource.example.org/protectedresource"}, "htu"),
        (resource, {"access_token": "another-token"}, "ath"),
        # A proof without ath (made for the token endpoint) cannot carry an access token.
        (token_request, {"access_token": resource["access_token"]}, "ath"),
    ]
    for vector, change, claim in cases:
        with pytest.raises(DPoPRequestMismatch) as caught:
            _verify(_verifier(iat), vector, **change)
        assert caught.value.claim == claim, change
    # The equivalent spellings of the same URL pass (scheme and host case, default port, query).
    _verify(_verifier(iat), resource, url="HTTPS://Resource.Example.ORG:443/protectedresource?x=1")


def test_rfc_token_and_refresh_proofs_share_a_jti_and_the_window_decides() -> None:
    """Figures 5 and 7 reuse one ``jti`` 2680 s apart: a replay if the window spans both."""
    first = PROOFS["figure-2-and-5-token-request"]
    second = PROOFS["figure-7-refresh-token-request"]
    clock = Clock(first["claims"]["iat"])
    long_window = dpop.DPoPVerifier(
        replay=MemoryReplayCache(clock=clock), clock=clock, max_age=3600
    )
    _verify(long_window, first)
    clock.now = second["claims"]["iat"]
    with pytest.raises(DPoPProofReplayed):
        _verify(long_window, second)
    # With the default 60 s window the first entry has long expired: the id may come back.
    clock.now = first["claims"]["iat"]
    default = dpop.DPoPVerifier(replay=MemoryReplayCache(clock=clock), clock=clock)
    _verify(default, first)
    clock.now = second["claims"]["iat"]
    _verify(default, second)


def test_rfc_bound_token_accepts_only_its_own_key() -> None:
    vector = PROOFS["figure-13-and-14-protected-resource-request"]
    claims = DATA["bound_access_token"]["claims"]
    proof = _verify(_verifier(vector["claims"]["iat"]), vector)
    dpop.check_binding(claims, proof)
    other = dpop.DPoPProof("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", "x", proof.iat, "ES256")
    for presented in (other, None):
        with pytest.raises(DPoPBindingMismatch):
            dpop.check_binding(claims, presented)
