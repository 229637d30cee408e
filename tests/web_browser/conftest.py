"""Fixtures of the browser tests: see browser_kit.py (they are defined there, for reuse)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_kit import AppServer, contexts, example, other_site, sqlite_in  # noqa: F401  (registers the fixtures)


@pytest.fixture(scope="module")
def hybrid_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """``examples/fastapi_hybrid.py`` on a SQLite file, shared by the tests of one module."""
    tmp = tmp_path_factory.mktemp("hybrid")
    with example("fastapi_hybrid", tmp, store=sqlite_in(tmp)) as server:
        yield server
