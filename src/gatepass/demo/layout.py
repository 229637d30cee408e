"""The frame every page shares, and the small formatting rules the pages agree on.

Pages are ``text/html`` responses that no cache keeps (they show who is logged in) and carry no
inline script or style, so the Content-Security-Policy of :mod:`gatepass.demo.security` can
forbid both.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse

from gatepass.demo.accounts import DEMO_USERS
from gatepass.demo.render import Markup, join, render
from gatepass.demo.wiring import Backend

__all__ = [
    "backend_of",
    "describe_store",
    "device_name",
    "duration",
    "page",
    "script",
    "store_label",
    "users_table",
    "when",
]


def backend_of(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


def describe_store(url: str) -> str:
    """The store URL without credentials (a Redis or PostgreSQL URL may carry a password)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return url
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path}"


_KINDS = {
    "sqlite": "SQLite",
    "memory": "memory",
    "postgresql": "PostgreSQL",
    "postgres": "PostgreSQL",
}


def store_label(url: str) -> str:
    """``SQLite · gatepass-demo.db``, ``Redis · 127.0.0.1:6379/0``: what the pages show."""
    parts = urlsplit(url)
    kind = _KINDS.get(parts.scheme, "Redis" if parts.scheme.startswith("redis") else parts.scheme)
    where = parts.path.rsplit("/", 1)[-1] if parts.scheme == "sqlite" else parts.netloc
    return f"{kind} · {where.rpartition('@')[2]}{'' if parts.scheme == 'sqlite' else parts.path}"


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds % 3600 == 0 and seconds >= 3600:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0 and seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def _span(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def when(timestamp: float | None, now: float | None = None) -> str:
    """``14:03:27 UTC (2 min ago)``: exact for comparing devices, relative for reading."""
    if timestamp is None:
        return "-"
    now = time.time() if now is None else now
    clock = time.strftime("%H:%M:%S UTC", time.gmtime(timestamp))
    delta = int(timestamp - now)
    if abs(delta) < 5:
        return f"{clock} (now)"
    return f"{clock} (in {_span(delta)})" if delta > 0 else f"{clock} ({_span(-delta)} ago)"


_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("HeadlessChrome/", "Headless Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)
_LABEL = re.compile(r"\(gatepass-demo: ([^)]{1,40})\)")


def device_name(user_agent: str) -> str:
    """A short name for a ``User-Agent`` ("Firefox on Linux"), as "your devices" shows it.

    A ``(gatepass-demo: NAME)`` comment in the agent names the device outright: the tests give
    each browser context one, so two devices of the same browser can be told apart.
    """
    label = _LABEL.search(user_agent)
    if label:
        return label.group(1)
    browser = next((name for key, name in _BROWSERS if key in user_agent), "")
    system = next((name for key, name in _SYSTEMS if key in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or (user_agent[:40] or "unknown device")


def users_table() -> Markup:
    rows = join(
        render("user_row.html", name=u.name, password=u.password, role=u.role) for u in DEMO_USERS
    )
    return render("users.html", rows=rows)


def script(path: str) -> Markup:
    """A module script tag for one of the demo's own files (the CSP allows 'self' only)."""
    return render("script.html", src=path)


def page(
    request: Request,
    title: str,
    area: str,
    body: Markup,
    *,
    scripts: Markup = Markup(""),  # noqa: B008  (an immutable str)
    status: int = 200,
) -> HTMLResponse:
    settings = backend_of(request).settings
    html = render(
        "base.html",
        title=title,
        area=area,
        body=body,
        scripts=scripts,
        store=store_label(settings.store_url),
        mode=settings.revocation,
        access_ttl=duration(settings.access_ttl),
        stateless_ttl=duration(settings.stateless_ttl),
    )
    return HTMLResponse(html, status, headers={"cache-control": "no-store"})
