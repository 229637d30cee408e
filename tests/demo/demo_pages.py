"""Driving the reference app's pages in Chromium the way a person would: fill the form, press
the button, wait for what the page says. Imported by conftest.py and the browser tests."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from gatepass.demo.accounts import DEMO_USERS

PASSWORDS = {user.name: user.password for user in DEMO_USERS}
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


def agent(browser: Any, device: str) -> str:
    """A Chrome-on-Linux User-Agent that names the device on "your devices" pages."""
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{browser.version} Safari/537.36 (gatepass-demo: {device})"
    )


class Device:
    """One browser context (cookies of its own: another device), with the errors its pages hit."""

    def __init__(self, browser: Any, base: str, name: str) -> None:
        self.base = base
        self.name = name
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 860}, user_agent=agent(browser, name)
        )
        self.context.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.page = self.tab()

    def tab(self) -> Any:
        page = self.context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return page

    def close(self) -> None:
        self.context.close()

    # --- the three areas and the panel --------------------------------------------------------

    def classic_login(self, user: str, page: Any = None, password: str | None = None) -> Any:
        page = page or self.page
        page.goto(f"{self.base}/classic")
        page.fill("#classic-login input[name=username]", user)
        page.fill("#classic-login input[name=password]", password or PASSWORDS[user])
        page.click("#classic-login button[type=submit]")
        page.wait_for_load_state()
        return page

    def open(self, area: str, page: Any = None) -> Any:
        """A JavaScript page (``spa``, ``bearer``, ``live``), once its script is ready."""
        page = page or self.page
        page.goto(f"{self.base}/{area}")
        page.wait_for_selector("body[data-ready=true]")
        return page

    def _log_in(self, area: str, user: str, page: Any, done: str) -> Any:
        page = self.open(area, page)
        page.fill(f"#{area}-login-form input[name=username]", user)
        page.fill(f"#{area}-login-form input[name=password]", PASSWORDS[user])
        page.click(f"#{area}-login-form button[type=submit]")
        page.wait_for_selector(done)
        return page

    def spa_login(self, user: str, page: Any = None) -> Any:
        return self._log_in("spa", user, page, "body[data-state=logged-in]")

    def dpop_login(self, user: str, page: Any = None) -> Any:
        return self._log_in("dpop", user, page, "body[data-state=logged-in]")

    def bearer_login(self, user: str, page: Any = None) -> Any:
        return self._log_in("bearer", user, page, "#bearer-api-status[data-state=valid]")

    def live_login(self, user: str, page: Any = None) -> Any:
        page = self._log_in("live", user, page, "body[data-state=watching]")
        page.wait_for_selector("#live-table tr[data-row=partner][data-state=valid]")
        return page


def live_row(page: Any, row: str) -> dict[str, str]:
    """One row of the live panel: its state and its status text."""
    result: dict[str, str] = page.eval_on_selector(
        f"#live-table tr[data-row={row}]",
        "tr => ({state: tr.dataset.state || '', status: tr.querySelector('.status').innerText})",
    )
    return result


def screenshot(page: Any, name: str) -> None:
    """Take a README screenshot of the page the test just checked.

    Every run takes it (a page that cannot be captured fails the test), but only ``make
    screenshots`` (``GATEPASS_SCREENSHOTS=update``) writes it over ``docs/images/<name>.png``:
    tokens and times differ on every run, and a plain ``make test`` must leave the checkout
    clean.
    """
    update = os.environ.get("GATEPASS_SCREENSHOTS") == "update"
    folder = IMAGES if update else Path(tempfile.mkdtemp(prefix="gatepass-shot-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    if not update:
        path.unlink()
        folder.rmdir()
