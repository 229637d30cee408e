"""Run the whole comparison: open the stores, measure every row, describe the machine."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from gatepass.compare import designs, dpop_row, facts
from gatepass.compare.machine import Machine, describe
from gatepass.compare.rows import Row
from gatepass.compare.settings import Settings
from gatepass.compare.targets import Target, open_targets
from gatepass.errors import GatepassError

#: Ratios are taken against this row: a session lookup on the default store.
BASELINE = "session-sqlite"


@dataclass
class Report:
    machine: Machine
    settings: Settings
    rows: list[Row]
    started: str
    seconds: float
    warnings: list[str] = field(default_factory=list)
    #: The stores, as :meth:`gatepass.compare.targets.Targets.describe` reports them.
    stores: list[dict[str, Any]] = field(default_factory=list)
    baseline: str = BASELINE

    def row(self, row_id: str) -> Row:
        return next(r for r in self.rows if r.id == row_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "seconds": round(self.seconds, 2),
            "machine": asdict(self.machine),
            "settings": asdict(self.settings),
            "stores": self.stores,
            "baseline": self.baseline,
            "rows": [row.to_json() for row in self.rows],
            "warnings": self.warnings,
        }


#: Measures one row of a store (or of an algorithm) into the row.
StoreMeasure = Callable[[Row, Target, designs.Context], None]
_TOKEN_DESIGNS: tuple[tuple[str, StoreMeasure], ...] = (
    ("denylist", designs.denylist_row),
    ("replicated", designs.replicated_row),
    ("hybrid", designs.hybrid_row),
    ("hybrid-dpop", dpop_row.hybrid_dpop_row),
)


def _plan(targets: list[Target], ctx: designs.Context) -> list[tuple[Row, Callable[[], None]]]:
    """Every row in table order, each with what measures it. Token revocation is measured on
    the stores a second process can open (``memory://`` cannot show "another process")."""
    s = ctx.settings

    def row(design: str, variant: str, skipped: str | None = None) -> Row:
        return Row(design, variant, facts.for_design(design, variant, s), skipped=skipped)

    plan: list[tuple[Row, Callable[[], None]]] = []
    for t in targets:
        r = row("session", t.name, t.skipped)
        plan.append((r, functools.partial(designs.session_row, r, t, ctx)))
    for alg in s.algs:
        r = row("jwt", alg)
        plan.append((r, functools.partial(designs.stateless_row, r, alg, ctx)))
    for design, measure in _TOKEN_DESIGNS:
        for t in (t for t in targets if t.shared):
            r = row(design, t.name, t.skipped)
            plan.append((r, functools.partial(measure, r, t, ctx)))
    return plan


def compare(
    settings: Settings,
    *,
    redis: str | None = None,
    postgres: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Measure every row. ``redis`` / ``postgres``: a URL, ``"off"``, or None for the usual
    local address when something answers there."""
    started = time.monotonic()
    machine = describe()
    stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    rows: list[Row] = []
    with open_targets(redis, postgres) as targets:
        for target in targets.all:
            if target.version is not None:
                machine.servers[target.name] = target.version
        stores = targets.describe()
        ctx = designs.Context(settings)
        try:
            for row, measure in _plan(targets.all, ctx):
                if row.skipped is None:
                    if progress is not None:
                        progress(f"measuring {row.label}")
                    _measure(row, measure)
                rows.append(row)
        finally:
            ctx.close()
    report = Report(machine, settings, rows, stamp, time.monotonic() - started)
    report.warnings = targets.warnings
    report.stores = stores
    _ratios(report)
    return report


def _measure(row: Row, measure: Callable[[], None]) -> None:
    """Measure ``row``; if that fails, the row says so instead of showing partial numbers."""
    try:
        measure()
    except GatepassError as exc:
        row.skipped = f"the measurement failed: {exc.code}: {exc}"
        row.cost = row.rotate_cost = None
        row.revocation = row.access_revocation = None


def _ratios(report: Report) -> None:
    base = next((r for r in report.rows if r.id == report.baseline), None)
    if base is None or base.cost is None:
        return
    for row in report.rows:
        if row.cost is not None:
            row.ratio = row.cost.median_us / base.cost.median_us
