"""A header sent twice, over real servers: the four apps under uvicorn (ASGI) and waitress (WSGI).

A WSGI server hands the app one value per header, so it joins repeated lines (``", "``, RFC 9110
5.3); an ASGI server hands over every line. A decision that read only the last line under ASGI
would let a second ``Authorization``, ``Origin``, ``Sec-Fetch-Site`` or ``X-CSRF-Token`` (added
by a client, or appended by a proxy) override the first, and the same request would be decided
differently by the two middlewares. Browsers never send these twice, so each pair below is
refused by both, whichever copy is the good one. (httpx's in-process WSGI transport keeps only
the last line, so these requests need real servers.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from test_web_dpop_servers import uvicorn_serving, waitress_serving
from webapps import make_app
from webclient import Browser, Target, run
from webdesigns import build
from webtable import LOGIN_HYBRID, LOGIN_SESSION

from gatepass.stores import open_store

#: app -> the server it runs under
SERVERS = {"asgi": uvicorn_serving, "fastapi": uvicorn_serving, "wsgi": waitress_serving,
           "flask": waitress_serving}  # fmt: skip

#: name -> (method, path, the header sent twice, its first value, its second, what must come)
PAIRS = {
    "authorization, junk then good": ("GET", "/me", "authorization", "Bearer junk",
                                      "Bearer {access}", (401, "ERR_JWS_MALFORMED")),
    "authorization, good then junk": ("GET", "/me", "authorization", "Bearer {access}",
                                      "Bearer junk", (401, "ERR_JWS_MALFORMED")),
    "sec-fetch-site, cross-site then same-origin": ("POST", "/me", "sec-fetch-site", "cross-site",
                                                    "same-origin", (403, "ERR_CSRF")),
    "origin, another site then this one": ("POST", "/me", "origin", "https://evil.example",
                                           "http://testserver", (403, "ERR_CSRF")),
    "x-csrf-token, junk then good": ("POST", "/me", "x-csrf-token", "A" * 43, "{csrf}",
                                     (403, "ERR_CSRF")),
}  # fmt: skip


@asynccontextmanager
async def _logged_in(app: str, sqlite_url: str) -> AsyncIterator[tuple[Target, Browser]]:
    """``app`` under its real server, with browser ``a`` holding a hybrid login's access token
    and a session cookie (the session login comes second: it must not end the cookie)."""
    store = open_store(sqlite_url)
    store.setup()
    built = build("several", store, asynchronous=False)
    try:
        with SERVERS[app](make_app(app, built.gatepass)) as url:
            target = Target(app, None, built.gatepass, server=url)
            browsers: dict[str, Browser] = {}
            try:
                await run(target, (LOGIN_HYBRID, LOGIN_SESSION), "login", browsers)
                yield target, browsers["a"]
            finally:
                await target.aclose()
    finally:
        await built.close()
        store.close()


@pytest.mark.parametrize("app", SERVERS)
async def test_a_header_sent_twice_is_refused_whichever_copy_is_good(
    app: str, sqlite_url: str
) -> None:
    async with _logged_in(app, sqlite_url) as (target, browser):
        fill = {"access": browser.memory["access"], "csrf": browser.memory["csrf"]}
        cookie = ("cookie", browser.cookie_header("/me"))
        for name, (method, path, header, first, second, (status, code)) in PAIRS.items():
            headers = [cookie, (header, first.format(**fill)), (header, second.format(**fill))]
            response = await target.send(method, path, headers, None)
            where = f"{app}: {name}: {response.status_code} {response.text[:200]}"
            assert response.status_code == status, where
            assert response.json()["code"] == code, where
        # Each good copy alone passes, so the refusals above are the pair's doing.
        for header, value in (("authorization", "Bearer {access}"), ("x-csrf-token", "{csrf}")):
            headers = [cookie, (header, value.format(**fill))]
            response = await target.send("POST", "/me", headers, None)
            assert response.status_code == 200, f"{app}: {header} alone: {response.text[:200]}"
