"""Driving the page of ``examples/fastapi_hybrid.py`` (its form, its ``#who``) in a browser.

``open_page`` also adds a second ``Gatepass`` object to the tab (``window.t``, its events in
``window.events``) for tests that call gatepass.js directly: it shares the tab's lock and
channel, as a second script of the same page would.
"""

from __future__ import annotations

from typing import Any

from browser_kit import PASSWORD

#: A second Gatepass object in the tab, and the events it saw.
CLIENT = """async () => {
  const { Gatepass, GatepassError } = await import("/auth/gatepass.js");
  window.GatepassError = GatepassError;
  window.t = new Gatepass({ dpop: document.documentElement.dataset.dpop === "on" });
  window.events = [];
  t.addEventListener("change", (event) => events.push(event.detail.type));
}"""


def open_page(context: Any, base: str) -> Any:
    """The example's page, once its script has asked the API who is logged in."""
    page = context.new_page()
    page.goto(f"{base}/")
    page.wait_for_selector("body[data-status]")
    page.evaluate(CLIENT)
    return page


def shows(page: Any, who: str) -> None:
    """Wait (bounded) until the page says ``who`` is logged in ("nobody": nobody is)."""
    page.wait_for_function(f"() => document.querySelector('#who').textContent === '{who}'")


def logged_in_tabs(context: Any, base: str) -> tuple[Any, Any]:
    """Two tabs of one browser: the first logged in through its form, the second opened after
    it, whose ``t`` (made after the login, so it heard nothing) has resumed it by a refresh."""
    first = open_page(context, base)
    ui_login(first)
    second = open_page(context, base)
    second.evaluate("() => t.refresh()")
    return first, second


def ui_login(page: Any) -> None:
    """Log in with the page's form (the page's own Gatepass object); ``t`` hears of it."""
    page.fill("#login [name=username]", "alice")
    page.fill("#login [name=password]", PASSWORD)
    page.click("#login button")
    shows(page, "alice")
    page.wait_for_function("() => t.user !== null")
