"""The home page and the shells of the three JavaScript pages (single-page app, API, live panel).

The shells are plain HTML; their scripts (``static/*.js``) fill them in with ``textContent``
only, so nothing a server or a token says is ever parsed as HTML.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from gatepass.demo.layout import backend_of, duration, page, script, store_label, users_table
from gatepass.demo.render import render
from gatepass.demo.wiring import API_AUDIENCE, PARTNER_AUDIENCE

__all__ = ["router"]

router = APIRouter()


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


@router.get("/spa")
async def spa(request: Request) -> Response:
    settings = backend_of(request).settings
    body = render("spa.html", access_ttl=duration(settings.access_ttl), users=users_table())
    return page(request, "Single-page app", "spa", body, scripts=script("/static/spa.js"))


@router.get("/bearer")
async def bearer(request: Request) -> Response:
    body = render(
        "bearer.html",
        mode=backend_of(request).settings.revocation,
        audience=API_AUDIENCE,
        partner_audience=PARTNER_AUDIENCE,
        users=users_table(),
    )
    return page(request, "API", "bearer", body, scripts=script("/static/bearer.js"))


@router.get("/live")
async def live(request: Request) -> Response:
    body = render("live.html", users=users_table())
    return page(request, "Live panel", "live", body, scripts=script("/static/live.js"))
