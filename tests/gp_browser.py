"""Chromium launch flags for every browser test (importable: tests/ is on sys.path).

Debian's chromium, driven by Playwright through ``executable_path`` (no browser download), in a
container: no sandbox or GPU, and nothing that phones home on its own (component updates,
background networking, sync), so the requests a test records are the page's own.
"""

from __future__ import annotations

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
