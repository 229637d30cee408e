"""The ``Origin`` check (a client without fetch metadata) against the ``Host`` header, over real
servers: the FastAPI app under uvicorn and the Flask app under waitress, requests written by
hand on a socket.

Without a ``Host`` header (HTTP/1.0) each server names itself: uvicorn by its address
(``127.0.0.1:port``), waitress by its host name. Compared with that, the same request passed
under one and was refused under the other. The check compares the ``Origin`` with the ``Host``
header the client sent, so with none both refuse (a browser always sends ``Host``).
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
from webservers import served
from webtable import LOGIN_SESSION

SERVERS = ("fastapi", "flask")


def _exchange(url: str, request: bytes) -> tuple[int, bytes]:
    """Send ``request`` as it is; the status and body of the answer (read to the end)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.mark.parametrize("app", SERVERS)
async def test_origin_is_compared_with_the_host_header_only(app: str, sqlite_url: str) -> None:
    async with served(app, "session", sqlite_url, login=(LOGIN_SESSION,)) as (target, browser):
        url = target.server
        assert url is not None
        cookie = browser.cookie_header("/me")
        address = urlsplit(url).netloc
        lines = [f"Cookie: {cookie}", f"Origin: http://{address}", "Content-Length: 0"]
        for version, host, status in (
            ("HTTP/1.0", [], 403),  # no Host: the server's own name must not count
            ("HTTP/1.0", [f"Host: {address}"], 200),
            ("HTTP/1.1", [f"Host: {address}", "Connection: close"], 200),
            ("HTTP/1.1", ["Host: testserver", "Connection: close"], 403),
        ):
            head = "\r\n".join([f"POST /me {version}", *host, *lines])
            got, body = _exchange(url, f"{head}\r\n\r\n".encode())
            assert got == status, f"{app} {version} {host}: {got} {body[:200]!r}"
