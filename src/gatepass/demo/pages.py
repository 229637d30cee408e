"""The home page and the shells of the JavaScript pages (single-page app, with DPoP, API, live
panel).

The shells are plain HTML; their scripts (``static/*.js``) fill them in with ``textContent``
only, so nothing a server or a token says is ever parsed as HTML.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from gatepass.demo.layout import backend_of, duration, page, script, store_label, users_table
from gatepass.demo.render import Markup, render
from gatepass.demo.wiring import API_AUDIENCE, PARTNER_AUDIENCE

__all__ = ["router"]

router = APIRouter()


def login_block(
    area: str,
    title: str,
    button: str,
    *,
    remember: bool = False,
    hidden: bool = False,
    note: str | None = None,
) -> Markup:
    """The login card of a script page (its script handles the submit) beside the demo users,
    with the line where the page reports an error."""
    extra = render("remember.html") if remember else Markup("")
    return render(
        "login_block.html",
        area=area,
        title=title,
        hidden=" hidden" if hidden else "",
        form=render("login_form.html", area=area, button=button, extra=extra),
        note=render(note) if note else Markup(""),
        users=users_table(),
    )


@router.get("/")
async def home(request: Request) -> Response:
    settings = backend_of(request).settings
    body = render(
        "home.html",
        store_kind=store_label(settings.store_url).split(" ", 1)[0],
        mode=settings.revocation,
        users=users_table(),
    )
    return page(request, "Three ways to be logged in", "home", body)


def hybrid_page(request: Request, area: str, title: str, button: str, remember: bool) -> Response:
    """A page of gatepass.js on the hybrid: ``spa``, or ``dpop`` (the same with DPoP)."""
    settings = backend_of(request).settings
    body = render(
        f"{area}.html",
        access_ttl=duration(settings.access_ttl),
        login=login_block(area, "Log in", button, remember=remember, hidden=True),
    )
    return page(request, title, area, body, scripts=script(f"/static/{area}.js"))


@router.get("/spa")
async def spa(request: Request) -> Response:
    return hybrid_page(request, "spa", "Single-page app", "Log in with the hybrid", True)


@router.get("/dpop")
async def dpop(request: Request) -> Response:
    title, button = "Single-page app with DPoP", "Log in with the hybrid + DPoP"
    return hybrid_page(request, "dpop", title, button, False)


@router.get("/bearer")
async def bearer(request: Request) -> Response:
    body = render(
        "bearer.html",
        mode=backend_of(request).settings.revocation,
        audience=API_AUDIENCE,
        partner_audience=PARTNER_AUDIENCE,
        login=login_block(
            "bearer", "Get an API token", "Get a bearer token", note="bearer_login_note.html"
        ),
    )
    return page(request, "API", "bearer", body, scripts=script("/static/bearer.js"))


@router.get("/live")
async def live(request: Request) -> Response:
    body = render(
        "live.html",
        login=login_block("live", "Log in every way", "Log in: session, hybrid, API and partner"),
    )
    return page(request, "Live panel", "live", body, scripts=script("/static/live.js"))
