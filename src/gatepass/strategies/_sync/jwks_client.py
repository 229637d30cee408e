# GENERATED from gatepass/strategies/_async/jwks_client.py by scripts/unasync.py: do not edit.
# Change the asyncio source, then run `python scripts/unasync.py`.
"""The asyncio JWKS client (the blocking one is generated from this file)."""

from __future__ import annotations

from gatepass.errors import JWKSFetchError, KeyNotFound
from gatepass.strategies._concurrency import Lock, run_blocking
from gatepass.strategies._jwks_fetch import fetch_jwks
from gatepass.strategies._jwks_policy import JWKSClientConfig
from gatepass.tokens.keys import Key, KeySet


class JWKSClient(JWKSClientConfig):
    """Fetches, caches and selects verification keys from a remote JWKS.

    >>> client = JWKSClient("https://issuer.example/.well-known/jwks.json")   # doctest: +SKIP
    >>> claims = jwt.verify(token, client.key_for(token), audience="api")   # doctest: +SKIP

    Or hand the client to :class:`~gatepass.AccessTokens` as its ``keys`` (the asyncio client to
    :class:`~gatepass.AccessTokens`). The asyncio client fetches in a worker thread.
    """

    lock_factory = Lock
    _lock: Lock

    def keyset(self) -> KeySet:
        """The current key set, fetching first if there is none or it is stale."""
        self._maybe_fetch(unknown_kid=False)
        return self._policy.current()

    def get_key(self, kid: str | None, alg: str) -> Key:
        """The one key matching ``kid`` and ``alg``; refetches (within the cooldown) if unknown."""
        self._maybe_fetch(unknown_kid=False)
        try:
            return self._policy.select(kid, alg)
        except KeyNotFound:
            if not self._maybe_fetch(unknown_kid=True):
                raise
        return self._policy.select(kid, alg)

    def refresh(self) -> KeySet:
        """Fetch now regardless of age and cooldown (an operator action, not a request path)."""
        with self._lock:
            self._fetch_locked()
        return self._policy.current()

    def _maybe_fetch(self, *, unknown_kid: bool) -> bool:
        if not self._policy.should_fetch(self._clock(), unknown_kid=unknown_kid):
            return False
        with self._lock:
            # Another caller may have fetched while we waited for the lock.
            if not self._policy.should_fetch(self._clock(), unknown_kid=unknown_kid):
                return True
            self._fetch_locked()
        return True

    def _fetch_locked(self) -> None:
        self.fetches += 1
        try:
            keys = run_blocking(
                fetch_jwks, self.url, timeout=self.timeout, max_bytes=self.max_bytes
            )
        except JWKSFetchError as exc:
            self._policy.record_failure(str(exc), self._clock())
            if self._policy.keys is None:
                raise
            return
        self._policy.record_success(keys, self._clock())
