"""Generate the blocking twin of every asyncio module from its ``_async`` source (httpcore's way).

Each ``.../_async/<name>.py`` under ``src/gatepass`` is the one hand-written implementation; its
blocking twin ``.../_sync/<name>.py`` is produced here by plain token substitution (``async def``
-> ``def``, ``await x`` -> ``x``, ``AsyncSessions`` -> ``Sessions``, ...), so the two cannot drift
apart. Two line markers cover the few places where the flavours differ on purpose:

* a line ending in ``# async-only`` is left out of the blocking twin;
* a comment line ``# sync-only: <code>`` becomes ``<code>`` in the blocking twin.

    python scripts/unasync.py           # rewrite every generated file
    python scripts/unasync.py --check   # exit 1, naming them, if any generated file is stale

``make test`` runs the check, so a generated file that no longer matches its source fails the build.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src" / "gatepass"

#: Whole-word substitutions, applied in order to every line that is not a marker line.
SUBSTITUTIONS: list[tuple[str, str]] = [
    (r"\basync def\b", "def"),
    (r"\basync with\b", "with"),
    (r"\basync for\b", "for"),
    (r"\bawait ", ""),
    (r"\b_async\b", "_sync"),
    (r"\bredis\.asyncio\b", "redis"),
    (r"\basynccontextmanager\b", "contextmanager"),
    (r"\bAsyncIterator\b", "Iterator"),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\baclose\b", "close"),
    (r"\bStopAsyncIteration\b", "StopIteration"),
    (r"\basync_(\w+)", r"\1"),
    (r"\bAsync([A-Z]\w*)", r"\1"),
    (r"\basynchronous\b", "blocking"),
]
_COMPILED = [(re.compile(pattern), replacement) for pattern, replacement in SUBSTITUTIONS]
_SYNC_ONLY = re.compile(r"^(\s*)# sync-only: (.*)$")


def header(source: Path) -> str:
    relative = source.relative_to(ROOT)
    return (
        f"# GENERATED from gatepass/{relative.as_posix()} by scripts/unasync.py: do not edit.\n"
        "# Change the asyncio source, then run `python scripts/unasync.py`.\n"
    )


def unasync_line(line: str) -> str | None:
    """The blocking form of one source line, or None when the line has no blocking twin."""
    if line.rstrip().endswith("# async-only"):
        return None
    marker = _SYNC_ONLY.match(line)
    if marker is not None:
        return f"{marker[1]}{marker[2]}\n"
    for pattern, replacement in _COMPILED:
        line = pattern.sub(replacement, line)
    return line


def formatted(text: str, target: Path) -> str:
    """``text`` as ruff fixes and lays it out: renaming reorders imports, dropping the asyncio-only
    lines can leave an import unused, removing ``async`` leaves nested ``with`` blocks that read
    better joined, and removing ``await`` shortens lines, which the formatter may then join. So
    the generated files pass the same lint and format checks as the rest."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        raise SystemExit("scripts/unasync.py needs ruff (make test installs it in .venv)")
    for command in (["check", "--select", "I,F401,SIM117", "--fix", "--quiet"], ["format"]):
        done = subprocess.run(  # noqa: S603 - our own pinned formatter on our own text
            [ruff, *command, "--stdin-filename", str(target), "-"],
            input=text,
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT.parent.parent,  # the project's ruff configuration (first-party packages)
        )
        if done.returncode != 0 and not done.stdout:
            raise SystemExit(f"ruff failed on {target}: {done.stderr}")
        text = done.stdout
    return text


def unasync_text(source: Path, target: Path, text: str) -> str:
    lines = [unasync_line(line) for line in text.splitlines(keepends=True)]
    return formatted(header(source) + "".join(line for line in lines if line is not None), target)


def pairs() -> list[tuple[Path, Path]]:
    """Every ``_async`` source with the path of its generated blocking twin."""
    found = []
    for source in sorted(ROOT.rglob("_async/*.py")):
        target = source.parent.parent / "_sync" / source.name
        found.append((source, target))
    return found


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for source, target in pairs():
        wanted = unasync_text(source, target, source.read_text(encoding="utf-8"))
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == wanted:
            continue
        stale.append(target)
        if not check:
            target.parent.mkdir(exist_ok=True)
            target.write_text(wanted, encoding="utf-8")
    if check and stale:
        names = ", ".join(str(path.relative_to(ROOT.parent.parent)) for path in stale)
        print(f"stale generated files (run python scripts/unasync.py): {names}", file=sys.stderr)
        return 1
    if not check:
        for target in stale:
            print(f"wrote {target.relative_to(ROOT.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
