"""The comparison as one self-contained HTML page: charts and the full table.

Nothing on the page is fetched: no script at all, the charts are inline SVG, the only style
sheet is inline and allowed by its hash in a Content-Security-Policy ``<meta>`` whose
``default-src 'none'`` forbids every request (images, fonts, frames, connections). The page
can be opened from disk, mailed or attached to a ticket as it is.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from gatepass.compare import wording
from gatepass.compare.charts import COLOURS, Bar, bar_chart
from gatepass.compare.report_text import PROPERTIES
from gatepass.compare.rows import DESIGNS, Row
from gatepass.compare.run import Report
from gatepass.compare.settings import duration

_STYLE = """
:root { color-scheme: light dark; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1400px;
       padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; }
svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 12.5px; }
th, td { border: 1px solid #8885; padding: .35rem .5rem; vertical-align: top; text-align: left; }
th { position: sticky; top: 0; background: Canvas; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.skipped { font-style: italic; }
td p { margin: 0 0 .3rem; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .4em; }
.design-session { background: #2f6fb3; } .design-jwt { background: #c0612b; }
.design-denylist { background: #7b4fa8; } .design-replicated { background: #2e8b57; }
.design-hybrid { background: #b8860b; }
.design-hybrid-dpop { background: #6b8e23; }
""".strip()


def _hash(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def content_security_policy() -> str:
    """Nothing may load: no script, no image, no font, no connection; only the inline style."""
    return (
        f"default-src 'none'; style-src 'sha256-{_hash(_STYLE)}'; "
        "base-uri 'none'; form-action 'none'"
    )


def _measured(report: Report) -> list[Row]:
    return [r for r in report.rows if r.skipped is None]


def _charts(report: Report) -> str:
    rows = _measured(report)
    cost = [
        Bar(r.label, r.design, r.cost.median_us, f"{wording.micros(r.cost.median_us)} µs")
        for r in rows
        if r.cost is not None
    ]
    size = [Bar(r.label, r.design, r.bytes, wording.size(r)) for r in rows if r.bytes is not None]
    delay = []
    for r in rows:
        rev = r.revocation
        if rev is None:
            continue
        if not rev.revocable:
            ttl = duration(rev.ttl_s or 0)
            delay.append(Bar(r.label, r.design, 1.0, f"never: valid until exp ({ttl})", True))
        elif rev.median_ms is not None:
            delay.append(Bar(r.label, r.design, rev.median_ms, wording.millis(rev.median_ms)))
        else:
            delay.append(Bar(r.label, r.design, None, f"not measured: {rev.failure}"))
    return "\n".join(
        [
            "<h2>Verification cost per request</h2>",
            bar_chart("Verification cost per request (median)", cost, unit="µs per request"),
            "<h2>Bytes carried per request</h2>",
            bar_chart("Bytes of the header carrying the credential", size, unit="bytes"),
            "<h2>Revocation delay</h2>",
            "<p>From the start of the revocation to the first refused request elsewhere. "
            "Stateless tokens cannot be revoked: they stay valid until <code>exp</code>.</p>",
            bar_chart("Revocation delay (median)", delay, unit="milliseconds", log=True),
        ]
    )


def _cell(text: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{escape(text)}</td>"


_MEASURED = (
    "design",
    "state lives",
    "bytes / request",
    "verify µs (median)",
    "× SQLite session",
    "revocation delay",
)
#: The design-level properties (everything but "state lives", which is in the first table).
_IMPLIED = tuple((key, heading) for key, heading in PROPERTIES if key != "state")


def _name(row: Row) -> str:
    return f'<td><span class="swatch design-{row.design}"></span>{escape(row.label)}</td>'


def _measured_table(report: Report) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in _MEASURED)
    body = []
    for r in report.rows:
        if r.skipped is not None:
            cells = (
                f'<td class="skipped" colspan="{len(_MEASURED) - 1}">'
                f"{escape(f'not measured: {r.skipped}')}</td>"
            )
        else:
            cells = "".join(
                [
                    _cell(r.facts.state),
                    _cell(wording.size(r), "num"),
                    _cell(wording.cost(r), "num"),
                    _cell(wording.times_baseline(r), "num"),
                    _cell(wording.revocation(r)),
                ]
            )
        body.append(f'<tr id="{escape(r.id)}">{_name(r)}{cells}</tr>')
    return _table("measured", head, body)


def _implied_table(report: Report) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in ("design", *(h for _, h in _IMPLIED)))
    body = []
    for design, group in wording.by_design(report.rows):
        variants = ", ".join(r.variant for r in group)
        name = (
            f'<td><span class="swatch design-{design}"></span>'
            f"{escape(DESIGNS[design])} ({escape(variants)})</td>"
        )
        cells = []
        for key, _ in _IMPLIED:
            texts = wording.shared_texts(group, key)
            if len(texts) == 1:
                cells.append(_cell(texts[0][1]))
            else:
                parts = "".join(
                    f"<p><b>{escape(', '.join(v))}</b>: {escape(t)}</p>" for v, t in texts
                )
                cells.append(f"<td>{parts}</td>")
        body.append(f'<tr id="design-{design}">{name}{"".join(cells)}</tr>')
    return _table("implied", head, body)


def _table(table_id: str, head: str, body: list[str]) -> str:
    rows = "\n".join(body)
    return (
        f'<table id="{table_id}">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>'
        "</table>"
    )


def render(report: Report) -> str:
    m = report.machine
    notes = wording.notes(report.rows, report.warnings)
    title = f"gatepass compare: {wording.TITLE}"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{content_security_policy()}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>{escape(title)}</h1>
<dl>
<dt>measured</dt><dd>{escape(report.started)} ({report.seconds:.1f} s)</dd>
<dt>machine</dt><dd>{escape(wording.machine(m))}</dd>
<dt>software</dt><dd>{escape(m.software())}</dd>
<dt>method</dt><dd>{escape(wording.method(report.settings))}</dd>
</dl>
{_charts(report)}
<h2>The table</h2>
{_measured_table(report)}
<h2>What each design implies</h2>
{_implied_table(report)}
{"".join(f"<p>{escape(n)}</p>" for n in notes)}
</body>
</html>
"""


__all__ = ["COLOURS", "content_security_policy", "render"]
