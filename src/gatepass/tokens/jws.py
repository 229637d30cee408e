"""Compact JWS (RFC 7515): sign bytes, verify a token, inspect one without verifying.

Verification order is the security argument, so it is written out here once:

1. type and **size** first (a 10 MB token is refused before a single byte is decoded);
2. exactly three segments, each canonical base64url (all decoded before any crypto);
3. the header is a JSON object without duplicate names, with a string ``alg``, no ``crit`` (no
   extension is understood, so every critical one is unknown) and no ``b64``/``zip``;
4. the key comes from the *caller* (a :class:`Key`, or a :class:`KeySet` selecting by ``kid`` and
   ``alg``); the header's ``alg`` must be the key's algorithm. ``jwk``/``jku``/``x5u``/``x5c``
   headers are never looked at, so a token can never bring its own key;
5. the signature is checked with the key's prepared primitive.

Nothing is returned unless every step passed, and each failure raises one precise
:class:`~gatepass.errors.InvalidToken` subclass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gatepass.errors import (
    AlgorithmMismatch,
    BadSignature,
    ConfigurationError,
    KeyUsageError,
    MalformedToken,
    TokenTooLarge,
    UnknownCriticalHeader,
    UnsupportedAlgorithm,
    quote_prefix,
)
from gatepass.tokens._b64 import b64decode, b64encode
from gatepass.tokens._json import dumps_compact, loads_object
from gatepass.tokens.algorithms import ALGORITHM_SPECS
from gatepass.tokens.keys import Key, KeySet

DEFAULT_MAX_SIZE = 8192
"""Default size limit for a whole token, in bytes (8 KiB, far above any sane login token)."""

_FORBIDDEN_SIGN_HEADERS = frozenset({"alg", "crit", "b64", "zip", "enc"})
#: The longest first segment quoted in an error when it is not a JOSE header: gatepass's own
#: session and refresh tokens start with a 4-character public routing tag.
_PUBLIC_TAG_LENGTH = 8

# Parsed, validated headers by their encoded segment. Tokens from one issuer repeat the same
# header, so this skips a base64 decode and a JSON parse per verification. Entries are immutable
# in practice (never handed out), and the cache is bounded.
_HEADER_CACHE: dict[str, dict[str, Any]] = {}
_HEADER_CACHE_SIZE = 256


@dataclass(frozen=True, slots=True)
class JWSView:
    """A decoded but NOT verified JWS, for tooling and logs."""

    header: dict[str, Any]
    payload: bytes
    signature: bytes
    signing_input: bytes


def as_text(token: object, max_size: int) -> str:
    """The token as ASCII text, its size checked before anything else is looked at.

    ``max_size`` must be a whole number: ``None`` was a TypeError, and a NaN (which no length
    exceeds) would silently have lifted the limit."""
    if type(max_size) is not int:
        raise ConfigurationError(f"max_size must be a whole number of bytes, not {max_size!r:.40}")
    if isinstance(token, str):
        if len(token) > max_size:
            raise TokenTooLarge(f"token is {len(token)} characters; the limit is {max_size}")
        return token
    if isinstance(token, bytes | bytearray | memoryview):
        if len(token) > max_size:
            raise TokenTooLarge(f"token is {len(token)} bytes; the limit is {max_size}")
        try:
            return bytes(token).decode("ascii")
        except UnicodeDecodeError:
            raise MalformedToken(f"token is not ASCII: {quote_prefix(token)}") from None
    raise MalformedToken(f"a token is a str or bytes, not {type(token).__name__}")


def split_compact(text: str) -> list[str]:
    """The three segments of a compact JWS, or :class:`MalformedToken` (quoting no secret)."""
    parts = text.split(".")
    if len(parts) != 3:
        # Quote the first segment only, and only when it is public: a JOSE header (base64url of
        # '{"', so it starts "eyJ") or the short routing tag of a gatepass session or refresh
        # token. What follows the first dot may be a session secret, and another issuer's opaque
        # token may hold its secret before the dot; this message ends up in logs (security
        # note 12: logs never hold a token).
        first = parts[0]
        public = first.startswith("eyJ") or len(first) <= _PUBLIC_TAG_LENGTH
        shown = f"; it starts {quote_prefix(first)}" if len(parts) > 1 and public else ""
        raise MalformedToken(
            f"a compact JWS has exactly three dot-separated segments, not {len(parts)}{shown}"
        )
    return parts


def check_header(header: dict[str, Any]) -> None:
    """Refuse headers no gatepass verifier accepts: no string ``alg``, ``crit``, ``b64``, JWE."""
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise MalformedToken("header 'alg' is missing or not a string")
    if "crit" in header:
        crit = header["crit"]
        if not isinstance(crit, list) or not crit or not all(isinstance(c, str) for c in crit):
            raise UnknownCriticalHeader("header 'crit' must be a non-empty list of names")
        raise UnknownCriticalHeader(
            f"header 'crit' lists extensions this verifier does not understand: "
            f"{', '.join(repr(c[:24]) for c in crit[:4])}"
        )
    if "b64" in header:
        raise UnknownCriticalHeader("header 'b64' (RFC 7797 unencoded payload) is not supported")
    if "zip" in header or "enc" in header:
        raise MalformedToken("this is a JWE header; gatepass verifies signatures only")
    for name in ("kid", "typ", "cty"):
        if name in header and not isinstance(header[name], str):
            raise MalformedToken(f"header {name!r} must be a string")


def _parse_header(segment: str) -> dict[str, Any]:
    header = _HEADER_CACHE.get(segment)
    if header is None:
        header = loads_object(b64decode(segment, "header"), "header")
        check_header(header)
        if len(_HEADER_CACHE) >= _HEADER_CACHE_SIZE:
            _HEADER_CACHE.clear()
        _HEADER_CACHE[segment] = header
    return header


def select_key(key_or_keyset: Key | KeySet, header: Mapping[str, Any]) -> Key:
    """The caller's key that may verify a token with this header, or an InvalidToken error."""
    alg = header["alg"]
    if alg not in ALGORITHM_SPECS:
        raise UnsupportedAlgorithm(f"algorithm {quote_prefix(alg, 16)} is not supported")
    if isinstance(key_or_keyset, Key):
        key = key_or_keyset
        if not key.accepts(alg):
            raise AlgorithmMismatch(f"token alg {alg!r} does not match the key's {key.alg!r}")
        if not key.can_verify:
            raise KeyUsageError("this key's key_ops do not allow verification")
        return key
    if isinstance(key_or_keyset, KeySet):
        return key_or_keyset.find(header.get("kid"), alg)
    raise KeyUsageError(f"verify needs a Key or KeySet, not {type(key_or_keyset).__name__}")


