"""How numbers and verdicts are written, the same in the text, the JSON-fed page and the docs."""

from __future__ import annotations

from gatepass.compare.headers import COOKIES
from gatepass.compare.machine import Machine
from gatepass.compare.revocation import Revocation
from gatepass.compare.rows import DESIGNS, Row
from gatepass.compare.settings import Settings, duration

TITLE = "the article's table, measured on this machine"


def machine(m: Machine) -> str:
    load = ""
    if m.load_average is not None:
        load = "; load average " + " ".join(f"{x:.2f}" for x in m.load_average) + " at the start"
    return f"{m.cpu}, {m.logical_cpus} logical CPUs, {m.system}{load}"


def method(s: Settings) -> str:
    return (
        f"verify: median of {s.rounds} rounds of at least {s.batch * 1e3:g} ms of back-to-back "
        "calls, ratios against a SQLite session lookup; revocation: median of "
        f"{s.trials} trials, revoked here, the first refused request seen by another process; "
        f"bytes: the request header carrying the credential (Cookie: {COOKIES.session}=... "
        "or Authorization: Bearer ...) without its CRLF"
    )


def micros(value: float) -> str:
    """``6.94`` -> ``6.9``; ``82.9`` -> ``83``."""
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def elapsed(us: float) -> str:
    """Microseconds written in the unit that reads best: ``566 µs``, ``1.2 ms``."""
    return f"{micros(us)} µs" if us < 999.5 else millis(us / 1000)  # never "1000 µs"


def millis(value: float) -> str:
    """``0.0632`` -> ``0.06 ms``; ``1.31`` -> ``1.3 ms``; ``50.5`` -> ``50 ms``."""
    if value < 1:
        return f"{value:.2f} ms"
    return f"{value:.1f} ms" if value < 10 else f"{value:.0f} ms"


def ratio(value: float) -> str:
    return f"{value:.2f}x" if value < 10 else f"{value:.0f}x"


def _delay(rev: Revocation, how: str) -> str:
    if rev.failure is not None:
        return f"not measured: {rev.failure}"
    if not rev.revocable:
        return f"cannot be revoked: valid until exp ({duration(rev.ttl_s or 0)})"
    median = rev.median_ms
    if median is None:
        return "not measured"
    return f"{millis(median)}, {how} ({rev.observer})"


def revocation(row: Row) -> str:
    """The revocation-delay cell: measured delay, or why there is none."""
    if row.revocation is None:
        return "-"
    # Replicated revocation travels to each process; the others are read on the next request.
    how = "propagated" if row.design == "replicated" else "the next request"
    text = _delay(row.revocation, how)
    if row.access_revocation is None:
        return text
    access = _delay(row.access_revocation, how).removeprefix("cannot be revoked: ")
    return f"refresh: {text}; access token: {access}"


def size(row: Row) -> str:
    if row.bytes is None:
        return "-"
    if row.refresh_bytes is None:
        return str(row.bytes)
    return f"{row.bytes} (+{row.refresh_bytes} on refresh)"


def cost(row: Row) -> str:
    return "-" if row.cost is None else micros(row.cost.median_us)


def times_baseline(row: Row) -> str:
    return "-" if row.ratio is None else ratio(row.ratio)


def notes(rows: list[Row], warnings: list[str]) -> list[str]:
    """What the table cannot show: the hybrid's refresh cost, and anything left behind."""
    lines = [
        f"{r.label}: one refresh rotation costs {elapsed(r.rotate_cost.median_us)}, "
        "once per client every access-token lifetime"
        for r in rows
        if r.rotate_cost is not None
    ]
    for r in rows:
        if r.copied:
            tried = "; ".join(
                f"{a.attempt}: {f'refused ({a.code})' if a.refused else 'accepted'}"
                for a in r.copied
            )
            lines.append(f"{r.label}: copies presented by another client: {tried}")
    return lines + [f"warning: {w}" for w in warnings]


def by_design(rows: list[Row]) -> list[tuple[str, list[Row]]]:
    """The rows grouped by design, in table order."""
    return [
        (d, [r for r in rows if r.design == d]) for d in DESIGNS if any(r.design == d for r in rows)
    ]


def shared_texts(group: list[Row], key: str) -> list[tuple[list[str], str]]:
    """The text of property ``key`` across ``group``: one entry per distinct text, with the
    variants that share it (a single entry when all agree)."""
    by_text: dict[str, list[str]] = {}
    for row in group:
        by_text.setdefault(getattr(row.facts, key), []).append(row.variant)
    return [(variants, text) for text, variants in by_text.items()]
