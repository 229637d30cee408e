"""The runner of the web tests' case table, and the one name the tests import it all from.

:func:`run` plays a list of steps (``gp_web_steps``: each :class:`Step` a request described as
data, with what must come back) against a :class:`Target` (``gp_web_target``: one app behind
its in-process transport or a real server), through one :class:`Browser` per actor
(``gp_web_browser``: cookie jar and page memory), and checks every expectation, so a case is a
few lines of data, never code of its own.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import httpx
from gp_web_browser import Browser, parse_set_cookie, remember
from gp_web_steps import ABSENT, BASE, SITES, STEAL_REFRESH, STOLEN, Case, Expect, Step
from gp_web_target import Target, WebSocketOutcome
from webdpop import proof_headers

from gatepass.web import Gatepass

__all__ = [
    "ABSENT",
    "BASE",
    "SITES",
    "STEAL_REFRESH",
    "STOLEN",
    "Browser",
    "Case",
    "Expect",
    "Step",
    "Target",
    "WebSocketOutcome",
    "check",
    "parse_set_cookie",
    "remember",
    "run",
]

_PLACEHOLDER = re.compile(r"\{(?:([a-z])\.)?([a-z_]+)\}")


def _fill(text: str, browsers: dict[str, Browser], actor: str, gp: Gatepass) -> str:
    def value(match: re.Match[str]) -> str:
        browser = browsers.setdefault(match.group(1) or actor, Browser())
        name = match.group(2)
        cookies = {
            "session_cookie": gp.cookies.session_name,
            "refresh_cookie": gp.cookies.refresh_name,
            "seed_cookie": gp.cookies.seed_name,
            "family_cookie": gp.cookies.family_name(),
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
        "family": gp.cookies.family_name(),
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
