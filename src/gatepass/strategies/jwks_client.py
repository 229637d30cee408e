"""A JWKS client for services that only verify tokens, hardened against the peers' failures.

What it guarantees, and why:

* **https only.** Plain ``http`` is accepted only for loopback hosts (``localhost``,
  ``127.0.0.0/8``, ``::1``) so tests can use a local server; anything else is a
  :class:`ConfigurationError` at construction. No ``file://``, no ``data:``, no FTP (PyJWT
  CVE-2026-48522 fetched ``file://``).
* **No redirects.** A 3xx answer is a failed fetch: a redirect would let whoever controls the
  first host pick the keys.
* **A timeout** (5 s by default) and a size limit (512 KiB), so a slow or hostile endpoint cannot
  hang or bloat the verifier.
* **A cache that keeps the last good set** when a fetch fails (PyJWT wiped its cache on error, so
  an outage of the identity provider became an outage of every API), refreshed after ``max_age``
  (10 min).
* **Refetch on an unknown ``kid``, limited by a cooldown** (30 s): a key rotation is picked up at
  once, but a flood of tokens with random ``kid`` values cannot turn into a flood of fetches
  (PyJWT CVE-2026-48524). Failed attempts are rate-limited by the same cooldown, so an identity
  provider that is down does not cost every request a timeout.
* **Exactly one key by ``kid`` + ``alg``** (and ``use`` must allow signatures): the key set's own
  selection rules, never a guess.

The policy (when to fetch, what to keep) is the pure class :class:`JWKSCachePolicy`; the sync
client fetches with the stdlib (``urllib.request`` with a redirect-refusing opener) and the async
client runs that same fetch in a worker thread (``asyncio.to_thread``), so there is no extra
dependency and the two cannot drift apart. Environment proxy settings are ignored on purpose.
"""

from __future__ import annotations

import asyncio
import http.client
import ipaddress
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, NoReturn

from gatepass.errors import (
    ConfigurationError,
    GatepassError,
    JWKSFetchError,
    KeyNotFound,
    quote_prefix,
)
from gatepass.tokens.keys import Key, KeySet

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_AGE = 600.0
DEFAULT_COOLDOWN = 30.0
DEFAULT_MAX_BYTES = 512 * 1024


# --- URL policy -------------------------------------------------------------------------------


