"""``gatepass compare`` as text: the machine, every row with every measured column, and every
property of every design; the numbers are the report's own."""

from __future__ import annotations

import pytest
from rowcheck import ROW_IDS

from gatepass.compare import report_text, wording
from gatepass.compare.rows import DESIGNS
from gatepass.compare.run import Report

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def text(report: Report) -> str:
    return report_text.render(report)


def _line(text: str, label: str) -> str:
    (found,) = [line for line in text.splitlines() if line.startswith(label + "  ")]
    return found


def test_the_machine_is_described_first(report: Report, text: str) -> None:
    head = "\n".join(text.splitlines()[:12])
    assert head.startswith("gatepass compare: the article's table, measured on this machine")
    for word in ("machine", "software", "method", "CPython", "cryptography", "OpenSSL"):
        assert word in head
    for name in ("SQLite", "Redis", "PostgreSQL"):
        assert name in head
    assert report.machine.cpu in head and report.machine.sqlite in head


def test_every_row_shows_every_measured_column(report: Report, text: str) -> None:
    header = _line(text, "design")
    for column in report_text.COLUMNS[1:]:
        assert column in header
    assert [r.id for r in report.rows] == ROW_IDS
    for row in report.rows:
        line = _line(text, row.label)
        assert row.cost is not None and row.bytes is not None and row.ratio is not None
        assert f"  {wording.size(row)}  " in line
        assert f"  {wording.micros(row.cost.median_us)}  " in line
        assert f"  {wording.ratio(row.ratio)}  " in line
        assert line.endswith(wording.revocation(row))


def test_revocation_reads_as_measured(report: Report, text: str) -> None:
    for row in report.rows:
        line = _line(text, row.label)
        rev = row.revocation
        assert rev is not None
        if row.design == "jwt":
            assert line.endswith("cannot be revoked: valid until exp (15 min)")
        elif row.design in {"hybrid", "hybrid-dpop"}:
            assert rev.median_ms is not None
            assert f"refresh: {wording.millis(rev.median_ms)}, the next request" in line
            assert line.endswith("access token: valid until exp (15 min)")
        elif row.design == "replicated":
            assert rev.median_ms is not None
            assert f"{wording.millis(rev.median_ms)}, propagated (another process)" in line
        else:
            assert rev.median_ms is not None
            assert f"{wording.millis(rev.median_ms)}, the next request" in line


def test_every_property_of_every_design(report: Report, text: str) -> None:
    for design, name in DESIGNS.items():
        start = text.index(f"\n{name} (")
        block = text[start:].split("\n\n", 1)[0]
        for _, heading in report_text.PROPERTIES:
            assert f"\n  {heading}" in block, (design, heading)
        flat = " ".join(block.split())
        for row in report.rows:
            if row.design == design:
                for fact in vars(row.facts).values():  # each one whole, however it was wrapped
                    assert " ".join(fact.split()) in flat, (row.id, fact)
    assert "SameSite=Lax" in text and "__Host-session" in text and "/auth/refresh" in text


def test_the_hybrid_refresh_cost_is_noted(report: Report, text: str) -> None:
    for row in report.rows:
        if row.design in {"hybrid", "hybrid-dpop"}:
            assert row.rotate_cost is not None
            cost = wording.elapsed(row.rotate_cost.median_us)
            assert f"{row.label}: one refresh rotation costs {cost}," in text
