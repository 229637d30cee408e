"""The comparison as text: the machine, the measured table, then what each design implies."""

from __future__ import annotations

import textwrap

from gatepass.compare import wording
from gatepass.compare.rows import DESIGNS, Row
from gatepass.compare.run import Report

#: The properties shown per design below the table, in order, with their headings.
PROPERTIES = (
    ("state", "state lives"),
    ("stolen", "stolen credential"),
    ("xss", "XSS"),
    ("csrf", "CSRF"),
    ("infrastructure", "infrastructure"),
    ("cross_domain", "cross-domain"),
)
COLUMNS = ("design", "bytes/request", "verify µs", "× SQLite session", "revocation delay")
_WIDTH = 100


def _wrap(text: str, indent: str, first: str = "") -> list[str]:
    # Never inside a hyphenated name (DPoP-Nonce, Sec-Fetch-Site): a reader searches for it.
    return textwrap.wrap(
        text,
        _WIDTH,
        initial_indent=first or indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
    ) or [first]


def header(report: Report) -> list[str]:
    pad = " " * 12
    return [
        f"gatepass compare: {wording.TITLE} ({report.started}, {report.seconds:.1f} s)",
        *_wrap(wording.machine(report.machine), pad, "  machine   "),
        *_wrap(report.machine.software(), pad, "  software  "),
        *_wrap(wording.method(report.settings), pad, "  method    "),
    ]


def _cells(row: Row) -> tuple[str, ...]:
    if row.skipped is not None:
        return (row.label, f"not measured: {row.skipped}")
    return (
        row.label,
        wording.size(row),
        wording.cost(row),
        wording.times_baseline(row),
        wording.revocation(row),
    )


def table(rows: list[Row]) -> list[str]:
    cells = [_cells(row) for row in rows]
    full = [c for c in cells if len(c) == len(COLUMNS)]
    widths = [max(len(c[i]) for c in [COLUMNS, *full]) for i in range(len(COLUMNS) - 1)]
    lines = []
    for c in [COLUMNS, *cells]:
        if len(c) == 2:  # a row that was not measured: one plain sentence after its name
            lines.append(f"{c[0].ljust(widths[0])}  {c[1]}")
            continue
        lines.append("  ".join(v.ljust(widths[i]) for i, v in enumerate(c[:-1])) + "  " + c[-1])
    return lines


def properties(rows: list[Row]) -> list[str]:
    """Per design, each property once; where variants differ, one line per group of variants
    that share a text."""
    lines: list[str] = []
    for design, group in wording.by_design(rows):
        lines += ["", f"{DESIGNS[design]} ({', '.join(r.variant for r in group)})"]
        for key, heading in PROPERTIES:
            texts = wording.shared_texts(group, key)
            first = f"  {heading:<19}"
            if len(texts) == 1:
                lines += _wrap(texts[0][1], " " * 21, first)
                continue
            lines.append(first.rstrip())
            for variants, text in texts:
                lines += _wrap(text, " " * 6, f"    {', '.join(variants)}: ")
    return lines


def notes(report: Report) -> list[str]:
    lines = wording.notes(report.rows, report.warnings)
    return ["", *lines] if lines else []


def render(report: Report) -> str:
    lines = [*header(report), "", *table(report.rows), *notes(report), *properties(report.rows)]
    return "\n".join(lines) + "\n"