def verify_compact(
    token: str | bytes, key_or_keyset: Key | KeySet, max_size: int = DEFAULT_MAX_SIZE
) -> tuple[dict[str, Any], bytes]:
    """Verify and return ``(header, payload)``. The header is shared: do not mutate it."""
    text = as_text(token, max_size)
    header_seg, payload_seg, signature_seg = split_compact(text)
    header = _parse_header(header_seg)
    payload = b64decode(payload_seg, "payload")
    signature = b64decode(signature_seg, "signature")
    key = select_key(key_or_keyset, header)
    signing_input = text[: len(header_seg) + 1 + len(payload_seg)].encode("ascii")
    if not key._verify_impl(signing_input, signature):
        raise BadSignature(_bad_signature(key, header))
    return header, payload


def _bad_signature(key: Key, header: Mapping[str, Any]) -> str:
    """The failure message; a token naming another ``kid`` than the key's says so, because
    "signed with a different key" is the usual reason and the two kids show it at a glance."""
    message = f"signature does not verify with key {key.kid[:32]!r} ({key.alg})"
    kid = header.get("kid")
    if isinstance(kid, str) and kid != key.kid:
        message += f"; the token names kid {quote_prefix(kid, 32)}"
    return message


def verify(
    token: str | bytes, key_or_keyset: Key | KeySet, *, max_size: int = DEFAULT_MAX_SIZE
) -> bytes:
    """Verify a compact JWS and return its payload bytes, or raise InvalidToken."""
    return verify_compact(token, key_or_keyset, max_size)[1]


def encode_header(key: Key, headers: Mapping[str, Any] | None) -> str:
    """The encoded protected header for ``key`` plus extra ``headers`` (cached per key)."""
    cache_key: Any = None
    if headers and isinstance(headers, Mapping):
        # Cache only all-string headers (typ, kid, cty: the common case). Other values can be
        # equal without being the same JSON (1 == 1.0 == True), so they are built every time.
        if all(type(v) is str for v in headers.values()):
            cache_key = tuple(sorted(headers.items()))
        else:
            cache_key = False
    cached = key._header_cache.get(cache_key) if cache_key is not False else None
    if cached is not None:
        return cached
    header: dict[str, Any] = {"alg": key.alg, "kid": key.kid}
    if headers:
        if not isinstance(headers, Mapping):
            raise ConfigurationError(f"headers must be a mapping, not {type(headers).__name__}")
        clash = _FORBIDDEN_SIGN_HEADERS.intersection(headers)
        if clash:
            raise ConfigurationError(
                f"header(s) {', '.join(sorted(clash))} cannot be set: alg comes from the key, "
                "and gatepass produces only tokens it can verify itself"
            )
        header.update(headers)
    check_header(header)
    segment = b64encode(dumps_compact(header))
    if cache_key is not False and len(key._header_cache) < 16:
        key._header_cache[cache_key] = segment
    return segment


def sign(payload: bytes, key: Key, headers: Mapping[str, Any] | None = None) -> str:
    """Sign ``payload`` bytes with ``key``; the header gets ``alg`` and ``kid`` from the key."""
    if not isinstance(key, Key):
        raise KeyUsageError(f"sign needs a Key, not {type(key).__name__}")
    if not key.is_private:
        raise KeyUsageError(f"cannot sign with a public {key.alg} key")
    if not isinstance(payload, bytes | bytearray):
        raise ConfigurationError("the JWS payload must be bytes")
    signing_input = encode_header(key, headers) + "." + b64encode(bytes(payload))
    return signing_input + "." + b64encode(key.sign(signing_input.encode("ascii")))


def inspect(token: str | bytes, *, max_size: int = DEFAULT_MAX_SIZE) -> JWSView:
    """Decode a compact JWS WITHOUT verifying it (for tooling and logs only)."""
    text = as_text(token, max_size)
    header_seg, payload_seg, signature_seg = split_compact(text)
    header = loads_object(b64decode(header_seg, "header"), "header")
    return JWSView(
        header=header,
        payload=b64decode(payload_seg, "payload"),
        signature=b64decode(signature_seg, "signature"),
        signing_input=f"{header_seg}.{payload_seg}".encode("ascii"),
    )
