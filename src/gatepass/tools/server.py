"""A loopback-only static server for the tools page (``gatepass tools``).

Why a server at all when the page also works from disk: some browsers treat ``file://`` pages as
an opaque origin and apply their Content-Security-Policy inconsistently, and a URL is easier to
bookmark. The server exists only to hand out the page's own files, so it is deliberately small:

* it binds a loopback address and refuses anything else, so nobody on the network can reach it;
* it serves an allow-list of files read from the package at start-up (no file-system lookups per
  request, so no path traversal, no directory listing, nothing outside ``static/``);
* it answers GET and HEAD only, and checks the ``Host`` header so a DNS-rebinding page on another
  site cannot talk to it under a foreign name;
* every response carries the page's CSP (``connect-src 'none'``: the browser itself refuses any
  request the page might try to make), ``nosniff``, ``no-referrer`` and ``no-store``.

Tokens and keys never reach this server: the page has no forms and makes no requests, and all
cryptography runs in the browser.
"""

from __future__ import annotations

import ipaddress
import sys
import webbrowser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import ClassVar
from urllib.parse import urlsplit

from gatepass.errors import ConfigurationError

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "META_POLICY",
    "SECURITY_HEADERS",
    "make_server",
    "serve",
    "static_files",
]

#: The policy ``index.html`` carries in its ``<meta http-equiv>`` tag (so that ``file://`` gets it).
META_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'none'; form-action 'none'; base-uri 'none'"
)
#: The page's policy as a response header: the meta tag's plus ``frame-ancestors``, which browsers
#: ignore in a meta tag (and say so in the console on every load), so only the header has it.
CONTENT_SECURITY_POLICY = META_POLICY + "; frame-ancestors 'none'"

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}

#: Sent with every file of the page (also by the reference app, which mounts it at ``/tools``).
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
)

_LOOPBACK_NAMES = frozenset({"localhost"})


def static_files() -> dict[str, tuple[bytes, str]]:
    """Read the packaged page into memory: ``{"/name": (body, content type)}``.

    Only regular files with a known type are served; ``/`` is ``index.html``. Reading everything
    once means a request can only ever select one of these entries, never a path on disk.
    """
    root = resources.files("gatepass.tools").joinpath("static")
    files: dict[str, tuple[bytes, str]] = {}
    for entry in root.iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
        content_type = _CONTENT_TYPES.get(suffix)
        if content_type is None or not entry.is_file():
            continue
        files["/" + entry.name] = (entry.read_bytes(), content_type)
    if "/index.html" not in files:
        raise ConfigurationError(
            "the tools page is missing from the installed package (gatepass/tools/static/"
            "index.html); reinstall gatepass"
        )
    files["/"] = files["/index.html"]
    return files


def _check_loopback(host: str) -> None:
    if host in _LOOPBACK_NAMES:
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise ConfigurationError(
            f"the tools page listens on loopback only; {host[:40]!r} is not a loopback address "
            "(use 127.0.0.1)"
        )


class _Handler(BaseHTTPRequestHandler):
    """Serves the in-memory allow-list; everything else is 404/405."""

    server_version = "gatepass-tools"
    sys_version = ""
    files: ClassVar[dict[str, tuple[bytes, str]]] = {}
    allowed_hosts: ClassVar[frozenset[str]] = frozenset()

    def end_headers(self) -> None:
        for name, value in SECURITY_HEADERS:
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: the terminal running ``gatepass tools`` is not a request log."""

    def _reply(self, status: HTTPStatus, body: bytes, content_type: str, *, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "GET, HEAD")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _serve(self, *, head: bool) -> None:
        host = (self.headers.get("Host") or "").lower()
        if host not in self.allowed_hosts:
            self._reply(
                HTTPStatus.MISDIRECTED_REQUEST,
                b"unexpected Host header\n",
                "text/plain; charset=utf-8",
                head=head,
            )
            return
        path = urlsplit(self.path).path
        found = self.files.get(path)
        if found is None:
            self._reply(
                HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", head=head
            )
            return
        body, content_type = found
        self._reply(HTTPStatus.OK, body, content_type, head=head)

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _not_allowed(self) -> None:
        self._reply(
            HTTPStatus.METHOD_NOT_ALLOWED,
            b"only GET and HEAD\n",
            "text/plain; charset=utf-8",
            head=False,
        )

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _not_allowed


def make_server(port: int = 0, host: str = "127.0.0.1") -> tuple[ThreadingHTTPServer, str]:
    """Bind the page's server (not yet serving) and return it with its URL.

    ``port=0`` picks a free port. ``host`` must be a loopback address: the page holds no secrets,
    but the point of ``gatepass tools`` is that nothing about it is reachable from the network.
    Raises ``ConfigurationError`` for a non-loopback host or a missing page.
    """
    _check_loopback(host)
    files = static_files()
    server = ThreadingHTTPServer((host, port), _Handler)
    server.daemon_threads = True
    bound_port = int(server.server_address[1])
    names = {host, "localhost", "127.0.0.1"}
    handler = type(
        "_BoundHandler",
        (_Handler,),
        {
            "files": files,
            "allowed_hosts": frozenset(f"{name}:{bound_port}" for name in names),
        },
    )
    server.RequestHandlerClass = handler
    return server, f"http://{host}:{bound_port}/"


def serve(port: int = 0, open_browser: bool = True, host: str = "127.0.0.1") -> None:
    """Serve the tools page until Ctrl-C; open it in the default browser unless told not to."""
    server, url = make_server(port, host)
    print(f"gatepass tools: {url}  (loopback only; press Ctrl-C to stop)", flush=True)
    try:
        if open_browser:
            webbrowser.open(url)
        server.serve_forever()
    except KeyboardInterrupt:
        print("\ngatepass tools: stopped", file=sys.stderr, flush=True)
    finally:
        server.server_close()
