"""DPoP proofs (RFC 9449): make one, verify one, and check a token's binding to one.

A DPoP proof is a small JWT a client signs for every request with a key it never lets go of. It
names the request (``htm`` method, ``htu`` URL), a fresh id (``jti``), the time (``iat``), the
access token it travels with (``ath``, its SHA-256) and, when the server asks, a server nonce. A
token bound to that key (``cnf.jkt``, the key's RFC 7638 thumbprint) is then worth nothing without
a fresh proof: copying it out of a page (XSS) no longer lets anyone use it elsewhere.

Here: :func:`create_proof` (clients and tests), :func:`check_binding` and :func:`token_jkt`
(RFC 9449 6.1 and 7.2, pure), :func:`normalize_htu`; and, from :mod:`gatepass.tokens.dpop_verify`,
:class:`DPoPVerifier`, :class:`AsyncDPoPVerifier`, :class:`DPoPProof` and
:func:`access_token_hash`. The replay caches are in :mod:`gatepass.tokens.dpop_replay`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any

from gatepass.errors import (
    ClaimError,
    ConfigurationError,
    DPoPBindingMismatch,
    KeyUsageError,
    quote_prefix,
)
from gatepass.tokens._b64 import b64encode
from gatepass.tokens._htu import HtuError, without_query
from gatepass.tokens._htu import normalize_htu as _normal_form
from gatepass.tokens._json import dumps_compact
from gatepass.tokens._numbers import finite_seconds
from gatepass.tokens.dpop_verify import (
    ASYMMETRIC_ALGORITHMS,
    DEFAULT_LEEWAY,
    DEFAULT_MAX_AGE,
    DEFAULT_MAX_JTI_LENGTH,
    DEFAULT_MAX_SIZE,
    DPOP_TYP,
    AsyncDPoPVerifier,
    DPoPProof,
    DPoPVerifier,
    access_token_hash,
)
from gatepass.tokens.keys import Key

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "DEFAULT_LEEWAY",
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_JTI_LENGTH",
    "DEFAULT_MAX_SIZE",
    "DPOP_TYP",
    "AsyncDPoPVerifier",
    "DPoPProof",
    "DPoPVerifier",
    "access_token_hash",
    "check_binding",
    "create_proof",
    "normalize_htu",
    "token_jkt",
]

_PUBLIC_JWK_MEMBERS = {
    "EC": ("kty", "crv", "x", "y"),
    "OKP": ("kty", "crv", "x"),
    "RSA": ("kty", "n", "e"),
}


def normalize_htu(url: str) -> str:
    """The normal form in which ``htu`` and the request URL are compared.

    ``HTTPS://API.Example:443/a%7e?q#f`` is ``https://api.example/a~``. Dot segments, user info,
    backslashes, spaces and malformed percent-encodings are refused (ConfigurationError), never
    repaired: see :mod:`gatepass.tokens._htu` for why each one is an attack surface.
    """
    if not isinstance(url, str):
        raise ConfigurationError("a URL is a str")
    try:
        return _normal_form(without_query(url))
    except HtuError as exc:
        raise ConfigurationError(f"URL {quote_prefix(url, 40)} {exc}") from None


def create_proof(
    key: Key,
    *,
    method: str,
    url: str,
    access_token: str | None = None,
    nonce: str | None = None,
    jti: str | None = None,
    now: float | None = None,
) -> str:
    """Sign a DPoP proof for one request with ``key`` (a private asymmetric key).

    ``url`` is the request URL; its query and fragment are left out and the rest normalised, so
    the proof matches what the server sees. ``access_token`` adds its hash (``ath``); ``nonce``
    is the server's latest ``DPoP-Nonce``. ``jti`` defaults to 128 random bits and ``now`` to the
    current time: pass them only in tests.
    """
    if not isinstance(key, Key) or key.spec.family == "HMAC" or not key.is_private:
        raise KeyUsageError("a DPoP proof is signed with a private asymmetric Key")
    if not isinstance(method, str) or not method or not method.isascii() or " " in method:
        raise ConfigurationError("method must be an HTTP method such as 'GET'")
    claims: dict[str, Any] = {
        "jti": b64encode(secrets.token_bytes(16)) if jti is None else jti,
        "htm": method,
        "htu": normalize_htu(url),
        "iat": int(time.time() if now is None else finite_seconds(now, "now")),
    }
    if not isinstance(claims["jti"], str) or not claims["jti"]:
        raise ConfigurationError("jti must be a non-empty string")
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    if nonce is not None:
        if not isinstance(nonce, str) or not nonce:
            raise ConfigurationError("nonce must be a non-empty string")
        claims["nonce"] = nonce
    public = key.to_jwk()
    header = {
        "typ": DPOP_TYP,
        "alg": key.alg,
        "jwk": {m: public[m] for m in _PUBLIC_JWK_MEMBERS[key.kty]},
    }
    signing_input = b64encode(dumps_compact(header)) + "." + b64encode(dumps_compact(claims))
    return signing_input + "." + b64encode(key.sign(signing_input.encode("ascii")))


def token_jkt(claims: Mapping[str, Any]) -> str | None:
    """The key thumbprint a token is bound to (``cnf.jkt``), or None for a bearer token.

    A ``cnf`` gatepass cannot confirm (a certificate binding, ``x5t#S256``, say) is refused rather
    than read as "unbound": accepting it as a bearer token would undo its binding.
    """
    if type(claims) is not dict and not isinstance(claims, Mapping):
        raise ConfigurationError("claims must be a mapping (a verified token's claims)")
    cnf = claims.get("cnf")
    if cnf is None:
        return None
    if type(cnf) is not dict and not isinstance(cnf, Mapping):
        raise ClaimError("claim 'cnf' must be an object", "cnf")
    jkt = cnf.get("jkt")
    if jkt is None:
        raise DPoPBindingMismatch("the token is bound by a confirmation method other than cnf.jkt")
    if not isinstance(jkt, str) or not jkt:
        raise ClaimError("claim 'cnf.jkt' must be a non-empty string", "cnf")
    return jkt


def check_binding(claims: Mapping[str, Any], proof: DPoPProof | None) -> None:
    """Refuse a token and a proof that do not belong together (RFC 9449 6.1, 7.1, 7.2).

    ``claims`` are a verified access token's; ``proof`` the verified proof that came with it, or
    None. A bound token needs a proof from its key (a bound token sent as a plain bearer token is
    the downgrade RFC 9449 7.2 forbids); an unbound token must not come with one. Pure.
    """
    if proof is None and type(claims) is dict and "cnf" not in claims:
        return  # every bearer request passes here: an unbound token and no proof, decided fast
    if proof is not None and not isinstance(proof, DPoPProof):
        raise ConfigurationError("proof must be the DPoPProof a verifier returned, or None")
    bound = token_jkt(claims)
    if bound is None:
        if proof is not None:
            raise DPoPBindingMismatch("the token is not bound to a key, yet came with a DPoP proof")
        return
    if proof is None:
        raise DPoPBindingMismatch("the token is bound to a key; it needs a DPoP proof from it")
    if proof.jkt != bound:
        raise DPoPBindingMismatch("the DPoP proof was signed by another key than the token's")
