"""The machine a comparison ran on, printed above the table so the numbers can be judged.

Absolute microseconds depend on the CPU, the Python build, the OpenSSL that ``cryptography``
links and the store servers; the ratios carry over between machines far better. The load
average at the start is recorded too: timings taken while other work runs are slower and
noisier, and a reader should know.
"""

from __future__ import annotations

import os
import platform
import sqlite3
from dataclasses import dataclass, field


@dataclass
class Machine:
    cpu: str
    logical_cpus: int
    system: str
    python: str
    cryptography: str
    openssl: str
    sqlite: str
    load_average: tuple[float, float, float] | None
    #: Store servers measured, e.g. ``{"Redis": "7.0.15 (redis-py 5.2.1)"}``.
    servers: dict[str, str] = field(default_factory=dict)

    def software(self) -> str:
        parts = [
            self.python,
            f"cryptography {self.cryptography} ({self.openssl})",
            f"SQLite {self.sqlite}",
        ]
        parts += [f"{name} {version}" for name, version in self.servers.items()]
        return ", ".join(parts)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _openssl() -> str:
    try:
        from cryptography.hazmat.backends import default_backend  # noqa: PLC0415

        text = default_backend().openssl_version_text()
    except (ImportError, AttributeError):
        return "OpenSSL version unknown"
    return " ".join(str(text).split()[:2])


def _load() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return None


def describe() -> Machine:
    import cryptography  # noqa: PLC0415

    return Machine(
        cpu=_cpu_model(),
        logical_cpus=os.cpu_count() or 1,
        system=f"{platform.system()} {platform.release()} {platform.machine()}",
        python=f"{platform.python_implementation()} {platform.python_version()}",
        cryptography=cryptography.__version__,
        openssl=_openssl(),
        sqlite=sqlite3.sqlite_version,
        load_average=_load(),
    )
