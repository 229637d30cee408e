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
``__Host-refresh-family`` the refresh cookie's companion: the id of the family the refresh
                    cookie belongs to, set and cleared with it. ``__Secure-`` allows ``Domain``,
                    so a page on a sibling subdomain can plant its *own* refresh cookie in the
                    victim's browser (cookie tossing); into a browser that has none of its own,
                    that would log the victim into the attacker's account (login CSRF).
                    ``__Host-`` forbids ``Domain``: only this host can set the companion, and
                    :func:`read_refresh` counts a refresh cookie only beside the companion that
                    names its family. The value is no secret (it grants nothing alone); the
                    prefix is the defence. ``__Host-`` forces ``Path=/``, so an app whose refresh
                    endpoint is elsewhere than ``/auth/refresh`` (another prefix, a mount) names
                    its companion after that path (:meth:`CookiePolicy.family_name`): two
                    hybrids on one host keep their own refresh cookies and their own companions.
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

import hashlib
import logging
import re
import warnings
from dataclasses import dataclass

from gatepass.errors import ConfigurationError
from gatepass.strategies.refresh import family_of
from gatepass.tokens._b64 import b64encode

__all__ = [
    "FAMILY_COOKIE",
    "REFRESH_COOKIE",
    "SEED_COOKIE",
    "SESSION_COOKIE",
    "CookiePolicy",
    "read_cookie",
    "read_refresh",
]

logger = logging.getLogger("gatepass.web")

SESSION_COOKIE = "__Host-session"
REFRESH_COOKIE = "__Secure-refresh"
SEED_COOKIE = "__Host-csrf"
FAMILY_COOKIE = "__Host-refresh-family"

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


def read_refresh(header: str | None, policy: CookiePolicy, root: str = "") -> str | None:
    """The refresh token of a ``Cookie`` header, or None: the refresh cookie counts only beside
    the companion cookie that names its family (the one rule against a tossed refresh cookie;
    see the module docstring). Without it the request carries no refresh token, as with a
    duplicate name: nothing is looked up, burned or revoked, the attacker's family included."""
    token = read_cookie(header, policy.refresh_name)
    if token is None:
        return None
    family = family_of(token)
    if family is None:
        return token  # junk: refused as a malformed token, and the cookie cleared
    if read_cookie(header, policy.family_name(root)) != family:
        return None
    return token


@dataclass(frozen=True, slots=True)
class CookiePolicy:
    """Names and flags of the four cookies. The defaults are the secure choice.

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

    def family_name(self, root: str = "") -> str:
        """The companion's name for the refresh cookie of ``root + refresh_path``: the plain
        name for the conventional ``/auth/refresh``, else the name and 8 characters of the
        path's hash (a path may hold characters a cookie name may not)."""
        name = "gatepass-refresh-family" if self.insecure_http else FAMILY_COOKIE
        path = root + self.refresh_path
        if path == "/auth/refresh":
            return name
        return f"{name}-{b64encode(hashlib.sha256(path.encode('utf-8')).digest()[:6])}"

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

    def refresh_family(self, token: str, max_age: int, root: str = "") -> str:
        """``Set-Cookie`` for the refresh cookie's companion (:func:`read_refresh`): set and
        cleared together with :meth:`refresh`, with the same lifetime."""
        family = family_of(token)
        if family is None:
            raise ConfigurationError("not a refresh token")
        same_site = "None" if self.cross_site else "Strict"
        return self._build(self.family_name(root), family, "/", same_site, max_age)

    def clear_refresh_family(self, root: str = "") -> str:
        same_site = "None" if self.cross_site else "Strict"
        return self._build(self.family_name(root), "", "/", same_site, 0)

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
