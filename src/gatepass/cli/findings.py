"""A review finding (id, severity, title, why, fix) and how the command prints a list of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gatepass.cli.output import Printer

SEVERITIES = ("critical", "high", "medium", "low", "info")
_RANK = {name: index for index, name in enumerate(SEVERITIES)}
_STYLE = {
    "critical": ("bold", "red"),
    "high": ("red",),
    "medium": ("yellow",),
    "low": ("cyan",),
    "info": ("dim",),
}


@dataclass(frozen=True)
class Finding:
    id: str
    severity: str
    title: str
    why: str
    fix: str = ""

    @property
    def serious(self) -> bool:
        return _RANK[self.severity] <= _RANK["high"]

    def at_least(self, severity: str) -> bool:
        return _RANK[self.severity] <= _RANK[severity]

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "severity": self.severity,
            "title": self.title,
            "why": self.why,
            "fix": self.fix,
        }


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first; findings of one severity keep the order the rules produced them in."""
    return sorted(findings, key=lambda f: _RANK[f.severity])


def print_finding(printer: Printer, finding: Finding, *, brief: bool = False) -> None:
    label = printer.paint(f"[{finding.severity.upper()}]", *_STYLE[finding.severity])
    printer.line(f"  {label} {finding.id}: {finding.title}")
    if not brief:
        printer.line(f"      why: {finding.why}")
        if finding.fix:
            printer.line(f"      fix: {finding.fix}")
