"""Test keys and independently made tokens for the tools-page tests.

Reference tokens come from PyJWT (a peer, in the dev extras) or are assembled by hand here, so the
page is checked against an implementation other than its own and other than gatepass's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import jwt as pyjwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

HMAC_SECRET = "a-test-secret-that-is-long-enough-for-hs256!"  # 44 bytes


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class PemPair:
    private_key: Any
    private_pem: str
    public_pem: str


def _pair(key: Any) -> PemPair:
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return PemPair(key, private_pem, public_pem)


@cache
def rsa_pair() -> PemPair:
    return _pair(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@cache
def ec_pair() -> PemPair:
    return _pair(ec.generate_private_key(ec.SECP256R1()))


@cache
def ed_pair() -> PemPair:
    return _pair(ed25519.Ed25519PrivateKey.generate())


def claims(lifetime: int = 600, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "user-42", "iat": now, "exp": now + lifetime, **extra}


def pyjwt_token(
    alg: str,
    payload: dict[str, Any],
    headers: dict[str, Any] | None = None,
    *,
    secret: str | None = None,
) -> str:
    """A token from PyJWT with the test key for ``alg`` (or ``secret`` for HMAC)."""
    if alg.startswith("HS"):
        key: Any = secret or HMAC_SECRET
    elif alg[:2] in {"RS", "PS"}:
        key = rsa_pair().private_key
    elif alg.startswith("ES"):
        key = ec_pair().private_key
    else:
        key = ed_pair().private_key
    return str(pyjwt.encode(payload, key, algorithm=alg, headers=headers))


def hs256_by_hand(header: dict[str, Any], payload: dict[str, Any], secret: bytes) -> str:
    """An HS256 token built byte by byte (for forgeries no library will make)."""
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(payload, separators=(",", ":")).encode())
    )
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(mac)


def tamper_payload(token: str, **changes: Any) -> str:
    """Change claims but keep the original signature."""
    head, payload, sig = token.split(".")
    data = json.loads(unb64url(payload))
    data.update(changes)
    return ".".join([head, b64url(json.dumps(data).encode()), sig])
