"""Every exception gatepass raises, in one place.

Each public function either returns a valid result or raises a subclass of :class:`GatepassError`.
The subclasses are precise so that callers can react to *what* failed (an expired token deserves a
refresh, a bad signature deserves a log line), and each carries a stable ``code`` in the style of
panva/jose (``ERR_JWT_EXPIRED``) for logs and metrics.

Messages never echo more than a short prefix of attacker-controlled input: a 10 MB token must not
become a 10 MB log line (joserfc CVE-2025-65015).
"""

from __future__ import annotations

_PREFIX = 24


def quote_prefix(value: object, limit: int = _PREFIX) -> str:
    """Return a short, printable, quoted prefix of untrusted input for an error message."""
    if isinstance(value, bytes | bytearray | memoryview):
        text = bytes(value[: limit + 1]).decode("ascii", "replace")
    else:
        text = str(value)[: limit + 1]
    text = "".join(ch if " " <= ch < "\x7f" else "?" for ch in text)
    if len(text) > limit:
        return repr(text[:limit]) + "..."
    return repr(text)


class GatepassError(Exception):
    """Base class of every error gatepass raises on purpose."""

    code = "ERR_GATEPASS"


# --- configuration and keys -------------------------------------------------------------------


class ConfigurationError(GatepassError, ValueError):
    """The caller asked for something gatepass will not do (an insecure or inconsistent setting)."""

    code = "ERR_CONFIGURATION"


class InvalidKey(GatepassError, ValueError):
    """Key material is unusable: wrong type for the algorithm, too short, malformed, or weak."""

    code = "ERR_INVALID_KEY"


class KeyUsageError(InvalidKey):
    """A key was used for something it is not allowed to do (e.g. signing with a public key)."""

    code = "ERR_KEY_USAGE"


# --- tokens ----------------------------------------------------------------------------------


class InvalidToken(GatepassError):
    """A token (JWS, JWT, session id or refresh token) is not acceptable.

    Catch this one class to treat every verification failure as "not authenticated"; catch a
    subclass to tell the user or the logs why.
    """

    code = "ERR_INVALID_TOKEN"


class MalformedToken(InvalidToken):
    """Not a well-formed compact JWS: segments, base64url, JSON or header members are wrong."""

    code = "ERR_JWS_MALFORMED"


class TokenTooLarge(MalformedToken):
    """The token exceeds the configured size limit; rejected before any decoding."""

    code = "ERR_JWS_TOO_LARGE"


class UnsupportedAlgorithm(InvalidToken):
    """The header names an algorithm gatepass does not implement (``none`` is never one)."""

    code = "ERR_JOSE_ALG_NOT_ALLOWED"


class AlgorithmMismatch(InvalidToken):
    """The header ``alg`` differs from the algorithm the verification key is bound to."""

    code = "ERR_JOSE_ALG_MISMATCH"


class UnknownCriticalHeader(InvalidToken):
    """The header lists a ``crit`` extension this verifier does not understand (RFC 7515 4.1.11)."""

    code = "ERR_JOSE_CRIT"


class KeyNotFound(InvalidToken):
    """No key in the key set matches the token's ``kid`` and ``alg`` (or, as the subclass
    :class:`AmbiguousKey`, several do): either way there is not exactly one key to verify with."""

    code = "ERR_JWKS_NO_MATCHING_KEY"


class AmbiguousKey(KeyNotFound):
    """Several keys in the key set match the token's ``kid`` and ``alg``; exactly one must.

    A set is ambiguous when it was built wrongly (the same key published twice, or two keys under
    one ``kid``), so the fix lies with whoever made the set, not with the token.
    """

    code = "ERR_JWKS_MULTIPLE_MATCHING_KEYS"


class BadSignature(InvalidToken):
    """The signature does not verify with the selected key."""

    code = "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"


class ClaimError(InvalidToken):
    """A JWT claim failed validation. ``claim`` names it."""

    code = "ERR_JWT_CLAIM_VALIDATION_FAILED"

    def __init__(self, message: str, claim: str | None = None) -> None:
        super().__init__(message)
        self.claim = claim


class ExpiredToken(ClaimError):
    """``now >= exp`` (minus leeway), or the token is older than ``max_age``."""

    code = "ERR_JWT_EXPIRED"


class NotYetValid(ClaimError):
    """``nbf`` (or ``iat``) lies in the future beyond the leeway."""

    code = "ERR_JWT_NOT_YET_VALID"


class MissingClaim(ClaimError):
    """A required claim is absent."""

    code = "ERR_JWT_MISSING_CLAIM"


