"""The JWKS client's rules (pure): which URLs are acceptable, when to fetch, what to keep.

Shared by :class:`~gatepass.JWKSClient` and :class:`~gatepass.AsyncJWKSClient`, which only add
the fetch (:mod:`gatepass.strategies._jwks_fetch`) and a lock of their flavour.
"""

from __future__ import annotations

import ipaddress
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from gatepass.errors import ConfigurationError, JWKSFetchError, quote_prefix
from gatepass.stores.limits import MAX_WAIT_SECONDS, check_seconds
from gatepass.tokens.keys import Key, KeySet

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_AGE = 600.0
DEFAULT_COOLDOWN = 30.0
DEFAULT_MAX_BYTES = 512 * 1024


# --- URL policy -------------------------------------------------------------------------------


def check_jwks_url(url: str) -> str:
    """Return ``url`` if it is an acceptable JWKS location, else raise ``ConfigurationError``
    (also for what ``urllib`` cannot parse: a non-str, a bracket left open, a bad port)."""
    if not isinstance(url, str):
        raise ConfigurationError(f"a JWKS URL is a str, not {type(url).__name__}")
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number 0-65535
    except ValueError as exc:
        raise ConfigurationError(f"malformed JWKS URL {quote_prefix(url, 60)}: {exc}") from None
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


# --- the clients ---------------------------------------------------------------------------------


class JWKSClientConfig:
    """The constructor both clients share; ``lock_factory`` makes the lock of their flavour."""

    lock_factory: Callable[[], object] = object

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
        # Checked, not compared: a NaN max_age or cooldown makes every cache test false (a set
        # refetched on every call, or never), an infinite timeout is refused by ``socket``.
        self.timeout = check_seconds(timeout, "timeout", maximum=MAX_WAIT_SECONDS)
        max_age = check_seconds(max_age, "max_age")
        cooldown = check_seconds(cooldown, "cooldown", allow_zero=True)
        if type(max_bytes) is not int or max_bytes <= 0:
            raise ConfigurationError("max_bytes must be a positive whole number of bytes")
        if not callable(clock):
            raise ConfigurationError(
                f"clock must be a function returning seconds, not {clock!r:.40}"
            )
        self.url = check_jwks_url(url)
        self.max_bytes = max_bytes
        self._clock = clock
        self._policy = JWKSCachePolicy(max_age=max_age, cooldown=cooldown)
        self.fetches = 0  # attempts made, for monitoring and tests
        self._lock = self.lock_factory()
