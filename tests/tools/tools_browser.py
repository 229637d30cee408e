"""Helpers for driving the tools page in Chromium (imported by conftest.py and the tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATIC = Path(__file__).resolve().parents[2] / "src" / "gatepass" / "tools" / "static"
OWN_FILES = {
    "",
    "index.html",
    "style.css",
    "jose.js",
    "audit-rules.js",
    "audit.js",
    "dpop.js",
    "app.js",
    "favicon.svg",
}


@dataclass
class Recorder:
    """Every URL the browser requested, as seen by Playwright and by CDP."""

    playwright: list[str] = field(default_factory=list)
    cdp: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)  # errors and warnings the page logged

    def clear(self) -> None:
        self.playwright.clear()
        self.cdp.clear()
        self.page_errors.clear()
        self.console.clear()

    def all(self) -> list[str]:
        return self.playwright + self.cdp


def foreign_requests(urls: list[str], base: str) -> list[str]:
    """URLs that are not one of the page's own files under ``base`` (http or file://)."""
    bad = []
    for url in urls:
        if url.startswith("data:"):
            continue
        if not url.startswith(base):
            bad.append(url)
            continue
        name = url[len(base) :].split("?", 1)[0].split("#", 1)[0]
        if name not in OWN_FILES:
            bad.append(url)
    return bad


class ToolsPage:
    """A tab with the tools page loaded, plus the requests it made."""

    def __init__(self, page: Any, recorder: Recorder, base: str) -> None:
        self.page = page
        self.recorder = recorder
        self.base = base

    def tab(self, name: str) -> None:
        self.page.click(f"#tab-{name}")

    def decode(self, token: str) -> None:
        self.tab("decode")
        self.page.fill("#decode-token", token)

    def verify(
        self,
        token: str,
        key: str,
        *,
        key_format: str = "auto",
        alg: str = "",
        leeway: int = 0,
        require_exp: bool = True,
    ) -> dict[str, Any]:
        """Run the Verify pane; returns verdict, summary, checks {id: [status, text]}, notes."""
        page = self.page
        self.tab("verify")
        page.fill("#verify-token", token)
        page.select_option("#verify-key-format", key_format)
        page.fill("#verify-key", key)
        page.select_option("#verify-alg", alg)
        page.fill("#verify-leeway", str(leeway))
        page.set_checked("#verify-require-exp", require_exp)
        page.eval_on_selector("#verify-verdict", "n => n.removeAttribute('data-verdict')")
        page.click("#verify-run")
        page.wait_for_selector("#verify-verdict[data-verdict]")
        return read_verify(page)

    def sign(
        self, alg: str, key: str | None, *, key_format: str = "auto", claims: str | None = None
    ) -> str:
        """Sign in the Encode pane (key None: generate one in the page); returns the token."""
        page = self.page
        self.tab("encode")
        page.select_option("#encode-alg", alg)
        if key is None:
            page.click("#encode-generate")
            page.wait_for_selector("#gen-output[data-kid]:not(.hidden)")
        else:
            page.select_option("#encode-key-format", key_format)
            page.fill("#encode-key", key)
        if claims is not None:
            page.fill("#encode-claims", claims)
        page.eval_on_selector("#encode-token", "n => { n.value = ''; }")
        page.click("#encode-sign")
        page.wait_for_function(
            "() => document.getElementById('encode-token').value !== '' ||"
            " !document.getElementById('encode-error').classList.contains('hidden')"
        )
        error = page.locator("#encode-error")
        if error.is_visible():
            raise AssertionError("page refused to sign: " + error.inner_text())
        return str(page.input_value("#encode-token"))


def read_verify(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        """() => ({
            verdict: document.getElementById('verify-verdict').dataset.verdict,
            summary: document.getElementById('verify-verdict').innerText,
            checks: Object.fromEntries([...document.querySelectorAll('#verify-checks li')]
                .map(li => [li.dataset.check, [li.dataset.status, li.innerText]])),
            notes: [...document.querySelectorAll('#verify-notes li')].map(li => li.innerText),
            claims: document.getElementById('verify-claims-card').classList.contains('hidden')
                ? null : JSON.parse(document.getElementById('verify-claims').innerText),
        })"""
    )
    return result


def open_page(browser: Any, url: str) -> tuple[Any, Any, Recorder]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    recorder = Recorder()
    context.on("request", lambda request: recorder.playwright.append(request.url))
    page = context.new_page()
    page.set_default_timeout(10_000)
    cdp = context.new_cdp_session(page)
    cdp.on("Network.requestWillBeSent", lambda event: recorder.cdp.append(event["request"]["url"]))
    cdp.send("Network.enable")
    page.on("pageerror", lambda exc: recorder.page_errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            recorder.console.append(f"{msg.type}: {msg.text}")
            if msg.type in ("error", "warning")
            else None
        ),
    )
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    assert recorder.page_errors == [], recorder.page_errors
    return context, page, recorder
