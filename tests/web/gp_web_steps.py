"""The language of the web tests' case table: a request described as data.

Each :class:`Step` is one request: how the browser labels it (``site``: fetch metadata and
``Origin``, from :data:`SITES`), which credential it carries, and what must come back
(:class:`Expect`); or one action on the store or the browser's memory. A :class:`Case` is a
named list of steps and the designs and apps it runs on. ``webclient.run`` plays them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

BASE = "https://testserver"

#: How the browser labels a request: ``(Sec-Fetch-Site, Origin)``; None leaves a header out.
SITES: dict[str, tuple[str | None, str | None]] = {
    "same-origin": ("same-origin", BASE),
    "none": ("none", None),  # typed into the address bar, a bookmark
    "cross-site": ("cross-site", "https://evil.example"),
    "same-site": ("same-site", "https://sub.testserver"),
    "trusted": ("cross-site", "https://trusted.example"),
    "old-same": (None, BASE),  # a browser without fetch metadata, from this site
    "old-cross": (None, "https://evil.example"),
    "null": (None, "null"),  # a sandboxed frame, some redirects
    "script": (None, None),  # curl, an old browser's form without Origin
}

ABSENT = None


class Expect(NamedTuple):
    """What a response must be. ``headers``: exact value, ``"~part"`` (contains), ``"+token"``
    (one of its comma-separated tokens, across every line of it), or None (absent).
    ``cookies``: ``session``/``refresh``/``seed`` -> ``set``, ``cleared`` or ``kept`` (no
    ``Set-Cookie`` for it). ``flags``: attributes a ``Set-Cookie`` must carry (``"!Domain"``:
    must not). ``json``: a subset of the JSON body. ``hides``: texts the body must not contain."""

    status: int
    code: str | None = None
    json: Mapping[str, Any] | None = None
    headers: Mapping[str, str | None] = {}
    cookies: Mapping[str, str] = {}
    flags: Mapping[str, tuple[str, ...]] = {}
    hides: tuple[str, ...] = ()


class Step(NamedTuple):
    """One request (``"POST /auth/login"``, ``"WS /ws"``) or one action: ``"STORE down"`` /
    ``"STORE up"`` (the store's server stops, starts), ``"SAVE name={a.refresh_cookie}"`` (keep
    a copy, as a thief would). ``bearer``: ``"access"`` (the page's token), a memory
    name in braces, or a literal. ``cookies``: raw pairs sent besides the jar's. ``actor``: which
    browser (each has its own jar and memory). ``eventually``: repeat (bounded) until it holds,
    for effects that propagate (a replicated revocation cache noticing an outage). ``dpop``: the
    DPoP proof to send (``webdpop.proof_headers``); with ``bearer``, the token then travels as
    ``Authorization: DPoP`` (``"bearer-scheme"`` in ``headers`` keeps ``Bearer``)."""

    request: str
    expect: Expect = Expect(0)  # actions only; a request without an expectation fails
    form: Mapping[str, str] | None = None
    json: Any = None
    body: str | None = None
    content_type: str | None = None
    site: str = "same-origin"
    bearer: str | None = None
    headers: Mapping[str, str] = {}
    cookies: str | None = None
    jar: bool = True
    actor: str = "a"
    eventually: bool = False
    dpop: str | None = None


class Case(NamedTuple):
    name: str
    designs: tuple[str, ...]
    steps: tuple[Step, ...]
    apps: tuple[str, ...] = ("asgi", "fastapi", "wsgi", "flask")
    outage: bool = False


#: A thief's copy of a victim's hybrid cookies: a copied cookie jar holds the refresh cookie and
#: its ``__Host-`` companion (without it the refresh cookie counts as absent). ``STOLEN`` sends
#: the copy as another actor's ``cookies``.
STEAL_REFRESH = Step(
    "SAVE stolen=__Secure-refresh={refresh_cookie}; __Host-refresh-family={family_cookie}"
)
STOLEN = "{a.stolen}"
