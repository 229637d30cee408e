"""The four apps the web tests run against (a bare ASGI callable, FastAPI, a bare WSGI
callable, Flask), with the same probe routes.

Every app answers the same routes with the same JSON, so one table of cases can run against all
four and any difference between them is a difference in gatepass, not in the test apps:

``GET /probe``      the principal the route sees, or ``{"user": null}`` (optional user)
``GET|POST /me``    the principal; 401 / 503 when there is none (a required user)
``GET /admin``      needs the scope ``admin``;  ``GET /recent``: a login within 300 s
``GET /bound``      needs a DPoP-bound token with its proof (DPoP designs)
``POST /echo``      the request body as the app received it (after gatepass read it)
``GET /form``       a CSRF token minted by the app, as a page with a form would
``GET /vary?v=``    the probe, with the app's own ``Vary: <v>``
``GET /boom``       the app itself raises
``WS /ws``          (ASGI) accepts, sends the principal, closes; ``WS /ws-me`` needs a user
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, WebSocket
from flask import Flask, request
from starlette.requests import Request
from starlette.responses import JSONResponse

from gatepass.web import Gatepass, GatepassMiddleware, GatepassWSGIMiddleware
from gatepass.web.asgi import send_response
from gatepass.web.drive import run_async, run_sync
from gatepass.web.fastapi import (
    CurrentUser,
    DPoPUser,
    OptionalUser,
    install,
    recent_login,
    require_scopes,
)
from gatepass.web.fastapi import csrf_token as fastapi_csrf_token
from gatepass.web.flask import GatepassFlask, current_user, login_optional, login_required
from gatepass.web.flask import csrf_token as flask_csrf_token
from gatepass.web.http import json_response
from gatepass.web.principal import Principal
from gatepass.web.problems import Problem, problem_response
from gatepass.web.require import require

APPS = ("asgi", "fastapi", "wsgi", "flask")


# --- what every probe route answers ----------------------------------------------------------


def principal_json(principal: Principal | None) -> dict[str, Any]:
    if principal is None:
        return {"user": None}
    return {
        "user": principal.user_id,
        "design": principal.design,
        "session": principal.session_id is not None,
        "token": principal.token_id is not None,
        "scopes": sorted(principal.scopes),
        "dpop": principal.jkt is not None,
    }


#: route -> what :func:`gatepass.web.require.require` is asked (bare apps and the table agree)
NEEDS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/probe"): {"optional": True},
    ("GET", "/me"): {},
    ("POST", "/me"): {},
    ("GET", "/admin"): {"scopes": ("admin",)},
    ("GET", "/recent"): {"max_age": 300},
    ("GET", "/bound"): {"dpop": True},
    ("POST", "/echo"): {"optional": True},
    ("GET", "/form"): {"optional": True},
    ("GET", "/vary"): {"optional": True},
}


def _route_path(scope: dict[str, Any]) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def bare_asgi(gp: Gatepass) -> Any:
    """A pure ASGI callable behind :class:`GatepassMiddleware`, no framework at all."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return
        state = scope["gatepass"]
        path = _route_path(scope)
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            try:
                needs = {"optional": True} if path == "/ws" else {}
                principal = await run_async(require(state, **needs), _no_body_async)
            except Problem:
                await send({"type": "websocket.close", "code": 1008})
                return
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": json.dumps(principal_json(principal))})
            await send({"type": "websocket.close", "code": 1000})
            return
        if path == "/boom":
            raise RuntimeError("the app failed")
        needs = NEEDS.get((scope["method"], path))
        if needs is None:
            await send_response(send, json_response(404, {"error": "no route"}))
            return
        try:
            principal = await run_async(require(state, **needs), _no_body_async)
        except Problem as problem:
            await send_response(send, problem_response(problem))
            return
        body: dict[str, Any] = principal_json(principal)
        if path == "/echo":
            body["echo"] = (await _read_all(receive)).decode("latin-1")
        elif path == "/form":
            body["csrf_token"] = state.csrf_token()
        response = json_response(200, body)
        if path == "/vary":
            response.headers.append(("vary", _vary(scope["query_string"].decode())))
        await send_response(send, response)

    return GatepassMiddleware(app, gp)


def _vary(query: str) -> str:
    return parse_qs(query)["v"][0]


async def _no_body_async() -> bytes:
    return b""


