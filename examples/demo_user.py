"""What every example shares: the command line, the one demo user, and the pages.

The password check is the app's job, not gatepass's: this one hashes with argon2id
(argon2-cffi, in the ``demo`` extra) and spends the same time on unknown user names as on known
ones, so the response time does not tell which names exist.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import tempfile
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

_hasher = PasswordHasher()
# A real app keeps these hashes in its user table.
USERS = {"alice": _hasher.hash("correct horse battery staple")}
_DUMMY = _hasher.hash("nobody has this password")


def check_password(username: str, password: str) -> str | None:
    """The user id for a right password, else None."""
    stored = USERS.get(username)
    try:
        _hasher.verify(stored or _DUMMY, password)
    except VerificationError:
        return None
    return username if stored is not None else None


async def check_password_async(username: str, password: str) -> str | None:
    """:func:`check_password` for asyncio apps: argon2 takes tens of milliseconds on purpose,
    so it runs in a worker thread, not in the event loop."""
    return await asyncio.to_thread(check_password, username, password)


def options(description: str | None, *, tokens: bool = False) -> argparse.Namespace:
    """``--port PORT [--store URL]``; the store defaults to SQLite in a scratch folder.

    ``tokens``: also ``--revocation`` and ``--ttl`` of the access tokens, to see what each
    revocation mode promises (``docs/access-tokens.md``), and ``--dpop`` (``docs/dpop.md``).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--store", help="a gatepass store URL (default: a scratch SQLite file)")
    if tokens:
        modes = ("stateless", "denylist", "replicated")
        parser.add_argument("--revocation", choices=modes, default="replicated")
        parser.add_argument("--ttl", type=int, default=900, help="access token lifetime (s)")
        parser.add_argument(
            "--dpop",
            choices=("off", "on", "nonce"),
            default="off",
            help="bind the tokens to the browser's key (DPoP, RFC 9449; nonce: with server nonces)",
        )
    args = parser.parse_args()
    if args.store is None:
        args.store = f"sqlite:///{tempfile.mkdtemp(prefix='gatepass-example-')}/auth.db"
    return args


def session_page(user_id: str | None, csrf_token: str) -> str:
    """The session examples' page: a login form, or who is logged in and the logout forms.

    Each form carries ``csrf_token`` for browsers that send no fetch metadata; ``next`` makes
    the endpoint answer with a redirect back here instead of JSON.
    """
    hidden = (
        f'<input type="hidden" name="csrf_token" value="{html.escape(csrf_token)}">'
        '<input type="hidden" name="next" value="/">'
    )
    if user_id is None:
        return (
            f'<!doctype html><title>Log in</title><form method="post" action="/auth/login">'
            f'{hidden}<input type="hidden" name="fail" value="/">'
            '<input name="username" autocomplete="username">'
            '<input name="password" type="password" autocomplete="current-password">'
            '<button id="login">Log in</button></form>'
        )
    return (
        f"<!doctype html><title>Hello</title><p id=user>{html.escape(user_id)}</p>"
        f'<form method="post" action="/auth/logout">{hidden}<button id="logout">Log out</button>'
        f'</form><form method="post" action="/auth/logout-all">{hidden}'
        '<button id="logout-all">Log out everywhere</button></form>'
    )


#: The hybrid page's Content-Security-Policy: scripts from its own origin only, so an injected
#: inline <script> (XSS) does not run.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
}


def hybrid_files(*, dpop: bool) -> tuple[bytes, bytes]:
    """The hybrid example's page and script, ``fastapi_hybrid.html`` and ``.js`` beside it.

    With DPoP the page says so (``<html data-dpop="on">``): its script reads that to ask
    gatepass.js for DPoP (``new Gatepass({ dpop: true })``).
    """
    here = Path(__file__).with_name("fastapi_hybrid.html")
    page, script = here.read_bytes(), here.with_suffix(".js").read_bytes()
    if dpop:
        page = page.replace(b"<!doctype html>", b'<!doctype html>\n<html data-dpop="on">', 1)
    return page, script
