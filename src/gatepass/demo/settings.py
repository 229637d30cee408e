"""What one run of the reference app is configured with, read once from the command line and
the environment (``make demo`` passes ``GATEPASS_STORE``, ``PORT`` and the data folder).

Every value is checked here, so a typo is a clear message before anything starts, never a
half-started server.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gatepass.errors import ConfigurationError

__all__ = ["REVOCATION_MODES", "Settings", "parse_settings"]

REVOCATION_MODES = ("replicated", "denylist", "stateless")

#: Loopback only: the demo's cookies are ``Secure``, which browsers honour over plain http on
#: loopback alone, and a demo with known passwords must not be reachable from the network.
HOST = "127.0.0.1"

#: Where the SQLite file goes when neither ``--data`` nor ``GATEPASS_DEMO_DATA`` says.
DEFAULT_DATA = Path(tempfile.gettempdir()) / "gatepass-demo"


@dataclass(frozen=True, slots=True)
class Settings:
    """``store``: a store URL (SQLite under ``data`` unless given). ``revocation``: the mode of
    the app's access tokens (the hybrid's and the API's). ``access_ttl``: their lifetime.
    ``stateless_ttl``: the lifetime of the partner service's stateless tokens, short by default so
    a person can watch one run out. ``port``: 0 picks a free one."""

    port: int = 8000
    data: Path = DEFAULT_DATA
    store: str | None = None
    revocation: str = "replicated"
    access_ttl: int = 900
    stateless_ttl: int = 120

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigurationError(f"port must be between 0 and 65535, not {self.port}")
        if self.revocation not in REVOCATION_MODES:
            raise ConfigurationError(f"revocation must be one of {', '.join(REVOCATION_MODES)}")
        for name in ("access_ttl", "stateless_ttl"):
            if not 5 <= getattr(self, name) <= 86400:
                raise ConfigurationError(f"{name} must be between 5 and 86400 seconds")

    @property
    def store_url(self) -> str:
        return self.store or f"sqlite:///{self.data / 'gatepass-demo.db'}"

    @property
    def host(self) -> str:
        return HOST

    def prepare(self) -> None:
        """Create the data folder when the default SQLite file lives there (idempotent)."""
        if self.store is None:
            self.data.mkdir(parents=True, exist_ok=True)


def _port(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None


def parse_settings(argv: list[str] | None = None) -> Settings:
    """Settings from ``argv`` and the environment; ``ConfigurationError`` or ``SystemExit(2)``
    (argparse's usage error) for bad values."""
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="python -m gatepass.demo",
        description="The gatepass reference app: three ways to be logged in, side by side.",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=_port(env.get("PORT", "8000")),
        help="port on 127.0.0.1 (env PORT; default 8000; 0 picks a free one)",
    )
    parser.add_argument(
        "--store",
        default=env.get("GATEPASS_STORE") or None,
        help="store URL: redis://..., postgresql://..., sqlite:///... (env GATEPASS_STORE; "
        "default SQLite in the data folder)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(env.get("GATEPASS_DEMO_DATA") or DEFAULT_DATA),
        help="folder for the SQLite file (env GATEPASS_DEMO_DATA; `make demo` uses ./demo-data)",
    )
    parser.add_argument(
        "--revocation",
        choices=REVOCATION_MODES,
        default="replicated",
        help="revocation mode of the app's access tokens (default replicated)",
    )
    parser.add_argument("--access-ttl", type=int, default=900, help="access token lifetime (s)")
    parser.add_argument(
        "--stateless-ttl",
        type=int,
        default=120,
        help="lifetime of the partner service's stateless tokens (s; default 120)",
    )
    args = parser.parse_args(argv)
    return Settings(
        port=args.port,
        data=args.data.resolve(),
        store=args.store,
        revocation=args.revocation,
        access_ttl=args.access_ttl,
        stateless_ttl=args.stateless_ttl,
    )
