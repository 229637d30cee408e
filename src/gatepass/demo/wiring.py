"""The demo's login machinery: one store, the three designs on it, and a stateless "partner".

* **Session cookie**: :class:`~gatepass.Sessions` (30 minutes idle, 12 hours at most).
* **Hybrid**: :class:`~gatepass.RefreshTokens` (the refresh cookie) over access tokens that
  live 15 minutes.
* **Bearer API tokens**: the same access tokens, issued without a refresh token.
* **Hybrid with DPoP** (RFC 9449): the hybrid whose access token and refresh family are bound to
  a key the browser cannot export; accepted beside bearer tokens (``required=False``), with the
  proofs' ids shared through the store. Its endpoints live under a prefix of their own
  (:data:`DPOP_PREFIX`), so its refresh cookie (``Path=/dpop/auth/refresh``) is not the single-page
  app's (``Path=/auth/refresh``): a browser can be logged in in both areas at once, and a login,
  refresh or reload in one leaves the other's refresh family alone.

The access tokens use **replicated** revocation unless ``--revocation`` says otherwise, chosen
deliberately: verification stays a signature check with no store read per request (the reason
to use JWTs at all), yet "log out everywhere" and "freeze account" reach every process within
the store's poll interval (immediately in this single process). ``denylist`` buys the same
effect for one store read per request; ``stateless`` cannot revoke at all.

To show what a *pure* stateless token does, the app also plays a **partner service**: it has
only the public keys and no revocation feed (``revocation="stateless"``, its own audience), so
a token it accepts stays valid until its ``exp`` whatever happens to the account.

SQLite and memory stores are driven with the blocking strategies (a read takes microseconds in
the event loop); Redis and PostgreSQL with the asyncio ones.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from gatepass.demo.accounts import Accounts
from gatepass.demo.settings import Settings
from gatepass.stores import open_async_store, open_store
from gatepass.stores.protocols import AsyncStore, Store
from gatepass.strategies.access import AccessTokens, AsyncAccessTokens
from gatepass.strategies.keyring import KeyRing
from gatepass.strategies.refresh import AsyncRefreshTokens, RefreshTokens
from gatepass.strategies.sessions import AsyncSessions, Sessions
from gatepass.web.config import Gatepass
from gatepass.web.dpop import DPoPPolicy

__all__ = [
    "API_AUDIENCE",
    "DPOP_PREFIX",
    "ISSUER",
    "PARTNER_AUDIENCE",
    "Backend",
    "build_backend",
]

ISSUER = "gatepass-demo"
API_AUDIENCE = "gatepass-demo-api"
PARTNER_AUDIENCE = "gatepass-demo-partner"
#: Where the DPoP area's endpoints live (the other areas use ``/auth``).
DPOP_PREFIX = "/dpop/auth"

SESSION_IDLE = 30 * 60
SESSION_ABSOLUTE = 12 * 3600


@dataclass(slots=True)
class Backend:
    """Everything the routes need, and the start/stop of what holds connections or threads."""

    settings: Settings
    accounts: Accounts
    store: Any
    gatepass: Gatepass
    #: The DPoP area's endpoints: the same strategies under :data:`DPOP_PREFIX`.
    dpop_gatepass: Gatepass
    partner: AccessTokens
    asynchronous: bool

    async def start(self) -> None:
        """For an asyncio store: create the tables (idempotent), then load the replicated
        revocations. (A blocking store was set up before its strategies were built.)"""
        access = self.gatepass.access
        if self.asynchronous:
            await self.store.setup()
            if isinstance(access, AsyncAccessTokens):
                await access.start()

    async def stop(self) -> None:
        access = self.gatepass.access
        if isinstance(access, AsyncAccessTokens):
            await access.aclose()
        elif access is not None:
            access.close()
        if self.asynchronous:
            await self.store.close()
        else:
            self.store.close()


def _asynchronous(url: str) -> bool:
    return not url.lower().startswith(("sqlite:", "memory:"))


def build_backend(settings: Settings, accounts: Accounts) -> Backend:
    """Open the store and build every strategy (an asyncio store is set up by
    :meth:`Backend.start`, in the server's event loop)."""
    url = settings.store_url
    settings.prepare()
    asynchronous = _asynchronous(url)
    ring = KeyRing.generate("ES256", retain=max(settings.access_ttl, settings.stateless_ttl) + 60)
    # One process: a random secret per start is enough (CSRF tokens and refresh successors).
    secret = secrets.token_bytes(32)
    mode = settings.revocation
    # One flavour throughout: blocking strategies on a blocking store, asyncio on an asyncio one.
    token_options: dict[str, Any] = {
        "issuer": ISSUER,
        "audience": API_AUDIENCE,
        "ttl": settings.access_ttl,
        "revocation": mode,
    }
    session_options: dict[str, Any] = {
        "idle_timeout": SESSION_IDLE,
        "absolute_timeout": SESSION_ABSOLUTE,
    }
    web_options: dict[str, Any] = {
        "check_password": accounts.check_password,
        "secret": secret,
        "login_design": "session",
    }
    store: Store | AsyncStore
    if asynchronous:
        async_store = open_async_store(url)
        async_access = AsyncAccessTokens(
            ring, store=async_store if mode != "stateless" else None, **token_options
        )
        gatepass = Gatepass(
            sessions=AsyncSessions(async_store, **session_options),
            refresh_tokens=AsyncRefreshTokens(async_store, async_access, secret=secret),
            dpop=(dpop := DPoPPolicy(replay=async_store)),
            **web_options,
        )
        store = async_store
    else:
        sync_store = open_store(url)
        # Tables first: replicated revocation starts listening as soon as it is built, and
        # verification fails closed until its first load.
        sync_store.setup()
        sync_access = AccessTokens(
            ring, store=sync_store if mode != "stateless" else None, **token_options
        )
        gatepass = Gatepass(
            sessions=Sessions(sync_store, **session_options),
            refresh_tokens=RefreshTokens(sync_store, sync_access, secret=secret),
            dpop=(dpop := DPoPPolicy(replay=sync_store)),
            **web_options,
        )
        store = sync_store
    # The same strategies and secret, another prefix: another refresh cookie path, and another
    # Web Lock and BroadcastChannel in gatepass.js, so the two hybrid areas never share a login.
    dpop_gatepass = Gatepass(
        refresh_tokens=gatepass.refresh,
        dpop=dpop,
        prefix=DPOP_PREFIX,
        jwks_path=None,
        check_password=accounts.check_password,
        secret=secret,
        login_design="hybrid",
    )
    partner = AccessTokens(
        ring, issuer=ISSUER, audience=PARTNER_AUDIENCE, ttl=settings.stateless_ttl
    )
    return Backend(settings, accounts, store, gatepass, dpop_gatepass, partner, asynchronous)
