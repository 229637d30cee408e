"""keygen and jwks through the real command."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_keygen_files_and_modes(keys):
    for prefix in ("es", "rsa", "ed"):
        assert _mode(keys.root / f"{prefix}.key.pem") == 0o600
        assert _mode(keys.root / f"{prefix}.jwk.json") == 0o600
        assert _mode(keys.root / f"{prefix}.pub.pem") & 0o077 in (0o044, 0o004, 0o040, 0)
        public = json.loads((keys.root / f"{prefix}.pub.jwk.json").read_text())
        assert not PRIVATE_MEMBERS & set(public)
        private = json.loads((keys.root / f"{prefix}.jwk.json").read_text())
        assert "d" in private
        assert b"PRIVATE KEY" in (keys.root / f"{prefix}.key.pem").read_bytes()
        assert b"PRIVATE" not in (keys.root / f"{prefix}.pub.pem").read_bytes()
    assert _mode(keys.root / "hs.secret") == 0o600
    assert _mode(keys.root / "hs.jwk.json") == 0o600
    assert not (keys.root / "hs.key.pem").exists()
    assert not (keys.root / "hs.pub.jwk.json").exists()


@pytest.mark.parametrize(("alg", "length"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_hmac_keygen_secret_length(gatepass, tmp_path, alg, length):
    result = gatepass("keygen", alg, "--out", str(tmp_path / "s"))
    assert result.code == 0, result.err
    secret = (tmp_path / "s.secret").read_bytes()
    assert len(secret) >= length
    jwk = json.loads((tmp_path / "s.jwk.json").read_text())
    assert jwk["kty"] == "oct" and jwk["alg"] == alg
    # the secret signs with gatepass (which refuses anything shorter than the hash)
    made = gatepass("encode", "sub=1", "--secret-file", str(tmp_path / "s.secret"), "--alg", alg)
    assert made.code == 0, made.err


def test_keygen_refuses_to_overwrite_then_force_replaces(gatepass, tmp_path):
    prefix = str(tmp_path / "k")
    assert gatepass("keygen", "ES256", "--out", prefix).code == 0
    before = (tmp_path / "k.key.pem").read_bytes()
    again = gatepass("keygen", "ES256", "--out", prefix)
    assert again.code == 2
    assert "refusing to overwrite" in again.err and "--force" in again.err
    assert (tmp_path / "k.key.pem").read_bytes() == before
    # a world-readable leftover is replaced by a fresh 0600 file, never chmod-ed in place
    os.chmod(tmp_path / "k.key.pem", 0o644)
    forced = gatepass("keygen", "ES256", "--out", prefix, "--force")
    assert forced.code == 0, forced.err
    assert (tmp_path / "k.key.pem").read_bytes() != before
    assert _mode(tmp_path / "k.key.pem") == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_keygen_does_not_follow_a_planted_symlink(gatepass, tmp_path):
    target = tmp_path / "victim.txt"
    target.write_text("keep me")
    (tmp_path / "k.key.pem").symlink_to(target)
    result = gatepass("keygen", "ES256", "--out", str(tmp_path / "k"))
    assert result.code == 2
    assert target.read_text() == "keep me"
    assert not (tmp_path / "k.pub.pem").exists()  # all or nothing


def test_keygen_umask_cannot_widen_private_files(tmp_path):
    # with umask 0 the public files are 0644 and the private ones still 0600
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gatepass.cli.main",
            "keygen",
            "EdDSA",
            "--out",
            str(tmp_path / "u"),
            "--kid",
            "2026-01",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: os.umask(0),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["kid"] == "2026-01" and doc["alg"] == "EdDSA"
    modes = {f["kind"]: f["mode"] for f in doc["files"]}
    assert modes["private PEM"] == "0o600"
    assert _mode(tmp_path / "u.key.pem") == 0o600
    assert _mode(tmp_path / "u.jwk.json") == 0o600
    assert _mode(tmp_path / "u.pub.pem") == 0o644
    assert json.loads((tmp_path / "u.pub.jwk.json").read_text())["kid"] == "2026-01"


def test_keygen_to_stdout_warns(gatepass):
    result = gatepass("keygen", "ES256")
    assert result.code == 0
    assert "warning" in result.err and "--out" in result.err
    assert "BEGIN PRIVATE KEY" in result.out
    doc = gatepass("keygen", "HS256", "--json").json()
    assert len(doc["secret"]) >= 32 and doc["private_jwk"]["kty"] == "oct"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["ES256", "--size", "3072"], "--size is for RSA"),
        (["RS256", "--size", "1024"], "2048"),
        (["none"], "invalid choice"),
        (["ES256", "--out", "/nonexistent-dir/k"], "does not exist"),
    ],
)
def test_keygen_errors(gatepass, args, words):
    result = gatepass("keygen", *args)
    assert result.code == 2
    assert words in result.err


def test_jwks_is_public_only(gatepass, keys):
    result = gatepass(
        "jwks",
        keys.path("es.key.pem"),
        keys.path("rsa.jwk.json"),
        keys.path("ed.pub.pem"),
    )
    assert result.code == 0, result.err
    doc = result.json()
    assert len(doc["keys"]) == 3
    for jwk in doc["keys"]:
        assert not PRIVATE_MEMBERS & set(jwk)
        assert jwk["use"] == "sig" and jwk["kid"]
    assert {jwk["kty"] for jwk in doc["keys"]} == {"EC", "RSA", "OKP"}


def test_jwks_refuses_hmac_and_needs_alg_for_rsa_pem(gatepass, keys):
    hmac = gatepass("jwks", keys.path("es.pub.pem"), keys.path("hs.jwk.json"))
    assert hmac.code == 2
    assert "never be published" in hmac.err
    assert hmac.out == ""
    rsa = gatepass("jwks", keys.path("rsa.pub.pem"))
    assert rsa.code == 2 and "--alg" in rsa.err
    ok = gatepass("jwks", keys.path("rsa.pub.pem"), keys.path("es.pub.pem"), "--alg", "PS256")
    assert ok.code == 0
    assert [k["alg"] for k in ok.json()["keys"]] == ["PS256", "ES256"]


def test_jwks_refuses_a_kid_twice_and_verify_names_two_matches(gatepass, keys, tmp_path):
    es = keys.path("es.pub.pem")
    twice = gatepass("jwks", es, es)
    assert twice.code == 2 and twice.out == ""
    assert "the same key twice" in twice.err and "one key per kid" in twice.err
    # A set someone else wrote with a kid twice: verification names the real problem.
    jwk = json.loads(gatepass("jwks", es).out)["keys"][0]
    (tmp_path / "dup.json").write_text(json.dumps({"keys": [jwk, jwk]}))
    token = gatepass("encode", "sub=1", "--key", keys.path("es.key.pem")).out.strip()
    result = gatepass("verify", token, "--key", str(tmp_path / "dup.json"))
    assert result.code == 1
    assert "ERR_JWKS_MULTIPLE_MATCHING_KEYS" in result.err
    assert "2 keys match" in result.err


def test_jwk_files_are_parsed_strictly(gatepass, keys, tmp_path):
    text = (Path(keys.path("es.pub.jwk.json"))).read_text().rstrip().rstrip("}")
    (tmp_path / "dup.jwk.json").write_text(text + ', "kid": "evil"}')
    token = gatepass("encode", "sub=1", "--key", keys.path("es.key.pem")).out.strip()
    result = gatepass("verify", token, "--key", str(tmp_path / "dup.jwk.json"))
    assert result.code == 2
    assert "duplicate member name 'kid'" in result.err
