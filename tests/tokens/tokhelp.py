"""Helpers shared by the token-core tests: base64url, hand-made tokens, tampering.

The tests build hostile tokens byte by byte (duplicate members, ``crit``, embedded keys, odd
base64) and sign them with the raw primitive ``Key.sign``, so that the *only* thing wrong with a
token is the property under test.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from gatepass import Key

# Typical access-token claims (the same shape the benchmark uses).
NOW = 1_760_000_000


def b64e(data: bytes) -> str:
    """Canonical base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    """Lenient base64url decoding, for the *tests* only (re-adds padding)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def compact(header: bytes | str | dict[str, Any], payload: bytes | str | dict[str, Any]) -> str:
    """The signing input ``b64(header).b64(payload)`` from raw bytes, text or a dict."""
    return f"{b64e(_raw(header))}.{b64e(_raw(payload))}"


def _raw(part: bytes | str | dict[str, Any]) -> bytes:
    if isinstance(part, bytes):
        return part
    if isinstance(part, str):
        return part.encode("utf-8")
    return json.dumps(part, separators=(",", ":")).encode("utf-8")


def forge(
    key: Key, header: bytes | str | dict[str, Any], payload: bytes | str | dict[str, Any]
) -> str:
    """A compact token whose signature is *valid* for ``key`` over exactly these bytes."""
    signing_input = compact(header, payload)
    return f"{signing_input}.{b64e(key.sign(signing_input.encode('ascii')))}"


def flip_segment_byte(token: str, segment: int) -> str:
    """Flip the low bit of the middle decoded byte of one segment and re-encode canonically."""
    parts = token.split(".")
    raw = bytearray(b64d(parts[segment]))
    if not raw:
        raw = bytearray(b"\x00")
    else:
        raw[len(raw) // 2] ^= 0x01
    parts[segment] = b64e(bytes(raw))
    return ".".join(parts)


def load_json(path: Path) -> Any:
    with path.open("rb") as handle:
        return json.load(handle)


def access_claims(now: int = NOW) -> dict[str, Any]:
    return {
        "iss": "https://auth.example.com",
        "sub": "user-1234567890",
        "aud": "https://api.example.com",
        "iat": now,
        "exp": now + 900,
        "jti": "8c3f1d6e-2b7a-4f0e-9a51-7d2c4b6e8f10",
        "scope": "openid profile email read:orders",
        "sid": "s-4f0e9a517d2c4b6e",
    }
