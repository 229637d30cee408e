"""Real servers on loopback and headless Chromium, for the web layer's browser tests.

Reusable by any test that drives gatepass in a browser (the reference app's too): register the
fixtures in a ``conftest.py`` with ``from browser_kit import contexts, other_site``. The
``browser`` itself is the session-wide fixture of ``tests/conftest.py`` (Playwright's sync API
runs one instance per thread, so every folder shares one Chromium).

* :class:`AppServer` runs a command (an example, an app) as a real server in a subprocess on a
  free loopback port, waits (bounded) until it accepts connections, and kills it afterwards.
  :func:`example` serves ``examples/<name>.py --port P --store URL`` for a ``with`` block.
* :class:`OtherSite` serves fixed pages from another loopback port: another origin, the
  attacker's (``127.0.0.1`` with another port is another origin but the same site, so the
  browser sends ``SameSite=Lax`` cookies along and only gatepass's CSRF check stands between).
  It records the requests it gets.
* ``contexts`` opens fresh browser contexts (each its own cookie jar: another device) in that
  browser and closes them after the test; every context records its requests
  (:class:`Recorder`).
* :func:`wait_until` is the only way these tests wait: for a condition, with a bound.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# The private-server helpers of the store tests (tests/stores is not a package).
sys.path.insert(0, str(ROOT / "tests" / "stores"))
from gp_store_servers import free_port, wait_port  # noqa: E402

PASSWORD = "correct horse battery staple"
START_TIMEOUT = 60.0  # a cold start of uvicorn + FastAPI + argon2 on a busy two-core machine


def wait_until(
    condition: Callable[[], Any], what: str, timeout: float = 20.0, every: float = 0.05
) -> Any:
    """Poll ``condition`` until it returns something truthy (returned), at most ``timeout`` s.

    Playwright's sync API delivers browser events only while one of its calls runs: a condition
    about the browser must ask the browser (``page.evaluate``), not read a list events fill.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting ({timeout:.0f} s) for {what}")
        time.sleep(every)


class AppServer:
    """``argv`` (with ``{port}`` filled in) as a server on ``127.0.0.1:port``."""

    def __init__(self, argv: list[str], workdir: Path, name: str) -> None:
        self.port = free_port()
        self.argv = [arg.replace("{port}", str(self.port)) for arg in argv]
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AppServer:
        # TMPDIR: what the app puts in a scratch folder (an example's default store) stays here.
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "TMPDIR": str(self.workdir)}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        proc = self.proc
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"{self.argv} exited ({proc.returncode}):\n{self.log()}")
            try:
                wait_port(self.port, up=True, timeout=0.5)
                return self
            except RuntimeError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"{self.argv} did not listen:\n{self.log()}") from None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    def restart(self) -> AppServer:
        """Stop, then start again on the same port (the same store, new keys in memory)."""
        self.stop()
        wait_port(self.port, up=False)
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def access_log_count(self, request_line: str) -> int:
        """How many times uvicorn's access log shows ``request_line`` (``"POST /auth/refresh"``)."""
        return self.log().count(f'"{request_line} HTTP/1.1"')


@contextmanager
def example(name: str, tmp: Path, *options: str, store: str | None = None) -> Iterator[AppServer]:
    """``examples/<name>.py`` serving on a free port (its default store unless ``store``) for
    the ``with`` block, stopped after it."""
    argv = [sys.executable, str(EXAMPLES / f"{name}.py"), "--port", "{port}"]
    if store is not None:
        argv += ["--store", store]
    server = AppServer([*argv, *options], tmp, name).start()
    try:
        yield server
    finally:
        server.stop()


def sqlite_in(folder: Path) -> str:
    """A store URL: a SQLite file in ``folder`` (it survives a restart of the server)."""
    return f"sqlite:///{folder / 'auth.db'}"


@dataclass
class Seen:
    """One request :class:`OtherSite` received."""

    method: str
    path: str
    headers: dict[str, str]


class OtherSite:
    """Fixed pages on another loopback port (another origin), in a thread of this process.

    It answers CORS preflights with "anything goes", as a careless or hostile API would, so a
    browser really sends whatever headers a script adds to a request for it.
    """

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.seen: list[Seen] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.seen.append(Seen("GET", self.path, dict(self.headers.items())))
                page = site.pages.get(self.path.split("?", 1)[0])
                body = (page if page is not None else "not here").encode()
                self.send_response(200 if page is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self._allow()
                self.wfile.write(body)

            def do_OPTIONS(self) -> None:
                site.seen.append(Seen("OPTIONS", self.path, dict(self.headers.items())))
                self.send_response(204)
                self.send_header("Access-Control-Allow-Headers", "*, Authorization")
                self.send_header("Access-Control-Allow-Methods", "GET, POST")
                self._allow()

            def _allow(self) -> None:
                self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin", "*"))
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@dataclass
class Recorder:
    """Every request a browser context made: ``(method, url)``, in order."""

    requests: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def count(self, method: str, url: str) -> int:
        return sum(1 for m, u in self.requests if m == method and u == url)


class Contexts:
    """Opens browser contexts (separate cookie jars: separate devices) and closes them all."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.opened: list[Any] = []

    def new(self, **options: Any) -> tuple[Any, Recorder]:
        context = self.browser.new_context(**options)
        context.set_default_timeout(15_000)
        recorder = Recorder()
        context.on("request", lambda r: recorder.requests.append((r.method, r.url)))
        context.on(
            "page", lambda page: page.on("pageerror", lambda e: recorder.page_errors.append(str(e)))
        )
        self.opened.append(context)
        return context, recorder

    def close(self) -> None:
        for context in self.opened:
            context.close()


@pytest.fixture
def contexts(browser: Any) -> Iterator[Contexts]:
    opened = Contexts(browser)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def other_site() -> Iterator[OtherSite]:
    site = OtherSite()
    try:
        yield site
    finally:
        site.close()
