"""``gatepass compare`` options: stores switched off or unreachable say so plainly, usage errors
are one line and exit 2, and the walkthrough tells every design's story first."""

from __future__ import annotations

import dataclasses
import json
import socket
from pathlib import Path

import pytest
from comparekit import Run

from gatepass.compare import targets

UNREACHABLE_DESIGNS = ("session", "denylist", "replicated", "hybrid")


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_switched_off_and_unreachable_stores_say_why(gatepass: Run) -> None:
    port = _closed_port()
    result = gatepass(
        "compare", "--quick", "--json", "--redis", "off",
        "--postgres", f"postgresql://postgres:hunter2secret@127.0.0.1:{port}/x?pool_timeout=1",
    )  # fmt: skip
    assert result.code == 0, result.err
    rows = {r["id"]: r for r in json.loads(result.out)["rows"]}
    for design in UNREACHABLE_DESIGNS:
        redis_row, pg_row = rows[f"{design}-redis"], rows[f"{design}-postgresql"]
        assert redis_row["measured"] is False
        assert redis_row["not_measured_because"] == "switched off with --redis off"
        assert pg_row["measured"] is False
        reason = pg_row["not_measured_because"]
        assert f"127.0.0.1:{port}" in reason and "could not be used" in reason
        assert "StoreUnavailable" in reason
        assert "hunter2secret" not in reason  # never the password
        for row in (redis_row, pg_row):
            assert row["verify"] == {"what": ""} and row["revocation"] is None
            assert row["bytes_per_request"] is None
    # An explicit URL that could not be used is also a warning, on stderr.
    assert "warning: --postgres was given but not measured" in result.err
    assert "hunter2secret" not in result.err
    # The rest was measured.
    assert rows["session-sqlite"]["measured"] and rows["jwt-es256"]["measured"]


@pytest.mark.slow
def test_text_rows_say_not_measured(gatepass: Run) -> None:
    result = gatepass("compare", "--quick", "--redis", "off", "--postgres", "off")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    for label in ("session cookie · Redis", "JWT + denylist · PostgreSQL", "hybrid · Redis"):
        (line,) = [x for x in lines if x.startswith(label + " ")]
        assert line.split("  ", 1)[1].strip().startswith("not measured: switched off with --")
    assert "Redis" not in lines[2] + lines[3]  # no server version claimed in "software"


def test_nothing_answering_at_the_default_address() -> None:
    port = _closed_port()
    server = dataclasses.replace(targets.REDIS, default=f"redis://127.0.0.1:{port}/0")
    target = targets.server_target(server, None)
    assert target.store is None and target.url is None
    assert target.skipped == (
        f"nothing answers at its default address redis://127.0.0.1:{port}/0; "
        "pass --redis URL to measure it"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rounds", "0"], "--rounds 0: use 1 to 1000"),
        (["--trials", "101"], "--trials 101: use 1 to 100"),
        (["--redis", "http://127.0.0.1:6379"], "unknown store URL scheme 'http'"),
        (["--postgres", "postgresql://127.0.0.1:99999/x"], "port must be a number from 1"),
        (["--html", "/nonexistent-dir/x.html"], "the folder /nonexistent-dir does not exist"),
    ],
)
def test_usage_errors(gatepass: Run, args: list[str], message: str) -> None:
    result = gatepass("compare", "--quick", *_with_off(args))
    assert result.code == 2
    assert message in result.err
    assert result.out == ""
    assert len(result.err.strip().splitlines()) == 1


def _with_off(args: list[str]) -> list[str]:
    """``args`` plus ``off`` for each server the case does not name (never the shared ones)."""
    extra = []
    for flag in ("--redis", "--postgres"):
        if flag not in args:
            extra += [flag, "off"]
    return [*args, *extra]


@pytest.mark.slow
def test_walkthrough_then_table(gatepass: Run, tmp_path: Path) -> None:
    db = tmp_path / "walk.db"
    result = gatepass(
        "compare", "--walkthrough", "--db", str(db), "--quick", "--redis", "off",
        "--postgres", "off",
    )  # fmt: skip
    assert result.code == 0, result.err
    out = result.out
    story, table = out.split("gatepass compare: ", 1)
    assert story.startswith(f"gatepass walkthrough on sqlite:///{db}")
    assert "revoked 2 sessions; next request sees None" in story
    assert "next verify: ERR_TOKEN_REVOKED" in story
    assert "the API instance rejects it" in story
    assert "ERR_REFRESH_TOKEN_REUSED" in story
    assert "request with a fresh proof from the device -> accepted" in story
    assert "copied access token as a bearer token -> ERR_DPOP_BINDING_MISMATCH" in story
    assert "with a proof of its own key -> ERR_DPOP_BINDING_MISMATCH" in story
    assert "refresh cookie without the key -> ERR_DPOP_BINDING_MISMATCH; nothing burnt" in story
    assert "the device refreshes with its key -> accepted: still logged in" in story
    assert "Set-Cookie: __Host-session=" in story and "__Secure-refresh cookie 74 chars" in story
    assert "session cookie · SQLite" in table
    assert db.exists()


@pytest.mark.slow
def test_html_is_written_beside_the_text(gatepass: Run, tmp_path: Path) -> None:
    page = tmp_path / "table.html"
    result = gatepass(
        "compare", "--quick", "--html", str(page), "--redis", "off", "--postgres", "off"
    )
    assert result.code == 0, result.err
    assert f"wrote {page}" in result.err
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert 'id="session-sqlite"' in html and "session cookie · SQLite" in result.out
