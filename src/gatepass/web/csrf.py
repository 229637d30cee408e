"""Cross-site request forgery: fetch metadata and ``Origin`` first, a bound token as the fallback.

A cookie is ambient authority: the browser attaches it to requests that another site's page
starts. The defence, in the order Go 1.25's ``CrossOriginProtection`` and Django apply it:

1. ``Sec-Fetch-Site`` (every current browser sends it to secure origins and cannot be made to
   lie about it): ``same-origin`` and ``none`` (the user typed or bookmarked the URL) pass; any
   other value is refused unless the request's ``Origin`` is in ``trusted_origins``.
2. Without fetch metadata, ``Origin``: it passes when its host equals the request's ``Host`` or
   the origin is trusted; ``Origin: null`` (sandboxed frames, some redirects) is refused.
3. Neither header (old browsers, non-browser clients): a CSRF token must come in the
   ``X-CSRF-Token`` header or a ``csrf_token`` form field.

Tokens are bound to the credential they protect: ``nonce || HMAC(key, nonce || binding)`` where
the binding is the session id, the refresh family, or, before login, the random seed cookie (so a
login form cannot be replayed into another visitor's browser: login CSRF). The nonce makes every
token different (no BREACH-style recovery from compressed pages); the HMAC makes them unforgeable
without the server's key, and holding one reveals nothing about the session id it is bound to.

Cross-site SPA mode (``CookiePolicy(cross_site=True)``, cookies ``SameSite=None``): the browser
sends the cookie with every cross-site request, so an allow-listed ``Origin`` is required *and* a
valid token on every unsafe request (a custom header also forces a CORS preflight, which only
allow-listed origins pass).

Requests authenticated by a bearer token alone are exempt: a page on another site cannot make
the browser attach an ``Authorization`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from gatepass.errors import MalformedToken
from gatepass.tokens._b64 import b64decode, b64encode
from gatepass.web.http import Request

__all__ = [
    "ALLOWED",
    "NEED_TOKEN",
    "CsrfTokens",
    "bind_seed",
    "fetch_verdict",
    "new_seed",
    "origin_host",
    "refresh_binding",
    "seed_binding",
    "session_binding",
]

ALLOWED = "allowed"
NEED_TOKEN = "need-token"
_TOKEN_LENGTH = 43  # base64url of 16 nonce bytes + 16 MAC bytes
_LABEL = b"gatepass csrf\x00"


def new_seed() -> str:
    """A random value for the pre-login seed cookie (256 bits)."""
    return secrets.token_urlsafe(32)


def bind_seed(seed: str) -> bytes:
    return b"seed:" + seed.encode("ascii")


def seed_binding(seed: str | None) -> bytes | None:
    """The binding of a visitor who is not logged in; None unless ``seed`` looks like ours."""
    if seed is None or len(seed) != 43 or not seed.isascii():
        return None
    return bind_seed(seed)


def session_binding(session_token: str) -> bytes:
    return b"session:" + session_token.encode("ascii", "replace")


def refresh_binding(refresh_token: str) -> bytes:
    return b"refresh:" + refresh_token.encode("ascii", "replace")


def origin_host(origin: str) -> str | None:
    """``host[:port]`` of a serialised origin, lower-case; None for ``null`` or junk."""
    if origin == "null" or "://" not in origin:
        return None
    try:
        parts = urlsplit(origin)
    except ValueError:
        return None
    if parts.path or parts.query or parts.fragment or not parts.netloc or "@" in parts.netloc:
        return None
    return parts.netloc.lower()


def fetch_verdict(request: Request, trusted_origins: frozenset[str]) -> str:
    """:data:`ALLOWED`, :data:`NEED_TOKEN`, or the reason the request is refused."""
    headers = request.headers
    site = headers.get("sec-fetch-site")
    origin = headers.get("origin")
    if site is not None:
        if site in ("same-origin", "none"):
            return ALLOWED
        if origin is not None and origin in trusted_origins:
            return ALLOWED
        return f"cross-origin request refused (Sec-Fetch-Site: {site[:24]})"
    if origin is not None:
        if origin in trusted_origins:
            return ALLOWED
        # The Host header itself, not the server's name for itself when none came (HTTP/1.0):
        # that name differs between servers (uvicorn: its address, waitress: its host name), so
        # the two middlewares would decide differently. A browser always sends Host.
        host = headers.get("host")
        if host is not None and origin_host(origin) == host.lower():
            return ALLOWED
        return "cross-origin request refused (Origin does not match this site)"
    return NEED_TOKEN


class CsrfTokens:
    """Mint and check tokens bound to a credential; ``secret`` is shared by every process."""

    __slots__ = ("_key",)

    def __init__(self, secret: bytes) -> None:
        # A key of its own, so the same application secret can serve other purposes safely.
        self._key = hmac.new(secret, b"gatepass csrf key", hashlib.sha256).digest()

    def mint(self, binding: bytes) -> str:
        nonce = secrets.token_bytes(16)
        mac = hmac.new(self._key, _LABEL + nonce + binding, hashlib.sha256).digest()[:16]
        return b64encode(nonce + mac)

    def valid(self, token: object, binding: bytes) -> bool:
        if not isinstance(token, str) or len(token) != _TOKEN_LENGTH or not token.isascii():
            return False
        try:
            raw = b64decode(token, "CSRF token")  # canonical base64url only
        except MalformedToken:
            return False
        nonce, mac = raw[:16], raw[16:]
        expected = hmac.new(self._key, _LABEL + nonce + binding, hashlib.sha256).digest()[:16]
        return hmac.compare_digest(mac, expected)
