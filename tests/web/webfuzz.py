"""The in-process harness of ``test_web_fuzz*.py``: one request, driven through both middlewares.

A :class:`World` is one configuration of :class:`Gatepass` on its own store, with a small app
behind each middleware that records the principal it was given. Every property test uses two
worlds of the same configuration, one driven as ASGI (``await app(scope, receive, send)``) and
one as WSGI (an ``environ`` built as a server builds it), so that a request that changes state
(a logout, a rotation) changes each world alike and the two answers can be compared.

A generated request names the credentials it carries by placeholder (``{SESSION}``,
``{ACCESS}``, ``{REFRESH}``, ``{FAMILY}``, ``{CSRF}``, ``{SEED}``, ``{PASSWORD}``, ``{PROOF}``):
each world fills in those of its own fresh login, so the interesting branches (a live session
beside junk, a valid token with a wrong scheme) are reached with real credentials. An app
mounted at ``mount`` gets it as ASGI's ``root_path`` and WSGI's ``SCRIPT_NAME``.

How the two servers are imitated, and the one place they legitimately differ: the raw request
target is ASCII (h11 and the WSGI servers refuse other bytes in it), ASGI's ``path`` is its
percent-decoding read as UTF-8 (invalid bytes become U+FFFD, as uvicorn does), WSGI's
``PATH_INFO`` the same bytes read as latin-1 (PEP 3333). Both keep the raw target. A repeated
``Cookie`` line is joined with ``"; "`` on both sides (RFC 9113 8.2.3; only HTTP/2 splits it),
any other repeated header with ``", "``. A body that ASGI receives in several messages reaches
WSGI as a chunked one does under werkzeug's server and gunicorn: no ``CONTENT_LENGTH``, and
``wsgi.input_terminated``.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

from webdesigns import PASSWORD

from gatepass import Key
from gatepass.tokens import dpop
from gatepass.web import Gatepass, GatepassMiddleware, GatepassWSGIMiddleware
from gatepass.web.principal import Principal

TRUSTED = "https://spa.example"
HOST = "app.example"

PLACEHOLDERS = (
    "SESSION",
    "ACCESS",
    "ACCESS_CUT",
    "ACCESS_FLIP",
    "SESSION_CUT",
    "REFRESH",
    "FAMILY",
    "CSRF",
    "SEED",
    "PASSWORD",
    "PROOF",
    "PROOF_LOCAL",
    "SESSION_NAME",
    "REFRESH_NAME",
    "FAMILY_NAME",
    "SEED_NAME",
    "P",
    "SID",
)
#: The placeholders that stand for a credential able to log a request in.
LIVE = ("SESSION", "ACCESS", "REFRESH")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(sorted(PLACEHOLDERS, key=len, reverse=True)) + r")\}")


@dataclass
class Request:
    """One generated request: ``target`` is the raw, ASCII request target (query included);
    header values and the body may hold placeholders."""

    method: str
    target: str
    headers: list[tuple[bytes, bytes]]
    chunks: list[bytes]

    def names(self) -> set[str]:
        """The placeholders this request uses anywhere."""
        found = set(_PLACEHOLDER.findall(self.target))
        for _name, value in self.headers:
            found.update(_PLACEHOLDER.findall(value.decode("latin-1")))
        for chunk in self.chunks:
            found.update(_PLACEHOLDER.findall(chunk.decode("latin-1")))
        return found


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    principal: Principal | None = None
    reached_app: bool = False

    def cookies(self) -> list[tuple[str, str]]:
        """``(name, value)`` of every ``Set-Cookie``."""
        out = []
        for name, value in self.headers:
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                out.append((key, rest.split(";", 1)[0]))
        return out

    def header(self, name: str) -> str | None:
        found = None
        for key, value in self.headers:
            if key.lower() == name:
                found = value
        return found


@dataclass(repr=False)
class World:
    """One configuration on its own store, with both middlewares in front of a recording app."""

    gp: Gatepass
    prefix: str
    design: str
    secure: bool
    creds: dict[str, str] = field(default_factory=dict)
    dpop_key: Key | None = None
    seen: list[Principal | None] = field(default_factory=list)
    sid: str = "none"
    mount: str = ""
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)

    def __repr__(self) -> str:
        return f"World({self.design!r}, prefix={self.prefix!r})"

    def __post_init__(self) -> None:
        self.asgi = GatepassMiddleware(self._asgi_app, self.gp)
        if not self.gp.asynchronous():  # a WSGI app needs the blocking strategies
            self.wsgi = GatepassWSGIMiddleware(self._wsgi_app, self.gp)
        self.run = self.run_asgi if self.gp.asynchronous() else self.run_wsgi

    # --- the app behind both middlewares: records the principal, reads the body --------------

    async def _asgi_app(self, scope: Any, receive: Any, send: Any) -> None:
        self.seen.append(scope["gatepass"].principal)
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.close", "code": 1000})
            return
        while True:
            message = await receive()
            if not message.get("more_body", False):
                break
        body = json.dumps({"app": True}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _wsgi_app(self, environ: Any, start_response: Any) -> list[bytes]:
        self.seen.append(environ["gatepass"].principal)
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("content-type", "application/json")])
        return [json.dumps({"app": True}).encode()]

    # --- filling in a request -----------------------------------------------------------------

    def fill(self, request: Request) -> Request:
        """``request`` with this world's credentials in place of the placeholders."""
        target = request.target.replace("{P}", self.prefix).replace("{SID}", self.sid)
        url = f"{'https' if self.secure else 'http'}://{HOST}{self.mount}{target.split('?')[0]}"

        def text(value: str) -> str:
            def one(match: re.Match[str]) -> str:
                name = match.group(1)
                if name == "PROOF":
                    return self.proof(request.method, url)
                if name == "PROOF_LOCAL":  # for the server's own address, not the Host
                    return self.proof(request.method, url.replace(HOST, "127.0.0.1:8000"))
                return self.creds.get(name, "x")

            return _PLACEHOLDER.sub(one, value)

        headers = [
            (name, text(value.decode("latin-1")).encode("latin-1"))
            for name, value in request.headers
        ]
        chunks = [text(c.decode("latin-1")).encode("latin-1") for c in request.chunks]
        if not any(name == b"host" for name, _ in headers):
            headers.insert(0, (b"host", HOST.encode()))
        return Request(request.method, target, headers, chunks)

    def proof(self, method: str, url: str) -> str:
        if self.dpop_key is None:
            return "not-a-proof"
        token = self.creds.get("ACCESS")
        try:
            return dpop.create_proof(self.dpop_key, method=method, url=url, access_token=token)
        except Exception:  # a method or URL no honest client could sign
            return "not-a-proof"

    # --- the two drivers ---------------------------------------------------------------------

    def _scope(self, kind: str, request: Request) -> dict[str, Any]:
        """An ASGI scope as uvicorn makes it (``path`` percent-decoded as UTF-8)."""
        raw, _, query = request.target.partition("?")
        scheme = "https" if self.secure else "http"
        return {
            "type": kind,
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": scheme if kind == "http" else scheme.replace("http", "ws"),
            "path": unquote(self.mount + raw),
            "raw_path": (self.mount + raw).encode("ascii"),
            "query_string": query.encode("ascii"),
            "root_path": self.mount,
            "headers": list(request.headers),
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
        }

    def _drive(self, scope: dict[str, Any], messages: list[dict[str, Any]]) -> list[Any]:
        """Run the ASGI middleware on ``scope``, ``messages`` to receive; what it sent."""
        sent: list[dict[str, Any]] = []
        gone = {"type": "http.disconnect" if scope["type"] == "http" else "websocket.disconnect"}

        async def receive() -> dict[str, Any]:
            return messages.pop(0) if messages else gone

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        self.loop.run_until_complete(self.asgi(scope, receive, send))
        return sent

    def run_asgi(self, request: Request) -> Answer:
        before = len(self.seen)
        scope = {**self._scope("http", request), "method": request.method}
        messages = [
            {"type": "http.request", "body": c, "more_body": i < len(request.chunks) - 1}
            for i, c in enumerate(request.chunks or [b""])
        ]
        sent = self._drive(scope, messages)
        start = [m for m in sent if m["type"] == "http.response.start"]
        assert len(start) == 1, sent
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start[0]["headers"]]
        return self._answer(start[0]["status"], headers, body, before)

    def run_websocket(self, request: Request) -> tuple[list[dict[str, Any]], Principal | None]:
        """The handshake of ``request`` as a WebSocket scope: what was sent, and the principal
        the app saw (None also when it was never reached)."""
        before = len(self.seen)
        sent = self._drive(self._scope("websocket", request), [{"type": "websocket.connect"}])
        return sent, self.seen[-1] if len(self.seen) > before else None

    def run_wsgi(self, request: Request) -> Answer:
        before = len(self.seen)
        raw, _, query = request.target.partition("?")
        body = b"".join(request.chunks)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": self.mount,
            "PATH_INFO": unquote_to_bytes(raw).decode("latin-1"),
            "QUERY_STRING": query,
            "REQUEST_URI": self.mount + request.target,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "https" if self.secure else "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if len(request.chunks) > 1:  # chunked, as werkzeug's server and gunicorn pass it on
            environ["wsgi.input_terminated"] = True
        elif body:
            environ["CONTENT_LENGTH"] = str(len(body))
        for name, value in request.headers:
            key = name.decode("latin-1").upper().replace("-", "_")
            if key in ("CONTENT_LENGTH",):
                continue
            key = key if key == "CONTENT_TYPE" else f"HTTP_{key}"
            text = value.decode("latin-1")
            if key in environ:
                joiner = "; " if key == "HTTP_COOKIE" else ", "
                text = f"{environ[key]}{joiner}{text}"
            environ[key] = text
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
            started.append((status, headers))
            return lambda data: None

        chunks = b"".join(self.wsgi(environ, start_response))
        assert len(started) == 1
        status, headers = started[0]
        return self._answer(int(status.split(" ", 1)[0]), list(headers), chunks, before)

    def _answer(self, status: int, headers: Any, body: bytes, before: int) -> Answer:
        reached = len(self.seen) > before
        principal = self.seen[-1] if reached else None
        return Answer(status, headers, body, principal, reached)

    # --- a real login ----------------------------------------------------------------------

    def login(self) -> None:
        """Fresh credentials of ``alice`` for the placeholders (through the WSGI driver, or the
        ASGI one for the asyncio strategies; both drive the same plans)."""
        cookies = self.gp.cookies
        self.creds = {
            "PASSWORD": PASSWORD,
            "SESSION_NAME": cookies.session_name,
            "REFRESH_NAME": cookies.refresh_name,
            "FAMILY_NAME": cookies.family_name(self.mount),
            "SEED_NAME": cookies.seed_name,
            "P": self.prefix,
        }
        csrf = self.run(Request("GET", f"{self.prefix}/csrf", [], []))
        assert csrf.status == 200, csrf.body
        seed = dict(csrf.cookies())
        seed_name = self.gp.cookies.seed_name
        self.creds["SEED"] = seed.get(seed_name, "")
        same = [(b"host", HOST.encode()), (b"sec-fetch-site", b"same-origin")]
        if self.gp.cookies.cross_site:
            same += [(b"origin", TRUSTED.encode())]
            token = json.loads(csrf.body)["csrf_token"]
            same += [
                (b"x-csrf-token", token.encode()),
                (b"cookie", f"{seed_name}={self.creds['SEED']}".encode()),
            ]
        designs = sorted(self.gp.designs)
        for design in ("hybrid", "session", "bearer"):
            if design not in designs:
                continue
            body = json.dumps({"username": "alice", "password": PASSWORD, "design": design})
            headers = [*same, (b"content-type", b"application/json")]
            if design == "hybrid" and self.dpop_key is not None:
                url = f"https://{HOST}{self.mount}{self.prefix}/login"
                headers.append(
                    (b"dpop", dpop.create_proof(self.dpop_key, method="POST", url=url).encode())
                )
            answer = self.run(Request("POST", f"{self.prefix}/login", headers, [body.encode()]))
            assert answer.status == 200, answer.body
            data = json.loads(answer.body)
            cookies = dict(answer.cookies())
            if design == "session":
                self.creds["SESSION"] = cookies[self.gp.cookies.session_name]
                self.creds["CSRF"] = data["csrf_token"]
            elif design == "hybrid":
                self.creds["REFRESH"] = cookies[self.gp.cookies.refresh_name]
                self.creds["FAMILY"] = cookies[self.gp.cookies.family_name(self.mount)]
                self.creds["ACCESS"] = data["access_token"]
                self.creds.setdefault("CSRF", data["csrf_token"])
            elif "ACCESS" not in self.creds:
                self.creds["ACCESS"] = data["access_token"]
        if "ACCESS" in self.creds:
            access = self.creds["ACCESS"]
            self.creds["ACCESS_CUT"] = access[:-3]
            self.creds["ACCESS_FLIP"] = (
                access[:-2] + ("A" if access[-2] != "A" else "B") + access[-1]
            )
        # The public id of one login, for DELETE <prefix>/sessions/{SID}.
        session = f"{self.gp.cookies.session_name}={self.creds.get('SESSION', '')}"
        bearer = f"Bearer {self.creds.get('ACCESS', '')}"
        headers = [(b"authorization", bearer.encode()), (b"cookie", session.encode())]
        listing = self.run(Request("GET", f"{self.prefix}/sessions", headers, []))
        if listing.status == 200 and json.loads(listing.body)["sessions"]:
            self.sid = json.loads(listing.body)["sessions"][0]["id"]
        if "SESSION" in self.creds:
            self.creds["SESSION_CUT"] = self.creds["SESSION"][:-1]
        self.seen.clear()
