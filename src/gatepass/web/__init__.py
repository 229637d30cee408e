"""The web layer: protect an ASGI or WSGI app with any of gatepass's designs.

    from gatepass.web import Gatepass, GatepassMiddleware
    gp = Gatepass(sessions=Sessions(store), check_password=check, secret=SECRET)
    app = GatepassMiddleware(app, gp)

Layout (imports point down; nothing here imports a web framework):

``config``        :class:`Gatepass`, every setting checked once
``http``          the request and response as plain data
``cookies``       cookie names and flags, in one place
``csrf``          fetch metadata, ``Origin`` and bound tokens
``dpop``          DPoP (RFC 9449): the policy, proof checks, nonces, challenges
``principal``     :class:`Principal` and :class:`AuthState`, what a request carries
``problems``      RFC 9457 refusals (401, 403, 503 ...)
``authenticate``  the per-request plan
``endpoints``     the ready-made ``/auth/*`` endpoints, as plans
``drive``         the two drivers (blocking, asyncio): the only twin code
``asgi`` / ``wsgi``  the middlewares; ``fastapi`` / ``flask``  the framework adapters (extras)

See ``docs/web.md``.
"""

from __future__ import annotations

from gatepass.web.asgi import GatepassMiddleware
from gatepass.web.config import Gatepass, LoginResult
from gatepass.web.cookies import CookiePolicy
from gatepass.web.dpop import DPoPPolicy
from gatepass.web.principal import AuthState, Principal
from gatepass.web.problems import Problem
from gatepass.web.wsgi import GatepassWSGIMiddleware

__all__ = [
    "AuthState",
    "CookiePolicy",
    "DPoPPolicy",
    "Gatepass",
    "GatepassMiddleware",
    "GatepassWSGIMiddleware",
    "LoginResult",
    "Principal",
    "Problem",
]
