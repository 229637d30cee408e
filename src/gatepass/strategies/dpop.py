"""DPoP replay caches shared through a store: every process behind one URL sees every proof.

The verifier (:class:`~gatepass.tokens.dpop.DPoPVerifier`) asks its replay cache
``seen(proof_id, expires_at)`` once per proof; these classes answer through the store's
:class:`~gatepass.stores.protocols.ProofStore` (one atomic round trip: Redis ``SET NX PX``,
PostgreSQL ``INSERT ... ON CONFLICT DO NOTHING``, SQLite ``INSERT OR IGNORE``, the memory store's
lock). Expired ids go with the store's own purge (``purge_expired``; Redis by TTL). A store
outage raises ``StoreUnavailable``: the proof is refused, never waved through (fail closed).

:class:`~gatepass.tokens.dpop_replay.MemoryReplayCache` stays the per-process choice: faster (no
round trip), but a proof replayed to another process or server is not seen there.
"""

from __future__ import annotations

import inspect

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


class StoreReplayCache:
    """A :class:`~gatepass.tokens.dpop_replay.ReplayCache` over a blocking store."""

    __slots__ = ("store",)

    def __init__(self, store: ProofStore) -> None:
        self.store: ProofStore = _checked(store, False)  # type: ignore[assignment]

    def seen(self, proof_id: str, expires_at: float) -> bool:
        """True if the proof was already accepted by any process using the store."""
        return not self.store.proof_add(proof_id, expires_at)


class AsyncStoreReplayCache:
    """An :class:`~gatepass.tokens.dpop_replay.AsyncReplayCache` over an asyncio store."""

    __slots__ = ("store",)

    def __init__(self, store: AsyncProofStore) -> None:
        self.store: AsyncProofStore = _checked(store, True)  # type: ignore[assignment]

    async def seen(self, proof_id: str, expires_at: float) -> bool:
        """As :meth:`StoreReplayCache.seen`, awaited."""
        return not await self.store.proof_add(proof_id, expires_at)
