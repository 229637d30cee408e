"""The login cookies: their names and every flag they carry, decided in one place.

Defaults follow ``shared/notes/security.md`` ("Sessions, refresh tokens and cookies", item 8):

``__Host-session``  the session id. ``__Host-`` makes the browser refuse the cookie unless it is
                    ``Secure``, has ``Path=/`` and no ``Domain``: a sibling subdomain (or a
                    network attacker on plain http) cannot plant or overwrite it (cookie tossing,
                    session fixation). ``HttpOnly`` keeps page scripts, and so XSS, away from it.
                    ``SameSite=Lax`` keeps it off cross-site subrequests and form posts.
``__Secure-refresh`` the refresh token of the hybrid, ``Path=<prefix>/refresh`` so the browser
                    sends it to the refresh endpoint only (``__Host-`` would force ``Path=/``),
                    ``SameSite=Strict``: no cross-site request ever carries it.
``__Host-csrf``     a random seed that binds the CSRF token of a visitor who is not logged in yet
                    (login CSRF); holds no authority at all.

Browsers treat loopback (``http://127.0.0.1``, ``http://localhost``) as a secure context, so these
defaults work in local development as they are. Plain http on any other host cannot carry
``Secure`` cookies: :class:`CookiePolicy` then needs ``insecure_http=True``, an explicit opt-in
that drops the prefixes and ``Secure`` and says so loudly in the log. Cross-site SPA deployments
(the page and the API on different sites) set ``cross_site=True``: ``SameSite=None; Secure``, and
:mod:`gatepass.web.csrf` then demands an allow-listed ``Origin`` and a CSRF token on every unsafe
request, because the browser no longer withholds the cookie from other sites.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass

from gatepass.errors import ConfigurationError

__all__ = ["REFRESH_COOKIE", "SEED_COOKIE", "SESSION_COOKIE", "CookiePolicy", "read_cookie"]

logger = logging.getLogger("gatepass.web")

SESSION_COOKIE = "__Host-session"
REFRESH_COOKIE = "__Secure-refresh"
SEED_COOKIE = "__Host-csrf"

#: RFC 6265 cookie-octets: what a value may hold without quoting (gatepass values are base64url
#: plus ``.`` and ``~``, far inside this set).
_COOKIE_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def read_cookie(header: str | None, name: str) -> str | None:
    """The value of cookie ``name`` in a ``Cookie`` header, or None.

    A name that appears twice is treated as absent: browsers send duplicates only when cookies
    with the same name were set for different paths or domains, which is how a tossed cookie
    from a sibling subdomain would arrive; the web layer then acts as if no credential came,
    never on the attacker's copy.
    """
    if not header or name not in header:
        return None
    found: str | None = None
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            if found is not None:
                return None
            found = value
    return found


@dataclass(frozen=True, slots=True)
class CookiePolicy:
    """Names and flags of the three cookies. The defaults are the secure choice.

    ``refresh_path`` is filled in by :class:`gatepass.web.Gatepass` from its endpoint prefix.
    """

    same_site: str = "Lax"
    insecure_http: bool = False
    cross_site: bool = False
    refresh_path: str = "/auth/refresh"

    def __post_init__(self) -> None:
        if self.same_site not in ("Lax", "Strict"):
            raise ConfigurationError(
                "same_site must be 'Lax' or 'Strict'; cross-site deployments set cross_site=True"
            )
        for flag in ("insecure_http", "cross_site"):
            if type(getattr(self, flag)) is not bool:
                raise ConfigurationError(f"{flag} must be True or False")
        if self.insecure_http and self.cross_site:
            raise ConfigurationError("cross_site cookies need Secure: insecure_http is impossible")
        if not self.refresh_path.startswith("/"):
            raise ConfigurationError("refresh_path must start with '/'")
        if self.insecure_http:
            message = (
                "gatepass: INSECURE cookies (insecure_http=True): login cookies lose Secure and "
                "their __Host-/__Secure- prefixes, so anyone on the network path can read or "
                "plant them. Use this for plain-http development on a non-loopback host only."
            )
            logger.warning(message)
            warnings.warn(message, stacklevel=3)

    # --- names ----------------------------------------------------------------------------------

    # Without their prefixes the names still say whose they are: ``session`` is the cookie of
    # Flask's and Starlette's own sessions, and two cookies of one name overwrite each other.

    @property
    def session_name(self) -> str:
        return "gatepass-session" if self.insecure_http else SESSION_COOKIE

    @property
    def refresh_name(self) -> str:
        return "gatepass-refresh" if self.insecure_http else REFRESH_COOKIE

    @property
    def seed_name(self) -> str:
        return "gatepass-csrf" if self.insecure_http else SEED_COOKIE

    # --- Set-Cookie values --------------------------------------------------------------------

    def session(self, token: str, max_age: int | None) -> str:
        """``Set-Cookie`` for a session; ``max_age`` None makes a browser-session cookie."""
        same_site = "None" if self.cross_site else self.same_site
        return self._build(self.session_name, token, "/", same_site, max_age)

    def refresh(self, token: str, max_age: int, root: str = "") -> str:
        """``Set-Cookie`` for a refresh token; ``root``: where the app is mounted, since the
        browser must send the cookie to the refresh endpoint as it sees that path."""
        same_site = "None" if self.cross_site else "Strict"
        return self._build(self.refresh_name, token, root + self.refresh_path, same_site, max_age)

    def seed(self, value: str) -> str:
        same_site = "None" if self.cross_site else "Lax"
        return self._build(self.seed_name, value, "/", same_site, None)

    def clear_session(self) -> str:
        same_site = "None" if self.cross_site else self.same_site
        return self._build(self.session_name, "", "/", same_site, 0)

    def clear_refresh(self, root: str = "") -> str:
        same_site = "None" if self.cross_site else "Strict"
        return self._build(self.refresh_name, "", root + self.refresh_path, same_site, 0)

    def _build(self, name: str, value: str, path: str, same_site: str, max_age: int | None) -> str:
        if not _COOKIE_NAME.fullmatch(name) or not _COOKIE_VALUE.fullmatch(value):
            raise ConfigurationError("cookie name or value outside RFC 6265")
        parts = [f"{name}={value}", f"Path={path}"]
        if max_age is not None:
            parts.append(f"Max-Age={max(0, int(max_age))}")
            if max_age <= 0:
                parts.append("Expires=Thu, 01 Jan 1970 00:00:00 GMT")
        if not self.insecure_http:
            parts.append("Secure")
        parts.append("HttpOnly")
        parts.append(f"SameSite={same_site}")
        return "; ".join(parts)
