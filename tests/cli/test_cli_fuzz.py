"""Hostile argv and stdin: the command answers with one line and exit code 1 or 2, never an
"internal error" (which is a traceback in a sentence: "please report it").

The regressions run the real command in a subprocess, like every CLI test; the property test
calls ``main()`` in this process instead, because it runs hundreds of argument lists (the same
code, the same files and standard streams, no fakes).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatepass.cli.main import main

SECRET = "k9F2-this-is-a-long-random-test-secret-0123456789"
NOT_A_MOMENT = ["nan", "inf", "-inf", "1e999", "-1e999", "NaN"]


def _secret_file(tmp_path: Path) -> str:
    path = tmp_path / "secret"
    path.write_text(SECRET)
    return str(path)


@pytest.mark.parametrize("moment", NOT_A_MOMENT)
@pytest.mark.parametrize("command", ["decode", "verify", "encode", "audit"])
def test_at_that_is_not_a_moment_is_a_usage_error(gatepass, tmp_path, command, moment):
    """``--at nan`` parsed as a float and was an internal error (``int(nan)``) further down."""
    secret = _secret_file(tmp_path)
    token = gatepass("encode", "sub=42", "--secret-file", secret).out.strip()
    args = {
        "decode": ["decode", token],
        "verify": ["verify", token, "--secret-file", secret],
        "encode": ["encode", "sub=42", "--secret-file", secret],
        "audit": ["audit", token, "--no-crack"],
    }[command]
    result = gatepass(*args, f"--at={moment}", "--json")
    assert result.code == 2, result.out
    error = result.json()["error"]
    assert error["code"] == "ERR_USAGE"
    assert "--at" in error["message"]


@pytest.mark.parametrize("size", ["99999999999999999999999", "16385", "1024"])
def test_keygen_size_outside_what_openssl_verifies_is_an_input_error(gatepass, size):
    """``--size 99999999999999999999999`` was an internal error (OverflowError)."""
    result = gatepass("keygen", "RS256", "--size", size, "--json")
    assert result.code == 2
    error = result.json()["error"]
    assert error["code"] == "ERR_INVALID_KEY"
    assert "bits" in error["message"]


@pytest.mark.parametrize("shape", ["[", '{"a":'])
def test_claims_nested_too_deeply_are_an_input_error(gatepass, tmp_path, shape):
    """A claims file (or a ``key=value`` argument) nesting thousands of levels was an internal
    error: the JSON parser's RecursionError."""
    secret = _secret_file(tmp_path)
    closing = "]" if shape == "[" else "}"
    deep = shape * 5000 + "1" + closing * 5000
    claims = tmp_path / "claims.json"
    claims.write_text(deep if shape != "[" else '{"a": ' + deep + "}")
    from_file = gatepass("encode", "--claims", str(claims), "--secret-file", secret, "--json")
    assert from_file.code == 2
    assert from_file.json()["error"]["code"] == "ERR_USAGE"
    from_stdin = gatepass("encode", "--claims", "-", "--secret-file", secret, stdin=deep)
    assert from_stdin.code == 2
    assert "nested too deeply" in from_stdin.err
    pair = gatepass("encode", f"x={'[' * 3000}{']' * 3000}", "--secret-file", secret)
    assert pair.code == 2
    assert "nested too deeply" in pair.err
    header = gatepass("encode", "--header", f"x={'[' * 3000}{']' * 3000}", "--secret-file", secret)
    assert header.code == 2


# --- property: any argv, any stdin -> exit 0, 1 or 2 with a JSON document ----------------------

COMMANDS = ("decode", "verify", "encode", "keygen", "jwks", "audit")
OPTIONS = {
    "decode": ["--at"],
    "verify": [
        *("--secret-file", "--key", "--alg", "--iss", "--aud"),
        *("--typ", "--leeway", "--max-age", "--at", "--max-size"),
    ],
    "encode": [
        *("--secret-file", "--key", "--claims", "--expires-in", "--kid"),
        *("--typ", "--header", "--at", "--alg"),
    ],
    "keygen": ["--kid", "--size"],
    "jwks": ["--alg"],
    "audit": ["--key", "--secret-file", "--wordlist", "--at", "--alg"],
}
FLAGS = ["--no-require-exp", "--no-exp", "--no-crack", "--force"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Files a hostile caller might name: junk bytes, deep or non-finite JSON, a directory."""
    root = tmp_path_factory.mktemp("cli-fuzz")
    contents: dict[str, bytes] = {
        "secret": SECRET.encode(),
        "junk": b"\xff\xfe\x00garbage",
        "deep.json": b"[" * 50_000 + b"]" * 50_000,
        "nan.json": b'{"exp": NaN, "x": Infinity, "iat": 1e999}',
        "list.json": b"[1, 2]",
        "jwk.json": b'{"kty": "EC", "crv": "P-256", "x": 1, "y": null}',
        "jwks.json": b'{"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}, 5, null]}',
        "pem": b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    }
    for name, data in contents.items():
        (root / name).write_bytes(data)
    return {name: str(root / name) for name in contents} | {
        "dir": str(root),
        "none": "/nonexistent",
    }


def _values(files: dict[str, str]) -> st.SearchStrategy[str]:
    junk = ["nan", "inf", "1e999", "-1", "0", "99999999999999999999", "", "x", "é", "1h", "=", "-"]
    junk += ["a=[1", "a=1e999", "a=NaN", "2026-13-01", "HS256", "RS256", "none", "e30.e30.e30"]
    return st.one_of(
        st.sampled_from(junk + list(files.values())),
        st.text(
            st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=12
        ),
    )


@given(data=st.data())
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_any_argv_gives_an_answer_never_an_internal_error(
    files: dict[str, str], data: st.DataObject
) -> None:
    command = data.draw(st.sampled_from(COMMANDS))
    argv = [command, "--json"]
    for option in data.draw(st.lists(st.sampled_from(OPTIONS[command]), max_size=4)):
        argv += [option, data.draw(_values(files))]
    argv += data.draw(st.lists(st.sampled_from(FLAGS), max_size=2))
    argv += data.draw(st.lists(_values(files), max_size=2))
    stdin = data.draw(st.sampled_from(["", "garbage", "{}", '{"sub": "42"}', "[" * 5000]))
    out, err = io.StringIO(), io.StringIO()
    old_stdin, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code: Any = main(argv)
    except SystemExit as exc:  # argparse: a usage error, exit 2 (a JSON document with --json)
        code = exc.code
    finally:
        sys.stdin = old_stdin
    assert code in (0, 1, 2), (argv, code, err.getvalue())
    assert "internal error" not in out.getvalue() + err.getvalue(), argv
    if out.getvalue().strip().startswith("{"):
        document = json.loads(out.getvalue())
        assert document.get("error", {}).get("code") != "ERR_INTERNAL", argv