async def _read_all(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def bare_wsgi(gp: Gatepass) -> Any:
    """A WSGI callable behind :class:`GatepassWSGIMiddleware`, no framework at all; wrapped in
    what every WSGI server does with an exception (a 500)."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        state = environ["gatepass"]
        path = environ["PATH_INFO"]
        if path == "/boom":
            raise RuntimeError("the app failed")
        needs = NEEDS.get((environ["REQUEST_METHOD"], path))
        if needs is None:
            response = json_response(404, {"error": "no route"})
        else:
            try:
                principal = run_sync(require(state, **needs), lambda: b"")
            except Problem as problem:
                response = problem_response(problem)
            else:
                body: dict[str, Any] = principal_json(principal)
                if path == "/echo":
                    length = int(environ.get("CONTENT_LENGTH") or 0)
                    body["echo"] = environ["wsgi.input"].read(length).decode("latin-1")
                elif path == "/form":
                    body["csrf_token"] = state.csrf_token()
                response = json_response(200, body)
                if path == "/vary":
                    response.headers.append(("vary", _vary(environ["QUERY_STRING"])))
        start_response(f"{response.status} X", response.headers)
        return [response.body]

    return as_server(GatepassWSGIMiddleware(app, gp))


def as_server(app: Any) -> Any:
    """What a WSGI server (waitress, gunicorn) does when the app raises: answer 500."""

    def server(environ: dict[str, Any], start_response: Any) -> Any:
        try:
            return list(app(environ, start_response))
        except Exception:
            start_response("500 Internal Server Error", [("content-type", "text/plain")])
            return [b"internal error"]

    return server


def mounted_wsgi(app: Any, mount: str) -> Any:
    """Mount a WSGI app at ``mount`` the way a server does: ``SCRIPT_NAME`` gets the mount
    point and ``PATH_INFO`` the rest (httpx's WSGITransport leaves the whole path in PATH_INFO)."""

    def mounted(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ["PATH_INFO"]
        if path.startswith(mount):
            environ["SCRIPT_NAME"] = mount
            environ["PATH_INFO"] = path[len(mount) :] or "/"
        return app(environ, start_response)

    return mounted


def fastapi_app(gp: Gatepass) -> Any:
    app = FastAPI()
    install(app, gp)

    @app.get("/probe")
    async def probe(user: OptionalUser) -> Any:
        return principal_json(user)

    @app.get("/me")
    async def me(user: CurrentUser) -> Any:
        return principal_json(user)

    @app.post("/me")
    async def me_post(user: CurrentUser) -> Any:
        return principal_json(user)

    @app.get("/admin")
    async def admin(user: Principal = Depends(require_scopes("admin"))) -> Any:  # noqa: B008
        return principal_json(user)

    @app.get("/recent")
    async def recent(user: Principal = Depends(recent_login(300))) -> Any:  # noqa: B008
        return principal_json(user)

    @app.get("/bound")
    async def bound(user: DPoPUser) -> Any:
        return principal_json(user)

    @app.post("/echo")
    async def echo(request: Request, user: OptionalUser) -> Any:
        return {**principal_json(user), "echo": (await request.body()).decode("latin-1")}

    @app.get("/form")
    async def form(request: Request, user: OptionalUser) -> Any:
        return {**principal_json(user), "csrf_token": fastapi_csrf_token(request)}

    @app.get("/vary")
    async def vary(v: str, user: OptionalUser) -> Any:
        return JSONResponse(principal_json(user), headers={"vary": v})

    @app.get("/boom")
    async def boom() -> Any:
        raise RuntimeError("the app failed")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, user: OptionalUser) -> None:
        await websocket.accept()
        await websocket.send_text(json.dumps(principal_json(user)))
        await websocket.close()

    @app.websocket("/ws-me")
    async def ws_me(websocket: WebSocket, user: CurrentUser) -> None:
        await websocket.accept()
        await websocket.send_text(json.dumps(principal_json(user)))
        await websocket.close()

    return app


def flask_app(gp: Gatepass) -> Any:
    app = Flask("gatepass_web_tests")
    GatepassFlask(app, gp)

    @app.get("/probe")
    @login_optional
    def probe() -> Any:
        return principal_json(current_user or None)

    @app.get("/me")
    @login_required
    def me() -> Any:
        return principal_json(current_user)

    @app.post("/me")
    @login_required
    def me_post() -> Any:
        return principal_json(current_user)

    @app.get("/admin")
    @login_required(scopes=("admin",))
    def admin() -> Any:
        return principal_json(current_user)

    @app.get("/recent")
    @login_required(max_age=300)
    def recent() -> Any:
        return principal_json(current_user)

    @app.get("/bound")
    @login_required(dpop=True)
    def bound() -> Any:
        return principal_json(current_user)

    @app.post("/echo")
    @login_optional
    def echo() -> Any:
        echoed = request.get_data().decode("latin-1")
        return {**principal_json(current_user or None), "echo": echoed}

    @app.get("/form")
    @login_optional
    def form() -> Any:
        return {**principal_json(current_user or None), "csrf_token": flask_csrf_token()}

    @app.get("/vary")
    @login_optional
    def vary() -> Any:
        return principal_json(current_user or None), 200, {"vary": request.args["v"]}

    @app.get("/boom")
    def boom() -> Any:
        raise RuntimeError("the app failed")

    return app


def make_app(kind: str, gp: Gatepass) -> Any:
    if kind == "flask":
        return as_server(flask_app(gp))
    return {"asgi": bare_asgi, "fastapi": fastapi_app, "wsgi": bare_wsgi}[kind](gp)
