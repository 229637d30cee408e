"""``Gatepass``: which designs an app uses, and every web setting, checked once at start-up.

One object configures the middleware (ASGI or WSGI), the ready-made endpoints and the framework
adapters, so the cookie flags, CSRF rules and endpoint paths cannot disagree between them.

    gp = Gatepass(sessions=Sessions(store), check_password=check, secret=SECRET)
    app = GatepassMiddleware(app, gp)          # ASGI; GatepassWSGIMiddleware for WSGI

Designs, by which strategies are given:

* ``sessions``: a session cookie (``__Host-session``) for browser pages;
* ``access_tokens``: bearer tokens in the ``Authorization`` header, in any revocation mode;
* ``refresh_tokens``: the hybrid, a short access token in the response body plus a rotating
  refresh token in an ``HttpOnly`` cookie scoped to the refresh endpoint (its access tokens are
  ``refresh_tokens.access``).

Several at once are fine (a session cookie for pages and bearer tokens for the API).
"""

from __future__ import annotations

import logging
import secrets
import warnings
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

from gatepass.errors import ConfigurationError
from gatepass.strategies.access import AccessTokens, AsyncAccessTokens
from gatepass.strategies.refresh import AsyncRefreshTokens, RefreshTokens
from gatepass.strategies.sessions import AsyncSessions, Sessions
from gatepass.web.audit import LogIds
from gatepass.web.cookies import CookiePolicy
from gatepass.web.csrf import CsrfTokens, origin_host
from gatepass.web.dpop import DPoPPolicy, DPoPSetup

__all__ = ["Gatepass", "LoginDesign", "LoginResult", "PasswordCheck"]

logger = logging.getLogger("gatepass.web")

LoginDesign = Literal["session", "hybrid", "bearer"]
AnySessions = Sessions | AsyncSessions
AnyAccess = AccessTokens | AsyncAccessTokens
AnyRefresh = RefreshTokens | AsyncRefreshTokens


@dataclass(frozen=True, slots=True)
class LoginResult:
    """What a password check may return instead of a bare user id: the user and their scopes
    (kept with the session, or put in the access token's ``scope``)."""

    user_id: str
    scopes: tuple[str, ...] = ()


#: ``check_password(username, password)`` -> user id, :class:`LoginResult`, or None for "no".
#: May be a coroutine function in an ASGI app. Hash with a well-kept hasher (argon2-cffi,
#: pwdlib), and spend the same time on unknown users (hash a dummy) so timing does not reveal
#: which user names exist.
PasswordCheck = Callable[
    [str, str], "str | LoginResult | Awaitable[str | LoginResult | None] | None"
]


def _check_origins(origins: Iterable[str]) -> frozenset[str]:
    checked = set()
    for origin in origins:
        if not isinstance(origin, str) or origin_host(origin) is None:
            raise ConfigurationError(
                f"trusted origin {origin!r:.60} is not an origin such as 'https://app.example'"
            )
        scheme, _, host = origin.partition("://")
        scheme, host = scheme.lower(), host.lower()
        if scheme not in ("http", "https"):
            raise ConfigurationError(f"trusted origin {origin!r:.60} must be http(s)")
        # As a browser serialises an origin (RFC 6454 6.2): without the scheme's default port,
        # else 'https://app.example:443' would never equal the Origin header it stands for.
        host = host.removesuffix(":443" if scheme == "https" else ":80")
        checked.add(f"{scheme}://{host}")
    return frozenset(checked)


def _check_prefix(prefix: str) -> str:
    """A path the endpoints, the JWKS or a CSRF exemption live under.

    Printable ASCII only: an ASGI server hands the app its path decoded as UTF-8 and a WSGI
    server as latin-1, so a non-ASCII prefix would match under one and not the other (and the
    refresh cookie's ``Path`` would name neither spelling the browser compares). No ``;``,
    which would end the cookie's ``Path`` attribute.
    """
    if not isinstance(prefix, str) or not prefix.startswith("/") or prefix.endswith("/"):
        raise ConfigurationError("prefix must start with '/' and not end with one, e.g. '/auth'")
    if not prefix.isascii() or not prefix.isprintable() or any(ch in prefix for ch in "?#%; "):
        raise ConfigurationError("prefix must be a plain ASCII path (no ?, #, %, ; or spaces)")
    return prefix


