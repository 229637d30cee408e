"""``POST /api/replay-elsewhere``: the DPoP area's "try the copied token from elsewhere" button.

The page sends the access token it holds, as a script injected into it could; this app then
plays the thief's machine: it sends that token to its own ``/api/whoami`` over real HTTP, from
this server process, without the browser's key. Three tries, each answered as any client would
be answered: as a bearer token, as a DPoP token without a proof, and with a proof signed by a key
of the thief's own (a valid proof, of the wrong key). The page shows the statuses and challenges.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from gatepass.tokens.dpop import create_proof
from gatepass.tokens.keys import Key
from gatepass.web.fastapi import CurrentUser

__all__ = ["router"]

router = APIRouter()
_TIMEOUT = 10.0


class Copied(BaseModel):
    """The body: the token the page copied out of its own memory."""

    access_token: str


def _send(url: str, headers: dict[str, str]) -> dict[str, Any]:
    """One GET from this process: the status, the challenge and the error code it got."""
    request = urllib.request.Request(url, headers=headers)  # noqa: S310  (our own http URL)
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:  # noqa: S310
            status, challenge, body = response.status, None, response.read()
    except urllib.error.HTTPError as exc:
        status, challenge, body = exc.code, exc.headers.get("WWW-Authenticate"), exc.read()
    try:
        code = json.loads(body).get("code")
    except (ValueError, AttributeError):
        code = None
    return {"status": status, "www_authenticate": challenge, "code": code}


def _replay(url: str, token: str) -> list[dict[str, Any]]:
    thief = Key.generate("ES256")
    own_proof = create_proof(thief, method="GET", url=url, access_token=token)
    attempts = (
        ("as a bearer token", {"Authorization": f"Bearer {token}"}),
        ("as a DPoP token, without a proof", {"Authorization": f"DPoP {token}"}),
        (
            "with a proof of another key (the thief's own)",
            {"Authorization": f"DPoP {token}", "DPoP": own_proof},
        ),
    )
    return [{"attempt": what, **_send(url, headers)} for what, headers in attempts]


@router.post("/api/replay-elsewhere")
async def replay_elsewhere(request: Request, user: CurrentUser, copied: Copied) -> dict[str, Any]:
    """Replay the copied token from this server, without the key the browser holds."""
    url = str(request.url_for("whoami"))
    attempts = await asyncio.to_thread(_replay, url, copied.access_token)
    return {"user_id": user.user_id, "url": url, "attempts": attempts}
