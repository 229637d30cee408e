"""Cross-site WebSocket hijacking against a real uvicorn: a page on another origin opens a
WebSocket to the app and the browser attaches the session cookie (handshakes are not subject to
CORS). The handshake must be refused with an HTTP 403 before the app accepts it, whatever the
client claims besides; this origin's own page gets through. (The shared table drives the same
apps in-process; here the server's own handling of a close before accept is in the path too.)
"""

from __future__ import annotations

import json

import pytest
from webservers import served
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from webtable import LOGIN_SESSION


@pytest.mark.parametrize("app", ["asgi", "fastapi"])
async def test_a_handshake_from_another_origin_is_refused(app: str, sqlite_url: str) -> None:
    async with served(app, "session", sqlite_url, login=(LOGIN_SESSION,)) as (target, browser):
        assert target.server is not None
        url = target.server.replace("http://", "ws://", 1) + "/ws-me"
        cookie = {"cookie": browser.cookie_header("/ws-me")}
        refused = {
            "another site": (target.server.replace("127.0.0.1", "evil.example"), {}),
            "a sandboxed frame": ("null", {}),
            "a sibling site": ("http://sub.127.0.0.1", {"sec-fetch-site": "same-site"}),
            "this origin, marked cross-site": (target.server, {"sec-fetch-site": "cross-site"}),
        }
        for name, (origin, extra) in refused.items():
            with pytest.raises(InvalidStatus) as refusal:
                async with connect(url, origin=origin, additional_headers={**cookie, **extra}):
                    pass
            assert refusal.value.response.status_code == 403, name
        async with connect(url, origin=target.server, additional_headers=cookie) as ws:
            assert json.loads(await ws.recv())["user"] == "alice"
        with pytest.raises(InvalidStatus) as anonymous:  # /ws-me needs a user
            async with connect(url, origin=target.server):
                pass
        assert anonymous.value.response.status_code == 403
