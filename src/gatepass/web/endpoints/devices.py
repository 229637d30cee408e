"""``GET <prefix>/sessions`` and ``DELETE <prefix>/sessions/{id}``: "your devices".

Lists every live login of the user, cookie sessions and the hybrid's logins alike (each
recorded as a session with the browser's description), marks the one making the request, and
revokes one by its public id; another user's id never matches. Revoking a hybrid login ends its
refresh family at its next rotation and, when the access tokens are revocable, every access
token that carries its id at once.
"""

from __future__ import annotations

from typing import Any

from gatepass.stores.records import SessionRecord
from gatepass.web.authenticate import authenticate
from gatepass.web.config import Gatepass
from gatepass.web.drive import Plan
from gatepass.web.endpoints.logout import require_principal, revoke_device_of
from gatepass.web.http import Request, Response, json_response
from gatepass.web.principal import Principal
from gatepass.web.problems import Problem

__all__ = ["device_entries", "list_devices", "revoke_device"]


def _entry(record: SessionRecord, current: str | None) -> dict[str, Any]:
    metadata = record.metadata
    return {
        "id": record.id,
        "design": metadata.get("design", "session"),
        "device": metadata.get("ua", ""),
        "created_at": record.created_at,
        "last_seen_at": record.last_seen_at,
        "authenticated_at": record.authenticated_at,
        "expires_at": record.expires_at,
        "current": record.id == current,
    }


def list_devices(gp: Gatepass, request: Request) -> Plan[Response]:
    principal = require_principal((yield from authenticate(gp, request)), gp)
    entries = yield from device_entries(gp, principal)
    return json_response(200, {"user_id": principal.user_id, "sessions": entries})


def device_entries(gp: Gatepass, principal: Principal) -> Plan[list[dict[str, Any]]]:
    """Every live login of ``principal``'s user, oldest first, the current one marked: what
    ``GET <prefix>/sessions`` answers and what a server-rendered "your devices" page shows."""
    records: dict[str, SessionRecord] = {}
    # Each set of sessions judges liveness by its own lifetimes, so each lists only its own
    # kind: cookie sessions from ``sessions``, the hybrid's logins from ``anchors``.
    for sessions, hybrid in ((gp.sessions, False), (gp.anchors, True)):
        if sessions is None:
            continue
        for record in (yield sessions.list(principal.user_id)):
            if (record.metadata.get("design") == "hybrid") == hybrid:
                records[record.id] = record
    entries = [_entry(r, principal.session_id) for r in records.values()]
    entries.sort(key=lambda entry: entry["created_at"])
    return entries


def revoke_device(gp: Gatepass, request: Request, session_id: str) -> Plan[Response]:
    principal = require_principal((yield from authenticate(gp, request)), gp)
    if gp.devices is None:
        raise Problem.not_found("no sessions are configured")
    if not (yield from revoke_device_of(gp, principal.user_id, session_id)):
        raise Problem.not_found("no such session of yours")
    headers: list[tuple[str, str]] = []
    if session_id == principal.session_id and principal.design == "session":
        headers.append(("set-cookie", gp.cookies.clear_session()))
    return Response(204, [("cache-control", "no-store"), *headers], b"")
