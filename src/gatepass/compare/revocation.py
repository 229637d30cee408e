"""Revocation delay, measured: from the moment a revocation starts in this process to the first
request refused elsewhere.

Each trial issues a fresh credential, has a probe (another process, or another thread for
``memory://``) use it until it is accepted, revokes it here, and reads from the probe when the
first request was refused. Two more numbers come with it: how long the revoking call itself
took, and the *stale window*: for how long after that call returned a request that started
later was still accepted. Sessions and denylists have none (the store is the truth, read on
every request); replicated revocation has one while the change travels.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from gatepass.compare.probe import Result


class Probe(Protocol):
    def arm(self, spec: dict[str, Any]) -> str | None: ...
    def outcome(self) -> Result: ...


@dataclass
class Revocation:
    """What revoking did, per design. Delays in milliseconds, one entry per trial."""

    revocable: bool
    #: What "revoke" meant here, e.g. ``Sessions.revoke_all`` in this process.
    action: str
    #: Where the refusal was observed: "another process" or "another thread".
    observer: str = ""
    delays_ms: list[float] = field(default_factory=list)
    revoke_call_ms: list[float] = field(default_factory=list)
    stale_ms: list[float] = field(default_factory=list)
    #: Why the first refused request was refused (an error code), from the last trial.
    reason: str | None = None
    #: Set when the measurement itself failed (the probe never saw a refusal, ...).
    failure: str | None = None
    #: For credentials that outlive any revocation: "exp", and their lifetime.
    valid_until: str | None = None
    ttl_s: int | None = None
    #: Verified again here after the revocation: was the credential still accepted?
    still_accepted: bool | None = None

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.delays_ms) if self.delays_ms else None


#: One trial's set-up: the probe's spec for a fresh credential, and the call that revokes it.
Trial = tuple[dict[str, Any], Callable[[], object]]


def measure(
    probe: Probe, trials: int, make_trial: Callable[[], Trial], result: Revocation
) -> Revocation:
    """Run ``trials`` trials into ``result`` (stopping at the first failure, recorded in it)."""
    for _ in range(trials):
        spec, revoke = make_trial()
        failure = probe.arm(spec)
        if failure is not None:
            result.failure = failure
            return result
        started = time.monotonic()
        revoke()
        returned = time.monotonic()
        outcome = probe.outcome()
        if "failure" in outcome:
            result.failure = str(outcome["failure"])
            return result
        result.delays_ms.append((outcome["rejected_at"] - started) * 1e3)
        result.revoke_call_ms.append((returned - started) * 1e3)
        result.stale_ms.append(max(0.0, outcome["last_accepted_start"] - returned) * 1e3)
        result.reason = str(outcome["reason"])
    return result