class InvalidIssuer(ClaimError):
    """``iss`` is missing, not a string, or not exactly the expected issuer."""

    code = "ERR_JWT_ISSUER"


class InvalidAudience(ClaimError):
    """``aud`` does not contain the expected audience, or has the wrong type."""

    code = "ERR_JWT_AUDIENCE"


class InvalidType(InvalidToken):
    """The header ``typ`` is not the expected one (RFC 8725 3.11: one token type per purpose)."""

    code = "ERR_JWT_TYPE"


class RevokedToken(InvalidToken):
    """The token was valid but has been revoked (denylist, per-user cut-off, revoked session)."""

    code = "ERR_TOKEN_REVOKED"


class ReusedToken(RevokedToken):
    """A single-use refresh token was presented again: the whole family is now revoked."""

    code = "ERR_REFRESH_TOKEN_REUSED"


# --- DPoP (RFC 9449): proofs of possession and bound tokens --------------------------------------


class InvalidDPoPProof(InvalidToken):
    """The DPoP proof is not acceptable (RFC 9449 4.3).

    Every proof failure is this class or a subclass, so one ``except`` answers the client with
    ``error="invalid_dpop_proof"`` (RFC 9449 7.1). Raised as it is for what only a broken or hostile
    client sends: not a compact JWS, oversized, ``typ`` not ``dpop+jwt``, an ``alg`` outside the
    allow-list (``none`` and HMAC never are in it), a ``jwk`` that is missing, private, of the wrong
    type for ``alg``, or joined by ``jku``/``x5u``/``x5c``, a bad signature, a required claim
    missing or of the wrong type, an oversized ``jti``.
    """

    code = "ERR_DPOP_PROOF_INVALID"


class DPoPRequestMismatch(InvalidDPoPProof):
    """A well-formed proof made for another request: ``htm``, ``htu`` or ``ath`` differ.

    ``claim`` names the one that differs (``ath`` is the access token's hash: the proof was made
    for another token, or for none).
    """

    code = "ERR_DPOP_REQUEST_MISMATCH"

    def __init__(self, message: str, claim: str) -> None:
        super().__init__(message)
        self.claim = claim


class DPoPProofOutOfWindow(InvalidDPoPProof):
    """The proof's ``iat`` is older than ``max_age`` or further in the future than ``leeway``."""

    code = "ERR_DPOP_IAT_OUT_OF_WINDOW"


class DPoPNonceRequired(InvalidDPoPProof):
    """The server expects a nonce and the proof lacks it or carries another one.

    Answer ``error="use_dpop_nonce"`` with a fresh ``DPoP-Nonce`` header (RFC 9449 8 and 9); the
    client retries with it.
    """

    code = "ERR_DPOP_NONCE_REQUIRED"


class DPoPProofReplayed(InvalidDPoPProof):
    """This key already presented a proof with this ``jti`` inside the acceptance window."""

    code = "ERR_DPOP_REPLAYED"


class DPoPBindingMismatch(InvalidToken):
    """A bound token (``cnf.jkt``) came without a proof, or with a proof from another key; or an
    unbound token came with a proof (RFC 9449 6.1 and 7.2). Answer ``error="invalid_token"``.
    """

    code = "ERR_DPOP_BINDING_MISMATCH"


# --- stores and remote resources ---------------------------------------------------------------


class StoreError(GatepassError):
    """Base class for store failures."""

    code = "ERR_STORE"


class StoreUnavailable(StoreError):
    """The store cannot be reached or failed mid-operation.

    Fail closed: callers must treat this as "not authenticated, service unavailable" (HTTP 503),
    never as "logged in" and never as "no such session".
    """

    code = "ERR_STORE_UNAVAILABLE"


class ReplayCacheFull(StoreUnavailable):
    """The in-process DPoP replay cache holds ``max_entries`` live proof ids and cannot take one
    more. Failing closed (HTTP 503) is the safe answer: evicting a live entry early would let that
    proof be replayed, and a flood of fresh proofs could then push out any proof it wanted to.
    """

    code = "ERR_DPOP_REPLAY_CACHE_FULL"


class MissingDependency(ConfigurationError):
    """An optional extra is needed (e.g. ``pip install 'gatepass[redis]'``)."""

    code = "ERR_MISSING_DEPENDENCY"


class JWKSFetchError(GatepassError):
    """A remote JWKS could not be fetched or parsed and no previous good set is cached."""

    code = "ERR_JWKS_FETCH"
