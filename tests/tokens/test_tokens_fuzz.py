"""Hostile settings to the token layer (``gatepass.jwt``, ``jws``, ``dpop``, ``Key``, ``KeySet``):
a result or a GatepassError, never a bare TypeError / OverflowError / RecursionError.

A NaN is the case that matters most: it compares false with everything, so ``now - leeway >= exp``
with a NaN in it called an expired token (or a stale DPoP proof) valid. Settings of the wrong type
are ``ConfigurationError`` (keys ``InvalidKey``), as the strategies above refuse theirs; see
``tests/strategies/test_api_fuzz.py`` for those.
"""

from __future__ import annotations

import base64
import math
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatepass import ConfigurationError, InvalidKey, Key, KeySet, dpop, jws, jwt
from gatepass.errors import DPoPProofOutOfWindow, ExpiredToken
from gatepass.tokens.dpop_replay import MemoryReplayCache
from gp_testkit import HOSTILE_NUMBERS, NOT_FINITE, nested_object

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NOW = 1_800_000_000
HS = Key.from_secret(b"f" * 32, kid="fuzz")
ES = Key.generate("ES256")
#: Issued long ago: every correct verification of it fails with ExpiredToken.
EXPIRED = jwt.encode({"sub": "u"}, HS, expires_in=60, now=1_000)


@pytest.mark.parametrize("value", [*NOT_FINITE, True], ids=repr)
@pytest.mark.parametrize("option", ["leeway", "now", "max_age"])
def test_verify_refuses_a_time_option_that_is_not_a_finite_number(
    option: str, value: object
) -> None:
    """With ``leeway=nan`` (or ``now=nan``) every expiry test was false: an expired token
    verified. Now the setting itself is refused, before any claim is judged."""
    extra = {"max_age": 3600} if option != "max_age" else {}
    with pytest.raises(ConfigurationError, match=option):
        jwt.verify(EXPIRED, HS, **{option: value, **extra})


def test_verify_refuses_a_clock_that_reads_nan() -> None:
    with pytest.raises(ConfigurationError, match="now"):
        jwt.verify(EXPIRED, HS, clock=lambda: math.nan)


@given(leeway=st.floats(min_value=0, max_value=30), now=st.integers(1_061, 2**40))
@EXAMPLES
def test_verify_still_judges_expiry_with_finite_times(leeway: float, now: int) -> None:
    """Finite values keep their meaning (``Decimal`` and ``Fraction`` included): past the
    expiry plus the leeway, the token is expired."""
    with pytest.raises(ExpiredToken):
        jwt.verify(EXPIRED, HS, leeway=leeway, now=Decimal(now) + 30)


#: Never expires (no timing in the test): only the option under test can fail it.
TOKEN = jwt.encode({"sub": "u", "iss": "i", "exp": 2**40}, HS)
WRONG_TYPED_OPTIONS: list[tuple[str, object]] = [
    *[("max_size", value) for value in (None, math.nan, 8192.0, "8192", True)],
    *[("issuer", value) for value in (0, True, math.nan)],
    *[("require", value) for value in (None, 0, "sub")],
    ("typ", 5),
    ("clock", 5),
]


@pytest.mark.parametrize(("option", "value"), WRONG_TYPED_OPTIONS, ids=repr)
def test_verify_refuses_options_of_the_wrong_type(option: str, value: object) -> None:
    """Each was a TypeError or AttributeError (``max_size=nan`` silently lifted the size limit;
    ``require="sub"`` demanded the claims "s", "u" and "b")."""
    with pytest.raises(ConfigurationError, match=option):
        jwt.verify(TOKEN, HS, **{option: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("headers", ["x", 5, ["typ"]], ids=repr)
def test_encode_and_sign_refuse_headers_that_are_not_a_mapping(headers: object) -> None:
    with pytest.raises(ConfigurationError, match="headers"):
        jwt.encode({}, HS, headers=headers)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="headers"):
        jws.sign(b"{}", HS, headers)  # type: ignore[arg-type]


@pytest.mark.parametrize("keys", [None, 5, HS], ids=repr)
def test_keyset_and_dpop_verifier_refuse_what_is_not_a_collection(keys: object) -> None:
    """``KeySet(None)`` and ``DPoPVerifier(algorithms=None)`` were TypeErrors ("not iterable");
    a single Key passed as the whole set is refused the same way."""
    with pytest.raises(InvalidKey, match="holds Key objects"):
        KeySet(keys)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="algorithms"):
        dpop.DPoPVerifier(replay=MemoryReplayCache(), algorithms=keys)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", HOSTILE_NUMBERS, ids=repr)
@pytest.mark.parametrize("option", ["now", "expires_in"])
def test_encode_refuses_a_time_that_is_not_a_finite_number(option: str, value: object) -> None:
    """``int(nan)`` is a ValueError and ``int(inf)`` an OverflowError: now ConfigurationError."""
    with pytest.raises(ConfigurationError):
        jwt.encode({"sub": "u"}, HS, **{option: value})


