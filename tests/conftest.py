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
import sys
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
# The private-server helpers (gp_store_servers) live beside the store tests, which other test
# folders use too (tests/stores is not a package).
sys.path.insert(0, str(ROOT / "tests" / "stores"))


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


@pytest.fixture(scope="session")
def node_path() -> str:
    """Node.js, for tests that check gatepass against a JavaScript implementation."""
    path = shutil.which("node")
    if not path or not shutil.which("npm"):
        missing_service("Node.js and npm", "install Debian's nodejs and npm")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def npm_install(node_path: str) -> Callable[[Path], Path]:
    """Install a test folder's package.json (exact versions) into its git-ignored node_modules.

    Skipped when the installed versions already are the pinned ones; a failed install (no
    registry) skips loudly on a laptop and fails under CI=true, like a missing service.
    """

    def install(folder: Path) -> Path:
        pinned: dict[str, str] = json.loads((folder / "package.json").read_text())["dependencies"]
        modules = folder / "node_modules"

        def installed(name: str) -> str | None:
            manifest = modules / name / "package.json"
            return json.loads(manifest.read_text())["version"] if manifest.is_file() else None

        if all(installed(name) == version for name, version in pinned.items()):
            return modules
        command = [
            "npm",
            "install",
            "--no-package-lock",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
        ]
        try:
            done = subprocess.run(
                command, cwd=folder, capture_output=True, timeout=300, check=False
            )
        except subprocess.TimeoutExpired:
            missing_service(f"npm packages for {folder.name}", "npm install took over 300 s")
        if done.returncode != 0 or any(installed(n) != v for n, v in pinned.items()):
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            missing_service(f"npm packages for {folder.name}", " / ".join(tail) or "npm failed")
        return modules

    return install


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    """Debian's chromium, headless, driven by Playwright; one per test module.

    Not one per session: while Playwright's sync API runs it keeps an asyncio event loop
    running in the main thread, and every asyncio test collected after it would then fail
    ("cannot be called from a running event loop"). Closed at the end of its module, it leaves
    the thread as it found it.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def redis_server_path() -> str:
    """Debian's ``redis-server`` binary, for tests that run (and stop) a private server."""
    path = shutil.which("redis-server")
    if not path:
        missing_service("redis-server", "install Debian's redis-server")
    assert path is not None
    return path


@pytest.fixture
def private_redis(tmp_path: Path, redis_server_path: str) -> Iterator[Any]:
    """A Redis of this test's own (``gp_store_servers.RedisServer``: append-only file, fsync
    always) that the test may stop and start: a real outage that hurts nobody else, and starting
    it again brings back everything it held."""
    from gp_store_servers import RedisServer  # beside the store tests (sys.path above)

    server = RedisServer(tmp_path / "redis", persistent=True).start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def postgres_server(tmp_path: Path) -> Iterator[Any]:
    """A private PostgreSQL server (initdb'd for this test) that the test may crash and
    restart; always stopped and removed afterwards."""
    from gp_store_servers import PostgresServer, postgres_bindir, postgres_os_user

    bindir = postgres_bindir()
    if bindir is None:
        missing_service(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres)",
            "neither `pg_config --bindir` nor /usr/lib/postgresql/*/bin has them "
            "(apt-get install postgresql)",
        )
    assert bindir is not None
    if os.geteuid() == 0 and (postgres_os_user() is None or shutil.which("runuser") is None):
        missing_service(
            "a 'postgres' OS user and runuser",
            "running as root, and initdb/postgres refuse to run as root",
        )
    server = None
    try:
        server = PostgresServer(tmp_path / "postgres", bindir)
        yield server.init().start()
    finally:
        if server is not None:
            server.destroy()
