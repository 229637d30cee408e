"""Numbers callers hand to the token layer (times, leeways, ages): finite reals, checked once.

A NaN compares false with everything, so ``now - leeway >= exp`` with a NaN leeway (or clock
reading) would call an expired token valid; an infinity either does the same or overflows the
``int()`` that makes an ``iat``. Every layer above uses :func:`finite_real` too (through
:mod:`gatepass.stores.limits`), so a value refused here is refused there alike.
"""

from __future__ import annotations

import decimal
import math
import numbers

from gatepass.errors import ConfigurationError


def finite_real(value: object) -> float | None:
    """``value`` as a finite ``float`` if it is a real number (``int``, ``float``, ``Fraction``,
    ``Decimal``; not a ``bool``), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | decimal.Decimal):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        return None  # e.g. an int too large for a float
    return seconds if math.isfinite(seconds) else None


def finite_seconds(value: object, name: str) -> float:
    """``value`` as a finite ``float``; ``ConfigurationError`` naming ``name`` otherwise.

    A finite ``float`` (what ``time.time`` returns) passes with one type test and one
    subtraction (``x - x`` is NaN for NaN and the infinities), an ``int`` (a leeway, a test
    clock) with one conversion: verification stays fast. The ABC tests of :func:`finite_real`
    cost more than the rest of a claims check (``bench/bench_dpop.py``: a ``DPoPVerifier`` and
    the access token's claims each paid them on every request, 1 µs more per DPoP request).
    """
    if type(value) is float and value - value == 0.0:
        return value
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            pass  # beyond a float's range: refused below, as finite_real refuses it
    seconds = finite_real(value)
    if seconds is None:
        raise ConfigurationError(f"{name} must be a finite number of seconds, not {value!r:.40}")
    return seconds
