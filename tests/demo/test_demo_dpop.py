"""The reference app's DPoP area in headless Chromium, against the real server: the page's token
is bound to the browser's key, "try the copied token from elsewhere" has the server replay it
without the key (every try refused with a DPoP challenge), and the page keeps working after it,
through a refresh and a reload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from demo_pages import Device, screenshot

pytestmark = pytest.mark.browser


def attempts(page: Any) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = page.eval_on_selector_all(
        "#dpop-attempts tbody tr",
        """rows => rows.map(tr => ({
            status: tr.dataset.status,
            answer: tr.cells[1].innerText,
            challenge: tr.cells[2].innerText,
        }))""",
    )
    return rows


def test_a_copied_token_is_refused_from_elsewhere(device: Callable[..., Device]) -> None:
    laptop = device("Laptop")
    page = laptop.dpop_login("alice")
    key = page.inner_text("#dpop-key")
    assert page.inner_text("#dpop-bound") == f"key {key}"
    assert page.inner_text("#dpop-whoami").startswith("200 alice")

    page.click("#dpop-replay")
    page.wait_for_selector("body[data-replayed='3']")
    tried = attempts(page)
    assert [row["answer"] for row in tried] == [
        "401 ERR_DPOP_BINDING_MISMATCH",  # as a bearer token: bound tokens are not bearer tokens
        "401 ERR_DPOP_PROOF_INVALID",  # as a DPoP token without a proof
        "401 ERR_DPOP_BINDING_MISMATCH",  # with a proof of the thief's own key
    ]
    errors = ['DPoP error="invalid_token"', 'DPoP error="invalid_dpop_proof"']
    assert [row["challenge"].split(",")[0] for row in tried] == [*errors, errors[0]]
    # The challenges are long unbroken strings: the table still fits inside its card.
    inside = (
        "t => t.getBoundingClientRect().right <= t.closest('.card').getBoundingClientRect().right"
    )
    assert page.eval_on_selector("#dpop-attempts", inside)
    screenshot(page, "demo-dpop")

    # The page itself: still logged in, its calls and refreshes work, and a reload finds the key.
    page.eval_on_selector("#dpop-whoami", "node => { node.textContent = ''; }")
    page.click("#dpop-call")
    page.wait_for_function("() => document.querySelector('#dpop-whoami').textContent !== ''")
    assert page.inner_text("#dpop-whoami").startswith("200 alice")
    page.click("#dpop-refresh")
    page.reload()
    page.wait_for_selector("body[data-state=logged-in]")
    assert page.inner_text("#dpop-key") == key  # IndexedDB kept the key; the cookie is bound to it
    assert page.inner_text("#dpop-bound") == f"key {key}"
