"""The small endpoints: a CSRF token, the public keys, and the browser client script."""

from __future__ import annotations

from importlib import resources
from typing import Any

from gatepass.errors import StoreUnavailable
from gatepass.strategies.keyring import KeyRing
from gatepass.tokens._json import dumps_text
from gatepass.tokens.keys import Key, KeySet
from gatepass.web.authenticate import authenticate
from gatepass.web.config import Gatepass
from gatepass.web.drive import Plan
from gatepass.web.http import Request, Response, json_response
from gatepass.web.problems import Problem

__all__ = ["csrf_token", "jwks", "script"]

#: How long verifiers may cache the JWKS: well inside a key ring's staging period, so a staged
#: key is seen before it signs (see :class:`gatepass.KeyRing`).
JWKS_MAX_AGE = 300


def csrf_token(gp: Gatepass, request: Request) -> Plan[Response]:
    """``{"csrf_token": ...}`` for this visitor: bound to the session, or before login to a
    seed cookie set on this response if the visitor has none. A session that cannot be looked
    up (store outage) is a 503 like everywhere else: a token bound to it would be an answer for
    a session that may have ended."""
    state = yield from authenticate(gp, request)
    if isinstance(state, Problem):
        raise state
    if state.failure == "unavailable":  # a store outage, or a remote key set never fetched
        raise Problem.unavailable(gp.retry_after, state.failure_code or StoreUnavailable.code)
    token = state.csrf_token()
    headers = [("set-cookie", cookie) for cookie in state.set_cookies]
    response = json_response(200, {"csrf_token": token}, headers)
    return response


def _public_keys(gp: Gatepass) -> dict[str, Any]:
    keys = gp.access.keys if gp.access is not None else None
    if isinstance(keys, KeyRing):
        return keys.jwks()
    if isinstance(keys, KeySet):
        return keys.to_jwks()
    if isinstance(keys, Key):
        return KeySet([keys]).to_jwks()
    raise Problem.not_found("no local signing keys to publish")


def jwks(gp: Gatepass, request: Request) -> Plan[Response]:
    """The public keys as a JWKS (RFC 7517): what other services verify access tokens with."""
    document = dumps_text(_public_keys(gp)).encode("utf-8")
    headers = [
        ("content-type", "application/jwk-set+json"),
        ("cache-control", f"public, max-age={JWKS_MAX_AGE}"),
        ("x-content-type-options", "nosniff"),
    ]
    return Response(200, headers, document)
    yield  # a plan like the others, though it does no I/O


#: The browser client's modules, read once from the package: they never change while the
#: process runs. Only the names routed to :func:`script` are ever looked up.
_SCRIPTS: dict[str, bytes] = {}


def script(gp: Gatepass, request: Request) -> Plan[Response]:
    """``gatepass.js``, the hybrid's browser client, and ``gatepass-tabs.js`` and
    ``gatepass-dpop.js``, which it imports (see ``docs/gatepass-js.md``)."""
    name = request.path.rsplit("/", 1)[1]
    body = _SCRIPTS.get(name)
    if body is None:
        body = resources.files("gatepass.web").joinpath("static", name).read_bytes()
        _SCRIPTS[name] = body
    headers = [
        ("content-type", "text/javascript; charset=utf-8"),
        ("cache-control", "no-cache"),
        ("x-content-type-options", "nosniff"),
    ]
    return Response(200, headers, body)
    yield  # a plan like the others, though it does no I/O
