"""The loopback server behind `gatepass tools`: what it serves, what it refuses, where it listens.

Attacks are performed over real sockets: traversal paths sent verbatim, other methods, foreign Host
headers (DNS rebinding), a non-loopback bind.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatepass.errors import ConfigurationError
from gatepass.tools.server import (
    CONTENT_SECURITY_POLICY,
    META_POLICY,
    make_server,
    static_files,
)

STATIC = Path(__file__).resolve().parents[2] / "src" / "gatepass" / "tools" / "static"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    srv, url = make_server(0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = srv.server_address[0], srv.server_address[1]
        assert url == f"http://127.0.0.1:{port}/"
        yield str(host), int(port)
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def request(
    address: tuple[str, int], method: str, path: str, host: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(*address, timeout=5)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host if host is not None else f"127.0.0.1:{address[1]}")
        conn.endheaders()
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def raw_request(address: tuple[str, int], data: bytes) -> bytes:
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_serves_the_page_with_security_headers(server: tuple[str, int]) -> None:
    status, headers, body = request(server, "GET", "/")
    assert status == 200
    assert body == (STATIC / "index.html").read_bytes()
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert "connect-src 'none'" in CONTENT_SECURITY_POLICY
    # The meta tag carries the same policy, so file:// gets it too, minus frame-ancestors, which
    # browsers ignore in a meta tag (with a console error on every load): only the header has it.
    assert f'content="{META_POLICY}"'.encode() in body
    assert CONTENT_SECURITY_POLICY == META_POLICY + "; frame-ancestors 'none'"
    assert b"frame-ancestors" not in body


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/jose.js", "text/javascript; charset=utf-8"),
        ("/audit.js", "text/javascript; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/favicon.svg", "image/svg+xml"),
        ("/index.html?x=1", "text/html; charset=utf-8"),
    ],
)
def test_serves_each_static_file_with_its_type(
    server: tuple[str, int], path: str, content_type: str
) -> None:
    status, headers, body = request(server, "GET", path)
    assert status == 200
    assert headers["content-type"] == content_type
    assert body == (STATIC / path[1:].split("?", maxsplit=1)[0]).read_bytes()
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_head_has_headers_and_no_body(server: tuple[str, int]) -> None:
    status, headers, body = request(server, "HEAD", "/app.js")
    assert status == 200
    assert body == b""
    assert int(headers["content-length"]) == (STATIC / "app.js").stat().st_size


@pytest.mark.parametrize(
    "path",
    [
        "/../server.py",
        "/../../pyproject.toml",
        "/%2e%2e/server.py",
        "/..%2fserver.py",
        "/static/../server.py",
        "//etc/passwd",
        "/etc/passwd",
        "/./index.html",
        "/index.html/",
        "/static/",
        "/__init__.py",
        "/server.py",
        "/.",
        "/%00",
        "/app.js%00.css",
        "http://127.0.0.1/../../../etc/passwd",
    ],
)
def test_refuses_paths_outside_static(server: tuple[str, int], path: str) -> None:
    status, headers, body = request(server, "GET", path)
    assert status == 404
    assert b"import" not in body and b"root:" not in body
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_raw_traversal_request_line(server: tuple[str, int]) -> None:
    host = f"127.0.0.1:{server[1]}"
    reply = raw_request(
        server, f"GET /../../../../etc/passwd HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    )
    assert reply.startswith(b"HTTP/1.0 404")
    assert b"root:" not in reply


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
def test_only_get_and_head(server: tuple[str, int], method: str) -> None:
    status, headers, _ = request(server, method, "/")
    assert status == 405
    assert headers["allow"] == "GET, HEAD"


def test_unknown_method_is_refused(server: tuple[str, int]) -> None:
    status, headers, _ = request(server, "PROPFIND", "/")
    assert status == 501
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1", ""])
def test_foreign_host_header_is_refused(server: tuple[str, int], host: str) -> None:
    """A DNS-rebinding page reaches 127.0.0.1 under its own name; the Host header gives it away."""
    status, _, body = request(server, "GET", "/", host=host)
    assert status == 421
    assert b"<html" not in body


def test_localhost_host_header_is_accepted(server: tuple[str, int]) -> None:
    status, _, _ = request(server, "GET", "/", host=f"localhost:{server[1]}")
    assert status == 200


def test_binds_loopback_only(server: tuple[str, int]) -> None:
    assert server[0] == "127.0.0.1"
    proc = Path("/proc/net/tcp")
    if proc.exists():
        # The kernel's own table: the listening socket for our port is bound to 127.0.0.1 only.
        listening = [
            line.split()[1]
            for line in proc.read_text().splitlines()[1:]
            if line.split()[3] == "0A" and int(line.split()[1].split(":")[1], 16) == server[1]
        ]
        assert listening == [f"0100007F:{server[1]:04X}"]
    # And a connection to the machine's outward address is refused.
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # UDP connect: picks a route, sends nothing
        outward = probe.getsockname()[0]
    except OSError:
        outward = "127.0.0.1"
    finally:
        probe.close()
    if outward.startswith("127."):
        return
    with pytest.raises(OSError):
        socket.create_connection((outward, server[1]), timeout=2).close()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com", ""])
def test_refuses_non_loopback_bind(host: str) -> None:
    with pytest.raises(ConfigurationError, match="loopback"):
        make_server(0, host=host)


def test_static_files_are_an_allow_list() -> None:
    files = static_files()
    assert set(files) == {
        "/",
        "/index.html",
        "/app.js",
        "/jose.js",
        "/audit-rules.js",
        "/audit.js",
        "/dpop.js",
        "/style.css",
        "/favicon.svg",
    }


def test_page_has_no_inline_script_style_or_remote_reference() -> None:
    """CSP forbids inline code; this keeps the page honest about it (and about CDNs)."""
    import re

    html = (STATIC / "index.html").read_text()
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert "<style" not in html
    assert re.findall(r"\son[a-z]+=", html) == []
    assert re.findall(r"\sstyle=", html) == []
    for ref in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert ":" not in ref and not ref.startswith("/"), ref  # own files only, relative
    css = (STATIC / "style.css").read_text()
    assert "url(" not in css and "@import" not in css
    for path in STATIC.glob("*.js"):
        text = path.read_text()
        for banned in ("eval(", "new Function", "innerHTML", "fetch(", "XMLHttpRequest", "import("):
            assert banned not in text, (path.name, banned)
