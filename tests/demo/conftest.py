"""Fixtures for the reference app: the real server (``python -m gatepass.demo`` under uvicorn on a
free loopback port) and Debian's chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from demo_pages import Device
from demo_server import DemoServer

from gp_browser import CHROMIUM_ARGS


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The app as ``make demo`` starts it: SQLite, replicated revocation, default lifetimes."""
    server = DemoServer(tmp_path_factory.mktemp("demo-data"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def device(browser: Any, demo: DemoServer) -> Iterator[Callable[[str], Device]]:
    """``device("Laptop")``: a fresh browser context on the app; no page may throw an error."""
    opened: list[Device] = []

    def make(name: str, server: DemoServer | None = None) -> Device:
        made = Device(browser, (server or demo).url, name)
        opened.append(made)
        return made

    yield make
    errors = [error for made in opened for error in made.errors]
    for made in opened:
        made.close()
    assert errors == []


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "demo-data"
