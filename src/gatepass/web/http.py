"""The HTTP vocabulary of the web layer: a request as plain data, a response as plain data.

Why plain data: the decisions (which credential, which CSRF verdict, which cookie to set, which
status) are made once, in :mod:`gatepass.web.core` and :mod:`gatepass.web.endpoints`, without
knowing whether an ASGI server or a WSGI server is on the other side (the way h11 keeps HTTP
parsing apart from sockets). :mod:`gatepass.web.asgi` and :mod:`gatepass.web.wsgi` only
translate between their server's objects and these two classes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from gatepass.tokens._json import dumps_text

__all__ = [
    "SAFE_METHODS",
    "Request",
    "Response",
    "json_response",
    "lists_token",
    "request_host",
    "server_authority",
    "target_of",
]

#: Methods that must not change state (RFC 9110 9.2.1): no CSRF check, no login.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


#: What RFC 3986 lets a path segment carry unencoded: unreserved, sub-delims, ':', '@' and '/'.
_PATH_SAFE = "/!$&'()*+,;=:@-._~"


def target_of(raw: str | bytes | None, full_path: str, encoding: str) -> str:
    """The request target's path as the client sent it.

    ``raw`` is what the server kept of the request line (ASGI ``raw_path``, WSGI
    ``REQUEST_URI``); ``full_path`` the path the app was given (mount point included), decoded by
    the server from bytes in ``encoding``. ``raw`` without its query is the answer when it names
    that same path. Otherwise the path is percent-encoded again: where a server keeps no raw
    target, and where a proxy stripped a prefix that the app was told about (``SCRIPT_NAME``
    from werkzeug's ``ProxyFix``), so the raw target names a shorter path than the client
    addressed. Encoding again cannot tell ``%2F`` from ``/`` (the server merged them), so a DPoP
    proof for such a path verifies only when the raw target can be used.
    """
    try:
        decoded = full_path.encode(encoding, "surrogateescape")
    except UnicodeEncodeError:  # a server outside its spec: no proof names this URL
        decoded = full_path.encode(encoding, "replace")
    if isinstance(raw, bytes):
        raw = raw.decode("latin-1")
    if raw is not None and raw[:1] == "/":
        raw = raw.partition("?")[0].partition("#")[0]
        sent = unquote_to_bytes(raw)
        # Or, read the server's way, the same path: an ASGI server decodes bytes that are not
        # UTF-8 (``%FF``) to U+FFFD, so the path cannot give back the bytes the client sent.
        if sent == decoded or sent.decode(encoding, "replace") == full_path:
            return raw
    return quote(decoded, safe=_PATH_SAFE)


def server_authority(name: str, port: object) -> str:
    """``host[:port]`` of the server's own address, for a request without a ``Host`` header
    (HTTP/1.0): an IPv6 address goes in brackets (RFC 3986 3.2.2), or its colons would read as
    a port."""
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"
    return f"{name}:{port}" if port else name


def request_host(header: str | None, name: str, port: object) -> str:
    """The host a request names: its ``Host`` header, or the server's own address only when no
    ``Host`` came at all (HTTP/1.0). An empty ``Host`` stays empty: it names no http(s) URL
    (RFC 9112 3.2), so no DPoP proof matches it, under either middleware alike; WSGI servers
    hand it over as ``HTTP_HOST=""``, which a truthiness test would take for "none came"."""
    if header is None:
        return server_authority(name, port)
    return header


@dataclass(slots=True)
class Request:
    """What the web layer needs to know about one request.

    ``headers`` maps lower-case names to values, at least for every header a web-layer
    decision reads (a repeated ``Cookie`` header is joined with ``"; "``, any other repeated
    header keeps its last value). ``host`` is the ``Host`` header
    (lower-case) or the server's own name. ``body`` is None until a decision asks for it: most
    requests never need their body read by the web layer. ``path`` is the app's own path and
    ``root`` where the app is mounted (ASGI ``root_path``, WSGI ``SCRIPT_NAME``): the endpoints
    are found by ``path``, and what the browser sees (cookie paths, redirects) starts with
    ``root``. ``raw_target`` is what the server kept of the request line's path (ASGI
    ``raw_path``, WSGI ``REQUEST_URI``), ``path_encoding`` how the server decoded ``path``:
    :meth:`target` needs them, as a decoded path cannot be compared with a URL the client
    signed (DPoP's ``htu``).
    """

    method: str
    path: str
    scheme: str
    host: str
    headers: Mapping[str, str]
    query: str = ""
    websocket: bool = False
    body: bytes | None = None
    root: str = ""
    raw_target: str | bytes | None = None
    path_encoding: str = "utf-8"

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def user_agent(self) -> str:
        return self.headers.get("user-agent", "")

    def target(self) -> str:
        """``root`` + ``path`` as the client spelled them (percent-encoded ASCII, no query):
        computed on use, as only DPoP needs it."""
        return target_of(self.raw_target, self.root + self.path, self.path_encoding)


@dataclass(slots=True)
class Response:
    """A complete response decided by the web layer (an endpoint's answer or a refusal)."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The last value of header ``name`` (case-insensitive), for tests and adapters."""
        lowered = name.lower()
        found = None
        for key, value in self.headers:
            if key.lower() == lowered:
                found = value
        return found

    def wire_headers(self) -> list[tuple[str, str]]:
        """The headers to send, with ``Content-Length`` (already set for a HEAD answer, which
        states the length of the body a GET would have carried)."""
        if self.header("content-length") is not None:
            return self.headers
        return [*self.headers, ("content-length", str(len(self.body)))]


def json_response(
    status: int, body: Mapping[str, Any] | list[Any], headers: list[tuple[str, str]] | None = None
) -> Response:
    """A JSON response that no cache keeps: every body the web layer writes is about a user."""
    data = dumps_text(body).encode("utf-8")
    out = [
        ("content-type", "application/json"),
        ("cache-control", "no-store"),
    ]
    if headers:
        out.extend(headers)
    return Response(status, out, data)


def lists_token(values: Iterable[str], token: str) -> bool:
    """Whether comma-separated header ``values`` (every line of ``Vary``, say) name ``token``
    (lower-case) or ``*``: token by token, so ``X-Cookie-Id`` does not count as ``Cookie``."""
    for value in values:
        for item in value.split(","):
            if item.strip().lower() in (token, "*"):
                return True
    return False
