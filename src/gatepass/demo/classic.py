"""The classic area: server-rendered pages and plain HTML forms on a session cookie.

No JavaScript at all. Every form carries a CSRF token from the request's gatepass state
(bound to the session, or before login to the visitor's seed cookie); the web layer checks it
for browsers that send neither ``Sec-Fetch-Site`` nor ``Origin`` and refuses cross-site posts by
those headers first. Logging in, out and out everywhere post straight to the web layer's
``/auth/*`` endpoints; revoking one device and the admin actions post to the routes below,
which answer with a redirect (303) back to the page, so a reload never re-posts a form.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from gatepass.demo.admin import freeze, no_body, unfreeze
from gatepass.demo.layout import backend_of, device_name, page, users_table, when
from gatepass.demo.render import Markup, join, render
from gatepass.web.drive import run_async
from gatepass.web.endpoints.devices import device_entries
from gatepass.web.endpoints.logout import revoke_device_of
from gatepass.web.fastapi import CurrentUser, OptionalUser, csrf_token
from gatepass.web.principal import Principal

__all__ = ["router"]

router = APIRouter()

#: What a redirect may ask the page to say (``?done=...``): fixed texts, nothing reflected.
NOTICES = {
    "revoked": "The device was logged out.",
    "missing": "No such device of yours (already logged out?).",
    "frozen": "The account is frozen: every login of it has ended.",
    "unfrozen": "The account may log in again.",
}


def _notice(request: Request) -> Markup:
    text = NOTICES.get(request.query_params.get("done", ""))
    return render("notice.html", text=text, kind="good") if text else Markup("")


async def _form(request: Request) -> dict[str, str]:
    """The posted form fields (the web layer already bounded and CSRF-checked the request)."""
    body = (await request.body())[:16384].decode("utf-8", "replace")
    return {key: values[-1] for key, values in parse_qs(body, max_num_fields=20).items()}


def _login_page(request: Request) -> Response:
    failed = request.query_params.get("error") == "login"
    error = (
        render("notice.html", kind="bad", text="Wrong user or password, or the account is frozen.")
        if failed
        else Markup("")
    )
    body = render(
        "classic_login.html", error=error, csrf_token=csrf_token(request), users=users_table()
    )
    return page(request, "Classic pages", "classic", body)


def _device_rows(entries: list[dict[str, object]], token: str) -> Markup:
    rows = []
    for entry in entries:
        current = bool(entry["current"])
        rows.append(
            render(
                "device_row.html",
                id=entry["id"],
                current="yes" if current else "no",
                device=device_name(str(entry["device"])),
                marker=render("current.html") if current else Markup(""),
                design=entry["design"],
                created=when(float(str(entry["created_at"]))),
                last_seen=when(float(str(entry["last_seen_at"]))),
                csrf_token=token,
            )
        )
    return join(rows)


def _admin_panel(request: Request, user: Principal, token: str) -> Markup:
    backend = backend_of(request)
    if not backend.accounts.is_admin(user.user_id):
        return Markup("")
    rows = []
    for account in backend.accounts.listing():
        name, frozen = str(account["user_id"]), bool(account["frozen"])
        control = Markup("")
        if name != user.user_id:
            control = render(
                "admin_control.html",
                action="unfreeze" if frozen else "freeze",
                csrf_token=token,
                user=name,
                button_class="secondary" if frozen else "danger",
                label="Unfreeze" if frozen else "Freeze account",
            )
        state = "frozen" if frozen else "active"
        rows.append(
            render("admin_row.html", user=name, role=account["role"], state=state, control=control)
        )
    return render("admin.html", mode=backend.settings.revocation, rows=join(rows))


@router.get("/classic")
async def classic(request: Request, user: OptionalUser) -> Response:
    if user is None or user.design != "session" or user.record is None:
        return _login_page(request)
    gp = backend_of(request).gatepass
    entries = await run_async(device_entries(gp, user), no_body)
    token = csrf_token(request)
    record = user.record
    body = render(
        "classic_home.html",
        user=user.user_id,
        notice=_notice(request),
        session_id=record.id,
        authenticated=when(record.authenticated_at),
        expires=when(record.expires_at),
        csrf_token=token,
        devices=_device_rows(entries, token),
        admin=_admin_panel(request, user, token),
    )
    return page(request, f"{user.user_id} · Classic pages", "classic", body)


def _back(done: str) -> RedirectResponse:
    return RedirectResponse(f"/classic?done={done}", status_code=303)


@router.post("/classic/devices/{session_id}/revoke")
async def revoke(request: Request, session_id: str, user: CurrentUser) -> Response:
    gp = backend_of(request).gatepass
    found = await run_async(revoke_device_of(gp, user.user_id, session_id), no_body)
    return _back("revoked" if found else "missing")


@router.post("/classic/admin/freeze")
async def freeze_form(request: Request, user: CurrentUser) -> Response:
    await freeze(backend_of(request), user, (await _form(request)).get("user_id"))
    return _back("frozen")


@router.post("/classic/admin/unfreeze")
async def unfreeze_form(request: Request, user: CurrentUser) -> Response:
    await unfreeze(backend_of(request), user, (await _form(request)).get("user_id"))
    return _back("unfrozen")
