"""The WSGI middleware: protects any WSGI app (Flask, Django, Pyramid, Bottle, a bare callable).

    app.wsgi_app = GatepassWSGIMiddleware(app.wsgi_app, gp)

The blocking twin of :class:`gatepass.web.asgi.GatepassMiddleware`: the same plans, driven with
blocking I/O, so both behave identically (one table of cases runs against both). The result is
stored at ``environ["gatepass"]``. All strategies must be the blocking ones (``Sessions``,
``AccessTokens``, ``RefreshTokens``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import Any

from gatepass.errors import ConfigurationError
from gatepass.web.authenticate import authenticate
from gatepass.web.config import Gatepass
from gatepass.web.drive import run_sync
from gatepass.web.endpoints import endpoint
from gatepass.web.http import Request, Response, request_host
from gatepass.web.problems import Problem, problem_response

__all__ = ["GatepassWSGIMiddleware"]

Environ = dict[str, Any]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class EnvironHeaders(Mapping[str, str]):
    """The request headers of a WSGI ``environ`` by lower-case name, without copying them."""

    __slots__ = ("environ",)

    def __init__(self, environ: Environ) -> None:
        self.environ = environ

    @staticmethod
    def _key(name: str) -> str:
        key = name.upper().replace("-", "_")
        return key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"

    def __getitem__(self, name: str) -> str:
        value = self.environ.get(self._key(name))
        if not isinstance(value, str):
            raise KeyError(name)
        return value

    def get(self, name: str, default: Any = None) -> Any:
        value = self.environ.get(self._key(name))
        return value if isinstance(value, str) else default

    def __iter__(self) -> Iterator[str]:
        for key in self.environ:
            if key.startswith("HTTP_"):
                yield key[5:].lower().replace("_", "-")
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                yield key.lower().replace("_", "-")

    def __len__(self) -> int:
        return sum(1 for _ in self)


def request_of(environ: Environ) -> Request:
    host = request_host(
        environ.get("HTTP_HOST"), environ.get("SERVER_NAME", ""), environ.get("SERVER_PORT", "")
    )
    root = environ.get("SCRIPT_NAME", "").rstrip("/")
    path = environ.get("PATH_INFO", "") or "/"
    return Request(
        environ["REQUEST_METHOD"].upper(),
        path,
        environ.get("wsgi.url_scheme", "http"),
        host.lower(),
        EnvironHeaders(environ),
        environ.get("QUERY_STRING", ""),
        root=root,
        raw_target=environ.get("REQUEST_URI") or environ.get("RAW_URI"),
        path_encoding="latin-1",  # PEP 3333: the path's raw bytes travel as latin-1 text
    )


class _Body:
    """Reads ``wsgi.input`` once, bounded; afterwards the app reads the same bytes."""

    __slots__ = ("body", "environ", "limit")

    def __init__(self, environ: Environ, limit: int) -> None:
        self.environ = environ
        self.limit = limit
        self.body: bytes | None = None

    def read(self) -> bytes:
        if self.body is not None:
            return self.body
        declared = self.environ.get("CONTENT_LENGTH")
        if not declared and self.environ.get("wsgi.input_terminated"):
            # A chunked body (werkzeug's server, gunicorn): no length, but the stream ends
            # where the body does. One byte past the limit tells "too large" from "at most".
            body: bytes = self.environ["wsgi.input"].read(self.limit + 1)
            if len(body) > self.limit:
                raise Problem.too_large()
            self.body = body
            self.environ["wsgi.input"] = io.BytesIO(body)
            return body
        try:
            length = int(declared or 0)
        except ValueError:
            raise Problem.bad_request("Content-Length is not a number") from None
        if length < 0:
            raise Problem.bad_request("Content-Length is negative")
        if length > self.limit:
            raise Problem.too_large()
        self.body = self.environ["wsgi.input"].read(length) if length else b""
        self.environ["wsgi.input"] = io.BytesIO(self.body)
        return self.body


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def respond(start_response: StartResponse, response: Response) -> list[bytes]:
    start_response(_status_line(response.status), response.wire_headers())
    return [response.body]


class GatepassWSGIMiddleware:
    """Protect ``app`` with the designs configured in ``gatepass`` (blocking strategies)."""

    def __init__(self, app: WSGIApp, gatepass: Gatepass) -> None:
        if not isinstance(gatepass, Gatepass):
            raise TypeError("GatepassWSGIMiddleware needs a gatepass.web.Gatepass")
        if gatepass.asynchronous():
            raise ConfigurationError(
                "a WSGI app needs the blocking strategies (Sessions, AccessTokens, "
                "RefreshTokens), not their asyncio twins"
            )
        self.app = app
        self.gatepass = gatepass

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        gp = self.gatepass
        request = request_of(environ)
        body = _Body(environ, gp.max_body)
        if gp.is_endpoint(request.path):
            return respond(start_response, run_sync(endpoint(gp, request), body.read))
        try:
            outcome = run_sync(authenticate(gp, request), body.read)
        except Problem as problem:
            outcome = problem
        if isinstance(outcome, Problem):
            return respond(start_response, problem_response(outcome))
        environ["gatepass"] = outcome
        if not outcome.edits_response:
            return self.app(environ, start_response)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            vary = [value for name, value in headers if name.lower() == "vary"]
            headers = [*headers, *outcome.response_headers(vary)]
            return start_response(status, headers, exc_info)

        return self.app(environ, start)
