"""DPoP replay caches shared through a store: every process behind one URL sees every proof.

The verifier (:class:`~gatepass.tokens.dpop.DPoPVerifier`) asks its replay cache
``seen(proof_id, expires_at)`` once per proof; these classes answer through the store's
:class:`~gatepass.stores.protocols.ProofStore` (one atomic round trip: Redis ``SET NX PX``,
PostgreSQL ``INSERT ... ON CONFLICT DO NOTHING``, SQLite ``INSERT OR IGNORE``, the memory store's
lock). Expired ids go with the store's own purge (``purge_expired``; Redis by TTL). A store
outage raises ``StoreUnavailable``: the proof is refused, never waved through (fail closed).

A store expires ids by this machine's clock (Redis's TTL, the purge's ``time.time()``), while
``expires_at`` is on the verifier's clock: a verifier given another ``clock`` (a test harness, a
time service) has its expiry moved to the machine's clock here, so the id lives as long as the
verifier would accept the proof, whichever way the two clocks differ.

:class:`~gatepass.tokens.dpop_replay.MemoryReplayCache` stays the per-process choice: faster (no
round trip), but a proof replayed to another process or server is not seen there.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable

from gatepass.errors import ConfigurationError
from gatepass.stores.protocols import AsyncProofStore, ProofStore

__all__ = ["AsyncStoreReplayCache", "StoreReplayCache"]


def _checked(store: object, asynchronous: bool) -> object:
    add = getattr(store, "proof_add", None)
    if not callable(add):
        raise ConfigurationError(
            f"a shared replay cache needs a store from gatepass.open_store(), not {store!r:.60}"
        )
    if inspect.iscoroutinefunction(add) != asynchronous:
        wanted = "AsyncStoreReplayCache" if not asynchronous else "StoreReplayCache"
        raise ConfigurationError(f"this store's flavour needs {wanted}")
    return store


def _clock(clock: Callable[[], float]) -> Callable[[], float] | None:
    if not callable(clock):
        raise ConfigurationError("clock must be a callable returning seconds since the epoch")
    return None if clock is time.time else clock


def _on_machine_clock(expires_at: float, clock: Callable[[], float] | None) -> float:
    """``expires_at`` (on the verifier's clock) as a time on this machine's clock."""
    return expires_at if clock is None else time.time() + (expires_at - clock())


class StoreReplayCache:
    """A :class:`~gatepass.tokens.dpop_replay.ReplayCache` over a blocking store; ``clock``:
    the verifier's, when it is not ``time.time``."""

    __slots__ = ("clock", "store")

    def __init__(self, store: ProofStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store: ProofStore = _checked(store, False)  # type: ignore[assignment]
        self.clock = _clock(clock)

    def seen(self, proof_id: str, expires_at: float) -> bool:
        """True if the proof was already accepted by any process using the store."""
        return not self.store.proof_add(proof_id, _on_machine_clock(expires_at, self.clock))


class AsyncStoreReplayCache:
    """An :class:`~gatepass.tokens.dpop_replay.AsyncReplayCache` over an asyncio store."""

    __slots__ = ("clock", "store")

    def __init__(self, store: AsyncProofStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store: AsyncProofStore = _checked(store, True)  # type: ignore[assignment]
        self.clock = _clock(clock)

    async def seen(self, proof_id: str, expires_at: float) -> bool:
        """As :meth:`StoreReplayCache.seen`, awaited."""
        expires_at = _on_machine_clock(expires_at, self.clock)
        return not await self.store.proof_add(proof_id, expires_at)
