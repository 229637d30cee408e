"""Shared test fixtures: conformance vectors and real services.

Store tests talk to real Redis and PostgreSQL; browser tests drive Debian's chromium. On a
developer's laptop a missing service makes those tests skip with a loud reason. Under ``CI=true``
a missing service is a failure, never a silent skip.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gp_browser import CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

REDIS_URL = os.environ.get("GATEPASS_TEST_REDIS", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get("GATEPASS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
CHROMIUM = os.environ.get("GATEPASS_CHROMIUM", "/usr/bin/chromium")


def missing_service(what: str, how: str) -> None:
    """Skip loudly on a laptop; fail under CI=true, where every service must be present."""
    message = f"{what} is not available: {how}"
    if IN_CI:
        pytest.fail(f"CI=true and {message}", pytrace=False)
    warnings.warn(f"SKIPPING: {message}", stacklevel=2)
    pytest.skip(f"SKIPPED LOUDLY: {message}")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    path = Path(os.environ.get("GATEPASS_VECTORS", ROOT.parent / "shared" / "vectors"))
    if not path.is_dir():
        missing_service("the conformance vectors", f"{path} does not exist (set GATEPASS_VECTORS)")
    return path


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not _port_open("127.0.0.1", 6379):
        missing_service("Redis", "nothing listens on 127.0.0.1:6379 (run scripts/services.sh)")
    return REDIS_URL


@pytest.fixture(scope="session")
def postgres_url() -> str:
    if not _port_open("127.0.0.1", 5432):
        missing_service("PostgreSQL", "nothing listens on 127.0.0.1:5432 (run scripts/services.sh)")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        missing_service("Debian's chromium", "install it with `apt-get install chromium`")
    assert path is not None
    return path


from collections.abc import Callable, Iterator
