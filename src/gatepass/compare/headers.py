"""The HTTP header lines each design puts on the wire, so "bytes per request" is what a server
really receives.

The cookie names and the refresh cookie's path are the web layer's defaults, read from
:class:`gatepass.web.cookies.CookiePolicy` so the table measures what the middleware sends.
"""

from __future__ import annotations

from dataclasses import dataclass

from gatepass.web.cookies import CookiePolicy


@dataclass(frozen=True)
class CookieNames:
    """Where the web layer puts each credential."""

    session: str
    refresh: str
    refresh_path: str


_DEFAULTS = CookiePolicy()

#: The web layer's defaults: ``__Host-session`` (Path=/, no Domain) for sessions, and
#: ``__Secure-refresh`` scoped to ``/auth/refresh`` for refresh tokens (``__Host-`` would force
#: Path=/ and send the long-lived token with every request).
COOKIES = CookieNames(
    session=_DEFAULTS.session_name,
    refresh=_DEFAULTS.refresh_name,
    refresh_path=_DEFAULTS.refresh_path,
)


def session_cookie(token: str) -> str:
    """The request header a browser sends with a session: ``Cookie: __Host-session=<token>``."""
    return f"Cookie: {COOKIES.session}={token}"


def refresh_cookie(token: str) -> str:
    """The header sent to the refresh endpoint only (the cookie's Path keeps it off the API)."""
    return f"Cookie: {COOKIES.refresh}={token}"


def bearer(token: str) -> str:
    """The header of every API request carrying a JWT: ``Authorization: Bearer <token>``."""
    return f"Authorization: Bearer {token}"


def dpop(token: str, proof: str) -> str:
    """A DPoP request's two header lines (RFC 9449 7.1): the bound token and a fresh proof."""
    return f"Authorization: DPoP {token}\r\nDPoP: {proof}"


def size(header: str) -> int:
    """Bytes of the header line as sent (name, colon, space, value; without the CRLF)."""
    return len(header.encode("latin-1"))
