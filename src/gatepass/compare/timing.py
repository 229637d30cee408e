"""Cost of one call, as the median of several timed rounds.

A round is a batch of back-to-back calls long enough for the clock to resolve it (``batch``
seconds, found once by doubling); the cost of one call is the batch time divided by its calls.
The median of the rounds is the number reported: a busy machine only ever slows a round down,
so the median resists noise better than the mean, and the fastest and slowest rounds are kept
to show the spread. The garbage collector is paused while a round runs (as ``timeit`` does), so
one round does not pay for another's garbage.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

#: No round calls the action more often than this, however cheap it is.
_MAX_CALLS = 1 << 20


@dataclass(frozen=True)
class Cost:
    """Microseconds per call: the median round, and the fastest and slowest rounds."""

    median_us: float
    low_us: float
    high_us: float
    rounds: int
    calls_per_round: int


def _timed(action: Callable[[], object], calls: int) -> float:
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(calls):
            action()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def calls_for(action: Callable[[], object], batch: float) -> int:
    """How many calls make a round of at least ``batch`` seconds (after one warm-up call)."""
    action()
    calls = 1
    while calls < _MAX_CALLS:
        elapsed = _timed(action, calls)
        if elapsed >= batch:
            break
        # Jump close to the target once a batch is long enough to time, then keep doubling.
        guess = int(calls * batch / elapsed) + 1 if elapsed > 1e-4 else calls * 2
        calls = min(_MAX_CALLS, max(calls * 2, guess))
    return calls


def measure(action: Callable[[], object], *, rounds: int, batch: float) -> Cost:
    """Time ``action``: ``rounds`` rounds of at least ``batch`` seconds each."""
    calls = calls_for(action, batch)
    samples = [_timed(action, calls) / calls * 1e6 for _ in range(rounds)]
    return Cost(
        median_us=statistics.median(samples),
        low_us=min(samples),
        high_us=max(samples),
        rounds=rounds,
        calls_per_round=calls,
    )
