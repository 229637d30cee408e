"""The reference app's two hybrid areas in one browser: the single-page app (``/spa``, bearer
tokens) and the DPoP area (``/dpop``, tokens bound to the browser's key) are separate logins.

Each has a refresh cookie of its own (a cookie jar holds one cookie per name and path), and
gatepass.js coordinates tabs per prefix, so logging in, refreshing or reloading in one area
leaves the other's login, user and key binding as they were, and neither rotation looks like a
reuse of the other's token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from demo_pages import Device

pytestmark = pytest.mark.browser


def whoami(page: Any, area: str) -> str:
    """Press the area's "call /api/whoami" button and return the line it writes."""
    page.eval_on_selector(f"#{area}-whoami", "node => { node.textContent = ''; }")
    page.click(f"#{area}-call")
    page.wait_for_function(f"() => document.querySelector('#{area}-whoami').textContent !== ''")
    line: str = page.inner_text(f"#{area}-whoami")
    return line


def reload(page: Any, area: str, user: str) -> None:
    """Reload: the access token was in memory only, so the page resumes its login by rotating
    the refresh cookie; it must come back logged in as ``user``."""
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.get_attribute("body", "data-state") == "logged-in"
    assert page.inner_text(f"#{area}-user") == user


@pytest.mark.parametrize("first", ["spa", "dpop"])
def test_spa_and_dpop_areas_keep_separate_logins(device: Callable[..., Device], first: str) -> None:
    laptop = device("Laptop")
    if first == "spa":
        spa = laptop.spa_login("alice")
        dpop = laptop.dpop_login("bob", laptop.tab())
    else:
        dpop = laptop.dpop_login("bob")
        spa = laptop.spa_login("alice", laptop.tab())
    key = dpop.inner_text("#dpop-key")
    assert dpop.inner_text("#dpop-bound") == f"key {key}"

    # The second login took over neither the first one nor its refresh cookie: each area calls
    # the API as its own user, and resumes its own login from its own cookie after a reload.
    # A reused refresh token would have revoked its family and logged that area out.
    for _ in range(2):
        for page, area, user in ((spa, "spa", "alice"), (dpop, "dpop", "bob")):
            assert whoami(page, area).startswith(f"200 {user} via hybrid")
            reload(page, area, user)
    # The single-page app's rotations left the DPoP family bound to the browser's key.
    assert dpop.inner_text("#dpop-bound") == f"key {key}"


def test_logging_out_in_one_area_ends_both(device: Callable[..., Device]) -> None:
    """Separate logins, one site: logout answers ``Clear-Site-Data``, so the browser drops every
    cookie of the origin, the other area's refresh cookie included (docs/gatepass-js.md)."""
    laptop = device("Laptop")
    spa = laptop.spa_login("alice")
    dpop = laptop.dpop_login("bob", laptop.tab())
    spa.click("#spa-logout")
    spa.wait_for_selector("body[data-state=logged-out]")
    dpop.reload()
    dpop.wait_for_selector("body[data-ready=true]")
    assert dpop.get_attribute("body", "data-state") == "logged-out"
