"""Trusted origins are compared with the ``Origin`` header as a browser serialises it (RFC 6454
6.2): lower-case, and without the scheme's default port. An origin configured as
``https://trusted.example:443`` stands for the page whose browser sends
``Origin: https://trusted.example``; kept as written it would never match, and that page's
requests would be refused as cross-site.
"""

from __future__ import annotations

import pytest
from webapps import APPS
from webclient import Step, run
from webdesigns import SECRET, serving
from webtable import ALICE_SESSION, LOGIN_SESSION

from gatepass import Sessions, open_store
from gatepass.web import Gatepass


@pytest.mark.parametrize(
    ("configured", "kept"),
    [
        ("https://trusted.example:443", "https://trusted.example"),
        ("HTTP://Trusted.Example:80", "http://trusted.example"),
        ("https://trusted.example:8443", "https://trusted.example:8443"),
        ("http://trusted.example:443", "http://trusted.example:443"),
        ("https://[::1]:443", "https://[::1]"),
    ],
)
def test_origins_are_kept_as_browsers_send_them(configured: str, kept: str) -> None:
    gp = Gatepass(
        sessions=Sessions(open_store("memory://")), secret=SECRET, trusted_origins=[configured]
    )
    assert gp.trusted_origins == {kept}


@pytest.mark.parametrize("app", APPS)
async def test_a_default_port_in_the_configuration_still_trusts_the_page(
    app: str, sqlite_url: str
) -> None:
    options = {"trusted_origins": ["https://trusted.example:443"]}
    async with serving(app, "session", sqlite_url, **options) as target:
        await run(target, (LOGIN_SESSION, Step("POST /me", ALICE_SESSION, site="trusted")))
