"""Horizontal bar charts as inline SVG: drawn once, here, with no script and nothing fetched.

Presentation attributes (``fill``, ``font-size``) style the bars, so the page's
Content-Security-Policy needs no inline ``style=`` attribute and no script at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

_WIDTH = 860
_LABEL = 330
_VALUE = 300
_ROW = 24
_BAR = 16
#: Colour per design (the same in every chart and in the table's swatches).
COLOURS = {
    "session": "#2f6fb3",
    "jwt": "#c0612b",
    "denylist": "#7b4fa8",
    "replicated": "#2e8b57",
    "hybrid": "#b8860b",
    "hybrid-dpop": "#6b8e23",
}
_NEVER = "#b23b3b"


@dataclass(frozen=True)
class Bar:
    label: str
    design: str
    #: The length to draw; None draws no bar (only ``text``).
    value: float | None
    #: The number written after the bar.
    text: str
    #: A credential that cannot be revoked: drawn to the end of the axis in red.
    never: bool = False


def _position(value: float, top: float, log: bool, floor: float) -> float:
    if top <= 0:
        return 0.0
    if not log:
        return value / top
    low = math.log10(floor)
    return max(0.0, (math.log10(max(value, floor)) - low) / (math.log10(top) - low))


def bar_chart(title: str, bars: list[Bar], *, unit: str, log: bool = False) -> str:
    """An accessible SVG (``role=img`` with a title) of one bar per row."""
    values = [b.value for b in bars if b.value is not None and b.value > 0]
    top = max(values, default=1.0)
    floor = min(values, default=1.0) / 2 if log else 0.0
    span = _WIDTH - _LABEL - _VALUE
    height = _ROW * len(bars) + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" '
        f'width="{_WIDTH}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, bar in enumerate(bars):
        y = 6 + i * _ROW
        colour = _NEVER if bar.never else COLOURS.get(bar.design, "#555")
        out.append(
            f'<text x="{_LABEL - 8}" y="{y + 12}" text-anchor="end" font-size="12" '
            f'fill="currentColor">{escape(bar.label)}</text>'
        )
        end = float(_LABEL)
        if bar.value is not None:
            fraction = 1.0 if bar.never else _position(bar.value, top, log, floor)
            length = max(1.0, fraction * span)
            out.append(
                f'<rect x="{_LABEL}" y="{y}" width="{length:.1f}" height="{_BAR}" '
                f'fill="{colour}"><title>{escape(bar.label)}: {escape(bar.text)}</title></rect>'
            )
            end = _LABEL + length
        out.append(
            f'<text x="{end + 6:.1f}" y="{y + 12}" font-size="12" '
            f'fill="currentColor">{escape(bar.text)}</text>'
        )
    axis_y = 6 + len(bars) * _ROW + 12
    scale = "logarithmic scale" if log else "linear scale"
    out.append(
        f'<text x="{_LABEL}" y="{axis_y}" font-size="11" fill="currentColor">'
        f"{escape(unit)}, {scale}</text>"
    )
    out.append("</svg>")
    return "\n".join(out)
