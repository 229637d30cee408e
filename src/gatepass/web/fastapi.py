"""FastAPI (and Starlette) adapter: dependencies for "this route needs a user".

    from gatepass.web.fastapi import CurrentUser, install, require_scopes

    install(app, gp)                       # the middleware + problem responses

    @app.get("/me")
    async def me(user: CurrentUser): return {"user": user.user_id}

    @app.delete("/docs/{id}", dependencies=[Depends(require_scopes("docs:write"))])
    ...

Needs the extra ``gatepass[fastapi]``. Every dependency runs :func:`gatepass.web.require.require`,
so the Flask adapter gives the same answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from gatepass.errors import MissingDependency
from gatepass.web.asgi import GatepassMiddleware
from gatepass.web.config import Gatepass
from gatepass.web.drive import run_async
from gatepass.web.principal import AuthState, Principal
from gatepass.web.problems import Problem, problem_response
from gatepass.web.require import require

try:
    from fastapi import Depends, FastAPI, Request
    from starlette.responses import Response as StarletteResponse
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingDependency("gatepass.web.fastapi needs: pip install 'gatepass[fastapi]'") from exc

__all__ = [
    "CurrentUser",
    "OptionalUser",
    "csrf_token",
    "current_user",
    "install",
    "optional_user",
    "recent_login",
    "require_scopes",
]


async def _no_body() -> bytes:
    return b""


def _problem_handler(request: Request, exc: Exception) -> StarletteResponse:
    assert isinstance(exc, Problem)
    response = problem_response(exc)
    return StarletteResponse(response.body, response.status, dict(response.headers))


def install(app: FastAPI, gatepass: Gatepass) -> None:
    """Add the gatepass middleware and answer every :class:`Problem` as RFC 9457 JSON."""
    app.add_middleware(GatepassMiddleware, gatepass=gatepass)
    app.add_exception_handler(Problem, _problem_handler)


async def _require(request: Request, **needs: Any) -> Principal | None:
    return await run_async(require(request.scope.get("gatepass"), **needs), _no_body)


async def optional_user(request: Request) -> Principal | None:
    """The logged-in user, or None for an anonymous request."""
    return await _require(request, optional=True)


async def current_user(request: Request) -> Principal:
    """The logged-in user; 401 (or 503 when the store is down) otherwise."""
    principal = await _require(request)
    assert principal is not None
    return principal


def require_scopes(*scopes: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the user, who must hold every one of ``scopes`` (403 otherwise)."""

    async def dependency(request: Request) -> Principal:
        principal = await _require(request, scopes=scopes)
        assert principal is not None
        return principal

    return dependency


def recent_login(max_age: int) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency for sensitive actions: the user logged in within ``max_age`` seconds."""

    async def dependency(request: Request) -> Principal:
        principal = await _require(request, max_age=max_age)
        assert principal is not None
        return principal

    return dependency


def csrf_token(request: Request) -> str:
    """A CSRF token for a form rendered by this request (a dependency or a plain call)."""
    state = request.scope.get("gatepass")
    if not isinstance(state, AuthState):
        raise Problem.unauthenticated()
    return state.csrf_token()


CurrentUser = Annotated[Principal, Depends(current_user)]
OptionalUser = Annotated[Principal | None, Depends(optional_user)]
