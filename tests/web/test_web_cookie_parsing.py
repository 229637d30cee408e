"""``Cookie`` headers as they arrive at real servers (uvicorn, waitress), odd ones included.

The session cookie is found among junk (empty and nameless pairs, no spaces, thousands of other
cookies, big ones, bytes outside ASCII); a value that cannot be a session (empty, non-ASCII,
quoted) logs nobody in and is cleared; a cookie that is not exactly ours (another case of the
name, a space before ``=``, a pair hidden in another cookie's value after a comma) and a name
sent twice (a cookie tossed from a sibling subdomain) are not read at all, so nothing is cleared.
Every answer is a 200 of the route where a user is optional, never an error, on all four apps.
"""

from __future__ import annotations

import pytest
from webservers import SERVERS, served
from webtable import LOGIN_SESSION

#: the Cookie header (``{c}``: the browser's own cookie header, ``{s}``: the session token)
#: -> the user the route sees, and whether the answer clears the session cookie
CASES: dict[bytes, tuple[str | None, bool]] = {
    b"=; ;;=x; novalue; {c}; =": ("alice", False),
    b"a=1;{c};b=2": ("alice", False),
    b"; ".join(b"c%d=v" % i for i in range(2000)) + b"; {c}": ("alice", False),
    b"big1=" + b"x" * 4000 + b"; big2=" + b"y" * 4000 + b"; {c}": ("alice", False),
    b"z=\xff\xfe\xe9; {c}": ("alice", False),
    b"__Host-session=": (None, True),
    b"__Host-session=\xe9\xe9\xe9": (None, True),
    b'__Host-session="{s}"': (None, True),
    b"__host-session={s}": (None, False),
    b"__Host-session ={s}": (None, False),
    b"x=a, __Host-session={s}": (None, False),
    b"{c}; __Host-session={s}": (None, False),
}


@pytest.mark.parametrize("app", SERVERS)
async def test_cookie_headers_odd_and_hostile(app: str, sqlite_url: str) -> None:
    async with served(app, "session", sqlite_url, login=(LOGIN_SESSION,)) as (target, browser):
        own = browser.cookie_header("/probe").encode()
        token = (browser.cookie("__Host-session") or "").encode()
        for template, (user, cleared) in CASES.items():
            header = template.replace(b"{c}", own).replace(b"{s}", token)
            response = await target.send("GET", "/probe", [(b"cookie", header)], None)
            where = f"{app}: {template[:60]!r}: {response.status_code} {response.text[:200]}"
            assert response.status_code == 200, where
            assert response.json()["user"] == user, where
            clears = [
                value
                for value in response.headers.get_list("set-cookie")
                if value.startswith("__Host-session=;")
            ]
            assert bool(clears) == cleared, where
