"""Hostile input to the public API (``gatepass``, ``gatepass.tokens``): a result or a GatepassError.

Every value a caller hands over (a clock reading, a leeway, a scope, a store URL) is either used
as documented or refused with a ``GatepassError`` (``ConfigurationError`` for a bad setting, as
everywhere else): never a bare ``TypeError`` / ``OverflowError`` / ``UnicodeError`` from deeper
down, and never silently accepted in a way that weakens a check. A NaN is the classic case: it
compares false with everything, so ``now - leeway >= exp`` with a NaN in it calls an expired
token (or a stale DPoP proof) valid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatepass import ConfigurationError, GatepassError, InvalidKey, Key, dpop, jwt
from gatepass.errors import DPoPProofOutOfWindow, ExpiredToken
from gatepass.tokens.dpop_replay import MemoryReplayCache

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

#: Not finite numbers of seconds: NaN, the infinities, numbers too large for a float, flags, text.
NOT_FINITE: list[object] = [math.nan, -math.nan, math.inf, -math.inf, 10**400, Decimal("NaN")]
#: ... and not numbers at all (``None`` is left out: it means "the default" in most places).
HOSTILE_NUMBERS: list[object] = [*NOT_FINITE, True, "5", b"5", [], object()]


def outcome(call: Callable[[], Any]) -> str:
    """``"ok"`` or the name of the GatepassError raised; anything else propagates (and fails)."""
    try:
        call()
    except GatepassError as exc:
        return type(exc).__name__
    return "ok"


# --- the token layer: times, leeways and ages are finite numbers -------------------------------


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
