"""A scripted browser for the web tests: a cookie jar with the rules browsers apply (``__Host-``
and ``__Secure-`` prefixes, ``Path`` scoping, deletion by ``Max-Age=0``), and the page's memory
of what the server handed it (the access token and CSRF token of the last JSON answer, the next
DPoP nonce, the ids of "your devices").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx


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
