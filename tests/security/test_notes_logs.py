"""Security note "Logs never hold a token or session id", below the web layer.

The library layers never log or print, except the web layer's refusal log and the configuration
warnings, whose formats are fixed in the source; every exception, record and event an
application might log carries no token, whichever wrong door a token is pushed through; the
command line does not echo an opaque token it was given by mistake. The web layer's log lines
and the log id are driven by real requests in ``test_notes_logs_web.py``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from secnotes_kit import AUD, ISS, everything_said, secret_parts

from gatepass import AccessTokens, Key, KeyRing, RefreshTokens, Sessions, jws, jwt
from gatepass.errors import GatepassError
from gatepass.stores import open_store
from gatepass.strategies._refresh_policy import ReuseEvent
from gp_testkit import FakeClock

SRC = Path(__file__).resolve().parents[2] / "src" / "gatepass"
# Layers whose job is to talk to a person on a terminal (or, for compare's probe worker, to the
# process that started it): they print on purpose.
TALKERS = ("cli/", "tools/", "demo/", "compare/")


#: Modules that must warn an operator (issue 9: insecure cookies "logged loudly", a missing
#: secret; issue 12: the revocation store lost its state) or that write the web layer's refusal
#: log (``web/audit.py``, security note 12): they may log, but only formats fixed in the source;
#: what the audit lines fill in (codes and log ids, never a credential) is checked by the
#: request-driven tests below.
CONFIG_WARNERS = (
    "web/config.py",
    "web/cookies.py",
    "strategies/_access_policy.py",
    "web/audit.py",
)
_LOG_CALLS = {
    "logger.warning",
    "logger.error",
    "logger.info",
    "logger.debug",
    "logger.critical",
    "logger.exception",
    "logger.log",
    "warnings.warn",
}


def _constant_texts(tree: ast.AST) -> set[str]:
    """Names assigned a constant string (possibly implicitly concatenated) somewhere in ``tree``."""
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def test_library_layers_never_log_or_print() -> None:
    """By construction, not by review: no module below the command line imports ``logging`` or
    calls ``print``/``warnings.warn``/``sys.stderr.write``, so no token can reach a log from
    inside gatepass. (What the application logs is checked by the tests below.) The web layer's
    configuration warnings and the report of a lost revocation store are the exceptions, and
    they log only texts fixed in the source."""
    offenders: list[str] = []
    checked = 0
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith(TALKERS):
            continue
        checked += 1
        tree = ast.parse(path.read_text(), filename=rel)
        constants = _constant_texts(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names]
                module = node.module if isinstance(node, ast.ImportFrom) else None
                if (module == "logging" or "logging" in names) and rel not in CONFIG_WARNERS:
                    offenders.append(f"{rel}:{node.lineno} imports logging")
            elif isinstance(node, ast.Call):
                func = ast.unparse(node.func)
                if func in {"print", "sys.stderr.write", "sys.stdout.write"}:
                    offenders.append(f"{rel}:{node.lineno} calls {func}")
                elif func in _LOG_CALLS:
                    # The message (format) is the first argument; logger.log's second.
                    at = 1 if func == "logger.log" else 0
                    first = node.args[at] if len(node.args) > at else None
                    constant = isinstance(first, ast.Name) and first.id in constants
                    if rel not in CONFIG_WARNERS or not constant:
                        offenders.append(f"{rel}:{node.lineno} calls {func}")
    assert checked > 20
    assert offenders == []


@pytest.fixture
def flow() -> dict[str, Any]:
    """A live hybrid flow on the memory store, with every kind of token it hands out."""
    store = open_store("memory://")
    clock = FakeClock()
    ring = KeyRing.generate("ES256", clock=clock)
    events: list[ReuseEvent] = []
    access = AccessTokens(
        ring, issuer=ISS, audience=AUD, clock=clock, revocation="denylist", store=store
    )
    sessions = Sessions(store, clock=clock)
    refresh = RefreshTokens(
        store, access, secret=b"k" * 32, clock=clock, on_reuse=events.append, grace=0
    )
    session_token, record = sessions.create("alice", metadata={"ua": "Firefox"})
    r0, a0 = refresh.start("alice", session=record)
    return {
        "store": store,
        "clock": clock,
        "ring": ring,
        "access": access,
        "sessions": sessions,
        "refresh": refresh,
        "events": events,
        "session_token": session_token,
        "record": record,
        "refresh_token": r0,
        "access_token": a0,
    }


def _said_by(call: Any) -> str:
    with pytest.raises(GatepassError) as info:
        call()
    return everything_said(info.value)


def _assert_clean(text: str, *tokens: str) -> None:
    for token in tokens:
        assert token not in text
        for part in secret_parts(token):
            assert part not in text, (part, text[:300])


def test_opaque_tokens_pushed_through_the_jwt_door_are_not_quoted(flow: dict[str, Any]) -> None:
    """A middleware tries the bearer path first and logs why it failed. The session or refresh
    token it was handed must not end up in that log line, even partly (gatepass quoted the first
    24 characters, 19 of them from the session secret, until this test)."""
    access: AccessTokens = flow["access"]
    key = flow["ring"].active
    for token in (flow["session_token"], flow["refresh_token"]):
        for call in (
            lambda t=token: access.verify(t),
            lambda t=token: jwt.verify(t, key),
            lambda t=token: jws.verify(t, key),
            lambda t=token: jwt.inspect(t),
        ):
            text = _said_by(call)
            assert "three dot-separated segments" in text
            _assert_clean(text, token)


@pytest.mark.parametrize(
    "token",
    [
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc.v1",  # another issuer's secret before its first dot
        "ya29.a0AfH6SMBx3kL9wQ",  # and one with a short public prefix, quoted as a tag
        "tGzv3JOkF0XG5Qx2TlKWIA.secret.part.four",
    ],
)
def test_another_issuers_opaque_token_is_not_quoted(flow: dict[str, Any], token: str) -> None:
    """The first segment of a non-JWS is quoted only when it is public (a JOSE header, or a
    routing tag of at most 8 characters): an opaque bearer token from another issuer may keep
    its secret before the first dot, and the refusal ends up in the 401 and in logs."""
    access: AccessTokens = flow["access"]
    first = token.split(".", 1)[0]
    for call in (lambda: access.verify(token), lambda: jwt.inspect(token)):
        text = _said_by(call)
        assert "three dot-separated segments" in text
        assert token not in text
        if len(first) <= 8:
            assert repr(first) in text  # a tag: quoted, for the reader of the log
        else:
            assert first[:6] not in text, text[:300]  # not even the start of a secret


def test_failures_of_every_strategy_carry_no_token(flow: dict[str, Any]) -> None:
    sessions: Sessions = flow["sessions"]
    refresh: RefreshTokens = flow["refresh"]
    access: AccessTokens = flow["access"]
    clock: FakeClock = flow["clock"]
    s0, r0, a0 = flow["session_token"], flow["refresh_token"], flow["access_token"]
    a0_secret_parts = a0.split(".", 1)[1]  # payload and signature: the bearer credential
    said: list[str] = []
    # Sessions: rotated-away, revoked and malformed tokens.
    s1 = sessions.rotate(s0)
    said.append(_said_by(lambda: sessions.rotate(s0)))
    said.append(_said_by(lambda: sessions.update(s0, {"x": 1})))
    # Refresh: reuse (the theft signal an application is most likely to log), then revoked.
    clock.advance(10)
    r1, a1 = refresh.rotate(r0)
    clock.advance(10)
    said.append(_said_by(lambda: refresh.rotate(r0)))
    said.append(_said_by(lambda: refresh.rotate(r1)))
    said.append(_said_by(lambda: refresh.rotate(r0[:-1] + "!")))
    # Access: revoked (via reuse containment), tampered, expired.
    said.append(_said_by(lambda: access.verify(a1)))
    head, payload, signature = a0.split(".")
    said.append(_said_by(lambda: access.verify(f"{head}.{payload}.{signature[::-1]}")))
    clock.advance(10_000)
    said.append(_said_by(lambda: access.verify(a0)))
    everything = "\n".join(said)
    _assert_clean(everything, s0, s1, r0, r1)
    for credential in (a0_secret_parts, a1.split(".", 1)[1]):
        assert credential not in everything
        assert credential.split(".")[1][:16] not in everything  # not even the signature's start
    # The reuse event handed to the application's hook, and the session records it may log.
    events: list[ReuseEvent] = flow["events"]
    assert len(events) == 1 and isinstance(events[0], ReuseEvent)
    records = [flow["record"], *sessions.list("alice")]
    _assert_clean(repr(events) + repr(records), s0, s1, r0, r1)


def test_store_outage_errors_carry_no_token() -> None:
    """``StoreUnavailable`` wraps the driver's message; the driver only ever saw a hash."""
    store = open_store("redis://127.0.0.1:1/0?socket_connect_timeout=0.3")
    try:
        sessions = Sessions(store)
        refresh = RefreshTokens(
            store, AccessTokens(Key.generate("ES256"), issuer=ISS, audience=AUD)
        )
        token = "AbCd." + "Q" * 20 + "z" * 23
        refresh_token = "rt_AbCd." + "F" * 22 + "~" + "Q" * 20 + "y" * 23
        said = [
            _said_by(lambda: sessions.get(token)),
            _said_by(lambda: sessions.rotate(token)),
            _said_by(lambda: refresh.rotate(refresh_token)),
        ]
        assert all("StoreUnavailable" in s for s in said)
        _assert_clean("\n".join(said), token, refresh_token)
    finally:
        store.close()


def test_command_line_does_not_echo_an_opaque_token(flow: dict[str, Any], tmp_path: Path) -> None:
    """Someone pastes a session cookie into ``gatepass verify`` or ``decode``: the output (often
    copied into a ticket) names the problem without repeating the secret."""
    pem = tmp_path / "pub.pem"
    pem.write_bytes(flow["ring"].active.public().to_pem())
    for token in (flow["session_token"], flow["refresh_token"]):
        for args in (
            ("decode", token),
            ("decode", token, "--json"),
            ("verify", token, "--key", str(pem)),
            ("verify", token, "--key", str(pem), "--json"),
            ("audit", token, "--json"),
        ):
            proc = subprocess.run(
                [sys.executable, "-m", "gatepass.cli.main", *args],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert proc.returncode in (1, 2), (args, proc.stderr)
            assert "Traceback" not in proc.stderr
            _assert_clean(proc.stdout + proc.stderr, token)
            if args[-1] == "--json" and proc.stdout.strip():
                json.loads(proc.stdout)
