"""Where the CSRF token may travel for a client that sends neither fetch metadata nor ``Origin``
(an old browser's form, a script with the session cookie), body by body, on the four apps.

The ``X-CSRF-Token`` header works with any body. In the body, only an urlencoded form is read
(any case and parameters of its media type): a ``multipart/form-data`` or ``text/plain`` body is
the app's to parse, so a token in it does not count, and neither does one in the query string
(URLs end up in logs and ``Referer``). With the field sent twice, the first one decides, so an
attacker who can append a field to a form cannot outvote the page's own.
"""

from __future__ import annotations

import pytest
from webapps import APPS
from webclient import Expect, Step, run
from webdesigns import serving
from webtable import CSRF, LOGIN_SESSION

ECHOED = Expect(200, json={"user": "alice"})
FORM = "application/x-www-form-urlencoded"
MULTIPART = (
    '--B\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n--B--\r\n',
    "multipart/form-data; boundary=B",
)


def post(expect: Expect, body: str, content_type: str, **kw: object) -> Step:
    return Step("POST /echo", expect, body=body, content_type=content_type, site="script", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("app", APPS)
async def test_the_token_counts_in_the_header_or_an_urlencoded_form(
    app: str, sqlite_url: str
) -> None:
    steps = (
        LOGIN_SESSION,
        post(ECHOED, "csrf_token={csrf}", FORM),
        post(ECHOED, "csrf_token={csrf}", "Application/X-WWW-Form-Urlencoded; Charset=UTF-8"),
        post(ECHOED, "a=%E2%98%83&csrf_token={csrf}&b=", FORM),
        post(CSRF, "csrf_token=nope&csrf_token={csrf}", FORM),
        post(ECHOED, "csrf_token={csrf}&csrf_token=nope", FORM),
        post(CSRF, "a=1;csrf_token={csrf}", FORM),  # ';' does not separate fields
        post(CSRF, *MULTIPART),
        post(ECHOED, *MULTIPART, headers={"x-csrf-token": "{csrf}"}),
        post(CSRF, "csrf_token={csrf}", "text/plain"),
        post(ECHOED, "anything", "text/plain", headers={"x-csrf-token": "{csrf}"}),
        post(CSRF, "csrf_token={csrf}", FORM, headers={"x-csrf-token": "nope"}),
        Step("POST /echo?csrf_token={csrf}", CSRF, site="script"),
    )
    async with serving(app, "session", sqlite_url) as target:
        await run(target, steps, "csrf bodies")
