"""The JSON API every client of the demo calls: who am I, the partner service, admin actions.

``/api/*`` accepts any of the app's credentials (the web layer decides which one came): a session
cookie (unsafe methods then pass the CSRF check), the hybrid's access token, or an API bearer
token. ``/partner/whoami`` is the stand-in for another service that only holds the public keys:
it ignores the app's login state and accepts a stateless partner token by its signature alone.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from gatepass.demo.admin import freeze, require_admin, unfreeze
from gatepass.demo.layout import backend_of
from gatepass.demo.wiring import API_AUDIENCE, ISSUER, PARTNER_AUDIENCE
from gatepass.errors import InvalidToken
from gatepass.web.asgi import request_of
from gatepass.web.authenticate import bearer_token
from gatepass.web.fastapi import CurrentUser
from gatepass.web.problems import Problem

__all__ = ["router"]

router = APIRouter()


class Target(BaseModel):
    """The body of the admin actions."""

    user_id: str


@router.get("/api/whoami")
async def whoami(request: Request, user: CurrentUser) -> dict[str, Any]:
    """Who the request's credential belongs to, and how it logged in."""
    accounts = backend_of(request).accounts
    return {
        "user_id": user.user_id,
        "design": user.design,
        "session_id": user.session_id,
        "token_id": user.token_id,
        "expires_at": user.expires_at,
        "admin": accounts.is_admin(user.user_id),
        "checked_at": time.time(),
    }


@router.get("/api/config")
async def config(request: Request) -> dict[str, Any]:
    """What the pages say about the designs: the revocation mode and the lifetimes."""
    backend = backend_of(request)
    settings = backend.settings
    access = backend.gatepass.access
    assert access is not None
    return {
        "revocation": access.mode,
        "access_ttl": settings.access_ttl,
        "stateless_ttl": settings.stateless_ttl,
        "issuer": ISSUER,
        "audience": API_AUDIENCE,
        "partner_audience": PARTNER_AUDIENCE,
    }


@router.post("/api/partner-token")
async def partner_token(request: Request, user: CurrentUser) -> dict[str, Any]:
    """A stateless token for the partner service, for the logged-in user.

    Refused for a frozen account (the app can still say no while it is asked); once issued,
    nothing can take it back: that is the point of showing it.
    """
    backend = backend_of(request)
    if backend.accounts.is_frozen(user.user_id):
        raise Problem(403, "frozen", "Account frozen", "this account is frozen", "ERR_FROZEN")
    token = backend.partner.issue(user.user_id)
    ttl = backend.partner.ttl
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "expires_at": int(time.time()) + ttl,
        "audience": PARTNER_AUDIENCE,
    }


@router.get("/partner/whoami")
async def partner_whoami(request: Request) -> dict[str, Any]:
    """The partner service: verifies the signature and the claims, consults nothing else."""
    token = bearer_token(request_of(request.scope))
    if token is None:
        raise Problem.unauthenticated()
    try:
        claims = backend_of(request).partner.verify(token)
    except InvalidToken as exc:
        raise Problem.invalid_token(exc.code, str(exc)) from None
    return {
        "user_id": claims["sub"],
        "verified_by": "signature and claims only: no store, no revocation list",
        "expires_at": claims["exp"],
        "checked_at": time.time(),
    }


@router.get("/api/admin/users")
async def users(request: Request, user: CurrentUser) -> dict[str, Any]:
    backend = backend_of(request)
    require_admin(backend, user)
    return {"users": backend.accounts.listing()}


@router.post("/api/admin/freeze")
async def freeze_user(request: Request, user: CurrentUser, target: Target) -> dict[str, Any]:
    revoked = await freeze(backend_of(request), user, target.user_id)
    return {"user_id": target.user_id, "frozen": True, "sessions_revoked": revoked}


@router.post("/api/admin/unfreeze")
async def unfreeze_user(request: Request, user: CurrentUser, target: Target) -> dict[str, Any]:
    await unfreeze(backend_of(request), user, target.user_id)
    return {"user_id": target.user_id, "frozen": False}
