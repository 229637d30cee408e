"""docs/security.md promises that every test it names "can be run on its own": each named test
function exists, and each parametrized id it names is one pytest generates."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(\[[^\]`]+\])?`")


def test_every_test_named_in_the_security_doc_exists() -> None:
    nodes = NODE.findall((ROOT / "docs" / "security.md").read_text(encoding="utf-8"))
    assert len(nodes) > 100
    missing = []
    parametrized = []
    for path, name, param in nodes:
        source = ROOT / path
        defined = source.exists() and any(
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
        )
        if not defined:
            missing.append(f"{path}::{name}")
        elif param:
            parametrized.append(f"{path}::{name}{param}")
    assert missing == []
    if parametrized:  # pytest itself says whether these ids are generated
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
             *parametrized],
            cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
