# GENERATED from gatepass/strategies/_async/revocation.py by scripts/unasync.py: do not edit.
# Change the asyncio source, then run `python scripts/unasync.py`.
"""The three revocation modes of access tokens, asyncio (the blocking twin is generated).

``stateless``
    Nothing to look up: a token is valid until ``exp``. ``revoke*`` raise ``ConfigurationError``
    (a revocation that silently does nothing would be worse than none).
``denylist``
    One store round trip per verify: the token's ``jti``, its ``sid`` and its user's cut-off,
    fetched together (``revocation_lookup``).
``replicated``
    Verify does no I/O: each process keeps the denylist and cut-offs in memory
    (:class:`~gatepass.strategies._access_policy.Replica`) and a background listener applies
    the store's change feed (``revocation_feed``: Redis pub/sub, PostgreSQL ``LISTEN``, a polled
    change counter on SQLite, a queue on ``memory://``). It subscribes before it reads the
    snapshot, and entries merge idempotently, so nothing published during a reload is lost. When
    the feed breaks or falls silent, verification fails closed until a new feed has reloaded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from gatepass.errors import ConfigurationError
from gatepass.stores.protocols import RevocationStore
from gatepass.stores.records import RevocationEntry
from gatepass.strategies._access_core import DEFAULT_MAX_SILENCE, DEFAULT_POLL_INTERVAL
from gatepass.strategies._access_policy import Replica, decide, lost_revocations
from gatepass.strategies._concurrency import Event, Worker

#: The longest wait between two attempts to re-subscribe after a failure (seconds).
_RETRY_MAX = 2.0
#: How often the cache drops entries whose tokens have all expired (seconds).
_PURGE_EVERY = 60.0


class Revocations(Protocol):
    """What a front-end needs from a revocation mode."""

    def check(self, claims: Mapping[str, Any], now: float) -> None: ...
    def add(self, entry: RevocationEntry, now: float) -> None: ...
    def close(self) -> None: ...


class StatelessRevocations:
    def check(self, claims: Mapping[str, Any], now: float) -> None:
        return None

    def add(self, entry: RevocationEntry, now: float) -> None:
        raise ConfigurationError(
            "revocation='stateless' cannot revoke: tokens stay valid until exp "
            "(use revocation='denylist' or 'replicated' with a store)"
        )

    def close(self) -> None:
        return None


class DenylistRevocations:
    """One round trip per verify; the store's outage is the verifier's outage (fail closed)."""

    def __init__(self, store: RevocationStore) -> None:
        self.store = store

    def check(self, claims: Mapping[str, Any], now: float) -> None:
        found = self.store.revocation_lookup(claims["jti"], claims.get("sid"), claims["sub"], now)
        if found.lost and found.since_us is not None:
            lost_revocations(found.since_us)
        decide(claims, found, now)

    def add(self, entry: RevocationEntry, now: float) -> None:
        self.store.revocation_add(entry, now)

    def close(self) -> None:
        return None


class ReplicatedRevocations:
    """In-memory revocation checks kept current by a background listener (see the module
    docstring). The asyncio listener starts on first use or :meth:`start`; the blocking one
    starts when it is built and waits up to ``wait`` seconds for its first load."""

    def __init__(
        self,
        store: RevocationStore,
        *,
        clock: Callable[[], float] = time.time,
        max_silence: float = DEFAULT_MAX_SILENCE,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        wait: float = 5.0,
    ) -> None:
        self.store = store
        self.poll_interval = poll_interval
        self.replica = Replica(max_silence, clock)
        self.reloads = 0
        #: Wait before the first re-subscription after a failure (doubles up to 2 s).
        self.retry_delay = 0.05
        #: Diagnostics: the listening connection (see ``RevocationFeed.listener``).
        self.listener: str | None = None
        self._tried = Event()  # the first load has succeeded or failed
        self._worker = Worker(self._listen, "gatepass-revocations")
        self._closed = False
        self.start(wait)

    def start(self, wait: float = 5.0) -> None:
        """Start the listener (idempotent) and wait up to ``wait`` s for its first attempt to
        load: until it ends (not an error if it fails or takes longer: verification fails
        closed until a load succeeds). A store that refuses at once is not waited for, so the
        first verification during an outage is a ``StoreUnavailable`` within the store's own
        bound, not ``wait`` later."""
        if self._closed:
            raise ConfigurationError("this AccessTokens is closed")
        self._worker.start()
        self._tried.wait(wait)

    def check(self, claims: Mapping[str, Any], now: float) -> None:
        self.replica.check(claims, now)

    def add(self, entry: RevocationEntry, now: float) -> None:
        self.store.revocation_add(entry, now)
        self.replica.cache.apply(entry)  # our own revocation applies here at once

    @property
    def synchronised(self) -> bool:
        return self.replica.cache.fresh

    @property
    def listening(self) -> bool:
        """Whether the listener is running (diagnostics: it runs from start until close)."""
        return self._worker.running

    def wait_synchronised(self, timeout: float) -> bool:
        """Wait until the cache is trusted again (tests, start-up probes)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.replica.cache.fresh and not self.replica.silent():
                return True
            self._worker.pause(0.01)
        return False

    def close(self) -> None:
        self._closed = True
        self._worker.stop()

    def _listen(self) -> None:
        """Until closed: subscribe, load, apply changes; any failure marks the cache stale,
        then a new feed is tried after a growing pause."""
        delay = self.retry_delay
        while not self._worker.stopping:
            feed = self.store.revocation_feed()
            try:
                entries = feed.start(self.replica.clock())
                self.listener = feed.listener
                self.replica.loaded(entries)
                self.reloads += 1
                self._tried.set()
                delay = self.retry_delay
                purge_at = time.monotonic() + _PURGE_EVERY
                while not self._worker.stopping:
                    changes = feed.changes(self.poll_interval)
                    if changes is not None:  # None: no sign of life during the wait
                        for entry in changes:
                            self.replica.cache.apply(entry)
                        self.replica.alive()
                    if time.monotonic() > purge_at:
                        self.replica.cache.purge(self.replica.clock())
                        purge_at = time.monotonic() + _PURGE_EVERY
            except Exception as exc:  # every failure: resynchronise before trusting again
                self.replica.lost(f"{type(exc).__name__}: {str(exc)[:120]}")
                self._tried.set()
            finally:
                feed.close()
            if self._worker.pause(delay):
                return
            delay = min(delay * 2, _RETRY_MAX)
