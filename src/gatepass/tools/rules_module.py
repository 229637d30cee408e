"""Writes ``static/audit-rules.js``: the tools page's copy of the audit rules file.

The rules live in one file, ``gatepass/cli/data/audit-rules.json``, read by the command line. The
page may make no request at all (its Content-Security-Policy says ``connect-src 'none'``, and it
must work from ``file://``), so it cannot fetch that JSON; it loads this generated script instead,
which holds the same document. ``make audit-rules`` regenerates it, and
``tests/tools/test_audit_parity.py`` fails while the committed copy differs from what this module
renders, so the copy cannot drift.

    python -m gatepass.tools.rules_module        # rewrite static/audit-rules.js
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from gatepass.tokens._json import loads_object

TARGET = Path(__file__).resolve().parent / "static" / "audit-rules.js"

_HEADER = """\
/* GENERATED from gatepass/cli/data/audit-rules.json by `make audit-rules`
 * (python -m gatepass.tools.rules_module): edit the JSON file, never this one.
 * The audit rules the command line and this page share; read by audit.js.
 */
"use strict";
"""


def render() -> str:
    """The script text for the current rules file."""
    raw = resources.files("gatepass.cli").joinpath("data/audit-rules.json").read_bytes()
    document = loads_object(raw, "audit-rules.json")
    body = json.dumps(document, indent=1, ensure_ascii=False)
    return f"{_HEADER}window.GPAuditRules = Object.freeze({body});\n"


def main() -> None:
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
