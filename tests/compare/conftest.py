"""Fixtures for ``gatepass compare``: one reduced comparison against the real Redis and
PostgreSQL, shared by the tests that read its text, JSON and HTML renderings."""

from __future__ import annotations

import pytest
from comparekit import Run, run_gatepass

from gatepass.compare.run import Report, compare
from gatepass.compare.settings import Settings


@pytest.fixture(scope="session")
def report(redis_url: str, postgres_url: str) -> Report:
    """The reduced comparison, every store measured, rendered later in every format."""
    return compare(Settings.quick(), redis=redis_url, postgres=postgres_url)


@pytest.fixture
def gatepass() -> Run:
    return run_gatepass
