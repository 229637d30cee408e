"""The page and the ``gatepass`` command agree, both ways (issue 5).

A token signed in the page verifies with ``gatepass verify`` run as a real subprocess, using the
key the page shows saved to a file exactly as a user would save it; a token made by ``gatepass
keygen`` + ``gatepass encode`` verifies in the page with the files the command wrote. Tampered and
expired tokens are rejected on both sides for the same reason. Nothing here goes through the
Python API, so a disagreement in key formats, ``kid`` thumbprints or claim encoding between the
JavaScript and the command's file handling shows up here and nowhere else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tools_keys import tamper_payload, unb64url

pytestmark = pytest.mark.browser

ALGS = ["HS256", "RS256", "ES256", "EdDSA"]
BAD_SIGNATURE = "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"


def run_together(*argvs: list[str | Path], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    """Run independent ``gatepass`` commands as real child processes at once (no shell).

    Starting them together halves the wall time on a two-core machine; each result is the
    command's own exit code, stdout and stderr.
    """
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("GATEPASS_DEBUG", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "gatepass.cli.main", *map(str, argv)],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    results = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            for other in procs:
                other.kill()
                other.wait()
            raise
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def gatepass(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_together(list(args), cwd=cwd)[0]


def write_private(path: Path, data: bytes) -> Path:
    """Create ``path`` as 0600 from the start, as a careful user (and ``keygen``) does."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return path


def secret_file_bytes(secret: bytes) -> bytes:
    """The file content whose ``--secret-file`` reading is exactly ``secret``.

    The command drops one trailing ``\\n`` or ``\\r\\n``, so a random secret is written with one
    extra newline, unless it ends in ``\\r`` (the added newline would make a ``\\r\\n`` pair
    and cost the secret its last byte).
    """
    return secret if secret.endswith(b"\r") else secret + b"\n"


def ed25519_ok(tools: Any) -> bool:
    return bool(tools.page.evaluate("document.body.dataset.ed25519") == "yes")


def skip_unsupported(tools: Any, alg: str) -> None:
    if alg == "EdDSA" and not ed25519_ok(tools):
        pytest.skip("this chromium's WebCrypto has no Ed25519")


def rsa_alg(alg: str) -> list[str]:
    """``--alg`` for RSA keys, which serve several algorithms; other key types decide it."""
    return ["--alg", alg] if alg.startswith("RS") else []


def test_secret_file_bytes_round_trip_every_ending() -> None:
    # The helper above is what keeps the HMAC test deterministic; check it against the rule.
    for secret in (b"abc", b"ab\n", b"ab\r", b"a\r\n", b"\n\n"):
        data = secret_file_bytes(secret)
        if data.endswith(b"\r\n"):
            data = data[:-2]
        elif data.endswith(b"\n"):
            data = data[:-1]
        assert data == secret


@pytest.mark.parametrize("alg", ALGS)
def test_token_signed_in_the_page_verifies_with_the_command(
    tools: Any, alg: str, tmp_path: Path
) -> None:
    skip_unsupported(tools, alg)
    page = tools.page
    token = tools.sign(alg, None, claims='{"sub": "page-' + alg + '", "scope": "read"}')
    kid = page.get_attribute("#gen-output", "data-kid")
    assert kid
    if alg.startswith("HS"):
        secret = unb64url(page.input_value("#encode-key"))
        assert len(secret) >= 32
        secret_path = write_private(tmp_path / "page.secret", secret_file_bytes(secret))
        main: list[str | Path] = ["--secret-file", secret_path, "--alg", alg]
        jwk = write_private(
            tmp_path / "page.jwk.json", page.inner_text("#gen-private-jwk").encode()
        )
        other: list[str | Path] = ["--key", jwk]
    else:
        pem = tmp_path / "page.pub.pem"
        pem.write_text(page.inner_text("#gen-public-pem"))
        main = ["--key", pem, *rsa_alg(alg)]
        jwk = tmp_path / "page.pub.jwk.json"
        jwk.write_text(page.inner_text("#gen-public-jwk"))
        other = ["--key", jwk]

    forged = tamper_payload(token, sub="admin")  # same signature, promoted subject
    done, as_json, refused = run_together(
        ["verify", token, *main],
        ["verify", token, *other, "--json"],
        ["verify", forged, *main],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"VALID: signature and claims verified (alg {alg}, kid {kid})")
    assert f'"sub": "page-{alg}"' in done.stdout
    assert '"scope": "read"' in done.stdout

    # The other key file the page offers (JWK) works too, and the claims come back exactly.
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["valid"] is True
    assert report["header"] == {"alg": alg, "kid": kid, "typ": "JWT"}
    assert report["claims"]["sub"] == "page-" + alg
    assert report["claims"]["scope"] == "read"
    assert report["claims"]["exp"] - report["claims"]["iat"] == 900

    # The attack: the command refuses the forged token and names the bad signature.
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"INVALID: {BAD_SIGNATURE}:"), refused.stderr
    assert "admin" not in refused.stdout


