"""``AreaEndpoints``: the ready-made endpoints of one more :class:`~gatepass.web.Gatepass`, under
its own prefix, in front of the app's main gatepass middleware.

The DPoP area is a second client of the hybrid in the same browser. Under the main prefix it
would share the single-page app's refresh cookie (one name and path, so one cookie per browser),
and gatepass.js would share that area's Web Lock and BroadcastChannel: a login in one area would
replace the other's login. Under a prefix of its own it has a cookie, a lock and a channel of its
own. Only that prefix's paths come here; every other request (the API calls of both areas
included) goes on to the main middleware, which verifies either kind of access token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from gatepass.web.asgi import GatepassMiddleware, request_of
from gatepass.web.config import Gatepass

__all__ = ["AreaEndpoints"]

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


class AreaEndpoints:
    """Answer ``<gatepass.prefix>/*`` with ``gatepass``'s endpoints; pass everything else on."""

    def __init__(self, app: ASGIApp, gatepass: Gatepass) -> None:
        self.app = app
        self.gatepass = gatepass
        self.endpoints = GatepassMiddleware(app, gatepass)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.gatepass.is_endpoint(request_of(scope).path):
            await self.endpoints(scope, receive, send)
        else:
            await self.app(scope, receive, send)
