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

import pytest
from webservers import SERVERS, served
from webtable import LOGIN_HYBRID, LOGIN_SESSION

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


@pytest.mark.parametrize("app", SERVERS)
async def test_a_header_sent_twice_is_refused_whichever_copy_is_good(
    app: str, sqlite_url: str
) -> None:
    login = (LOGIN_HYBRID, LOGIN_SESSION)  # in this order: a hybrid login ends the cookie
    async with served(app, "several", sqlite_url, login=login) as (target, browser):
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
