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

The policy (when to fetch, what to keep) is the pure class :class:`JWKSCachePolicy`; the
blocking client fetches with the stdlib (``urllib.request`` with a redirect-refusing opener) and
the asyncio client runs that same fetch in a worker thread, so there is no extra dependency. The
blocking client is generated from the asyncio one (``scripts/unasync.py``), so the two cannot
drift apart. Environment proxy settings are ignored on purpose.
"""

from __future__ import annotations

from gatepass.strategies._async.jwks_client import AsyncJWKSClient
from gatepass.strategies._jwks_fetch import fetch_jwks
from gatepass.strategies._jwks_policy import (
    DEFAULT_COOLDOWN,
    DEFAULT_MAX_AGE,
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT,
    JWKSCachePolicy,
    check_jwks_url,
)
from gatepass.strategies._sync.jwks_client import JWKSClient

__all__ = [
    "DEFAULT_COOLDOWN",
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT",
    "AsyncJWKSClient",
    "JWKSCachePolicy",
    "JWKSClient",
    "check_jwks_url",
    "fetch_jwks",
]
