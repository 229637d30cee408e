"""Reading PEM keys and certificates, and the algorithm a key's curve implies.

A PEM never becomes an HMAC secret: this module only ever returns asymmetric key objects, so the
algorithm-confusion attack (a public key's PEM text used as an HMAC secret) has no path here.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from gatepass.errors import InvalidKey
from gatepass.tokens.algorithms import CURVE_DEFAULT_ALG
from gatepass.tokens.primitives import CURVE_NAMES, PrivateKey, PublicKey


def load_pem(
    pem: bytes | str, password: bytes | None = None
) -> tuple[PrivateKey | None, PublicKey | None]:
    """``(private, None)`` for a private key, ``(None, public)`` for a public key or certificate."""
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
    if not isinstance(data, bytes):
        raise InvalidKey("PEM must be bytes or str")
    private: Any = None
    public: Any = None
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            public = x509.load_pem_x509_certificate(data).public_key()
        elif b"PRIVATE KEY-----" in data:
            private = serialization.load_pem_private_key(data, password=password)
        else:
            public = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidKey(f"could not load PEM key: {str(exc).splitlines()[0][:120]}") from None
    material = private if private is not None else public
    if not isinstance(material, PrivateKey | PublicKey):
        raise InvalidKey(f"unsupported key type {type(material).__name__} in PEM")
    return private, public


def implied_alg(material: PrivateKey | PublicKey) -> str:
    """The one algorithm an EC or Ed25519 key can serve; RSA keys serve several."""
    if isinstance(material, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        crv = CURVE_NAMES.get(material.curve.name)
        if crv is None:
            raise InvalidKey(f"unsupported curve {material.curve.name}")
        return CURVE_DEFAULT_ALG[crv]
    if isinstance(material, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "EdDSA"
    raise InvalidKey("RSA keys serve several algorithms: pass alg= (e.g. 'RS256' or 'PS256')")
