"""Strict, canonical base64url (RFC 7515 section 2, RFC 4648 section 5 without padding).

Lenient decoders were a recurring source of token malleability: PyJWT, Authlib and python-jose
accepted spaces, junk characters and padding inside tokens, so one signed token had many spellings.
Here every byte string has exactly one accepted encoding: the alphabet is checked with a compiled
regular expression (C speed, not a per-character Python loop), the length must be a possible
unpadded length, and the unused trailing bits of the last character must be zero.
"""

from __future__ import annotations

import binascii

from gatepass.errors import MalformedToken

# Characters whose low 4 (resp. 2) bits are zero: the only legal last characters when the encoded
# length is 2 (resp. 3) modulo 4.
_LAST_OF_2 = frozenset("AQgw")
_LAST_OF_3 = frozenset("AEIMQUYcgkosw048")
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_PADDING = (b"", b"", b"==", b"=")


_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


def b64encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url text."""
    # binascii directly: base64.urlsafe_b64encode adds two Python-level calls per segment.
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=").decode()


def b64decode(text: str, what: str = "segment") -> bytes:
    """Decode canonical unpadded base64url, or raise :class:`MalformedToken` naming ``what``.

    The alphabet check is done by ``binascii`` in strict mode (C speed); the three characters that
    strict standard base64 accepts but base64url does not (``+``, ``/``, ``=``) are refused first.
    """
    remainder = len(text) % 4
    if remainder == 1 or "+" in text or "/" in text or "=" in text:
        raise MalformedToken(f"{what} is not canonical unpadded base64url")
    if (remainder == 2 and text[-1] not in _LAST_OF_2) or (
        remainder == 3 and text[-1] not in _LAST_OF_3
    ):
        raise MalformedToken(f"{what} is not canonical base64url (non-zero trailing bits)")
    try:
        return binascii.a2b_base64(
            text.encode("ascii").translate(_TO_STANDARD) + _PADDING[remainder], strict_mode=True
        )
    except ValueError:  # binascii.Error, or non-ASCII text
        raise MalformedToken(
            f"{what} is not base64url: only A-Z a-z 0-9 - _ are allowed, no padding"
        ) from None


def b64decode_int(text: object, what: str) -> int:
    """Decode a JWK integer member (RFC 7518 6.3: base64url big-endian, no leading zeros)."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"JWK member {what!r} must be a non-empty base64url string")
    raw = b64decode(text, f"JWK member {what!r}")
    return int.from_bytes(raw, "big")
