"""With --json every outcome is one JSON document on stdout: success, invalid token, usage
error, key error, unreadable file. A script that asked for JSON never parses a sentence."""

from __future__ import annotations

import json

import pytest


def _document(result):
    assert result.err == "", result.err
    return json.loads(result.out)


@pytest.mark.parametrize(
    ("args", "code", "error_code"),
    [
        (["decode", "garbage", "--json"], 1, "ERR_JWS_MALFORMED"),
        (["decode", "--json"], 2, "ERR_USAGE"),  # argparse: TOKEN missing
        (["decode", "a.b.c", "--json", "--at", "yesterday"], 2, "ERR_USAGE"),
        (["verify", "a.b.c", "--json"], 2, "ERR_USAGE"),  # no key
        (["verify", "a.b.c", "--json", "--key", "/nonexistent/key.pem"], 2, "ERR_FILE"),
        (["audit", "--json", "--fail-on", "sometimes", "a.b.c"], 2, "ERR_USAGE"),
        (["encode", "sub=1", "--json"], 2, "ERR_USAGE"),
        (["keygen", "ES256", "--out", "/nonexistent/dir/k", "--json"], 2, "ERR_USAGE"),
        (["advise", "--json"], 2, "ERR_USAGE"),  # off a terminal --arch is required
    ],
)
def test_failures_are_json(gatepass, args, code, error_code):
    result = gatepass(*args, stdin="")
    assert result.code == code
    error = _document(result)["error"]
    assert error["code"] == error_code
    assert error["message"] and error["type"]


def test_invalid_token_with_a_key_is_json_with_the_fix(gatepass, keys):
    token = gatepass("encode", "sub=1", "aud=api", "--key", keys.path("es.key.pem")).out.strip()
    result = gatepass("verify", token, "--key", keys.path("es.pub.pem"), "--json")
    assert result.code == 1
    doc = _document(result)
    assert doc["valid"] is False
    assert doc["error"]["code"] == "ERR_JWT_AUDIENCE"
    assert doc["error"]["fix"].endswith("add --aud api")


def test_without_json_failures_stay_one_line_on_stderr(gatepass):
    result = gatepass("decode", "garbage")
    assert result.code == 1 and result.out == ""
    assert result.err.startswith("gatepass decode: invalid token: ")
    assert result.err.count("\n") == 1
