"""A scripted browser for the web tests, and the runner of the case table.

:class:`Browser` keeps cookies the way a browser does (``__Host-`` and ``__Secure-`` rules,
``Path`` scoping, deletion by ``Max-Age=0``) and remembers what the server handed to the page
(the access token and CSRF token of the last JSON answer, the ids of "your devices"). Each
:class:`Step` is one request described as data: how the browser labels it (``site``: fetch
metadata and ``Origin``), which credential it carries, and what must come back
(:class:`Expect`). :func:`run` plays a list of steps against a :class:`Target` (one app behind
its in-process transport: ``httpx.ASGITransport`` or ``httpx.WSGITransport``) and checks every
expectation, so a case is a few lines of data, never code of its own.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlencode

import httpx
from webdpop import proof_headers

from gatepass.web import Gatepass

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


# --- the browser --------------------------------------------------------------------------------


def parse_set_cookie(header: str) -> tuple[str, str, dict[str, str]]:
    pair, *attributes = [part.strip() for part in header.split(";")]
    name, _, value = pair.partition("=")
    attrs = {}
    for attribute in attributes:
        key, _, val = attribute.partition("=")
        attrs[key.lower()] = val
    return name, value, attrs


def _path_matches(cookie_path: str, path: str) -> bool:
    return (
        path == cookie_path
        or (cookie_path.endswith("/") and path.startswith(cookie_path))
        or path.startswith(cookie_path + "/")
    )


@dataclass
class Browser:
    """One browser: a cookie jar with the rules browsers apply, and the page's memory."""

    jar: dict[tuple[str, str], str] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)

    def store(self, header: str, secure: bool = True) -> None:
        name, value, attrs = parse_set_cookie(header)
        path = attrs.get("path", "/")
        # A browser drops a prefixed cookie that breaks its prefix's rules; gatepass must
        # never send one (the cookie would silently not exist).
        if name.startswith("__Host-"):
            assert "secure" in attrs and path == "/" and "domain" not in attrs, header
        if name.startswith("__Secure-"):
            assert "secure" in attrs, header
        max_age = attrs.get("max-age")
        if max_age is not None and int(max_age) <= 0:
            self.jar.pop((name, path), None)
        else:
            self.jar[(name, path)] = value

    def cookie_header(self, path: str) -> str:
        return "; ".join(
            f"{name}={value}"
            for (name, cookie_path), value in self.jar.items()
            if _path_matches(cookie_path, path)
        )

    def cookie(self, name: str) -> str | None:
        for (cookie_name, _), value in self.jar.items():
            if cookie_name == name:
                return value
        return None


# --- the app under test -------------------------------------------------------------------------


