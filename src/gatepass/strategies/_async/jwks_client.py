"""The asyncio JWKS client (the blocking one is generated from this file)."""

from __future__ import annotations

from gatepass.errors import JWKSFetchError, KeyNotFound
from gatepass.strategies._concurrency import AsyncLock, async_run_blocking
from gatepass.strategies._jwks_fetch import fetch_jwks
from gatepass.strategies._jwks_policy import JWKSClientConfig
from gatepass.tokens.keys import Key, KeySet


class AsyncJWKSClient(JWKSClientConfig):
    """Fetches, caches and selects verification keys from a remote JWKS.

    >>> client = JWKSClient("https://issuer.example/.well-known/jwks.json")   # doctest: +SKIP
    >>> claims = jwt.verify(token, client.key_for(token), audience="api")   # doctest: +SKIP

    Or hand the client to :class:`~gatepass.AccessTokens` as its ``keys`` (the asyncio client to
    :class:`~gatepass.AsyncAccessTokens`). The asyncio client fetches in a worker thread.
    """

    lock_factory = AsyncLock
    _lock: AsyncLock

    async def keyset(self) -> KeySet:
        """The current key set, fetching first if there is none or it is stale."""
        await self._maybe_fetch(unknown_kid=False)
        return self._policy.current()

    async def get_key(self, kid: str | None, alg: str) -> Key:
        """The one key matching ``kid`` and ``alg``; refetches (within the cooldown) if unknown."""
        await self._maybe_fetch(unknown_kid=False)
        try:
            return self._policy.select(kid, alg)
        except KeyNotFound:
            if not await self._maybe_fetch(unknown_kid=True):
                raise
        return self._policy.select(kid, alg)

    async def refresh(self) -> KeySet:
        """Fetch now regardless of age and cooldown (an operator action, not a request path)."""
        async with self._lock:
            await self._fetch_locked()
        return self._policy.current()

    async def _maybe_fetch(self, *, unknown_kid: bool) -> bool:
        if not self._policy.should_fetch(self._clock(), unknown_kid=unknown_kid):
            return False
        async with self._lock:
            # Another caller may have fetched while we waited for the lock.
            if not self._policy.should_fetch(self._clock(), unknown_kid=unknown_kid):
                return True
            await self._fetch_locked()
        return True

    async def _fetch_locked(self) -> None:
        self.fetches += 1
        try:
            keys = await async_run_blocking(
                fetch_jwks, self.url, timeout=self.timeout, max_bytes=self.max_bytes
            )
        except JWKSFetchError as exc:
            self._policy.record_failure(str(exc), self._clock())
            if self._policy.keys is None:
                raise
            return
        self._policy.record_success(keys, self._clock())
