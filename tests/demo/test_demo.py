"""`make demo` runs the walkthrough end to end on SQLite and shows each design's behaviour."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_demo_walkthrough_shows_every_design(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = subprocess.run(
        [sys.executable, "-m", "gatepass.demo", "--db", str(db), "--rounds", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Traceback" not in result.stderr
    # Sessions: log out everywhere takes effect on the next request.
    assert "revoked 2 sessions; next request sees None" in out
    # Stateless: cannot be revoked before exp.
    assert "stays valid" in out
    # Denylist and replicated: the revoked token is refused.
    assert "next verify: ERR_TOKEN_REVOKED" in out
    assert "the API instance rejects it" in out
    # Hybrid: reuse detection revokes the family, the newer token dies with it.
    assert "ERR_REFRESH_TOKEN_REUSED" in out
    assert "newer token -> ERR_TOKEN_REVOKED" in out
    # The measured table has a row per design.
    for design in ("Session cookie", "Stateless JWT", "JWT + denylist", "JWT + replicated"):
        assert design in out
    assert db.exists()
