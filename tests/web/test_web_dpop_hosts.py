"""The origin a DPoP proof is judged by when no ``DPoPPolicy(origin=...)`` is set, over real
servers (uvicorn, waitress), each request written byte for byte on a socket.

The expected URL is then the server's scheme and the ``Host`` header the client sent, so the
``Host`` header is attacker text: it must be a host and port, nothing that moves the rest of
the URL into a path or a query (``other.example/api``, ``app.example?``). Equivalent spellings
(case, default ports, IPv6 literals) match; the forwarding headers are the server's to trust or
not, never gatepass's. A WebSocket handshake names its ``http(s)`` URL.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from gp_web_servers import uvicorn_serving, waitress_serving
from webapps import make_app
from webdesigns import build

from gatepass import Key
from gatepass.stores import open_store
from gatepass.tokens import dpop

SERVERS = {"uvicorn": ("fastapi", uvicorn_serving), "waitress": ("flask", waitress_serving)}


def _exchange(base: str, lines: list[str]) -> bytes:
    """Send one request, as written, and read the response head."""
    host, port = base.rsplit("/", 1)[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(("\r\n".join([*lines, "", ""])).encode("latin-1"))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


class Client:
    """A client with a bound token that signs proofs for any URL and sends any ``Host``."""

    def __init__(self, base: str, gp: Any) -> None:
        self.base = base
        self.key = Key.generate("ES256")
        self.token = gp.access.issue("alice", jkt=self.key.thumbprint())

    def status(self, host: str, signed: str, *extra: str, path: str = "/me") -> int:
        proof = dpop.create_proof(self.key, method="GET", url=signed, access_token=self.token)
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}", f"Authorization: DPoP {self.token}"]
        head = _exchange(self.base, [*lines, f"DPoP: {proof}", "Connection: close", *extra])
        return int(head.split(b" ", 2)[1])


def _serve(server: str, sqlite_url: str, **options: Any) -> Iterator[Client]:
    kind, serving = SERVERS[server]
    store = open_store(sqlite_url)
    store.setup()
    built = build("dpop", store, asynchronous=False)
    try:
        with serving(make_app(kind, built.gatepass), **options) as base:
            yield Client(base, built.gatepass)
    finally:
        asyncio.run(built.close())
        store.close()


@pytest.fixture(params=sorted(SERVERS))
def client(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Client]:
    yield from _serve(request.param, sqlite_url)


@pytest.mark.parametrize(
    ("host", "signed"),
    [
        ("EXAMPLE.com", "http://example.com/me"),
        ("example.com", "HTTP://Example.COM/me"),
        ("example.com:80", "http://example.com/me"),
        ("example.com", "http://example.com:80/me"),
        ("example.com:", "http://example.com/me"),
        ("example.com:8080", "http://example.com:08080/me"),
        ("[::1]:8080", "http://[::1]:8080/me"),
        ("[::ABCD]", "http://[::abcd]:80/me"),
        ("example.com.", "http://example.com./me"),
        ("example.com", "http://example.com/me?page=2#top"),
    ],
)
def test_equivalent_spellings_of_the_origin_match(client: Client, host: str, signed: str) -> None:
    assert client.status(host, signed) == 200


@pytest.mark.parametrize(
    ("host", "signed"),
    [
        ("example.com.", "http://example.com/me"),  # a trailing dot is another name
        ("example.com:443", "http://example.com/me"),  # 443 is not http's default port
        ("example.com", "https://example.com/me"),  # the scheme the server reports
        # A Host that is not a host: its text would become the URL's path or query.
        ("other.example/api", "http://other.example/api/me"),
        ("other.example?", "http://other.example/"),
        ("other.example#", "http://other.example/"),
        ("other.example\\api", "http://other.example/api/me"),
        ("victim@other.example", "http://other.example/me"),
        ("other.example:80/api", "http://other.example/api/me"),
    ],
)
def test_another_origin_is_refused(client: Client, host: str, signed: str) -> None:
    assert client.status(host, signed) == 401


@pytest.mark.parametrize(
    "header",
    [
        "X-Forwarded-Proto: https",
        "X-Forwarded-Host: evil.example",
        "Forwarded: proto=https;host=evil.example",
        "X-Forwarded-Prefix: /api",
    ],
)
@pytest.mark.parametrize("server", sorted(SERVERS))
def test_forwarding_headers_are_not_trusted(server: str, header: str, sqlite_url: str) -> None:
    """From a client no proxy setting trusts (uvicorn told to trust none), a forwarding header
    changes nothing: the proof for the URL it claims is refused, the honest one accepted."""
    options = {"forwarded_allow_ips": []} if server == "uvicorn" else {}
    for client in _serve(server, sqlite_url, **options):
        claimed = "https://evil.example/api/me"
        assert client.status("example.com", claimed, header) == 401
        assert client.status("example.com", "http://example.com/me", header) == 200


def _handshake(client: Client, signed: str, host: str) -> bytes:
    """A WebSocket handshake to ``/ws-me`` with a proof for ``signed``."""
    proof = dpop.create_proof(client.key, method="GET", url=signed, access_token=client.token)
    lines = [
        "GET /ws-me HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
        "Sec-WebSocket-Version: 13",
        f"Authorization: DPoP {client.token}",
        f"DPoP: {proof}",
    ]
    return _exchange(client.base, lines)


def test_a_websocket_handshake_names_its_http_url(sqlite_url: str) -> None:
    """``ws://host/ws-me`` is the ``GET http://host/ws-me`` handshake: that is what the proof
    names. (The ``ws`` scheme once made the request URL unusable: a 500 for any handshake
    with ``Authorization: DPoP``.)"""
    for client in _serve("uvicorn", sqlite_url):
        host = client.base.split("//", 1)[1]
        assert _handshake(client, f"http://{host}/ws-me", host).startswith(b"HTTP/1.1 101 ")
        assert _handshake(client, f"https://{host}/ws-me", host).startswith(b"HTTP/1.1 403 ")
        other = _handshake(client, "http://other.example/api/ws-me", "other.example/api")
        assert other.startswith(b"HTTP/1.1 403 ")
