"""The JWS algorithms gatepass implements (RFC 7518, RFC 8037, RFC 9864), as data.

There is no ``none`` entry and no way to add one: an algorithm that is not in this table cannot be
named by a key, and a token can only be verified by a key. JWE algorithms are absent on purpose
(security note 12: every JWE-capable peer had a decompression or iteration bomb).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gatepass.errors import InvalidKey

Family = Literal["HMAC", "RSA", "RSA-PSS", "ECDSA", "EdDSA"]


@dataclass(frozen=True, slots=True)
class AlgorithmSpec:
    """What an algorithm needs from a key and what its signatures look like."""

    name: str
    family: Family
    kty: str  # JWK key type that can carry it
    hash_name: str | None  # hashlib name; None for EdDSA
    hash_size: int  # bytes; minimum HMAC secret length (RFC 7518 3.2)
    curve: str | None = None  # JWK crv for EC/OKP keys
    signature_size: int | None = None  # exact raw size where the algorithm fixes it


ALGORITHM_SPECS: dict[str, AlgorithmSpec] = {
    spec.name: spec
    for spec in (
        AlgorithmSpec("HS256", "HMAC", "oct", "sha256", 32, signature_size=32),
        AlgorithmSpec("HS384", "HMAC", "oct", "sha384", 48, signature_size=48),
        AlgorithmSpec("HS512", "HMAC", "oct", "sha512", 64, signature_size=64),
        AlgorithmSpec("RS256", "RSA", "RSA", "sha256", 32),
        AlgorithmSpec("RS384", "RSA", "RSA", "sha384", 48),
        AlgorithmSpec("RS512", "RSA", "RSA", "sha512", 64),
        AlgorithmSpec("PS256", "RSA-PSS", "RSA", "sha256", 32),
        AlgorithmSpec("PS384", "RSA-PSS", "RSA", "sha384", 48),
        AlgorithmSpec("PS512", "RSA-PSS", "RSA", "sha512", 64),
        AlgorithmSpec("ES256", "ECDSA", "EC", "sha256", 32, "P-256", 64),
        AlgorithmSpec("ES384", "ECDSA", "EC", "sha384", 48, "P-384", 96),
        AlgorithmSpec("ES512", "ECDSA", "EC", "sha512", 64, "P-521", 132),
        AlgorithmSpec("EdDSA", "EdDSA", "OKP", None, 0, "Ed25519", 64),
        AlgorithmSpec("Ed25519", "EdDSA", "OKP", None, 0, "Ed25519", 64),
    )
}

ALGORITHMS: tuple[str, ...] = tuple(ALGORITHM_SPECS)

# Header names that denote the very same algorithm for a given key (RFC 9864 section 2: "Ed25519"
# is the fully specified name of EdDSA over Ed25519). Never crosses a key type or a hash.
SAME_ALGORITHM: dict[str, frozenset[str]] = {
    "EdDSA": frozenset({"EdDSA", "Ed25519"}),
    "Ed25519": frozenset({"EdDSA", "Ed25519"}),
}

# The algorithm implied by a curve, where the key type alone decides it.
CURVE_DEFAULT_ALG: dict[str, str] = {
    "P-256": "ES256",
    "P-384": "ES384",
    "P-521": "ES512",
    "Ed25519": "EdDSA",
}

MIN_RSA_BITS = 2048
#: OpenSSL's own ceiling (OPENSSL_RSA_MAX_MODULUS_BITS): it verifies no longer modulus, and
#: generating one would take hours (or overflow a C long).
MAX_RSA_BITS = 16384


def spec_for(alg: object) -> AlgorithmSpec:
    """The spec of ``alg``, or :class:`~gatepass.errors.InvalidKey` naming what is supported."""
    if not isinstance(alg, str) or alg not in ALGORITHM_SPECS:
        shown = alg if isinstance(alg, str) and len(alg) <= 16 else type(alg).__name__
        raise InvalidKey(
            f"unsupported algorithm {shown!r}; gatepass supports {', '.join(ALGORITHM_SPECS)}"
        )
    return ALGORITHM_SPECS[alg]
