"""JSON Web Tokens (RFC 7519) on top of :mod:`gatepass.tokens.jws`.

``verify`` checks the signature *and* the claims, by default, exactly: there is no way to get the
claims of a token whose signature or expiry failed (golang-jwt CVE-2024-51744 returned both a
result and an error, and callers that only looked at expiry accepted forgeries). ``exp`` is
required unless the caller says otherwise, ``now >= exp`` is expired, and ``iss``/``aud`` are
compared exactly and type-checked (PyJWT CVE-2024-53861 matched ``iss`` as a substring).
``inspect`` is the only way to read claims without verifying, and its name says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gatepass.errors import (
    ClaimError,
    ConfigurationError,
    ExpiredToken,
    InvalidAudience,
    InvalidIssuer,
    InvalidType,
    KeyUsageError,
    MissingClaim,
    NotYetValid,
)
from gatepass.tokens import jws
from gatepass.tokens._b64 import b64encode
from gatepass.tokens._json import dumps_compact, loads_object
from gatepass.tokens._numbers import finite_seconds
from gatepass.tokens.jws import DEFAULT_MAX_SIZE
from gatepass.tokens.keys import Key, KeySet

_NUMERIC_CLAIMS = ("exp", "nbf", "iat")
_STRING_CLAIMS = ("iss", "sub", "jti", "sid")


@dataclass(frozen=True, slots=True)
class TokenView:
    """A decoded but NOT verified JWT, for tooling and logs."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signature: bytes
    signing_input: bytes


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def normalize_typ(typ: str) -> str:
    """RFC 7515 4.1.9 / RFC 8725 3.11: compare media types case-insensitively, sans prefix."""
    lowered = typ.lower()
    return lowered[12:] if lowered.startswith("application/") else lowered


def encode(
    claims: Mapping[str, Any],
    key: Key,
    *,
    expires_in: int | float | None = None,
    headers: Mapping[str, Any] | None = None,
    typ: str | None = "JWT",
    now: float | None = None,
) -> str:
    """Sign ``claims`` as a JWT. Adds ``iat`` (and ``exp`` with ``expires_in`` seconds).

    The header gets ``alg`` and ``kid`` from the key and ``typ`` (default ``JWT``; RFC 9068
    access tokens use ``at+jwt``).
    """
    if not isinstance(claims, Mapping):
        raise ConfigurationError("JWT claims must be a mapping")
    if not isinstance(key, Key):
        raise KeyUsageError(f"encode needs a Key, not {type(key).__name__}")
    if not key.is_private:
        raise KeyUsageError(f"cannot sign with a public {key.alg} key")
    body = dict(claims)
    issued = body.setdefault("iat", int(time.time() if now is None else finite_seconds(now, "now")))
    if not _is_number(issued):
        raise ConfigurationError("claim 'iat' must be a number")
    if expires_in is not None:
        if not _is_number(expires_in) or finite_seconds(expires_in, "expires_in") <= 0:
            raise ConfigurationError("expires_in must be a positive number of seconds")
        body["exp"] = issued + int(expires_in)
    _check_claim_types(body)
    if headers is not None and not isinstance(headers, Mapping):
        raise ConfigurationError(f"headers must be a mapping, not {type(headers).__name__}")
    all_headers: dict[str, Any] = dict(headers) if headers else {}
    if typ is not None:
        all_headers.setdefault("typ", typ)
    signing_input = jws.encode_header(key, all_headers) + "." + b64encode(dumps_compact(body))
    return signing_input + "." + b64encode(key.sign(signing_input.encode("ascii")))


def _check_claim_types(claims: Mapping[str, Any]) -> None:
    """Refuse to sign registered claims of a type :func:`validate_claims` would reject."""
    for name in _NUMERIC_CLAIMS:
        if name in claims and not _is_number(claims[name]):
            raise ConfigurationError(f"claim {name!r} must be a number (seconds since the epoch)")
    for name in _STRING_CLAIMS:
        if name in claims and not isinstance(claims[name], str):
            raise ConfigurationError(f"claim {name!r} must be a string")
    aud = claims.get("aud")
    if aud is not None and not (
        isinstance(aud, str)
        or (isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud))
    ):
        raise ConfigurationError("claim 'aud' must be a string or a non-empty list of strings")


