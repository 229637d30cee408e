"""``scripts/mutate_defences.py`` stays usable: each mutation still names code that exists.

The mutation run itself takes minutes and is not part of the suite; what can rot silently is
its list, when a defence's code is edited and an entry no longer matches (the script would then
report it ``STALE`` instead of testing the defence). Checked here on every run, it is cheap.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "mutate_defences.py"


def test_every_mutation_matches_its_code_exactly_once() -> None:
    spec = importlib.util.spec_from_file_location("mutate_defences", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    entries = json.loads(module.ENTRIES.read_text(encoding="utf-8"))
    assert len({entry["id"] for entry in entries}) == len(entries) >= 90
    stale = [
        (entry["id"], str(path.relative_to(module.SRC)), path.read_text("utf-8").count(old))
        for entry in entries
        for path, old, _new in module._edits(entry)
        if path.read_text("utf-8").count(old) != 1
    ]
    assert stale == []
    for entry in entries:
        assert entry["pytest"] and all(isinstance(arg, str) for arg in entry["pytest"])
