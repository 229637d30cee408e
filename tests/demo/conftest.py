"""Fixtures for the reference app: the real server (``python -m gatepass.demo`` under uvicorn on a
free loopback port) and browser contexts on it (the ``browser`` is tests/conftest.py's)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from demo_pages import Device
from demo_server import DemoServer


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The app as ``make demo`` starts it: SQLite, replicated revocation, default lifetimes."""
    server = DemoServer(tmp_path_factory.mktemp("demo-data"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def device(browser: Any, demo: DemoServer) -> Iterator[Callable[..., Device]]:
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
