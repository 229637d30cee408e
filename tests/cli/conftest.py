"""Fixtures for the command-line tests: every test runs the real command in a subprocess."""

from __future__ import annotations

import base64
import hmac
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Run = Callable[..., Result]


def _run(
    *args: str,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Result:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GP_TEST_")}
    full_env.pop("NO_COLOR", None)
    full_env.pop("GATEPASS_DEBUG", None)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "gatepass.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=full_env,
        cwd=cwd,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def gatepass() -> Run:
    """Run ``gatepass ARGS...`` as a real process; never a traceback on stderr."""
    return _run


@dataclass
class KeyFiles:
    root: Path

    def path(self, name: str) -> str:
        return str(self.root / name)


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyFiles:
    """Key files made by `gatepass keygen` once per session: es, rsa, ed, hs (+ .secret)."""
    root = tmp_path_factory.mktemp("cli-keys")
    for alg, prefix in (("ES256", "es"), ("RS256", "rsa"), ("EdDSA", "ed"), ("HS256", "hs")):
        result = _run("keygen", alg, "--out", str(root / prefix))
        assert result.code == 0, result.err
    return KeyFiles(root)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


MakeToken = Callable[..., str]


@pytest.fixture(scope="session")
def make_token() -> MakeToken:
    """Hand-built tokens, for what gatepass itself refuses to sign (alg none, weak secrets, ...)."""

    def make(
        header: Mapping[str, Any],
        claims: Mapping[str, Any],
        *,
        secret: bytes | None = None,
        signature: bytes = b"",
    ) -> str:
        signing_input = (
            f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        )
        if secret is not None:
            digest = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}[header["alg"]]
            signature = hmac.digest(secret, signing_input.encode(), digest)
        return f"{signing_input}.{b64url(signature)}"

    return make
