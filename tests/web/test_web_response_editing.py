"""What the middlewares add to the app's own response, over real servers: a bare ASGI app under
uvicorn and a bare WSGI app under waitress, each streaming its body in pieces and setting its
own ``Set-Cookie``, ``Vary`` and ``Cache-Control``.

The app's headers are kept as they are and gatepass's are added beside them (the cleared cookie
of a dead session, ``Vary: Cookie``); the streamed body arrives whole; a HEAD answer gets the
same headers. An ASGI ``lifespan`` scope goes to the app untouched, its state included.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gp_web_servers import uvicorn_serving, waitress_serving
from webclient import Target
from webdesigns import SECRET

from gatepass import Sessions, open_store
from gatepass.web import Gatepass, GatepassMiddleware, GatepassWSGIMiddleware

APP_HEADERS = [
    ("set-cookie", "theme=dark; Path=/"),
    ("vary", "Accept"),
    ("cache-control", "private, max-age=60"),
    ("content-type", "text/plain"),
]
PIECES = (b"first ", b"second ", b"third")


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            scope["state"]["ready"] = True
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    headers = [(k.encode(), v.encode()) for k, v in APP_HEADERS]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    for piece in PIECES:
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", list(APP_HEADERS))
    yield from PIECES


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
async def test_the_apps_headers_stay_and_gatepass_adds_its_own(kind: str) -> None:
    gp = Gatepass(sessions=Sessions(open_store("memory://")), secret=SECRET)
    app: Any = GatepassMiddleware(asgi_app, gp)
    serving = uvicorn_serving
    if kind == "wsgi":
        app, serving = GatepassWSGIMiddleware(wsgi_app, gp), waitress_serving
    with serving(app) as url:
        target = Target(kind, None, gp, server=url)
        try:
            for method in ("GET", "HEAD"):
                dead = {"cookie": "__Host-session=" + "A" * 43}
                response = await target.send(method, "/page", dead, None)
                where = f"{kind} {method}: {response.headers}"
                assert response.status_code == 200, where
                assert response.content == (b"".join(PIECES) if method == "GET" else b""), where
                cookies = response.headers.get_list("set-cookie")
                assert cookies[0] == "theme=dark; Path=/", where
                assert [c for c in cookies if c.startswith("__Host-session=;")], where
                vary = [t.strip() for v in response.headers.get_list("vary") for t in v.split(",")]
                assert vary == ["Accept", "Cookie"], where
                assert response.headers.get_list("cache-control") == ["private, max-age=60"], where
        finally:
            await target.aclose()


async def test_the_lifespan_scope_reaches_the_app() -> None:
    gp = Gatepass(sessions=Sessions(open_store("memory://")), secret=SECRET)
    app = GatepassMiddleware(asgi_app, gp)
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope: dict[str, Any] = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    await app(scope, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert scope["state"] == {"ready": True} and "gatepass" not in scope
