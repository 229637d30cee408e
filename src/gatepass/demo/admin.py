""" "Freeze account": what an administrator does when an account must stop working now.

One function for the classic form and the JSON API, so both do exactly the same thing: refuse
the password from now on, then revoke every session and refresh family of the user and every
access token issued so far, through the web layer's own "log out everywhere" (what that reaches
depends on the access tokens' revocation mode). Tokens the app cannot reach, the partner
service's stateless ones, stay valid until their ``exp``: the live panel shows exactly that.
"""

from __future__ import annotations

from gatepass.demo.wiring import Backend
from gatepass.web.drive import run_async
from gatepass.web.endpoints.logout import revoke_everything
from gatepass.web.principal import Principal
from gatepass.web.problems import Problem

__all__ = ["freeze", "no_body", "require_admin", "unfreeze"]


async def no_body() -> bytes:
    """The body reader for plans run outside a request's own body (they never ask)."""
    return b""


def require_admin(backend: Backend, principal: Principal) -> None:
    """403 unless ``principal`` is an admin whose own account is not frozen."""
    accounts = backend.accounts
    if not accounts.is_admin(principal.user_id) or accounts.is_frozen(principal.user_id):
        raise Problem(403, "forbidden", "Forbidden", "only an admin may do this", "ERR_FORBIDDEN")


def _target(backend: Backend, admin: Principal, user_id: object) -> str:
    if not isinstance(user_id, str) or not backend.accounts.exists(user_id):
        raise Problem.bad_request("user_id must name a demo user")
    if user_id == admin.user_id:
        raise Problem.bad_request("an admin cannot freeze their own account")
    return user_id


async def freeze(backend: Backend, admin: Principal, user_id: object) -> int:
    """Freeze ``user_id``; returns how many sessions (of both kinds) ended."""
    require_admin(backend, admin)
    target = _target(backend, admin, user_id)
    backend.accounts.set_frozen(target, True)
    revoked: int = await run_async(revoke_everything(backend.gatepass, target), no_body)
    return revoked


async def unfreeze(backend: Backend, admin: Principal, user_id: object) -> None:
    require_admin(backend, admin)
    backend.accounts.set_frozen(_target(backend, admin, user_id), False)
