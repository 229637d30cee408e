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

from gatepass.tokens._json import dumps_text

__all__ = ["SAFE_METHODS", "Request", "Response", "json_response", "lists_token"]

#: Methods that must not change state (RFC 9110 9.2.1): no CSRF check, no login.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


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
    ``root``.
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

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def user_agent(self) -> str:
        return self.headers.get("user-agent", "")


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
