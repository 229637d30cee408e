"""What a route needs from the request's login, decided once for every framework adapter.

The FastAPI dependencies and the Flask decorator both run :func:`require`, so "current user",
"optional user", "these scopes" and "logged in within the last N seconds" mean the same in both,
and the refusals are the same responses.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from gatepass.errors import ConfigurationError, DPoPBindingMismatch, StoreUnavailable
from gatepass.web.drive import Plan
from gatepass.web.principal import AuthState, Principal
from gatepass.web.problems import Problem

__all__ = ["check_failure", "require", "scope_names"]

_UNBOUND = DPoPBindingMismatch.code


def scope_names(scopes: Iterable[str]) -> tuple[str, ...]:
    """``scopes`` as a tuple of names, checked where a route declares them: one string (an
    ``Iterable[str]`` too, of its characters) or a name that is not a non-empty string would
    make the route refuse everybody, silently."""
    if isinstance(scopes, str):
        raise ConfigurationError(f"scopes must be a list of names, e.g. ({scopes!r:.40},)")
    names = tuple(scopes)
    if not all(isinstance(name, str) and name and " " not in name for name in names):
        raise ConfigurationError("each scope must be a non-empty name without spaces")
    return names


def require(
    state: object,
    *,
    optional: bool = False,
    scopes: Iterable[str] = (),
    max_age: int | None = None,
    dpop: bool = False,
) -> Plan[Principal | None]:
    """The request's principal if it satisfies the route, else the :class:`Problem` to send.

    ``optional``: an anonymous request is fine (None); a refused bearer token or a store outage
    still is not, since the client did present a credential. ``scopes``: every one must be
    granted (403 ``insufficient_scope``). ``max_age``: the user must have proved a password
    within that many seconds (401 ``insufficient_user_authentication``, RFC 9470: log in again;
    503 when that time must be read from a store that cannot be reached).
    ``dpop``: the user must have come with a DPoP-bound token and its proof (a session cookie or
    a bearer token is refused with a DPoP challenge), though the app accepts bearer elsewhere.
    """
    if not isinstance(state, AuthState):
        raise ConfigurationError(
            "no gatepass state on this request: add the gatepass middleware to the app"
        )
    gp = state.gatepass
    setup = gp.dpop
    if dpop and setup is None:
        raise ConfigurationError("a route that requires DPoP needs Gatepass(dpop=DPoPPolicy())")
    check_failure(state)
    principal = state.principal
    if principal is None:
        if optional:
            return None
        problem = Problem.unauthenticated()
        if setup is not None and (dpop or setup.required):
            problem.www_authenticate = setup.challenge()  # no bearer token would be accepted
        elif setup is not None:  # both schemes are offered (RFC 9449 7.1)
            problem.www_authenticate = f"{problem.www_authenticate}, {setup.challenge()}"
        raise problem
    if dpop and principal.jkt is None:
        assert setup is not None
        detail = "this resource needs a DPoP-bound token and its proof (Authorization: DPoP)"
        raise Problem.dpop(
            401,
            "invalid_token",
            code=_UNBOUND,
            detail=detail,
            challenge=setup.challenge("invalid_token", detail),
        )
    wanted = scope_names(scopes) if scopes else ()
    if wanted and not principal.has_scopes(*wanted):
        raise Problem.insufficient_scope(wanted)
    if max_age is not None:
        at = principal.authenticated_at
        if at is None and principal.session_id is not None:
            at = yield from _login_time(state, principal)
        if at is None or time.time() - at > max_age:
            raise Problem.reauthenticate(max_age)
    return principal


def _login_time(state: AuthState, principal: Principal) -> Plan[float | None]:
    """When the login behind a token of the hybrid happened: its session's ``authenticated_at``.

    The hybrid's access tokens carry the login's ``auth_time`` (kept with the refresh family);
    a token without it (issued by a family from before that, or by hand with a ``sid``) falls
    back on the session that records the login. One store read, only for routes that ask.
    """
    gp = state.gatepass
    for sessions in (gp.anchors, gp.sessions):
        if sessions is None:
            continue
        try:
            records = yield sessions.list(principal.user_id)
        except StoreUnavailable:
            # Unknown is not "too old": a 503 to try again, never a demand to log in again.
            raise Problem.unavailable(gp.retry_after) from None
        for record in records:
            if record.id == principal.session_id:
                return float(record.authenticated_at)
    return None


def check_failure(state: AuthState) -> None:
    """Raise the refusal for a credential that came and was not accepted (or could not be
    judged): 503 for an outage, 401 with the right challenge for a refused token or proof."""
    gp = state.gatepass
    setup = gp.dpop
    if state.failure == "unavailable":
        raise Problem.unavailable(gp.retry_after, state.failure_code or StoreUnavailable.code)
    failure = state.failure
    if (
        setup is not None
        and failure is not None
        and (failure != "invalid_token" or state.dpop or state.failure_code == _UNBOUND)
    ):
        # A proof refused, or a token that came as DPoP or was bound: a DPoP challenge.
        raise Problem.dpop(
            401,
            failure,
            code=state.failure_code,
            detail=state.failure_detail,
            challenge=setup.challenge(failure, state.failure_detail),
        )  # the middleware adds the DPoP-Nonce of this request (AuthState.dpop_nonce)
    if failure == "invalid_token":
        problem = Problem.invalid_token(state.failure_code, state.failure_detail)
        if setup is not None:
            problem.www_authenticate = f"{problem.www_authenticate}, {setup.challenge()}"
        raise problem
