"""Every configuration ``gatepass advise`` prints runs, as printed, against a real Redis.

What the test supplies is what a login handler supplies (``user_id``, ``ua``, ``ip``,
``remember_me``, the ``REFRESH_SECRET`` environment variable) plus the key file the printed
``gatepass keygen`` command makes. The printed Redis URL is pointed at the test database (db 15,
a private key prefix), or at a fresh SQLite file (the alternative the snippet names, and the one
where a missing ``store.setup()`` shows), and the printed JWKS URL at a loopback server
publishing the key: the only substitutions, all of addresses.
"""

from __future__ import annotations

import itertools
import json
import secrets
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatepass import Key, KeySet
from gatepass.cli.advice import ARCHITECTURES, NEEDS, recommend
from gatepass.cli.main import main
from gp_testkit import DocumentServer, document_server, drop_redis_prefix

PRINTED_STORE = "redis://127.0.0.1:6379/0"
PRINTED_JWKS = "https://auth.example.com/.well-known/jwks.json"

COMBINATIONS = [
    (arch, dict(zip(NEEDS, flags, strict=True)))
    for arch in ARCHITECTURES
    for flags in itertools.product((False, True), repeat=len(NEEDS))
]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The directory the reader works in, with the secret their deployment provides."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REFRESH_SECRET", secrets.token_hex(32))
    return tmp_path


@pytest.fixture
def jwks_server() -> Iterator[DocumentServer]:
    with document_server() as server:
        yield server


@pytest.mark.parametrize("backend", ["redis", "sqlite"])
@pytest.mark.parametrize(
    ("arch", "needs"),
    COMBINATIONS,
    ids=[
        f"{a}-{'-'.join(n for n, on in needs.items() if on) or 'plain'}"
        for a, needs in COMBINATIONS
    ],
)
def test_printed_configuration_runs(
    arch: str, needs: dict[str, bool], backend: str, workdir: Path, request: pytest.FixtureRequest
) -> None:
    advice = recommend(arch, needs)
    jwks_server = request.getfixturevalue("jwks_server")
    for command in advice.commands:  # the key commands it prints, run as printed
        words = shlex.split(command.split(">")[0])
        assert words[0] == "gatepass"
        assert main(words[1:]) == 0, command
    if "signing.key.pem" in advice.config:
        assert (workdir / "signing.key.pem").exists(), "the config reads a file no command made"
        key = Key.from_pem((workdir / "signing.key.pem").read_bytes())
        jwks_server.body = json.dumps(KeySet([key.public()]).to_jwks()).encode()
    if backend == "redis":
        store_url = (
            f"{request.getfixturevalue('redis_url')}?prefix=gpadvise:{secrets.token_hex(4)}:"
        )
    else:
        store_url = f"sqlite:///{workdir}/auth.db"
    config = advice.config
    assert PRINTED_STORE in config
    config = config.replace(PRINTED_STORE, store_url)
    config = config.replace(PRINTED_JWKS, jwks_server.url)
    handler: dict[str, Any] = {"user_id": "user-42", "ua": "Firefox", "ip": "203.0.113.7"}
    handler["remember_me"] = True
    try:
        exec(compile(config, f"gatepass advise --arch {arch}", "exec"), handler)
        if advice.design == "sessions":
            assert handler["sessions"].get(handler["token"]) is None  # logged out at the end
        else:
            assert handler["claims"]["sub"] == "user-42"
    finally:
        for name in ("verifier", "access"):
            if name in handler:
                handler[name].close()
        if "store" in handler:
            handler["store"].close()
        if backend == "redis":
            drop_redis_prefix(store_url)
