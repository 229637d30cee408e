"""docs/dpop.md's Python examples run as written, in order, in one namespace."""

from __future__ import annotations

from typing import Any

from test_readme import ROOT, python_blocks


def test_dpop_doc_examples_run() -> None:
    blocks = python_blocks(ROOT / "docs" / "dpop.md")
    assert len(blocks) >= 5
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "docs/dpop.md", "exec"), namespace)
    client_key: Any = namespace["client_key"]
    assert namespace["claims"] == {**namespace["claims"], "cnf": {"jkt": client_key.thumbprint()}}
