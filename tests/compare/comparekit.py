"""Running the real ``gatepass`` command in a subprocess, for the compare tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]


def run_gatepass(*args: str, cwd: Path | None = None, timeout: float = 300) -> Result:
    env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "GATEPASS_DEBUG"}}
    done = subprocess.run(
        [sys.executable, "-m", "gatepass.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return Result(done.returncode, done.stdout, done.stderr)
