"""The reference app as a real server for the tests: ``python -m gatepass.demo`` in a child process.

The same command ``make demo`` runs, on a free loopback port (``--port 0``), its SQLite file in
a test folder (or another store through ``GATEPASS_STORE``). The banner it prints is how a test
learns the URL, and the whole output (uvicorn's access log included) is kept, so a test can
check that something, a token for instance, never reached it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

_BANNER = re.compile(r"gatepass reference app: (http://127\.0\.0\.1:\d+)/")


class DemoServer:
    """A running app; :meth:`stop` ends it (also on a failed start)."""

    def __init__(self, data: Path, *args: str, store: str | None = None) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("GATEPASS_STORE", None)
        env.pop("PORT", None)
        if store is not None:
            env["GATEPASS_STORE"] = store
        command = [sys.executable, "-m", "gatepass.demo", "--port", "0", "--data", str(data)]
        self.process = subprocess.Popen(
            [*command, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._found = threading.Event()
        self.url = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._found.wait(60) or not self.url:
            self.stop()
            raise AssertionError("the demo did not start:\n" + self.output())
        self._wait_until_serving()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            match = _BANNER.search(line)
            if match and not self.url:
                self.url = match.group(1)
                self._found.set()
        self._found.set()  # the process ended: stop waiting for a banner

    def _wait_until_serving(self) -> None:
        """The socket listens before the banner; wait until the app's lifespan has started."""
        deadline = time.monotonic() + 60
        while not any("Application startup complete" in line for line in self.lines):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("the demo did not finish starting:\n" + self.output())
            time.sleep(0.05)

    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._reader.join(5)