@pytest.mark.parametrize("value", HOSTILE_NUMBERS, ids=repr)
def test_dpop_proof_refuses_a_time_that_is_not_a_finite_number(value: object) -> None:
    with pytest.raises(ConfigurationError):
        dpop.create_proof(ES, method="GET", url="https://api.example/x", now=value)


@pytest.mark.parametrize("reading", [math.nan, math.inf, -math.inf, "1", 10**400], ids=repr)
def test_dpop_verifier_refuses_a_clock_reading_that_is_not_a_finite_number(
    reading: object,
) -> None:
    """A NaN ``now`` made both window tests false: a proof from 1970 was accepted."""
    proof = dpop.create_proof(ES, method="GET", url="https://api.example/x", now=1_000)
    verifier = dpop.DPoPVerifier(replay=MemoryReplayCache(clock=lambda: NOW))
    with pytest.raises(ConfigurationError, match="now"):
        verifier.verify(proof, method="GET", url="https://api.example/x", now=reading)  # type: ignore[arg-type]
    clocked = dpop.DPoPVerifier(replay=MemoryReplayCache(clock=lambda: NOW), clock=lambda: reading)
    with pytest.raises(ConfigurationError, match="now"):
        clocked.verify(proof, method="GET", url="https://api.example/x")
    with pytest.raises(DPoPProofOutOfWindow):
        verifier.verify(proof, method="GET", url="https://api.example/x", now=NOW)


@pytest.mark.parametrize("value", [*HOSTILE_NUMBERS, -5], ids=repr)
@pytest.mark.parametrize("option", ["max_age", "leeway"])
def test_dpop_verifier_refuses_a_window_that_is_not_a_finite_number(
    option: str, value: object
) -> None:
    with pytest.raises(ConfigurationError, match=option):
        dpop.DPoPVerifier(replay=MemoryReplayCache(), **{option: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("nonce", [True, 5, object(), [b"n1"]], ids=repr)
def test_dpop_verifier_refuses_a_nonce_that_is_not_text(nonce: object) -> None:
    """``nonce=True`` was a TypeError (``tuple(True)``)."""
    proof = dpop.create_proof(ES, method="GET", url="https://api.example/x", nonce="n1")
    verifier = dpop.DPoPVerifier(replay=MemoryReplayCache())
    with pytest.raises(ConfigurationError, match="nonce"):
        verifier.verify(proof, method="GET", url="https://api.example/x", nonce=nonce)  # type: ignore[arg-type]


@pytest.mark.parametrize("reading", [math.nan, "now", None], ids=repr)
def test_replay_cache_refuses_a_clock_reading_that_is_not_a_finite_number(reading: object) -> None:
    """A NaN reading never purged an entry (the cache filled up); a str one raised TypeError."""
    cache = MemoryReplayCache(clock=lambda: reading)  # type: ignore[arg-type,return-value]
    with pytest.raises(ConfigurationError):
        cache.seen("proof", NOW + 60)
    with pytest.raises(ConfigurationError):
        MemoryReplayCache().seen("proof", 10**400)


@pytest.mark.parametrize("size", [10**30, 2**63, 16385, 2047, 3072.0, "4096", True, None], ids=repr)
def test_rsa_generate_refuses_a_size_outside_what_openssl_verifies(size: object) -> None:
    """``size=10**30`` was an OverflowError, ``"4096"`` a TypeError: now InvalidKey."""
    with pytest.raises(InvalidKey, match="bits"):
        Key.generate("RS256", size=size)  # type: ignore[arg-type]


def test_rsa_keys_openssl_cannot_verify_with_are_refused_when_loaded() -> None:
    """A 20,000-bit public key loaded (from a JWK or a JWKS) and then failed every signature:
    OpenSSL verifies with moduli of at most 16,384 bits."""
    modulus = ((1 << 20_000) + 1).to_bytes(2501, "big")
    jwk = {"kty": "RSA", "n": base64.urlsafe_b64encode(modulus).rstrip(b"=").decode(), "e": "AQAB"}
    with pytest.raises(InvalidKey, match="at most 16384 bits"):  # 20,001 bits
        Key.from_jwk(jwk, "RS256")
    with pytest.raises(InvalidKey, match="at most 16384 bits"):  # as a too-short key is
        KeySet.from_jwks({"keys": [{**jwk, "alg": "RS256"}]})


def test_claims_nested_far_too_deep_are_a_configuration_error() -> None:
    """The JSON encoder's RecursionError escaped ``jwt.encode`` and ``jws.sign`` headers."""
    with pytest.raises(ConfigurationError, match="nested"):
        jwt.encode({"x": nested_object(50_000)}, HS)
    with pytest.raises(ConfigurationError, match="nested"):
        jwt.encode({}, HS, headers={"x": nested_object(50_000)})
