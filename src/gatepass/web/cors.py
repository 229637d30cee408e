"""CORS for the endpoints in cross-site mode: the SPA's own site may call them with credentials.

In cross-site mode (``CookiePolicy(cross_site=True)``) the page lives on another site than the
endpoints, so the browser asks first (a preflight ``OPTIONS``) and shows the answer to the page
only if it names the page's origin. gatepass answers that for its own endpoints, from the same
allow-list the CSRF check uses (``trusted_origins``): one list, so the two cannot disagree. No
wildcard is ever sent (credentials forbid it, and it would let every site read the answers), and
outside cross-site mode no CORS header is sent at all: a same-site app needs none.

The app's own routes keep their framework's CORS middleware (Starlette's ``CORSMiddleware``,
flask-cors), configured with the same origins and placed outside gatepass's middleware.
"""

from __future__ import annotations

from gatepass.web.config import Gatepass
from gatepass.web.http import Request, Response

__all__ = ["allow", "allowed_origin", "preflight", "vary_on_origin"]

#: Request headers a cross-site page may send to the endpoints (``dpop``: the proof, RFC 9449).
ALLOWED_HEADERS = "authorization, content-type, x-csrf-token, dpop"
#: Response headers the page may read beyond the safelisted ones: the next DPoP nonce, and the
#: challenge whose ``error="use_dpop_nonce"`` tells gatepass.js to retry with it (RFC 9449 8, 9).
EXPOSED_HEADERS = "DPoP-Nonce, WWW-Authenticate"
#: How long a browser may reuse a preflight answer (seconds).
MAX_AGE = 600


def allowed_origin(gp: Gatepass, request: Request) -> str | None:
    """The request's ``Origin`` if cross-site mode allows it to read the answer, else None."""
    if not gp.cookies.cross_site:
        return None
    origin = request.headers.get("origin")
    return origin if origin is not None and origin in gp.trusted_origins else None


def allow(response: Response, origin: str) -> None:
    """Let the page of ``origin`` read ``response``, with credentials."""
    response.headers.extend(
        [
            ("access-control-allow-origin", origin),
            ("access-control-allow-credentials", "true"),
            ("access-control-expose-headers", EXPOSED_HEADERS),
        ]
    )


def vary_on_origin(gp: Gatepass, response: Response) -> None:
    """In cross-site mode, say that ``response`` depends on the request's ``Origin``.

    An allowed origin's answer carries CORS headers (:func:`allow`), anyone else's does not:
    a shared cache that stores a cacheable answer (the JWKS) without ``Vary: Origin`` would
    serve one to the other, so a page could not read the keys, or another site would be sent
    an answer naming a trusted origin. Every endpoint answer gets it, whatever its ``Origin``
    (none included): :func:`gatepass.web.endpoints.endpoint` calls this once per answer."""
    if gp.cookies.cross_site:
        response.headers.append(("vary", "Origin"))


def preflight(origin: str, methods: str) -> Response:
    """The answer to a preflight from an allowed origin for an endpoint taking ``methods``."""
    response = Response(
        204,
        [
            ("access-control-allow-methods", methods),
            ("access-control-allow-headers", ALLOWED_HEADERS),
            ("access-control-max-age", str(MAX_AGE)),
            ("cache-control", "no-store"),
        ],
    )
    allow(response, origin)
    return response
