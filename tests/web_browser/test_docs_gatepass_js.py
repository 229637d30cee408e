"""docs/gatepass-js.md runs: every code block, in headless Chromium, against the hybrid example.

* The main example (the first ``js`` block) and the page (the ``html`` block) are, to the byte,
  the files ``examples/fastapi_hybrid.py`` serves: test_browser_hybrid.py drives that page.
* Every other ``js`` block runs as a module script in the example's page; what it prints with
  ``console.log`` must be, line for line, what its ``// -> text`` comments say.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser_kit import (
    EXAMPLES,
    ROOT,
    AppServer,
    Contexts,
    example,
    sqlite_in,
    wait_until,
)
from gp_store_servers import RedisServer
from hybrid_page import open_page, shows, ui_login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOC = ROOT / "docs" / "gatepass-js.md"
BLOCK_TIMEOUT_MS = 30_000


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def promised(block: str) -> list[str]:
    return re.findall(r"// -> (.*)$", block, re.MULTILINE)


def run_block(page: Any, block: str) -> list[str]:
    """Run ``block`` as a module script in ``page``; what it printed with console.log."""
    printed: list[str] = []
    errors: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "log":
            printed.append(message.text)

    def on_error(error: Any) -> None:
        errors.append(str(error))

    page.on("console", on_console)
    page.on("pageerror", on_error)
    page.evaluate(
        """() => {
            window.blockDone = window.blockFailed = false;
            window.onerror = window.onunhandledrejection = () => { window.blockFailed = true; };
        }"""
    )
    try:
        # A module's last statement runs after every top-level await before it; an uncaught
        # error ends the module early and arrives as a page error.
        page.add_script_tag(content=f"{block}\nwindow.blockDone = true;", type="module")
        page.wait_for_function(
            "() => window.blockDone || window.blockFailed", timeout=BLOCK_TIMEOUT_MS
        )
    finally:
        page.remove_listener("console", on_console)
        page.remove_listener("pageerror", on_error)
    assert errors == [], errors
    return printed


def open_logged_in(contexts: Contexts, base: str) -> Any:
    """The example's page, logged in as alice through its form. The page's CSP forbids inline
    scripts, the blocks' way in here, so this context bypasses it."""
    context, _ = contexts.new(bypass_csp=True)
    page = open_page(context, base)
    ui_login(page)
    return page


@pytest.fixture(scope="module")
def app(hybrid_app: AppServer) -> AppServer:
    return hybrid_app


def test_the_main_example_is_the_code_the_browser_tests_run() -> None:
    assert blocks("html") == [(EXAMPLES / "fastapi_hybrid.html").read_text(encoding="utf-8")]
    assert blocks("js")[0] == (EXAMPLES / "fastapi_hybrid.js").read_text(encoding="utf-8")
    fences = re.findall(r"^```(\w*)$", DOC.read_text(encoding="utf-8"), re.MULTILINE)
    assert set(fences[0::2]) == {"html", "js"}  # no block that nothing here would run


def dpop_block(block: str) -> bool:
    """A block for a server with DPoP (``fastapi_hybrid.py --dpop on``)."""
    return "new Gatepass({ dpop: true })" in block


def test_every_other_block_prints_what_it_promises(app: AppServer, contexts: Contexts) -> None:
    page = open_logged_in(contexts, app.url)
    phone = open_logged_in(contexts, app.url)  # another device, for "log out my other devices"
    others = [block for block in blocks("js")[1:] if not dpop_block(block)]
    assert len(others) >= 4
    for block in others:
        lines = promised(block)
        assert lines, f"a block that promises nothing:\n{block}"
        assert run_block(page, block) == lines, block
    # The devices block logged the phone out: its page learns it at its next request.
    phone.reload()
    shows(phone, "nobody")


@pytest.mark.redis
def test_the_refresh_block_during_a_store_outage(
    contexts: Contexts, private_redis: RedisServer, tmp_path: Path
) -> None:
    (block,) = [b for b in blocks("js") if "cannot refresh now; still" in b]
    denylist = ("--revocation", "denylist")
    with example("fastapi_hybrid", tmp_path, *denylist, store=private_redis.url) as app:
        page = open_logged_in(contexts, app.url)
        private_redis.kill()
        assert run_block(page, block) == ["cannot refresh now; still logged in", "try again in 5 s"]
        private_redis.start()
        wait_until(lambda: run_block(page, block) == ["alice"], "the store to be back")


def test_the_dpop_blocks_against_the_example_with_dpop(contexts: Contexts, tmp_path: Path) -> None:
    dpop_blocks = [block for block in blocks("js") if dpop_block(block)]
    assert dpop_blocks
    with example("fastapi_hybrid", tmp_path, "--dpop", "on", store=sqlite_in(tmp_path)) as app:
        context, _ = contexts.new(bypass_csp=True)
        page = open_page(context, app.url)
        for block in dpop_blocks:
            assert run_block(page, block) == promised(block), block
