"""A request without a ``Host`` header (HTTP/1.0) is named by the server's own address: an IPv6
address must come out in brackets on both middlewares, or ``::1`` and its port run together into
a name no URL can hold (and a DPoP proof for ``http://[::1]:8000/...`` could never match)."""

from __future__ import annotations

import io

import pytest

from gatepass.web.asgi import request_of as asgi_request
from gatepass.web.wsgi import request_of as wsgi_request

CASES = [
    ("::1", 8000, "[::1]:8000"),
    ("2001:db8::7", 443, "[2001:db8::7]:443"),
    ("127.0.0.1", 8000, "127.0.0.1:8000"),
    ("app.example", None, "app.example"),
]


@pytest.mark.parametrize(("name", "port", "expected"), CASES)
def test_asgi(name: str, port: int | None, expected: str) -> None:
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "server": (name, port)}
    assert asgi_request(scope).host == expected


@pytest.mark.parametrize(("name", "port", "expected"), CASES)
def test_wsgi(name: str, port: int | None, expected: str) -> None:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "SERVER_NAME": name,
        "SERVER_PORT": "" if port is None else str(port),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
    }
    assert wsgi_request(environ).host == expected