def _anchor_sessions(refresh: AnyRefresh, access: AnyAccess) -> AnySessions:
    """The sessions that record the hybrid's logins for "your devices" and "log out everywhere".

    They live exactly as long as the refresh family may (its absolute lifetime; idleness is the
    family's own rule, checked at every rotation), on the refresh tokens' store, linked to the
    access tokens so that revoking one revokes the tokens that carry its id.
    """
    lifetime = refresh.absolute
    linked = access if access.mode != "stateless" else None
    options: dict[str, Any] = {
        "idle_timeout": lifetime,
        "absolute_timeout": lifetime,
        "remember_idle_timeout": lifetime,
        "remember_absolute_timeout": lifetime,
        "access_tokens": linked,
    }
    # The refresh tokens' flavour decides the store's and the access tokens' (their constructor
    # checked both), so the sessions take the same flavour.
    if isinstance(refresh, AsyncRefreshTokens):
        return AsyncSessions(refresh.store, **options)
    return Sessions(refresh.store, **options)


class Gatepass:
    """The web configuration of an app. See the module docstring and ``docs/web.md``.

    ``check_password``: the app's own credential check for ``POST <prefix>/login``.
    ``secret``: 32+ bytes shared by every process of the app (CSRF tokens are HMACs under it,
    and so are the log ids of ``AuthState.log_id``); without it a random one is made and tokens
    are only valid in this process (a warning says so). ``login_design``: what
    ``POST <prefix>/login`` does unless the request asks for another configured design.
    ``cookies``: names and flags (:class:`CookiePolicy`). ``trusted_origins``: other origins
    whose pages may send unsafe requests with the cookies (and, in cross-site mode, the CORS
    allow-list). ``prefix``: where the endpoints live. ``jwks_path``: where the public
    keys are published (None: not published). ``retry_after``: seconds sent with a 503.
    ``csrf_exempt``: path prefixes the CSRF check skips (webhooks that authenticate otherwise).
    ``max_body``: the largest body the web layer reads itself (login forms, CSRF fallback).
    ``dpop``: accept DPoP-bound tokens (:class:`~gatepass.web.dpop.DPoPPolicy`, ``docs/dpop.md``).
    """

    def __init__(
        self,
        *,
        sessions: AnySessions | None = None,
        access_tokens: AnyAccess | None = None,
        refresh_tokens: AnyRefresh | None = None,
        check_password: PasswordCheck | None = None,
        secret: bytes | None = None,
        login_design: LoginDesign | None = None,
        cookies: CookiePolicy | None = None,
        trusted_origins: Iterable[str] = (),
        prefix: str = "/auth",
        jwks_path: str | None = "/.well-known/jwks.json",
        retry_after: int = 5,
        csrf_exempt: Iterable[str] = (),
        max_body: int = 16 * 1024,
        dpop: DPoPPolicy | None = None,
    ) -> None:
        if sessions is not None and not isinstance(sessions, Sessions | AsyncSessions):
            raise ConfigurationError("sessions must be gatepass Sessions or AsyncSessions")
        if refresh_tokens is not None:
            if not isinstance(refresh_tokens, RefreshTokens | AsyncRefreshTokens):
                raise ConfigurationError("refresh_tokens must be RefreshTokens/AsyncRefreshTokens")
            if access_tokens is None:
                access_tokens = refresh_tokens.access
            elif access_tokens is not refresh_tokens.access:
                raise ConfigurationError(
                    "access_tokens must be the AccessTokens the refresh tokens were built with"
                )
        if access_tokens is not None and not isinstance(
            access_tokens, AccessTokens | AsyncAccessTokens
        ):
            raise ConfigurationError("access_tokens must be AccessTokens or AsyncAccessTokens")
        if sessions is None and access_tokens is None:
            raise ConfigurationError("give sessions, access_tokens or refresh_tokens (or several)")
        if check_password is not None and not callable(check_password):
            raise ConfigurationError("check_password must be a function (username, password)")
        if type(retry_after) is not int or not 1 <= retry_after <= 3600:
            raise ConfigurationError("retry_after must be whole seconds between 1 and 3600")
        if type(max_body) is not int or not 1024 <= max_body <= 1024 * 1024:
            raise ConfigurationError("max_body must be between 1 KiB and 1 MiB")

        self.sessions = sessions
        self.access = access_tokens
        self.refresh = refresh_tokens
        self.anchors: AnySessions | None = None
        if refresh_tokens is not None and access_tokens is not None:
            self.anchors = _anchor_sessions(refresh_tokens, access_tokens)
        self.check_password = check_password
        self.prefix = _check_prefix(prefix)
        if jwks_path is not None:
            _check_prefix(jwks_path)
        self.jwks_path = jwks_path
        self.retry_after = retry_after
        self.max_body = max_body
        self.csrf_exempt = tuple(_check_prefix(p) for p in csrf_exempt)
        self.trusted_origins = _check_origins(trusted_origins)

        policy = cookies if cookies is not None else CookiePolicy()
        if not isinstance(policy, CookiePolicy):
            raise ConfigurationError("cookies must be a CookiePolicy")
        self.cookies = replace(policy, refresh_path=f"{self.prefix}/refresh")
        if self.cookies.cross_site and not self.trusted_origins:
            raise ConfigurationError(
                "cross_site cookies need trusted_origins: the sites allowed to use them"
            )
        key = self._secret(secret)
        self.csrf = CsrfTokens(key)
        self.log_ids = LogIds(key)
        self.dpop: DPoPSetup | None = None
        if dpop is not None:
            if access_tokens is None:
                raise ConfigurationError("dpop needs access_tokens or refresh_tokens to bind")
            self.dpop = DPoPSetup(dpop, key)
        self.designs = self._designs()
        self.login_design = self._default_design(login_design)

    @staticmethod
    def _secret(secret: bytes | None) -> bytes:
        if secret is None:
            message = (
                "gatepass: no secret= given, so CSRF tokens are signed with a random key valid in "
                "this process only; pass the same 32+ byte secret to every process of the app"
            )
            logger.warning(message)
            warnings.warn(message, stacklevel=4)
            return secrets.token_bytes(32)
        if not isinstance(secret, bytes) or len(secret) < 32:
            raise ConfigurationError("secret must be at least 32 random bytes")
        return secret

    def _designs(self) -> frozenset[str]:
        designs = set()
        if self.sessions is not None:
            designs.add("session")
        if self.refresh is not None:
            designs.add("hybrid")
        if self.access is not None and self.access.can_issue:
            designs.add("bearer")
        return frozenset(designs)

    def _default_design(self, wanted: LoginDesign | None) -> LoginDesign | None:
        if wanted is not None:
            if wanted not in self.designs:
                raise ConfigurationError(
                    f"login_design={wanted!r} is not configured (configured: "
                    f"{', '.join(sorted(self.designs)) or 'none'})"
                )
            return wanted
        for design in ("session", "hybrid", "bearer"):
            if design in self.designs:
                return design
        return None

    # --- what the drivers ask -----------------------------------------------------------------

    @property
    def devices(self) -> AnySessions | None:
        """The sessions that list and revoke devices: cookie sessions, else the hybrid's."""
        return self.sessions if self.sessions is not None else self.anchors

    def is_endpoint(self, path: str) -> bool:
        return path.startswith(self.prefix + "/") or path == self.jwks_path

    def exempt(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.csrf_exempt)

    def asynchronous(self) -> bool:
        """Whether any strategy is an asyncio one (only an ASGI app can run it)."""
        return any(
            isinstance(s, AsyncSessions | AsyncAccessTokens | AsyncRefreshTokens)
            for s in (self.sessions, self.access, self.refresh)
        ) or (self.dpop is not None and self.dpop.asynchronous)

    def describe(self) -> dict[str, Any]:
        return {
            "designs": sorted(self.designs),
            "login_design": self.login_design,
            "dpop": None if self.dpop is None else {"required": self.dpop.required},
        }
