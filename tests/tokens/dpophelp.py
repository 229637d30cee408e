"""Helpers for the DPoP tests: hand-made proofs, a settable clock, verifiers at a fixed time.

``forge_proof`` builds a proof from plain dicts and signs it with the raw primitive
(``Key.sign``), so a test can change exactly one thing (a header member, a claim, the key in
``jwk``, the signer) and the signature is still genuinely valid.
"""

from __future__ import annotations

import secrets
from typing import Any

from tokhelp import forge

from gatepass import Key
from gatepass.tokens import dpop
from gatepass.tokens.dpop_replay import MemoryReplayCache

NOW = 1_760_000_000
URL = "https://api.example/orders"
PUBLIC_MEMBERS = ("kty", "crv", "x", "y", "n", "e")


class Clock:
    """A clock the test sets; the verifier and its replay cache read the same one."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def verifier_at(now: float = NOW, **options: Any) -> dpop.DPoPVerifier:
    """A verifier whose clock (and its replay cache's) reads ``now``."""
    clock = Clock(now)
    return dpop.DPoPVerifier(replay=MemoryReplayCache(clock=clock), clock=clock, **options)


def public_jwk(key: Key) -> dict[str, Any]:
    return {m: v for m, v in key.to_jwk().items() if m in PUBLIC_MEMBERS}


def forge_proof(
    signer: Key,
    *,
    header: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    jwk_of: Key | None = None,
) -> str:
    """A proof signed by ``signer`` whose header names ``jwk_of`` (default: the signer)."""
    full_header: dict[str, Any] = {
        "typ": "dpop+jwt",
        "alg": signer.alg,
        "jwk": public_jwk(jwk_of or signer),
        **(header or {}),
    }
    full_claims: dict[str, Any] = {
        "jti": secrets.token_urlsafe(16),
        "htm": "GET",
        "htu": URL,
        "iat": NOW,
        **(claims or {}),
    }
    for name in drop:
        full_header.pop(name, None)
        full_claims.pop(name, None)
    return forge(signer, full_header, full_claims)
