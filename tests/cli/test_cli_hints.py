"""Every fix the command names works: each hint is taken from a real message and run.

A hint is either a whole command in backticks (`` `gatepass jwks rsa.pub.pem --alg RS256` ``),
run as written, or "add --OPTION VALUE", applied to the command that printed it. Either way the
result must succeed: a hint that leads to another error is a defect (issue: "hints must be
commands that work").
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

COMMAND = re.compile(r"`(gatepass [^`]+)`")
ADD = re.compile(r"\badd (--[a-z-]+(?: [^\s;,)`]+)?)")


def commands_in(text: str) -> list[list[str]]:
    return [shlex.split(c) for c in COMMAND.findall(text)]


def additions_in(text: str) -> list[list[str]]:
    return [shlex.split(a) for a in ADD.findall(text)]


def run_hint(gatepass, words: list[str], cwd: Path, ok: tuple[int, ...] = (0,)):
    assert words[0] == "gatepass", words
    result = gatepass(*words[1:], cwd=cwd)
    assert result.code in ok, (words, result.err, result.out)
    return result


@pytest.mark.parametrize("alg", ["RS256", "PS384", "ES256", "ES512", "EdDSA"])
def test_keygen_hint_publishes_the_key(gatepass, tmp_path, alg):
    made = gatepass("keygen", alg, "--out", "k", cwd=tmp_path)
    assert made.code == 0, made.err
    hints = commands_in(made.out)
    assert len(hints) == 1 and hints[0][:2] == ["gatepass", "jwks"], made.out
    published = run_hint(gatepass, hints[0], tmp_path)
    assert [key["alg"] for key in json.loads(published.out)["keys"]] == [alg]


def test_keygen_hmac_gives_no_publish_hint(gatepass, tmp_path):
    made = gatepass("keygen", "HS256", "--out", "api", cwd=tmp_path)
    assert made.code == 0 and commands_in(made.out) == []


def test_rsa_key_without_alg_names_the_tokens_alg(gatepass, tmp_path):
    assert gatepass("keygen", "PS256", "--out", "rsa", cwd=tmp_path).code == 0
    token = gatepass("encode", "sub=1", "--key", "rsa.key.pem", "--alg", "PS256", cwd=tmp_path)
    argv = ["verify", token.out.strip(), "--key", "rsa.pub.pem"]
    refused = gatepass(*argv, cwd=tmp_path)
    assert refused.code == 2
    assert "the token says PS256" in refused.err
    [addition] = additions_in(refused.err)
    assert addition == ["--alg", "PS256"]
    assert gatepass(*argv, *addition, cwd=tmp_path).code == 0


def test_unexpected_audience_names_aud(gatepass, keys):
    token = gatepass("encode", "sub=1", "aud=api", "--key", keys.path("es.key.pem")).out.strip()
    argv = ["verify", token, "--key", keys.path("es.pub.pem")]
    refused = gatepass(*argv)
    assert refused.code == 1
    assert "--aud" in refused.err and '"api"' in refused.err
    [addition] = additions_in(refused.err)
    assert gatepass(*argv, *addition).code == 0
    wrong = gatepass(*argv, "--aud", "web")
    assert wrong.code == 1 and '"api"' in wrong.err and '"web"' in wrong.err


def test_too_large_names_max_size(gatepass, keys):
    big = "x" * 9000
    token = gatepass("encode", "sub=1", f"blob={big}", "--key", keys.path("es.key.pem")).out
    argv = ["verify", token.strip(), "--key", keys.path("es.pub.pem")]
    refused = gatepass(*argv)
    assert refused.code == 1 and "ERR_JWS_TOO_LARGE" in refused.err
    [addition] = additions_in(refused.err)
    assert addition[0] == "--max-size"
    assert gatepass(*argv, *addition).code == 0


def test_wrong_key_shows_both_kids(gatepass, keys, tmp_path):
    assert (
        gatepass("keygen", "ES256", "--out", "other", "--kid", "other-key", cwd=tmp_path).code == 0
    )
    token = gatepass("encode", "sub=1", "--key", keys.path("es.key.pem")).out.strip()
    kid = json.loads(gatepass("decode", token, "--json").out)["header"]["kid"]
    refused = gatepass("verify", token, "--key", "other.pub.jwk.json", cwd=tmp_path)
    assert refused.code == 1
    assert "'other-key'" in refused.err and kid[:32] in refused.err


def test_encode_without_a_key_suggests_making_one(gatepass, tmp_path):
    refused = gatepass("encode", "sub=1", cwd=tmp_path)
    assert refused.code == 2
    [hint] = commands_in(refused.err)
    run_hint(gatepass, hint, tmp_path)
    assert gatepass("encode", "sub=1", "--key", "signing.key.pem", cwd=tmp_path).code == 0


def test_encode_with_a_public_key_names_the_private_file(gatepass, tmp_path):
    assert gatepass("keygen", "ES256", "--out", "signing", cwd=tmp_path).code == 0
    refused = gatepass("encode", "sub=1", "--key", "signing.pub.pem", cwd=tmp_path)
    assert refused.code == 2
    [addition] = re.findall(r"use (--key \S+?)[;,)]?(?:\s|$)", refused.err)
    assert gatepass("encode", "sub=1", *addition.split(" "), cwd=tmp_path).code == 0


def test_short_secret_hint_makes_a_good_one(gatepass, tmp_path):
    refused = gatepass("encode", "sub=1", "--secret-env", "S", env={"S": "secret"}, cwd=tmp_path)
    assert refused.code == 2
    [hint] = commands_in(refused.err)
    run_hint(gatepass, hint, tmp_path)
    secret = next(tmp_path.glob("*.secret"))
    assert gatepass("encode", "sub=1", "--secret-file", secret.name, cwd=tmp_path).code == 0


def test_secret_on_the_command_line_hint(gatepass, tmp_path):
    argv = ["encode", "sub=1", "--secret", "s" * 32]
    refused = gatepass(*argv, cwd=tmp_path)
    assert refused.code == 2
    [addition] = additions_in(refused.err)
    assert gatepass(*argv, *addition, cwd=tmp_path).code == 0


def test_keygen_overwrite_hint(gatepass, tmp_path):
    argv = ["keygen", "ES256", "--out", "k"]
    assert gatepass(*argv, cwd=tmp_path).code == 0
    refused = gatepass(*argv, cwd=tmp_path)
    assert refused.code == 2
    [addition] = additions_in(refused.err)
    assert gatepass(*argv, *addition, cwd=tmp_path).code == 0


def test_jwks_refusing_a_secret_suggests_a_key_pair(gatepass, tmp_path):
    assert gatepass("keygen", "HS256", "--out", "api", cwd=tmp_path).code == 0
    refused = gatepass("jwks", "api.jwk.json", cwd=tmp_path)
    assert refused.code == 2
    [hint] = commands_in(refused.err)
    run_hint(gatepass, hint, tmp_path)


def test_audit_fixes_that_are_commands_run(gatepass, make_token, tmp_path):
    token = make_token({"alg": "HS256"}, {"sub": "1"}, secret=b"secret")
    audit = gatepass("audit", token, "--json")
    hints = [h for f in audit.json()["findings"] for h in commands_in(f["fix"])]
    assert hints, "the weak-secret finding names a command"
    for hint in hints:
        run_hint(gatepass, hint, tmp_path)
