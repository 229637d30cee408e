"""Helpers shared by every test package (importable: tests/ is on sys.path)."""

from __future__ import annotations

import contextlib
import http.server
import math
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any


class FakeClock:
    """A settable wall clock (seconds since the epoch): tests move time explicitly."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


#: Not finite numbers of seconds: NaN, the infinities, numbers too large for a float.
NOT_FINITE: list[object] = [math.nan, -math.nan, math.inf, -math.inf, 10**400, Decimal("NaN")]
#: ... and not numbers at all (``None`` is left out: it means "the default" in most places).
HOSTILE_NUMBERS: list[object] = [*NOT_FINITE, True, "5", b"5", [], object()]


def nested_object(depth: int) -> dict[str, Any]:
    """``{"k": {"k": ...}}``, ``depth`` objects deep: far deeper than any JSON check allows."""
    root: dict[str, Any] = {}
    node = root
    for _ in range(depth):
        node["k"] = {}
        node = node["k"]
    return root


def drop_redis_prefix(url: str) -> None:
    """Delete every key a test wrote under its private prefix (single server or Cluster)."""
    import redis
    from redis.cluster import RedisCluster

    from gatepass.stores.urls import redis_parts

    driver, prefix, cluster, _, _ = redis_parts(url)
    client: Any = RedisCluster.from_url(driver) if cluster else redis.Redis.from_url(driver)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for key in keys:
            client.delete(key)
    finally:
        client.close()


def drop_postgres_schema(url: str) -> None:
    """Drop the private schema (``?schema=`` of ``url``) a test created, with everything in it."""
    import psycopg
    from psycopg import sql

    base, _, query = url.partition("?")
    schema = dict(part.split("=", 1) for part in query.split("&"))["schema"]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


class DocumentServer:
    """A real loopback HTTP server that answers every GET with ``body`` (a JWKS document, say);
    a test changes ``body`` as it goes. Use :func:`document_server`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.body = b"{}"


@contextlib.contextmanager
def document_server(path: str = "/jwks.json") -> Iterator[DocumentServer]:
    served: DocumentServer | None = None

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            assert served is not None
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(served.body)))
            self.end_headers()
            self.wfile.write(served.body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served = DocumentServer(f"http://127.0.0.1:{server.server_address[1]}{path}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextlib.contextmanager
def uvicorn_serving(app: Any, **options: Any) -> Iterator[str]:
    """``app`` under uvicorn on a free loopback port (``options``: more ``uvicorn.Config``)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    import uvicorn  # only the tests that serve an ASGI app need it

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
