"""Fixtures for the tools page: the real loopback server and Debian's chromium via Playwright.

Every browser test gets a fresh context whose requests are recorded twice, from Playwright's
``context.on("request")`` and from a CDP ``Network.requestWillBeSent`` listener (the browser's own
network events). After the test the fixture asserts that nothing but the page's own files was
requested: a test cannot pass while the page talks to anything else.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from tools_browser import ToolsPage, foreign_requests, open_page

from gatepass.tools.server import make_server


@pytest.fixture(scope="session")
def tools_url() -> Iterator[str]:
    server, url = make_server(0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def shared_tab(browser: Any, tools_url: str) -> Iterator[ToolsPage]:
    context, page, recorder = open_page(browser, tools_url)
    try:
        yield ToolsPage(page, recorder, tools_url)
    finally:
        context.close()


@pytest.fixture
def tools(shared_tab: ToolsPage) -> Iterator[ToolsPage]:
    """The page, freshly reloaded; fails the test if it requested anything but its own files."""
    recorder = shared_tab.recorder
    recorder.clear()
    shared_tab.page.reload()
    shared_tab.page.wait_for_selector("body[data-ready=true]")
    yield shared_tab
    assert recorder.playwright, "the request listener saw nothing at all"
    assert recorder.cdp, "the CDP listener saw nothing at all"
    assert foreign_requests(recorder.all(), shared_tab.base) == []
    assert recorder.page_errors == []


@pytest.fixture
def canary() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback listener that records every connection: any request the page makes lands here."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    hits: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    hits.append(conn.recv(4096))
                except OSError:
                    hits.append(b"")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", hits
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()
