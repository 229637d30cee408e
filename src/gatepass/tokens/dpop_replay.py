"""Replay caches for DPoP proofs: the one piece of state proof verification needs.

A proof is accepted for ``max_age`` seconds after its ``iat`` (RFC 9449 11.1), so within that
window a captured proof could be sent again. The verifier asks a replay cache, once per proof and
only after every other check passed (a forged proof never takes a slot):

    ``seen(proof_id, expires_at) -> bool``

atomically "was this id recorded and still live? if not, record it until ``expires_at``". The
``proof_id`` is derived by the verifier from the proof key's thumbprint and the ``jti``
(SHA-256, 64 hex characters): a cache never stores client-chosen text, two clients
choosing the same ``jti`` cannot collide, and a thief cannot re-sign a captured proof under a
new ``jti`` without the key. ``expires_at`` (seconds since the epoch) is when the proof would be
refused as too old anyway, so an entry never needs to outlive it.

:class:`MemoryReplayCache` is the in-process implementation. Its guarantee is per process: with
several workers or servers behind one URL, a proof replayed to another process is not seen; a
cache shared through a store (one atomic round trip, e.g. Redis ``SET NX PXAT``) closes that gap.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from typing import Protocol

from gatepass.errors import ConfigurationError, ReplayCacheFull
from gatepass.tokens._numbers import finite_seconds

DEFAULT_MAX_ENTRIES = 100_000
"""Room for 100,000 live proofs: about 1,600 proofs a second with the default 60 s window."""


class ReplayCache(Protocol):
    """What :class:`~gatepass.tokens.dpop.DPoPVerifier` asks of a replay cache (sync)."""

    def seen(self, proof_id: str, expires_at: float) -> bool:
        """True if ``proof_id`` is already recorded and live; otherwise record it, return False.

        Must be atomic (two concurrent calls with one id: exactly one gets False), must keep the
        entry at least until ``expires_at`` by the verifier's clock, and must raise a
        :class:`~gatepass.errors.StoreUnavailable` rather than answer False when it cannot tell.
        """
        ...


class AsyncReplayCache(Protocol):
    """The asyncio form of :class:`ReplayCache` (for ``AsyncDPoPVerifier``)."""

    async def seen(self, proof_id: str, expires_at: float) -> bool:
        """As :meth:`ReplayCache.seen`."""
        ...


class MemoryReplayCache:
    """Proof ids seen by this process, each kept until it expires: bounded and thread-safe.

    Entries live in a dict (the lookup) and a heap ordered by expiry (the purge): every call first
    drops what has expired, so memory follows the live window, never the total traffic. When
    ``max_entries`` live ids are held, a new one raises :class:`~gatepass.errors.ReplayCacheFull`
    (fail closed) instead of evicting a live id, which would reopen its replay window. One lock
    guards both structures; nothing inside it blocks, so asyncio code may call it directly.
    """

    __slots__ = ("_clock", "_entries", "_expiries", "_lock", "max_entries")

    def __init__(
        self, max_entries: int = DEFAULT_MAX_ENTRIES, *, clock: Callable[[], float] = time.time
    ) -> None:
        if type(max_entries) is not int or max_entries < 1:
            raise ConfigurationError("max_entries must be a positive integer")
        if not callable(clock):
            raise ConfigurationError("clock must be a callable returning seconds since the epoch")
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, float] = {}
        self._expiries: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def seen(self, proof_id: str, expires_at: float) -> bool:
        """True if ``proof_id`` is live here; otherwise remember it until ``expires_at``."""
        if type(proof_id) is not str or type(expires_at) not in (int, float):
            raise ConfigurationError("seen() takes a str id and a numeric expiry")
        expires_at = finite_seconds(expires_at, "seen()'s expiry")  # NaN, inf, 10**400: refused
        # Checked: a NaN reading would never purge an entry, and a str one would raise TypeError.
        now = finite_seconds(self._clock(), "the replay cache clock's reading")
        entries, expiries = self._entries, self._expiries
        with self._lock:
            while expiries and expiries[0][0] <= now:
                expiry, old_id = heapq.heappop(expiries)
                if entries.get(old_id) == expiry:
                    del entries[old_id]
            if proof_id in entries:
                return True
            if len(entries) >= self.max_entries:
                raise ReplayCacheFull(
                    f"the DPoP replay cache holds {self.max_entries} live proofs; refusing more "
                    "rather than forgetting one early"
                )
            entries[proof_id] = expires_at
            heapq.heappush(expiries, (expires_at, proof_id))
            return False

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<MemoryReplayCache {len(self._entries)}/{self.max_entries} live>"