def check_jwks_url(url: str) -> str:
    """Return ``url`` if it is an acceptable JWKS location, else raise ``ConfigurationError``."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and host and _is_loopback(host):
        return url
    raise ConfigurationError(
        f"JWKS URL {quote_prefix(url, 60)} refused: use https (plain http only for loopback hosts)"
    )


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- the cache policy (pure, shared by sync and async) ----------------------------------------


@dataclass(slots=True)
class JWKSCachePolicy:
    """When to fetch and what to keep. No I/O: the clients call it around their fetches.

    ``clock`` must be monotonic (the default is :func:`time.monotonic`): wall-clock jumps must not
    expire or immortalise the cache.
    """

    max_age: float = DEFAULT_MAX_AGE
    cooldown: float = DEFAULT_COOLDOWN
    keys: KeySet | None = None
    fetched_at: float | None = None  # last successful fetch
    attempted_at: float | None = None  # last attempt, successful or not
    last_error: str | None = None

    def is_fresh(self, now: float) -> bool:
        return self.fetched_at is not None and now - self.fetched_at < self.max_age

    def cooling_down(self, now: float) -> bool:
        return self.attempted_at is not None and now - self.attempted_at < self.cooldown

    def should_fetch(self, now: float, *, unknown_kid: bool = False) -> bool:
        """Fetch when there is no set, the set is stale, or a ``kid`` is unknown.

        Every case except "no set yet" is limited by the cooldown, which also applies after a
        failed attempt so that a dead endpoint is not retried on every request.
        """
        if self.keys is None:
            return not (self.last_error is not None and self.cooling_down(now))
        if unknown_kid or not self.is_fresh(now):
            return not self.cooling_down(now)
        return False

    def record_success(self, keys: KeySet, now: float) -> None:
        self.keys = keys
        self.fetched_at = now
        self.attempted_at = now
        self.last_error = None

    def record_failure(self, error: str, now: float) -> None:
        """Keep the last good set: a failed fetch never empties the cache."""
        self.attempted_at = now
        self.last_error = error

    def current(self) -> KeySet:
        if self.keys is None:
            raise JWKSFetchError(f"no JWKS available: {self.last_error or 'never fetched'}")
        return self.keys

    def select(self, kid: str | None, alg: str) -> Key:
        return self.current().find(kid, alg)


# --- the fetch (stdlib, sync) -------------------------------------------------------------------


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(  # noqa: PLR0917 - the urllib signature
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> NoReturn:
        raise JWKSFetchError(f"JWKS endpoint answered with a redirect ({code}); refused")


def _opener() -> urllib.request.OpenerDirector:
    """An opener with exactly http(s), no proxies from the environment and no redirects."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(context=ssl.create_default_context()),
        _RefuseRedirects(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _read_bounded(response: Any, max_bytes: int, deadline: float) -> bytes:
    """Read at most ``max_bytes + 1`` bytes, and give up at ``deadline``.

    The socket timeout bounds each read, not the whole body: a server trickling one byte every
    few seconds must not hold the fetch (and the lock every other request waits on) for minutes.
    """
    read = getattr(response, "read1", response.read)  # read1: whatever has arrived, no waiting
    chunks: list[bytes] = []
    size = 0
    while size <= max_bytes:
        chunk = read(min(65536, max_bytes + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError
    return b"".join(chunks)


def fetch_jwks(url: str, *, timeout: float, max_bytes: int = DEFAULT_MAX_BYTES) -> KeySet:
    """Fetch and parse one JWKS document; every failure is a :class:`JWKSFetchError`."""
    check_jwks_url(url)
    request = urllib.request.Request(  # noqa: S310 - scheme checked by check_jwks_url
        url, headers={"Accept": "application/jwk-set+json, application/json"}
    )
    deadline = time.monotonic() + timeout
    try:
        with _opener().open(request, timeout=timeout) as response:
            body = _read_bounded(response, max_bytes, deadline)
    except JWKSFetchError:
        raise
    except urllib.error.HTTPError as exc:
        raise JWKSFetchError(f"JWKS endpoint answered HTTP {exc.code}") from None
    except TimeoutError:
        raise JWKSFetchError(f"JWKS fetch timed out after {timeout} s") from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise JWKSFetchError(f"JWKS fetch failed: {type(reason).__name__}") from None
    if len(body) > max_bytes:
        raise JWKSFetchError(f"JWKS document larger than {max_bytes} bytes")
    try:
        keys = KeySet.from_jwks(body.decode("utf-8"))
    except (GatepassError, UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
        raise JWKSFetchError(f"malformed JWKS document: {type(exc).__name__}") from None
    if len(keys) == 0:
        raise JWKSFetchError("JWKS document holds no usable key")
    if any(key.is_private for key in keys):
        # A JWKS URL is public: an HMAC secret (kty "oct") or a private key served there is
        # known to anyone who can fetch it, so trusting it would let anyone forge tokens.
        raise JWKSFetchError("JWKS document publishes secret key material; refused")
    return keys


# --- the clients ---------------------------------------------------------------------------------


class _JWKSClientConfig:
    """The constructor both clients share; each makes its own kind of lock."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_age: float = DEFAULT_MAX_AGE,
        cooldown: float = DEFAULT_COOLDOWN,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout <= 0 or max_age <= 0 or cooldown < 0 or max_bytes <= 0:
            raise ConfigurationError("timeout, max_age and max_bytes must be positive")
        self.url = check_jwks_url(url)
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._clock = clock
        self._policy = JWKSCachePolicy(max_age=max_age, cooldown=cooldown)
        self.fetches = 0  # attempts made, for monitoring and tests
        self._make_lock()

    def _make_lock(self) -> None:
        raise NotImplementedError


class JWKSClient(_JWKSClientConfig):
    """Fetches, caches and selects verification keys from a remote JWKS (sync).

    >>> client = JWKSClient("https://issuer.example/.well-known/jwks.json")   # doctest: +SKIP
    >>> claims = jwt.verify(token, client.key_for(token), audience="api")   # doctest: +SKIP

    Or hand the client to :class:`~gatepass.strategies.access.AccessTokens` as its ``keys``.
    """

    def _make_lock(self) -> None:
        self._lock = threading.Lock()

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
            # Another thread may have fetched while we waited for the lock.
            if not self._policy.should_fetch(self._clock(), unknown_kid=unknown_kid):
                return True
            self._fetch_locked()
        return True

    def _fetch_locked(self) -> None:
        self.fetches += 1
        try:
            keys = fetch_jwks(self.url, timeout=self.timeout, max_bytes=self.max_bytes)
        except JWKSFetchError as exc:
            self._policy.record_failure(str(exc), self._clock())
            if self._policy.keys is None:
                raise
            return
        self._policy.record_success(keys, self._clock())


class AsyncJWKSClient(_JWKSClientConfig):
    """The asyncio twin of :class:`JWKSClient`: same policy, the fetch runs in a worker thread."""

    def _make_lock(self) -> None:
        self._lock = asyncio.Lock()

    async def keyset(self) -> KeySet:
        await self._maybe_fetch(unknown_kid=False)
        return self._policy.current()

    async def get_key(self, kid: str | None, alg: str) -> Key:
        await self._maybe_fetch(unknown_kid=False)
        try:
            return self._policy.select(kid, alg)
        except KeyNotFound:
            if not await self._maybe_fetch(unknown_kid=True):
                raise
        return self._policy.select(kid, alg)

    async def refresh(self) -> KeySet:
        async with self._lock:
            await self._fetch_locked()
        return self._policy.current()

    async def _maybe_fetch(self, *, unknown_kid: bool) -> bool:
        if not self._policy.should_fetch(self._clock(), unknown_kid=unknown_kid):
            return False
        async with self._lock:
            if not self._policy.should_fetch(self._clock(), unknown_kid=unknown_kid):
                return True
            await self._fetch_locked()
        return True

    async def _fetch_locked(self) -> None:
        self.fetches += 1
        try:
            keys = await asyncio.to_thread(
                fetch_jwks, self.url, timeout=self.timeout, max_bytes=self.max_bytes
            )
        except JWKSFetchError as exc:
            self._policy.record_failure(str(exc), self._clock())
            if self._policy.keys is None:
                raise
            return
        self._policy.record_success(keys, self._clock())
