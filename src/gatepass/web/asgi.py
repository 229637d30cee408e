"""The ASGI middleware: protects any ASGI app (Starlette, FastAPI, Quart, a bare callable).

    app = GatepassMiddleware(app, gp)                  # or app.add_middleware(GatepassMiddleware,
                                                       #                       gatepass=gp)

A pure ASGI class in the shape of Starlette's ``SessionMiddleware``: it knows only ``scope``,
``receive`` and ``send``. It answers the endpoints itself, runs :func:`authenticate` on every
other HTTP and WebSocket request, stores the result at ``scope["gatepass"]``, refuses a forged
cross-site request with 403, and adds the cookies the decision asked for (and ``Vary: Cookie``)
to the app's response. Every decision lives in the plans it drives; this module translates.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from gatepass.web.authenticate import authenticate
from gatepass.web.config import Gatepass
from gatepass.web.drive import run_async
from gatepass.web.endpoints import endpoint
from gatepass.web.http import Request, Response, request_host
from gatepass.web.principal import AuthState
from gatepass.web.problems import Problem, problem_response

__all__ = ["GatepassMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


#: The headers a web-layer decision reads. Decoding only these, rather than every header of the
#: request, saves about 1.5 µs per request in ``bench/bench_web.py`` (more than 10% of an HS256
#: verify, the cost of the cheapest design).
_READ = {
    name.encode("latin-1"): name
    for name in (
        "authorization",
        "cookie",
        "host",
        "origin",
        "sec-fetch-site",
        "x-csrf-token",
        "content-type",
        "user-agent",
        "access-control-request-method",
        "dpop",
    )
}


def request_of(scope: Scope) -> Request:
    """The :class:`Request` view of an ASGI ``scope``: the headers in :data:`_READ` (ASGI
    gives them lower-case), a repeated ``Cookie`` joined as browsers join it, any other
    repeated header joined with ``", "`` as a WSGI server joins it (RFC 9110 5.3)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = _READ.get(raw_name)
        if name is None:
            continue
        value = raw_value.decode("latin-1")
        if name not in headers:
            headers[name] = value
        elif name == "cookie":
            headers[name] = f"{headers[name]}; {value}"  # HTTP/2 may split cookies
        else:
            # Never the last copy alone: a second Authorization, Origin, Sec-Fetch-Site,
            # X-CSRF-Token or DPoP (RFC 9449 4.3: exactly one proof) joined to the first no
            # longer parses as one value and is refused, the decision the WSGI middleware
            # makes on the same request.
            headers[name] = f"{headers[name]}, {value}"
    server = scope.get("server") or ("", None)
    host = request_host(headers.get("host"), server[0], server[1])
    websocket = scope["type"] == "websocket"
    path: str = scope["path"]
    # ASGI's path is the whole path; root_path is the part the app is mounted at (Starlette's
    # routing strips it the same way).
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("/", ""):
        path = path[len(root) :] or "/"
    else:
        root = ""
    return Request(
        "GET" if websocket else scope["method"],
        path,
        scope.get("scheme", "http"),
        host.lower(),
        headers,
        scope.get("query_string", b"").decode("latin-1"),
        websocket,
        None,
        root,
        scope.get("raw_path"),
    )


class _Body:
    """Reads the request body once, bounded, and replays it to the app afterwards."""

    __slots__ = ("body", "limit", "receive", "replayed")

    def __init__(self, receive: Receive, limit: int) -> None:
        self.receive = receive
        self.limit = limit
        self.body: bytes | None = None
        self.replayed = False

    async def read(self) -> bytes:
        if self.body is not None:
            return self.body
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] != "http.request":
                raise Problem.bad_request("the client went away before sending its body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                raise Problem.too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        self.body = b"".join(chunks)
        return self.body

    async def replay(self) -> Message:
        if not self.replayed:
            self.replayed = True
            return {"type": "http.request", "body": self.body or b"", "more_body": False}
        return await self.receive()


async def send_response(send: Send, response: Response) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.wire_headers()]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


def _editing(send: Send, state: AuthState) -> Send:
    """``send`` that adds what :meth:`AuthState.response_headers` decides to the app's
    response (cookies, ``Vary: Cookie``) when it starts."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            vary = [v.decode("latin-1") for k, v in headers if k.lower() == b"vary"]
            extra = state.response_headers(vary)
            if extra:
                headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in extra)
                message = {**message, "headers": headers}
        await send(message)

    return wrapped


class GatepassMiddleware:
    """Protect ``app`` with the designs configured in ``gatepass``."""

    def __init__(self, app: ASGIApp, gatepass: Gatepass) -> None:
        if not isinstance(gatepass, Gatepass):
            raise TypeError("GatepassMiddleware needs a gatepass.web.Gatepass")
        self.app = app
        self.gatepass = gatepass

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        gp = self.gatepass
        request = request_of(scope)
        body = _Body(receive, gp.max_body)
        if kind == "http" and gp.is_endpoint(request.path):
            await send_response(send, await run_async(endpoint(gp, request), body.read))
            return
        try:
            outcome = await run_async(authenticate(gp, request), body.read)
        except Problem as problem:
            outcome = problem
        if isinstance(outcome, Problem):
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                await send_response(send, problem_response(outcome))
            return
        scope["gatepass"] = outcome
        if body.body is not None:
            receive = body.replay
        if kind == "http" and outcome.edits_response:
            send = _editing(send, outcome)
        await self.app(scope, receive, send)
