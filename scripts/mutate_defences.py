"""Mutation testing of the security defences: disable each one, and a test must fail.

``docs/security.md`` maps every requirement of ``shared/notes/security.md`` to the tests that
perform the attack. A test that still passes with its defence removed proves nothing, so each
entry of ``scripts/defence_mutations.json`` is one minimal edit that disables one defence
(a check replaced by ``if False:``, a comparison loosened, a flag dropped) and the pytest
arguments that must then fail. For each entry, in turn, this script applies the edit to the
working tree, runs those tests (``-x``), and puts the file back byte for byte, whatever happens.

    .venv/bin/python scripts/mutate_defences.py             # every entry (about 15 minutes)
    .venv/bin/python scripts/mutate_defences.py W04 D18     # some of them
    .venv/bin/python scripts/mutate_defences.py --list      # what they are

It prints one line per entry: ``killed`` (and the first test that failed), ``SURVIVED`` (a
gap: write the attack that fails without the defence), or ``STALE`` (the code moved: update
the entry). Exit status 1 unless every entry was killed. It refuses to start while ``src`` has
uncommitted changes, since it edits files there. Mutations of ``strategies/_async`` sources
would not reach their generated ``_sync`` twins, so entries edit shared pure modules instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "gatepass"
ENTRIES = Path(__file__).with_name("defence_mutations.json")


def _edits(entry: dict[str, object]) -> list[tuple[Path, str, str]]:
    edits = [(entry["file"], entry["old"], entry["new"])]
    for extra in entry.get("also", []):  # type: ignore[attr-defined]
        edits.append((extra["file"], extra["old"], extra["new"]))
    return [(SRC / str(f), str(old), str(new)) for f, old, new in edits]


def run(entry: dict[str, object]) -> tuple[str, str]:
    """``(verdict, detail)`` of one entry; the files it touched are restored before returning."""
    saved: dict[Path, str] = {}
    try:
        for path, old, new in _edits(entry):
            text = path.read_text(encoding="utf-8")
            saved.setdefault(path, text)
            if text.count(old) != 1:
                return "STALE", f"{path.relative_to(ROOT)}: the text occurs {text.count(old)} times"
            path.write_text(text.replace(old, new), encoding="utf-8")
        command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
        done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [*command, *entry["pytest"]],  # type: ignore[misc]
            cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False,
        )  # fmt: skip
    finally:
        for path, text in saved.items():
            path.write_text(text, encoding="utf-8")
    lines = done.stdout.splitlines()
    failed = [line for line in lines if line.startswith(("FAILED tests/", "ERROR tests/"))]
    if done.returncode == 1 and failed:
        return "killed", failed[0].split(" ", 1)[1][:110]
    if done.returncode == 0:
        return "SURVIVED", lines[-1] if lines else ""
    return f"pytest exit {done.returncode}", (lines[-1] if lines else done.stderr[-200:])


def main(argv: list[str]) -> int:
    entries = json.loads(ENTRIES.read_text(encoding="utf-8"))
    if "--list" in argv:
        for entry in entries:
            print(f"{entry['id']:4} {entry['file']:36} {entry['defence']}")
        return 0
    wanted = set(argv)
    unknown = wanted - {entry["id"] for entry in entries}
    if unknown:
        print(f"unknown ids: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "src"],  # noqa: S607
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    if dirty.strip():
        print("src has uncommitted changes; commit or stash them first:\n" + dirty, file=sys.stderr)
        return 2
    bad = 0
    for entry in entries:
        if wanted and entry["id"] not in wanted:
            continue
        started = time.monotonic()
        verdict, detail = run(entry)
        bad += verdict != "killed"
        took = time.monotonic() - started
        print(f"{entry['id']:4} {verdict:9} {took:5.0f}s  {entry['defence']}: {detail}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
