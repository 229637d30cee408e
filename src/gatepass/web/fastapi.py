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
from gatepass.web.require import require, scope_names

try:
    from fastapi import Depends, FastAPI, WebSocket
    from starlette.requests import HTTPConnection
    from starlette.responses import Response as StarletteResponse
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingDependency("gatepass.web.fastapi needs: pip install 'gatepass[fastapi]'") from exc

__all__ = [
    "CurrentUser",
    "DPoPUser",
    "OptionalUser",
    "csrf_token",
    "current_user",
    "dpop_user",
    "install",
    "optional_user",
    "recent_login",
    "require_scopes",
]


async def _no_body() -> bytes:
    return b""


async def _problem_handler(connection: HTTPConnection, exc: Exception) -> StarletteResponse | None:
    assert isinstance(exc, Problem)
    if isinstance(connection, WebSocket):
        # No HTTP answer can go down a WebSocket: refuse the handshake (1008: policy violation).
        await connection.close(code=1008, reason=exc.code)
        return None
    response = problem_response(exc)
    return StarletteResponse(response.body, response.status, dict(response.headers))


def install(app: FastAPI, gatepass: Gatepass) -> None:
    """Add the gatepass middleware and answer every :class:`Problem` as RFC 9457 JSON."""
    app.add_middleware(GatepassMiddleware, gatepass=gatepass)
    # Starlette calls the handler with a Request or a WebSocket; its type admits one or the
    # other, not one handler for both.
    app.add_exception_handler(Problem, _problem_handler)  # type: ignore[arg-type]


# The dependencies take an HTTPConnection, not a Request, so that they work on WebSocket routes
# too (FastAPI hands a WebSocket route no Request).


async def _require(connection: HTTPConnection, **needs: Any) -> Principal | None:
    return await run_async(require(connection.scope.get("gatepass"), **needs), _no_body)


async def optional_user(connection: HTTPConnection) -> Principal | None:
    """The logged-in user, or None for an anonymous request."""
    return await _require(connection, optional=True)


async def current_user(connection: HTTPConnection) -> Principal:
    """The logged-in user; 401 (or 503 when the store is down) otherwise."""
    principal = await _require(connection)
    assert principal is not None
    return principal


def require_scopes(*scopes: str) -> Callable[[HTTPConnection], Awaitable[Principal]]:
    """A dependency: the user, who must hold every one of ``scopes`` (403 otherwise)."""
    scopes = scope_names(scopes)

    async def dependency(connection: HTTPConnection) -> Principal:
        principal = await _require(connection, scopes=scopes)
        assert principal is not None
        return principal

    return dependency


def recent_login(max_age: int) -> Callable[[HTTPConnection], Awaitable[Principal]]:
    """A dependency for sensitive actions: the user logged in within ``max_age`` seconds."""

    async def dependency(connection: HTTPConnection) -> Principal:
        principal = await _require(connection, max_age=max_age)
        assert principal is not None
        return principal

    return dependency


async def dpop_user(connection: HTTPConnection) -> Principal:
    """The logged-in user, who came with a DPoP-bound token and its proof (this route refuses
    a session cookie or a bearer token even where the app accepts them elsewhere)."""
    principal = await _require(connection, dpop=True)
    assert principal is not None
    return principal


def csrf_token(connection: HTTPConnection) -> str:
    """A CSRF token for a form rendered by this request (a dependency or a plain call)."""
    state = connection.scope.get("gatepass")
    if not isinstance(state, AuthState):
        raise Problem.unauthenticated()
    return state.csrf_token()


CurrentUser = Annotated[Principal, Depends(current_user)]
OptionalUser = Annotated[Principal | None, Depends(optional_user)]
DPoPUser = Annotated[Principal, Depends(dpop_user)]
