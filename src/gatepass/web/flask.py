"""Flask adapter: a ``login_required``-style decorator and a ``current_user`` proxy.

    from gatepass.web.flask import GatepassFlask, current_user, login_required

    GatepassFlask(app, gp)                 # the WSGI middleware + problem responses

    @app.get("/me")
    @login_required
    def me(): return {"user": current_user.user_id}

    @app.post("/transfer")
    @login_required(max_age=300, scopes=("payments",))
    def transfer(): ...

    @app.get("/")
    @login_optional                        # anonymous is fine; a broken credential is not
    def home(): return render_template("home.html", user=current_user)

Needs the extra ``gatepass[flask]``. The decorator runs :func:`gatepass.web.require.require`,
so the FastAPI adapter gives the same answers. Templates get ``csrf_token()``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, overload

from gatepass.errors import MissingDependency
from gatepass.web.config import Gatepass
from gatepass.web.drive import run_sync
from gatepass.web.principal import AuthState, Principal
from gatepass.web.problems import Problem, problem_response
from gatepass.web.require import require, scope_names
from gatepass.web.wsgi import GatepassWSGIMiddleware

try:
    from flask import Flask, Response, current_app, request
    from werkzeug.local import LocalProxy
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingDependency("gatepass.web.flask needs: pip install 'gatepass[flask]'") from exc

__all__ = ["GatepassFlask", "csrf_token", "current_user", "login_optional", "login_required"]

F = TypeVar("F", bound=Callable[..., Any])


def _state() -> AuthState | None:
    state = request.environ.get("gatepass")
    return state if isinstance(state, AuthState) else None


def _principal() -> Principal | None:
    state = _state()
    return None if state is None else state.principal


#: The logged-in :class:`Principal` of this request, or None. On its own it never refuses: a
#: store outage or a refused bearer token also read as None. Decorate the view with
#: :func:`login_required` or :func:`login_optional` so those answer 503 / 401 instead.
current_user: Any = LocalProxy(_principal)


def csrf_token() -> str:
    """A CSRF token for a form rendered by this request (also a template global)."""
    state = _state()
    if state is None:
        raise Problem.unauthenticated()
    return state.csrf_token()


def _no_body() -> bytes:
    return b""


def _guarded(func: F, **needs: Any) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        run_sync(require(_state(), **needs), _no_body)
        # ``async def`` views too: Flask runs only the view it was given through its async
        # bridge, and this wrapper is that view, so it hands the real one over itself.
        return current_app.ensure_sync(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@overload
def login_required(view: F) -> F: ...
@overload
def login_required(
    *, scopes: Iterable[str] = (), max_age: int | None = None, dpop: bool = False
) -> Callable[[F], F]: ...


def login_required(
    view: F | None = None,
    *,
    scopes: Iterable[str] = (),
    max_age: int | None = None,
    dpop: bool = False,
) -> F | Callable[[F], F]:
    """The view runs only for a logged-in user (with ``scopes``, logged in within ``max_age``
    seconds, with a DPoP-bound token and its proof when ``dpop``); otherwise the client gets
    the RFC 9457 refusal (401, 403 or 503)."""
    wanted = scope_names(scopes)

    def decorate(func: F) -> F:
        return _guarded(func, scopes=wanted, max_age=max_age, dpop=dpop)

    return decorate(view) if view is not None else decorate


def login_optional(view: F) -> F:
    """The view runs for a logged-in user or an anonymous one (``current_user`` is None), but
    not when a credential came that could not be judged: a refused bearer token is a 401 and a
    store outage a 503, exactly as FastAPI's ``OptionalUser``."""
    return _guarded(view, optional=True)


def _problem_handler(problem: Problem) -> Response:
    response = problem_response(problem)
    return Response(response.body, response.status, response.headers)


class GatepassFlask:
    """The Flask extension: wraps ``app.wsgi_app`` and answers refusals as problem JSON."""

    def __init__(self, app: Flask | None = None, gatepass: Gatepass | None = None) -> None:
        self.gatepass = gatepass
        if app is not None and gatepass is not None:
            self.init_app(app, gatepass)

    def init_app(self, app: Flask, gatepass: Gatepass) -> None:
        self.gatepass = gatepass
        app.wsgi_app = GatepassWSGIMiddleware(app.wsgi_app, gatepass)  # type: ignore[method-assign]
        app.register_error_handler(Problem, _problem_handler)
        app.jinja_env.globals["csrf_token"] = csrf_token
        app.extensions["gatepass"] = self
