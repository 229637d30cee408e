"""Strict JSON for JOSE headers and JWT claims.

RFC 7515 section 5.2 and RFC 8725 ask a verifier to reject duplicate member names, because two
parsers that pick different duplicates see different tokens. Python's ``json`` silently keeps the
last one; the ``object_pairs_hook`` below refuses them instead. ``NaN``/``Infinity`` are not JSON
and are refused. Nesting is bounded so that a small token cannot exhaust the stack.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from gatepass.errors import ConfigurationError, MalformedToken

MAX_DEPTH = 16


class _Duplicate(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _Duplicate(name)
            seen.add(name)
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    # ``1e400`` is valid JSON syntax but parses to infinity: an ``exp`` that never comes.
    value = float(text)
    if value in (_INF, -_INF):
        raise ValueError("number out of range")
    return value


_INF = float("inf")
_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_constant=_no_constants, parse_float=_finite_float
)
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
# ^ the C scanner, without decode()'s regex-based whitespace handling
_WHITESPACE = " \t\n\r"


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Iteratively check nesting depth (no recursion, bounded by the input size)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


def _why_not_json(raw: bytes) -> str:
    try:
        _DECODER.decode(raw.decode("utf-8"))
    except RecursionError:
        return "nested too deeply"
    except ValueError as exc:
        return str(exc)[:80]
    return "not a single JSON value"


def loads_object(raw: bytes, what: str) -> dict[str, Any]:
    """Parse ``raw`` as a UTF-8 JSON object, or raise :class:`MalformedToken`."""
    try:
        text = raw.decode("utf-8")
        if text[:1] == "{":
            value, end = _SCAN(text, 0)
            if end != len(text) and text[end:].strip(_WHITESPACE):
                raise ValueError("extra data after the JSON object")
        else:
            value = _DECODER.decode(text)
    except StopIteration:
        # The bare scanner says only "no value here"; the full decoder says where and why.
        raise MalformedToken(f"{what} is not valid JSON ({_why_not_json(raw)})") from None
    except _Duplicate as exc:
        raise MalformedToken(f"{what} has a duplicate member name {str(exc)[:32]!r}") from None
    except RecursionError:
        raise MalformedToken(f"{what} is nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise MalformedToken(f"{what} is not valid UTF-8 (a bad byte at {exc.start})") from None
    except ValueError as exc:
        # JSONDecodeError's text names the problem and its position, never the input itself.
        raise MalformedToken(f"{what} is not valid JSON ({str(exc)[:80]})") from None
    if type(value) is not dict:
        raise MalformedToken(f"{what} must be a JSON object, not {type(value).__name__}")
    # Brackets can only nest as deep as there are brackets: skip the walk for typical tokens.
    if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH and _depth_exceeds(value, MAX_DEPTH):
        raise MalformedToken(f"{what} is nested more than {MAX_DEPTH} levels deep")
    return value


# Built once: json.dumps() with non-default options constructs a new encoder on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps_text(value: Any) -> str:
    """Compact JSON text (no spaces, UTF-8 characters as they are, no NaN): the one spelling
    gatepass writes, whether it is signed (tokens), hashed (JWK thumbprints) or stored."""
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"value is not JSON-serialisable: {str(exc)[:120]}") from None
    except RecursionError:  # nested far deeper than MAX_DEPTH: refused all the same
        raise ConfigurationError(f"value is nested more than {MAX_DEPTH} levels deep") from None


def dumps_compact(value: Any) -> bytes:
    """Serialise compactly as UTF-8 bytes, the form that is signed."""
    text = dumps_text(value)
    try:
        raw = text.encode()
    except UnicodeEncodeError as exc:  # lone surrogates
        raise ConfigurationError(f"value is not JSON-serialisable: {str(exc)[:120]}") from None
    # Never produce what loads_object would refuse: a token gatepass cannot verify itself.
    if text.count("{") + text.count("[") > MAX_DEPTH and _depth_exceeds(value, MAX_DEPTH):
        raise ConfigurationError(f"value is nested more than {MAX_DEPTH} levels deep")
    return raw
