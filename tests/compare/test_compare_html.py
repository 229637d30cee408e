"""``gatepass compare --html``: a self-contained page that Chromium shows with every row, its
charts and its styles, while requesting nothing but the file itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rowcheck import ROW_IDS

from gatepass.compare import report_html, wording
from gatepass.compare.rows import DESIGNS
from gatepass.compare.run import Report

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def page(
    report: Report, chromium_path: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """The page loaded from disk; yields (page, URLs requested, console messages)."""
    from playwright.sync_api import sync_playwright

    path = tmp_path_factory.mktemp("html") / "compare.html"
    path.write_text(report_html.render(report), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context()
            requested: list[str] = []
            console: list[str] = []
            context.on("request", lambda request: requested.append(request.url))
            tab = context.new_page()
            cdp = context.new_cdp_session(tab)
            cdp.on("Network.requestWillBeSent", lambda e: requested.append(e["request"]["url"]))
            cdp.send("Network.enable")
            tab.on("console", lambda message: console.append(message.text))
            tab.goto(path.as_uri(), wait_until="load")
            tab.wait_for_timeout(300)  # anything late (a lazy image, a prefetch) would show now
            yield tab, requested, console, path.as_uri()
        finally:
            browser.close()


def test_nothing_but_the_file_is_requested(page: Any) -> None:
    _tab, requested, console, url = page
    assert requested, "the request listeners saw nothing at all"
    assert set(requested) == {url}
    # A Content-Security-Policy violation (a blocked style or fetch) would be logged here.
    assert console == []


def test_the_policy_forbids_every_request(page: Any) -> None:
    tab, *_ = page
    policy = tab.get_attribute('meta[http-equiv="Content-Security-Policy"]', "content")
    assert policy == report_html.content_security_policy()
    assert policy.startswith("default-src 'none'; style-src 'sha256-")
    assert tab.locator("script").count() == 0
    assert tab.locator("[src], link[href]").count() == 0
    # The style sheet is the one the hash allows: its rules are in force.
    collapse = tab.eval_on_selector("table", "t => getComputedStyle(t).borderCollapse")
    assert collapse == "collapse"


def test_every_row_and_column(page: Any, report: Report) -> None:
    tab, *_ = page
    heads = tab.locator("#measured thead th").all_inner_texts()
    assert heads == [
        "design", "state lives", "bytes / request", "verify µs (median)", "× SQLite session",
        "revocation delay",
    ]  # fmt: skip
    ids = tab.eval_on_selector_all("#measured tbody tr", "rows => rows.map(r => r.id)")
    assert ids == ROW_IDS
    for row in report.rows:
        cells = tab.locator(f"#{row.id} td").all_inner_texts()
        assert cells == [
            row.label,
            row.facts.state,
            wording.size(row),
            wording.cost(row),
            wording.times_baseline(row),
            wording.revocation(row),
        ]
    implied = tab.locator("#implied thead th").all_inner_texts()
    assert implied == [
        "design", "stolen credential", "XSS", "CSRF", "infrastructure", "cross-domain",
    ]  # fmt: skip
    for design in DESIGNS:
        text = " ".join(tab.locator(f"#design-{design}").inner_text().split())
        for row in report.rows:
            if row.design == design:
                assert row.facts.stolen in text and row.facts.csrf in text
                assert row.facts.infrastructure in text and row.facts.cross_domain in text


def test_three_charts_one_bar_per_row(page: Any, report: Report) -> None:
    tab, *_ = page
    charts = tab.locator("svg")
    assert charts.count() == 3
    for i in range(3):
        assert charts.nth(i).locator("rect").count() == len(report.rows)
        labels = charts.nth(i).locator("text").all_text_contents()
        for row in report.rows:
            assert row.label in labels
    delays = charts.nth(2).locator("text").all_text_contents()
    assert delays.count("never: valid until exp (15 min)") == 4  # the four stateless rows


def test_the_machine_heads_the_page(page: Any, report: Report) -> None:
    tab, *_ = page
    head = tab.locator("dl").inner_text()
    assert report.machine.cpu in head and report.machine.software() in head
    assert wording.method(report.settings) in head
