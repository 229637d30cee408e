"""The paths a ``Gatepass`` is configured with (endpoint prefix, JWKS path, CSRF exemptions).

An ASGI server hands the app its path decoded as UTF-8, a WSGI server as latin-1 (PEP 3333), so
a non-ASCII prefix matched under uvicorn and never under waitress: the endpoints answered under
one and were the app's 404 under the other, and a CSRF exemption held under one only. Such paths
are refused when the app starts, as is a ``;``, which would end the refresh cookie's ``Path``.
An ASCII prefix works the same under both servers.
"""

from __future__ import annotations

import pytest
from webclient import Expect, Step, run
from webdesigns import SECRET
from webservers import served

from gatepass import Sessions, open_store
from gatepass.errors import ConfigurationError
from gatepass.web import Gatepass

REFUSED = ("/äuth", "/auth\u2028", "/a;b", "/auth\t", "/a%2Fb", "auth", "/auth/")


@pytest.mark.parametrize("path", REFUSED)
@pytest.mark.parametrize("setting", ["prefix", "jwks_path", "csrf_exempt"])
def test_paths_outside_plain_ascii_are_refused(setting: str, path: str) -> None:
    value: object = [path] if setting == "csrf_exempt" else path
    with pytest.raises(ConfigurationError):
        Gatepass(sessions=Sessions(open_store("memory://")), secret=SECRET, **{setting: value})


@pytest.mark.parametrize("app", ["fastapi", "flask"])
async def test_an_ascii_prefix_answers_under_both_servers(app: str, sqlite_url: str) -> None:
    async with served(app, "session", sqlite_url, prefix="/api/auth-v2") as (target, _):
        await run(target, (
            Step("GET /api/auth-v2/csrf", Expect(200, cookies={"seed": "set"})),
            Step("GET /api/auth-v2/login", Expect(405, "ERR_METHOD_NOT_ALLOWED")),
        ))  # fmt: skip
