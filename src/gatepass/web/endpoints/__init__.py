"""The ready-made endpoints, and the one function that routes a request to them.

Paths under the configured prefix (``/auth`` by default), plus the JWKS path:

=========================  ======  ==========================================================
``<prefix>/login``         POST    check the password, log in (session, hybrid or bearer)
``<prefix>/logout``        POST    end this login; clear the cookies
``<prefix>/logout-all``    POST    end every login of the user ("log out everywhere")
``<prefix>/refresh``       POST    the hybrid: rotate the refresh cookie, get a new access token
``<prefix>/sessions``      GET     "your devices": every live login of the user
``<prefix>/sessions/{id}`` DELETE  revoke one of them
``<prefix>/csrf``          GET     ``{"csrf_token"}`` for forms and scripts
``<prefix>/gatepass.js``   GET     the browser client of the hybrid (and the modules it
                                  imports, ``<prefix>/gatepass-tabs.js``, ``-dpop.js``)
``/.well-known/jwks.json`` GET     the public keys, for services that verify access tokens
=========================  ======  ==========================================================

:func:`endpoint` turns every refusal (:class:`~gatepass.web.problems.Problem`) and every store
outage into its response, so each endpoint module only describes the success path and its own
refusals.
"""

from __future__ import annotations

from collections.abc import Callable

from gatepass.errors import StoreUnavailable
from gatepass.web import audit
from gatepass.web.config import Gatepass
from gatepass.web.cors import allow, allowed_origin, preflight, vary_on_origin
from gatepass.web.drive import Plan
from gatepass.web.endpoints.devices import list_devices, revoke_device
from gatepass.web.endpoints.login import login
from gatepass.web.endpoints.logout import logout, logout_all
from gatepass.web.endpoints.misc import csrf_token, jwks, script
from gatepass.web.endpoints.refresh import refresh
from gatepass.web.http import Request, Response
from gatepass.web.problems import Problem, problem_response

__all__ = ["endpoint"]

Handler = Callable[[Gatepass, Request], Plan[Response]]

_ROUTES: dict[str, tuple[str, Handler]] = {
    "/login": ("POST", login),
    "/logout": ("POST", logout),
    "/logout-all": ("POST", logout_all),
    "/refresh": ("POST", refresh),
    "/sessions": ("GET", list_devices),
    "/csrf": ("GET", csrf_token),
    "/gatepass.js": ("GET", script),
    "/gatepass-tabs.js": ("GET", script),
    "/gatepass-dpop.js": ("GET", script),
}


def _route(gp: Gatepass, request: Request) -> Plan[Response]:
    path, method = request.path, request.method
    handler: Handler
    if path == gp.jwks_path:
        wanted, handler = "GET", jwks
    else:
        rest = path[len(gp.prefix) :]
        if rest.startswith("/sessions/") and rest.count("/") == 2:
            wanted = "DELETE"
            session_id = rest[len("/sessions/") :]

            def handler(gp: Gatepass, request: Request) -> Plan[Response]:
                return revoke_device(gp, request, session_id)

        else:
            found = _ROUTES.get(rest)
            if found is None:
                raise Problem.not_found(f"no endpoint at {path[:80]}")
            wanted, handler = found
    if method == "OPTIONS":
        origin = allowed_origin(gp, request)
        if origin is not None and request.headers.get("access-control-request-method"):
            return preflight(origin, "GET, HEAD" if wanted == "GET" else wanted)
    if method != wanted and not (method == "HEAD" and wanted == "GET"):
        raise Problem.method_not_allowed(wanted)
    return (yield from handler(gp, request))


def endpoint(gp: Gatepass, request: Request) -> Plan[Response]:
    """The response of the endpoint at ``request.path`` (the caller checked
    :meth:`Gatepass.is_endpoint`), every refusal included."""
    try:
        response = yield from _route(gp, request)
    except Problem as problem:
        response = problem_response(problem)
    except StoreUnavailable:
        audit.endpoint_store_unavailable(gp, request)
        response = problem_response(Problem.unavailable(gp.retry_after))
    if gp.dpop is not None and "dpop" in request.headers and response.header("dpop-nonce") is None:
        response.headers.extend(gp.dpop.nonce_headers())  # the nonce for the client's next proof
    if request.method == "HEAD":
        response.headers.append(("content-length", str(len(response.body))))
        response.body = b""
    origin = allowed_origin(gp, request)
    if origin is not None and request.method != "OPTIONS":
        allow(response, origin)
    vary_on_origin(gp, response)  # one rule for every answer, whichever origin asked
    return response
