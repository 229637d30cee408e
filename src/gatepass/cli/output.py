"""Everything the command prints: colour, human times, JSON, and the claims layout.

Colour is on only when stdout is a terminal and ``NO_COLOR`` is unset or empty (no-color.org), so
pipes, files and scripts get plain text. ``--json`` output is a stable document for scripts: its
keys never depend on the terminal.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

# Claims whose numeric value is a time (RFC 7519 NumericDate, plus common extensions).
TIME_CLAIMS = ("exp", "nbf", "iat", "auth_time", "updated_at")

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}


def colour_enabled(mode: str, stream: TextIO | None = None) -> bool:
    """``auto`` means: a terminal, and NO_COLOR unset or empty."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    stream = stream if stream is not None else sys.stdout
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Printer:
    """Writes to stdout (results) and stderr (notes, warnings, errors), colouring when enabled."""

    def __init__(self, colour: bool, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.colour = colour
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr

    def paint(self, text: str, *styles: str) -> str:
        if not self.colour or not styles:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def line(self, text: str = "") -> None:
        print(text, file=self.out)

    def note(self, text: str) -> None:
        print(text, file=self.err)

    def warn(self, text: str) -> None:
        print(f"warning: {text}", file=self.err)


def emit_json(document: Mapping[str, Any], out: TextIO | None = None) -> None:
    """Print one JSON document (the ``--json`` output) with a trailing newline."""
    print(json.dumps(document, indent=2, ensure_ascii=False), file=out or sys.stdout)


# --- times ---------------------------------------------------------------------------------------


def iso(ts: float) -> str:
    """A NumericDate as an ISO 8601 UTC string (``2026-11-27T04:23:08Z``)."""
    try:
        moment = datetime.fromtimestamp(ts, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return "out of range"
    text = moment.isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")


def _half_up(value: float) -> int:
    # JavaScript's Math.round, not Python's round-half-to-even: the tools page writes the same
    # durations (audit findings quote them, and both must read alike).
    return math.floor(value + 0.5)


def span(seconds: float) -> str:
    """A rounded, human duration: ``45 s``, ``12 min``, ``3 h``, ``9 d``, ``6 years``.

    The tools page has the same function (``humanDuration`` in ``jose.js``).
    """
    seconds = abs(seconds)
    if seconds < 90:
        return f"{_half_up(seconds)} s"
    if seconds < 90 * 60:
        return f"{_half_up(seconds / 60)} min"
    if seconds < 2 * 86400:
        return f"{_half_up(seconds / 3600)} h"
    if seconds < 2 * 365 * 86400:
        return f"{_half_up(seconds / 86400)} d"
    return f"{_half_up(seconds / (365.25 * 86400))} years"


def plural(count: int, noun: str) -> str:
    """``1 known secret``, ``2 known secrets``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def relative(claim: str, ts: float, now: float) -> str:
    """How a time claim relates to ``now``: ``expires in 12 min``, ``expired 3 h ago``, ..."""
    delta = ts - now
    future = delta > 0
    if claim == "exp":
        return f"expires in {span(delta)}" if future else f"expired {span(delta)} ago"
    if claim == "nbf":
        return f"not valid for another {span(delta)}" if future else f"valid since {span(delta)}"
    if claim == "iat":
        return f"issued {span(delta)} in the future" if future else f"issued {span(delta)} ago"
    return f"in {span(delta)}" if future else f"{span(delta)} ago"


def time_info(claims: Mapping[str, Any], now: float) -> dict[str, dict[str, Any]]:
    """ISO date and relative phrase of every numeric time claim, for text and ``--json``."""
    info: dict[str, dict[str, Any]] = {}
    for name in TIME_CLAIMS:
        value = claims.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            info[name] = {
                "iso": iso(value),
                "relative": relative(name, value, now),
                "seconds_from_now": round(value - now),
            }
    return info


def now_or(at: float | None) -> float:
    return time.time() if at is None else at


# --- the pretty, annotated object layout ----------------------------------------------------------


#: Characters of one value the human view shows: a 133 KB claim must not fill the terminal.
LONG_VALUE = 200


def shortened(text: str) -> str:
    """``text``, or its start and how long it is (``--json`` prints every value whole)."""
    if len(text) <= LONG_VALUE:
        return text
    return f"{text[:LONG_VALUE]}... ({len(text)} characters; --json shows all)"


def _value(printer: Printer, value: Any, indent: str) -> str:
    text = shortened(json.dumps(value, indent=2, ensure_ascii=False))
    if isinstance(value, str):
        return printer.paint(text, "green")
    if isinstance(value, bool) or value is None:
        return printer.paint(text, "magenta")
    if isinstance(value, int | float):
        return printer.paint(text, "yellow")
    return text.replace("\n", "\n" + indent)


def render_object(
    printer: Printer,
    title: str,
    obj: Mapping[str, Any],
    times: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Print ``obj`` as indented JSON-like text with time claims annotated as dates."""
    printer.line(printer.paint(title, "bold"))
    if not obj:
        printer.line("  {}")
        return
    for key, value in obj.items():
        name = printer.paint(json.dumps(key, ensure_ascii=False), "cyan")
        text = f"  {name}: {_value(printer, value, '  ')}"
        if times and key in times:
            t = times[key]
            text += "  " + printer.paint(f"# {t['iso']} ({t['relative']})", "dim")
        printer.line(text)
