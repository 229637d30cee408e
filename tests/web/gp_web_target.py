"""The app under test: behind its in-process transport (``httpx.ASGITransport`` or
``httpx.WSGITransport``), or behind a real server on loopback; and a WebSocket opened straight
through an ASGI app, as a server would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx
from gp_web_steps import BASE

from gatepass.web import Gatepass


@dataclass
class Target:
    """One app behind its in-process transport, or behind a real server at ``server`` (its base
    URL). ``root``: where it is mounted."""

    kind: str
    app: Any
    gatepass: Gatepass
    root: str = ""
    store_control: Callable[[str], Awaitable[None]] | None = None
    server: str | None = None
    _client: Any = None

    def __post_init__(self) -> None:
        if self.server is not None:
            # A real server on loopback (uvicorn, waitress): the requests go over TCP, and name
            # the host the table's URLs use.
            self._client = httpx.AsyncClient(base_url=self.server, headers={"host": "testserver"})
        elif self.kind in ("asgi", "fastapi"):
            transport = httpx.ASGITransport(
                app=self.app, raise_app_exceptions=False, root_path=self.root
            )
            self._client = httpx.AsyncClient(transport=transport, base_url=BASE)
        else:
            wsgi = httpx.WSGITransport(app=self.app, raise_app_exceptions=False)
            self._client = httpx.Client(transport=wsgi, base_url=BASE)

    @property
    def asgi(self) -> bool:
        """Whether the client is an asyncio one (an ASGI app, or any app behind a server)."""
        return self.kind in ("asgi", "fastapi") or self.server is not None

    async def send(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | list[tuple[str, str]],
        content: bytes | None,
    ) -> httpx.Response:
        self._client.cookies.clear()  # the Browser keeps the cookies, not httpx
        request = self._client.build_request(method, path, headers=headers, content=content)
        if self.asgi:
            return await self._client.send(request)  # type: ignore[no-any-return]
        return self._client.send(request)  # type: ignore[no-any-return]

    async def websocket(self, path: str, headers: dict[str, str]) -> WebSocketOutcome:
        """Open a WebSocket the way an ASGI server would, straight through the ASGI app."""
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "wss",
            "path": path,
            "raw_path": path.encode(),
            "root_path": self.root,
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()],
            "server": ("testserver", 443),
            "client": ("127.0.0.1", 50000),
            "subprotocols": [],
        }
        inbox = [{"type": "websocket.connect"}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if inbox:
                return inbox.pop(0)
            return {"type": "websocket.disconnect", "code": 1000}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        first = sent[0]["type"] if sent else "nothing"
        texts = [m.get("text") for m in sent if m["type"] == "websocket.send"]
        close = [m.get("code", 1000) for m in sent if m["type"] == "websocket.close"]
        return WebSocketOutcome(first == "websocket.accept", close[0] if close else None, texts)

    async def aclose(self) -> None:
        if self.asgi:
            await self._client.aclose()
        else:
            self._client.close()


class WebSocketOutcome(NamedTuple):
    accepted: bool
    close_code: int | None
    messages: list[str | None]
