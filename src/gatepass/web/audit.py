"""What the web layer logs, and the log id that lets a log follow one credential without holding it.

Security note 12: logs never hold a token or a session id, only a short salted hash where
correlation is needed. :class:`LogIds` makes that hash (the *log id*); ``AuthState.log_id`` gives
an app the id of the credential its request presented, for its own log lines; the functions
below write the web layer's own lines to the ``gatepass.web`` logger.

What is logged, and why at that level (Django's ``django.security.csrf`` logs a refused
cross-site request as a warning; Flask-Login logs nothing and leaves it to signals; neither logs
a failed password):

* ``WARNING``  a cross-site request refused (403): a forged request or a proxy that mangles
  ``Origin``; either way someone should look. A reused refresh token: the theft signal (the
  whole family is revoked).
* ``ERROR``    the store could not be reached (503): nobody was logged out, but nobody could be
  logged in either, which an operator must fix.
* ``INFO``     a credential refused (bad signature, revoked, unknown, a refused DPoP proof) and
  a session cookie whose session is gone (the cookie is cleared): one line per refused request,
  whether or not the route needed a user, so repeated use of one stolen token shows up as one
  log id.
* ``DEBUG``    an expired access token and a DPoP nonce round trip: the normal way a client
  learns to refresh or to retry; at INFO they would drown the lines above.

Not logged: requests without a credential, accepted credentials (the hot path stays free of
logging), failed passwords (the user name is personal data and is sometimes a password typed
in the wrong field: the app's ``check_password`` knows the user and may log it), a DPoP proof
refused at login or refresh (the client's key is not a credential of its own), and route
refusals (missing scope, stale login), which are the app's decisions.

Each line holds fixed text, the design (``session``, ``bearer``, ``dpop``, ``hybrid`` for the
refresh cookie, ``-`` when no credential came), a gatepass error code and the log id, never a
token, a cookie value or an exception; the same fields are on the record as ``gatepass_event``,
``gatepass_design``, ``gatepass_code`` and ``gatepass_log_id`` for structured handlers.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import TYPE_CHECKING

from gatepass.errors import ExpiredToken, InvalidToken, ReusedToken, StoreUnavailable
from gatepass.tokens._b64 import b64encode
from gatepass.web.cookies import read_cookie
from gatepass.web.dpop import authorization

if TYPE_CHECKING:
    from gatepass.web.config import Gatepass
    from gatepass.web.http import Request
    from gatepass.web.problems import Problem

__all__ = [
    "LogIds",
    "credential_refused",
    "csrf_refused",
    "endpoint_store_unavailable",
    "presented",
    "store_unavailable",
]

logger = logging.getLogger("gatepass.web")

_FORMAT = "%s: design=%s code=%s log_id=%s"
_FORMAT_REASON = "%s: design=%s code=%s log_id=%s reason=%s"

#: Refusals that are a normal step of a working client: DEBUG, not INFO.
_ROUTINE = frozenset({ExpiredToken.code, "ERR_DPOP_NONCE_REQUIRED"})


class LogIds:
    """The log id of a credential: HMAC-SHA256 under a key of its own, derived from the app's
    ``Gatepass(secret=...)``, cut to 9 bytes and written as 12 base64url characters.

    Why 12 characters (72 bits): long enough that two credentials never share one in practice
    (among a million distinct credentials the chance of any two colliding is about 1 in 10^10,
    among a billion about 1 in 10^4), short enough to read and compare by eye in a log line.
    Its secrecy does not rest on the length: without the app's secret nobody can compute the id
    of a guessed token, and the id cannot be turned back into the credential. Keyed per app, so
    the same token has another id under another secret and logs of two apps do not link.
    Without a ``secret=`` the key is random per process (the CSRF warning says so), and so are
    the ids.
    """

    __slots__ = ("_key",)

    def __init__(self, secret: bytes) -> None:
        # A key of its own (as CSRF and DPoP nonces have theirs), so that no log id is ever
        # a MAC another part of gatepass would accept.
        self._key = hmac.new(secret, b"gatepass log id key", hashlib.sha256).digest()

    def of(self, credential: str) -> str:
        data = credential.encode("utf-8", "surrogatepass")
        return b64encode(hmac.new(self._key, data, hashlib.sha256).digest()[:9])


def presented(gp: Gatepass, request: Request) -> tuple[str, str] | None:
    """``(design, credential)`` of what ``request`` came with, in the order the web layer
    judges them (an ``Authorization`` token, the session cookie, the refresh cookie), else None.
    Used on refusals only, so re-reading the headers costs nothing on the hot path."""
    if gp.access is not None:
        found = authorization(request)
        if found is not None and (found[0] == "bearer" or gp.dpop is not None):
            return found
    cookies = request.headers.get("cookie")
    for design, name, configured in (
        ("session", gp.cookies.session_name, gp.sessions),
        ("hybrid", gp.cookies.refresh_name, gp.refresh),
    ):
        cookie = read_cookie(cookies, name) if configured is not None else None
        if cookie is not None:
            return design, cookie
    return None


def _log(
    level: int, event: str, design: str, code: str, log_id: str | None, *, reason: str = ""
) -> None:
    log_id = log_id or "-"
    extra = {
        "gatepass_event": event,
        "gatepass_design": design,
        "gatepass_code": code,
        "gatepass_log_id": log_id,
    }
    if not reason:
        logger.log(level, _FORMAT, event, design, code, log_id, extra=extra)
    else:
        logger.log(level, _FORMAT_REASON, event, design, code, log_id, reason, extra=extra)


def credential_refused(gp: Gatepass, design: str, credential: str | None, code: str) -> None:
    """A token, a DPoP proof or a refresh cookie was refused; ``code`` is the gatepass error
    code of the refusal (``ERR_REFRESH_TOKEN_REUSED``: the theft signal, a warning)."""
    if code == ReusedToken.code:
        level = logging.WARNING
    else:
        level = logging.DEBUG if code in _ROUTINE else logging.INFO
    if logger.isEnabledFor(level):
        log_id = None if credential is None else gp.log_ids.of(credential)
        _log(level, "credential refused", design, code or InvalidToken.code, log_id)


def csrf_refused(
    gp: Gatepass, request: Request, problem: Problem, judged: tuple[str, str] | None = None
) -> Problem:
    """A cross-site request was refused (403); returns ``problem``. Its detail is gatepass's
    fixed reason (quoting at most 24 characters of ``Sec-Fetch-Site``, kept to printable ASCII
    here so that a header cannot forge a log line). ``judged``: ``(design, credential)`` the
    refusing check judged, else what the request :func:`presented`."""
    if logger.isEnabledFor(logging.WARNING):
        found = judged or presented(gp, request)
        design, log_id = ("-", None) if found is None else (found[0], gp.log_ids.of(found[1]))
        reason = "".join(ch for ch in problem.detail if " " <= ch < "\x7f")[:160]
        event = "cross-site request refused"
        _log(logging.WARNING, event, design, problem.code, log_id, reason=reason)
    return problem


def store_unavailable(gp: Gatepass, design: str, credential: str | None) -> None:
    """The store could not be reached while judging ``credential`` (the request gets a 503)."""
    if logger.isEnabledFor(logging.ERROR):
        log_id = None if credential is None else gp.log_ids.of(credential)
        _log(logging.ERROR, "store unavailable", design, StoreUnavailable.code, log_id)


def endpoint_store_unavailable(gp: Gatepass, request: Request) -> None:
    """The store could not be reached while an endpoint served ``request`` (503)."""
    design, credential = presented(gp, request) or ("-", None)
    store_unavailable(gp, design, credential)