def validate_claims(
    claims: Mapping[str, Any],
    *,
    now: float,
    issuer: str | Collection[str] | None = None,
    audience: str | None = None,
    leeway: float = 0,
    max_age: float | None = None,
    require: Collection[str] = ("exp",),
) -> None:
    """Check registered claims. Pure: every caller (sync, async, strategies) shares it.

    ``now``, ``leeway`` and ``max_age`` must be finite numbers (``ConfigurationError``): a NaN
    makes every comparison below false, which would let an expired token through.
    """
    now = finite_seconds(now, "now")
    leeway = finite_seconds(leeway, "leeway") if leeway else 0
    if max_age is not None:
        max_age = finite_seconds(max_age, "max_age")
    if type(require) is not tuple and (
        isinstance(require, str) or not isinstance(require, Iterable)
    ):
        # A str would be read letter by letter: require="sub" is a claim "s", "u" and "b".
        raise ConfigurationError(
            f"require must be a collection of claim names, not {require!r:.40}"
        )
    for name in require:
        if name not in claims:
            raise MissingClaim(f"required claim {name!r} is missing", name)
    for name in _NUMERIC_CLAIMS:
        if name in claims:
            value_type = type(claims[name])
            # Exact int/float is the fast path for parsed JSON; _is_number decides the rest.
            if value_type is not int and value_type is not float and not _is_number(claims[name]):
                raise ClaimError(f"claim {name!r} must be a number", name)
    for name in _STRING_CLAIMS:
        if name in claims and type(claims[name]) is not str and not isinstance(claims[name], str):
            raise ClaimError(f"claim {name!r} must be a string", name)
    exp = claims.get("exp")
    if exp is not None and now - leeway >= exp:
        raise ExpiredToken("token expired", "exp")
    nbf = claims.get("nbf")
    if nbf is not None and now + leeway < nbf:
        raise NotYetValid("token is not valid yet (nbf)", "nbf")
    iat = claims.get("iat")
    if iat is not None and now + leeway < iat:
        raise NotYetValid("token was issued in the future (iat)", "iat")
    if max_age is not None:
        if iat is None:
            raise MissingClaim("max_age needs the 'iat' claim", "iat")
        if now - leeway >= iat + max_age:
            raise ExpiredToken(f"token is older than max_age={max_age}s", "iat")
    if issuer is not None:
        iss = claims.get("iss")
        if type(issuer) is not str and not isinstance(issuer, Iterable):
            raise ConfigurationError(
                f"issuer must be a str or a collection of str, not {issuer!r:.40}"
            )
        accepted = (issuer,) if isinstance(issuer, str) else tuple(issuer)
        if not isinstance(iss, str) or iss not in accepted:
            raise InvalidIssuer("issuer is missing or not the expected one", "iss")
    aud = claims.get("aud")
    if audience is not None:
        if isinstance(aud, str):
            ok = aud == audience
        elif isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud):
            ok = audience in aud
        else:
            ok = False
        if not ok:
            raise InvalidAudience("audience is missing or does not include the expected one", "aud")
    elif aud is not None:
        # RFC 7519 4.1.3: a recipient that does not identify itself with a value in 'aud' MUST
        # reject the token. Pass audience= to accept tokens meant for you.
        raise InvalidAudience("token has an 'aud' claim but no audience was expected", "aud")


def verify(
    token: str | bytes,
    key: Key | KeySet,
    *,
    issuer: str | Collection[str] | None = None,
    audience: str | None = None,
    leeway: float = 0,
    max_age: float | None = None,
    typ: str | None = None,
    require: Collection[str] = ("exp",),
    now: float | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
    clock: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """Verify signature and claims; return the claims or raise InvalidToken.

    ``typ``: expected header type (e.g. ``"at+jwt"``); compared case-insensitively without an
    ``application/`` prefix. ``require``: claims that must be present (``exp`` by default).
    ``now``: the time to check against, in seconds since the epoch (default: the current time),
    the one way to judge a token at another moment, as in :func:`encode`. ``clock`` is
    deprecated, a second way to say the same thing kept only so that existing callers keep
    working (no warning: the library layers never write to a log): pass ``now=clock()``.
    """
    if clock is not None and now is None:
        if not callable(clock):
            raise ConfigurationError(f"clock must be a function, not {clock!r:.40}")
        now = clock()
    header, payload = jws.verify_compact(token, key, max_size)
    if typ is not None:
        if not isinstance(typ, str):
            raise ConfigurationError(f"typ must be a str, not {type(typ).__name__}")
        got = header.get("typ")
        if got is None or normalize_typ(got) != normalize_typ(typ):
            raise InvalidType(f"token type is {str(got)[:24]!r}, expected {typ!r}")
    claims = loads_object(payload, "claims")
    validate_claims(
        claims,
        now=time.time() if now is None else now,
        issuer=issuer,
        audience=audience,
        leeway=leeway,
        max_age=max_age,
        require=require,
    )
    return claims


def inspect(token: str | bytes, *, max_size: int = DEFAULT_MAX_SIZE) -> TokenView:
    """Decode header and claims WITHOUT verifying anything (tooling, logs, debugging)."""
    view = jws.inspect(token, max_size=max_size)
    return TokenView(
        header=view.header,
        claims=loads_object(view.payload, "claims"),
        signature=view.signature,
        signing_input=view.signing_input,
    )
