"""Reading whatever can be read from a token, however broken it is.

Deliberately lenient (unlike the token core): an audit must describe hostile and broken tokens
rather than just refuse them, so padding, ``+``/``/`` and duplicate member names are accepted
here, and what is wrong is collected as ``problems``. Only JSON's non-numbers (``NaN``,
``Infinity``, ``1e400``) are refused, as every browser's ``JSON.parse`` refuses them, so that the
command and the tools page see the same token.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Parsed:
    """What could be read from a token, however broken it is."""

    token: str
    header: dict[str, Any] | None = None
    claims: dict[str, Any] | None = None
    signature: bytes = b""
    signing_input: bytes = b""
    problems: list[str] = field(default_factory=list)


def b64url_decode_lenient(segment: str) -> bytes | None:
    text = segment.strip().replace("+", "-").replace("/", "_").rstrip("=")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _not_a_number(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return value


def _json_object(raw: bytes | None, what: str, problems: list[str]) -> dict[str, Any] | None:
    if raw is None:
        problems.append(f"the {what} is not base64url")
        return None
    try:
        value = json.loads(raw, parse_constant=_not_a_number, parse_float=_finite)
    except (ValueError, RecursionError):
        problems.append(f"the {what} is not JSON")
        return None
    if not isinstance(value, dict):
        problems.append(f"the {what} is not a JSON object")
        return None
    return value


def parse_lenient(token: str) -> Parsed:
    parsed = Parsed(token)
    parts = token.split(".")
    if len(parts) == 5:
        parsed.problems.append("five segments: this is a JWE (encrypted), not a JWS")
        parsed.header = _json_object(b64url_decode_lenient(parts[0]), "header", [])
        return parsed
    if len(parts) != 3:
        parsed.problems.append(f"{len(parts)} segment(s) instead of 3")
        if parts:
            parsed.header = _json_object(b64url_decode_lenient(parts[0]), "header", [])
        return parsed
    parsed.header = _json_object(b64url_decode_lenient(parts[0]), "header", parsed.problems)
    parsed.claims = _json_object(b64url_decode_lenient(parts[1]), "payload", parsed.problems)
    signature = b64url_decode_lenient(parts[2])
    if signature is None:
        parsed.problems.append("the signature is not base64url")
    parsed.signature = signature or b""
    parsed.signing_input = f"{parts[0]}.{parts[1]}".encode("ascii", "replace")
    return parsed
