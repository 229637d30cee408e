"""Watching a credential from elsewhere until a revocation reaches it.

A probe sends requests with one credential back to back, from another process (every store a
second process can open) or another thread (``memory://``, which lives in one process). Once the
credential is accepted the probe says "ready"; the comparison then revokes it in its own process
and the probe reports when the first request was refused. The clock is ``time.monotonic``,
which is one system-wide clock on Linux, macOS and Windows, so instants taken in two processes
can be subtracted.

Results are plain JSON objects, the same from a thread as from a process:
``{"rejected_at", "last_accepted_start", "accepted", "reason"}``, or ``{"failure": why}``.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import gatepass
from gatepass.compare import checks
from gatepass.errors import GatepassError

#: How long a credential may take to be accepted at first (a replicated listener loading its
#: snapshot), and how long it may stay accepted after "ready" before the probe gives up.
READY_TIMEOUT = 15.0
REVOKE_TIMEOUT = 15.0

Result = dict[str, Any]


def _ask(request: Callable[[], checks.Verdict]) -> checks.Verdict:
    try:
        return request()
    except GatepassError as exc:  # StoreUnavailable: fail closed, i.e. refused
        return f"{exc.code}: {exc}"


def watch(request: Callable[[], checks.Verdict], ready: Callable[[], None]) -> Result:
    """Wait until ``request`` is accepted, call ``ready``, then repeat it until it is refused."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        last_start = time.monotonic()
        verdict = _ask(request)
        if verdict is None:
            break
        if time.monotonic() > deadline:
            return {"failure": f"the credential was never accepted ({verdict})"}
        time.sleep(0.002)
    ready()
    accepted = 0
    deadline = time.monotonic() + REVOKE_TIMEOUT
    while True:
        start = time.monotonic()
        verdict = _ask(request)
        end = time.monotonic()
        if verdict is not None:
            return {
                "rejected_at": end,
                "last_accepted_start": last_start,
                "accepted": accepted,
                "reason": verdict,
            }
        accepted, last_start = accepted + 1, start
        if end > deadline:
            return {"failure": f"still accepted {REVOKE_TIMEOUT:.0f} s after the revocation"}
        # Between two requests a server lets its other threads run (a revocation listener).
        time.sleep(0)


class ThreadProbe:
    """Probe from a thread of this process, on the very store object (``memory://``)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._ready = threading.Event()
        self._result: Result = {}
        self._thread: threading.Thread | None = None

    def arm(self, spec: dict[str, Any]) -> str | None:
        """Start watching; returns once the credential is accepted (None) or with why not."""
        check = checks.build(self.store, spec)
        self._ready.clear()
        self._result = {}

        def run() -> None:
            try:
                self._result = watch(check.request, self._ready.set)
            finally:
                check.close()
                self._ready.set()

        self._thread = threading.Thread(target=run, name="gatepass-compare-probe", daemon=True)
        self._thread.start()
        self._ready.wait(READY_TIMEOUT + 5)
        return self._result.get("failure")

    def outcome(self) -> Result:
        assert self._thread is not None
        self._thread.join(REVOKE_TIMEOUT + 5)
        if self._thread.is_alive():
            return {"failure": "the probe thread did not finish"}
        return self._result


class ProbeProcess:
    """Probes from a second Python process (``python -m gatepass.compare.worker``), which opens
    the same store by its URL: the situation of two app servers behind a load balancer."""

    def __init__(self) -> None:
        env = dict(os.environ)
        # The worker imports the very gatepass this process runs, installed or not.
        root = str(Path(gatepass.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self._process = subprocess.Popen(  # our own interpreter and module
            [sys.executable, "-m", "gatepass.compare.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        #: False once an answer was lost (a timeout) or the process ended: its later lines
        #: could belong to an earlier request, so it must not serve another one.
        self.healthy = True
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        assert self._process.stdout is not None and self._process.stderr is not None
        self._pump(self._process.stdout, self._lines.put)
        self._pump(self._process.stderr, self._stderr.append)

    @staticmethod
    def _pump(stream: IO[str], sink: Callable[[Any], None]) -> None:
        def run() -> None:
            for line in stream:
                sink(line)
            sink(None)

        threading.Thread(target=run, name="gatepass-compare-pump", daemon=True).start()

    def _receive(self, timeout: float) -> Result:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.healthy = False
            return {"failure": f"the probe process did not answer within {timeout:.0f} s"}
        if line is None:
            self.healthy = False
            self._lines.put(None)  # every later receive sees the end too
            tail = "".join(s for s in self._stderr if s).strip().splitlines()[-1:]
            return {"failure": f"the probe process exited ({' '.join(tail) or 'no message'})"}
        message: Result = json.loads(line)
        return message

    def at(self, url: str) -> RemoteProbe:
        """A probe on the store at ``url``, served by this process."""
        return RemoteProbe(self, url)

    def arm(self, url: str, spec: dict[str, Any]) -> str | None:
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps({"url": url, "spec": spec}) + "\n")
            self._process.stdin.flush()
        except OSError as exc:
            self.healthy = False
            return f"the probe process is gone ({exc})"
        message = self._receive(READY_TIMEOUT + 30)
        if message.get("event") == "ready":
            return None
        return str(message.get("failure", message))

    def outcome(self) -> Result:
        return self._receive(REVOKE_TIMEOUT + 30)

    def close(self) -> None:
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


class RemoteProbe:
    """The probe interface (``arm``, ``outcome``) for one store of a :class:`ProbeProcess`."""

    def __init__(self, process: ProbeProcess, url: str) -> None:
        self.process = process
        self.url = url

    def arm(self, spec: dict[str, Any]) -> str | None:
        return self.process.arm(self.url, spec)

    def outcome(self) -> Result:
        return self.process.outcome()