@dataclass(frozen=True)
class CliTokens:
    """What ``gatepass keygen`` + ``gatepass encode`` produced for one algorithm."""

    out: Path  # the keygen --out prefix
    token: str  # sub=cli-ALG scope=read, --expires-in 15m
    old: str  # the same claims issued --at 2020-01-01T00:00:00Z (expired since 00:15 that day)


def signing_args(alg: str, out: Path) -> list[str | Path]:
    if alg.startswith("HS"):
        return ["--secret-file", out.with_suffix(".secret"), "--alg", alg]
    return ["--key", out.with_suffix(".key.pem"), *rsa_alg(alg)]


@pytest.fixture(scope="module")
def cli_tokens(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CliTokens]:
    """Keys and tokens for every algorithm, made by the command (all keygens, then all encodes,
    each batch run concurrently)."""
    base = tmp_path_factory.mktemp("cli")
    outs = {alg: base / alg.lower() for alg in ALGS}
    keygens: list[list[str | Path]] = [["keygen", alg, "--out", outs[alg]] for alg in ALGS]
    for alg, made in zip(ALGS, run_together(*keygens, cwd=base), strict=True):
        assert made.returncode == 0, (alg, made.stderr)
    encodes: list[list[str | Path]] = []
    for alg in ALGS:
        claims: list[str | Path] = ["encode", f"sub=cli-{alg}", "scope=read"]
        encodes.append([*claims, *signing_args(alg, outs[alg]), "--expires-in", "15m"])
        encodes.append([*claims, *signing_args(alg, outs[alg]), "--at", "2020-01-01T00:00:00Z"])
    done = run_together(*encodes, cwd=base)
    for proc in done:
        assert proc.returncode == 0, proc.stderr
    return {
        alg: CliTokens(outs[alg], done[2 * i].stdout.strip(), done[2 * i + 1].stdout.strip())
        for i, alg in enumerate(ALGS)
    }


@pytest.mark.parametrize("alg", ALGS)
def test_token_from_the_command_verifies_in_the_page(
    tools: Any, alg: str, cli_tokens: dict[str, CliTokens]
) -> None:
    skip_unsupported(tools, alg)
    made = cli_tokens[alg]
    token, old = made.token, made.old
    if alg.startswith("HS"):
        # keygen's secret is printable text: the page takes it as a UTF-8 secret, unchanged.
        secret_text = made.out.with_suffix(".secret").read_text().rstrip("\n")
        page_keys = [
            (secret_text, "secret-text", alg),
            (made.out.with_suffix(".jwk.json").read_text(), "auto", ""),
        ]
    else:
        page_keys = [
            (
                made.out.with_suffix(".pub.pem").read_text(),
                "auto",
                alg if alg.startswith("RS") else "",
            ),
            (made.out.with_suffix(".pub.jwk.json").read_text(), "auto", ""),
        ]

    for key_text, key_format, chosen in page_keys:
        result = tools.verify(token, key_text, key_format=key_format, alg=chosen)
        assert result["verdict"] == "valid", (alg, key_format, result)
        assert result["checks"]["signature"][0] == "pass"
        claims = result["claims"]
        assert claims["sub"] == "cli-" + alg
        assert claims["scope"] == "read"
        assert claims["exp"] - claims["iat"] == 900

    # The expired CLI token: genuine signature, reported as expired (with the first key file).
    key_text, key_format, chosen = page_keys[0]
    result = tools.verify(old, key_text, key_format=key_format, alg=chosen)
    assert result["verdict"] == "invalid", (alg, result)
    assert result["checks"]["signature"][0] == "pass"
    assert result["checks"]["exp"][0] == "fail"
    assert "Signature valid, but: Expired" in result["summary"], result["summary"]
    assert result["claims"] is None

    # The page, like the command, refuses the CLI token once its claims are changed.
    key_text, key_format, chosen = page_keys[1]
    forged = tamper_payload(token, sub="admin")
    result = tools.verify(forged, key_text, key_format=key_format, alg=chosen)
    assert result["verdict"] == "invalid"
    assert result["checks"]["signature"][0] == "fail"