@dataclass
class Target:
    """One app behind its in-process transport, or behind a real server at ``server`` (its base
    URL). ``root``: where it is mounted."""

    kind: str
    app: Any
    gatepass: Gatepass
    root: str = ""
    store_control: Callable[[str], Awaitable[None]] | None = None
    server: str | None = None
    _client: Any = None

    def __post_init__(self) -> None:
        if self.server is not None:
            # A real server on loopback (uvicorn, waitress): the requests go over TCP, and name
            # the host the table's URLs use.
            self._client = httpx.AsyncClient(base_url=self.server, headers={"host": "testserver"})
        elif self.kind in ("asgi", "fastapi"):
            transport = httpx.ASGITransport(
                app=self.app, raise_app_exceptions=False, root_path=self.root
            )
            self._client = httpx.AsyncClient(transport=transport, base_url=BASE)
        else:
            wsgi = httpx.WSGITransport(app=self.app, raise_app_exceptions=False)
            self._client = httpx.Client(transport=wsgi, base_url=BASE)

    @property
    def asgi(self) -> bool:
        """Whether the client is an asyncio one (an ASGI app, or any app behind a server)."""
        return self.kind in ("asgi", "fastapi") or self.server is not None

    async def send(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | list[tuple[str, str]],
        content: bytes | None,
    ) -> httpx.Response:
        self._client.cookies.clear()  # the Browser keeps the cookies, not httpx
        request = self._client.build_request(method, path, headers=headers, content=content)
        if self.asgi:
            return await self._client.send(request)  # type: ignore[no-any-return]
        return self._client.send(request)  # type: ignore[no-any-return]

    async def websocket(self, path: str, headers: dict[str, str]) -> WebSocketOutcome:
        """Open a WebSocket the way an ASGI server would, straight through the ASGI app."""
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "wss",
            "path": path,
            "raw_path": path.encode(),
            "root_path": self.root,
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()],
            "server": ("testserver", 443),
            "client": ("127.0.0.1", 50000),
            "subprotocols": [],
        }
        inbox = [{"type": "websocket.connect"}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if inbox:
                return inbox.pop(0)
            return {"type": "websocket.disconnect", "code": 1000}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        first = sent[0]["type"] if sent else "nothing"
        texts = [m.get("text") for m in sent if m["type"] == "websocket.send"]
        close = [m.get("code", 1000) for m in sent if m["type"] == "websocket.close"]
        return WebSocketOutcome(first == "websocket.accept", close[0] if close else None, texts)

    async def aclose(self) -> None:
        if self.asgi:
            await self._client.aclose()
        else:
            self._client.close()


class WebSocketOutcome(NamedTuple):
    accepted: bool
    close_code: int | None
    messages: list[str | None]


# --- running steps ------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{(?:([a-z])\.)?([a-z_]+)\}")


def _fill(text: str, browsers: dict[str, Browser], actor: str, gp: Gatepass) -> str:
    def value(match: re.Match[str]) -> str:
        browser = browsers.setdefault(match.group(1) or actor, Browser())
        name = match.group(2)
        cookies = {
            "session_cookie": gp.cookies.session_name,
            "refresh_cookie": gp.cookies.refresh_name,
            "seed_cookie": gp.cookies.seed_name,
        }
        found = browser.cookie(cookies[name]) if name in cookies else browser.memory.get(name)
        assert found is not None, f"nothing remembered as {match.group(0)}"
        return str(found)

    return _PLACEHOLDER.sub(value, text)


def _filled(value: Any, fill: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fill(value)
    if isinstance(value, Mapping):
        return {k: _filled(v, fill) for k, v in value.items()}
    return value


def _request(step: Step, browser: Browser, target: Target, fill: Callable[[str], str]) -> Any:
    method, _, path = step.request.partition(" ")
    url_path = target.root + fill(path)
    headers: dict[str, str] = {}
    fetch_site, origin = SITES[step.site]
    if fetch_site is not None:
        headers["sec-fetch-site"] = fetch_site
    if origin is not None and method not in ("GET", "HEAD"):  # as browsers do (and on WS)
        headers["origin"] = origin
    token = None
    if step.bearer is not None:
        token = browser.memory.get("access") if step.bearer == "access" else fill(step.bearer)
        scheme = (
            "DPoP" if step.dpop is not None and "bearer-scheme" not in step.headers else "Bearer"
        )
        headers["authorization"] = f"{scheme} {token}"
    cookies = [browser.cookie_header(url_path)] if step.jar else []
    if step.cookies:
        cookies.append(fill(step.cookies))
    cookie_header = "; ".join(c for c in cookies if c)
    if cookie_header:
        headers["cookie"] = cookie_header
    content: bytes | None = None
    if step.form is not None:
        content = urlencode(_filled(step.form, fill)).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    elif step.json is not None:
        content = json.dumps(_filled(step.json, fill)).encode()
        headers["content-type"] = "application/json"
    elif step.body is not None:
        content = fill(step.body).encode("utf-8")
    if step.content_type is not None:
        headers["content-type"] = step.content_type
    headers.update(_filled({k: v for k, v in step.headers.items() if k != "bearer-scheme"}, fill))
    if step.dpop is not None:
        url = BASE + url_path.partition("?")[0]
        proofs = proof_headers(step.dpop, browser.memory, method, url, token)
        return method, url_path, [*headers.items(), *proofs], content
    return method, url_path, headers, content


def _check_header(response: httpx.Response, name: str, wanted: str | None, where: str) -> None:
    got = response.headers.get_list(name)
    if wanted is None:
        assert not got, f"{where}: header {name} must be absent, got {got}"
    elif wanted.startswith("+"):  # a token of the comma-separated values, as caches read it
        tokens = [t.strip().lower() for value in got for t in value.split(",")]
        assert wanted[1:].lower() in tokens, f"{where}: {name}={got} lists no {wanted[1:]}"
    elif wanted.startswith("~"):
        assert any(wanted[1:] in value for value in got), f"{where}: {name}={got} ({wanted})"
    else:
        assert got == [wanted], f"{where}: {name}={got}, expected {wanted!r}"


def check(response: httpx.Response, expect: Expect, gp: Gatepass, where: str) -> None:
    """Every expectation of ``expect`` on ``response`` (``where`` names the case and step)."""
    where = f"{where}: {response.status_code} {response.text[:300]!r}"
    assert response.status_code == expect.status, where
    body: Any = None
    json_types = ("application/json", "application/problem+json")
    if response.content and response.headers.get("content-type", "").startswith(json_types):
        body = response.json()
    if expect.code is not None:
        assert response.headers["content-type"] == "application/problem+json", where
        assert body["code"] == expect.code, where
        assert body["status"] == expect.status, where
    if expect.json is not None:
        assert isinstance(body, dict), where
        for key, value in expect.json.items():
            assert body.get(key) == value, f"{where}: {key}={body.get(key)!r}, wanted {value!r}"
    for name, wanted in expect.headers.items():
        _check_header(response, name, wanted, where)
    names = {
        "session": gp.cookies.session_name,
        "refresh": gp.cookies.refresh_name,
        "seed": gp.cookies.seed_name,
    }
    set_cookies = [parse_set_cookie(h) for h in response.headers.get_list("set-cookie")]
    for alias, wanted in expect.cookies.items():
        mine = [c for c in set_cookies if c[0] == names[alias]]
        if wanted == "kept":
            assert not mine, f"{where}: {alias} cookie must be left alone, got {mine}"
            continue
        assert mine, f"{where}: no Set-Cookie for the {alias} cookie"
        cleared = mine[-1][2].get("max-age") == "0"
        assert cleared == (wanted == "cleared"), f"{where}: {alias} cookie {mine[-1]}"
    for alias, flags in expect.flags.items():
        mine = [c for c in set_cookies if c[0] == names[alias]]
        assert mine, f"{where}: no Set-Cookie for the {alias} cookie"
        attrs = mine[-1][2]
        for flag in flags:
            key, _, value = flag.lstrip("!").partition("=")
            present = key.lower() in attrs and (not value or attrs[key.lower()] == value)
            assert present != flag.startswith("!"), f"{where}: {alias} cookie flag {flag}"
    for secret in expect.hides:
        assert secret not in response.text, f"{where}: the body quotes {secret!r}"
        assert all(secret not in v for v in response.headers.values()), where


def remember(response: httpx.Response, browser: Browser) -> None:
    """What a page keeps from an answer: tokens, the next DPoP nonce, the ids of "your
    devices"."""
    for header in response.headers.get_list("set-cookie"):
        browser.store(header)
    nonce = response.headers.get("dpop-nonce")
    if nonce is not None:
        browser.memory["dpop_nonce"] = nonce
    if not response.content or not response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        return
    body = response.json()
    if not isinstance(body, dict):
        return
    if "access_token" in body:
        browser.memory["access"] = body["access_token"]
    if "csrf_token" in body:
        browser.memory["csrf"] = body["csrf_token"]
    if "token_type" in body:
        browser.memory["token_type"] = body["token_type"]
    for entry in body.get("sessions", ()):
        key = "sid" if entry["current"] else "other_sid"
        browser.memory[key] = entry["id"]


async def run(
    target: Target,
    steps: tuple[Step, ...] | list[Step],
    name: str = "case",
    browsers: dict[str, Browser] | None = None,
) -> list[Any]:
    """Play ``steps`` against ``target``, checking each; returns every response. ``browsers``
    (by actor) may be passed in to look at their jars and memory afterwards."""
    browsers = {} if browsers is None else browsers
    responses: list[Any] = []
    gp = target.gatepass
    for index, step in enumerate(steps):
        where = f"{name} step {index + 1} ({step.request}, {target.kind})"
        browser = browsers.setdefault(step.actor, Browser())
        if step.request.startswith("STORE "):
            assert target.store_control is not None, f"{where}: no store to control"
            await target.store_control(step.request.split()[1])
            continue
        if step.request.startswith("SAVE "):  # SAVE name={b.session_cookie}: what a thief keeps
            key, _, template = step.request[5:].partition("=")
            browser.memory[key] = _fill(template, browsers, step.actor, gp)
            continue

        def fill(text: str, actor: str = step.actor) -> str:
            return _fill(text, browsers, actor, gp)

        assert step.expect.status, f"{where}: a request needs an expectation"
        method, path, headers, content = _request(step, browser, target, fill)
        if method == "WS":
            assert isinstance(headers, dict), f"{where}: no DPoP over a WebSocket here"
            outcome = await target.websocket(path, headers)
            status = 101 if outcome.accepted else 403
            assert status == step.expect.status, f"{where}: {outcome}"
            if step.expect.json is not None:
                message = json.loads(outcome.messages[0] or "{}")
                for key, value in step.expect.json.items():
                    assert message.get(key) == value, f"{where}: {message}"
            responses.append(outcome)
            continue
        expect = step.expect
        if expect.json is not None:
            expect = expect._replace(json=_filled(expect.json, fill))
        attempts = 200 if step.eventually else 1
        for attempt in range(attempts):
            response = await target.send(method, path, headers, content)
            try:
                check(response, expect, gp, where)
                break
            except AssertionError:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.05)
        remember(response, browser)
        responses.append(response)
    return responses
