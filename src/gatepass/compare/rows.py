"""One row of the comparison: a design (and its store or algorithm), measured or not."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from gatepass.compare.facts import Facts
from gatepass.compare.revocation import Revocation
from gatepass.compare.timing import Cost

#: The designs, in table order, with the names printed for them.
DESIGNS = {
    "session": "session cookie",
    "jwt": "stateless JWT",
    "denylist": "JWT + denylist",
    "replicated": "JWT + replicated revocation",
    "hybrid": "hybrid",
    "hybrid-dpop": "hybrid + DPoP",
}


@dataclass(frozen=True)
class Attempt:
    """A copied credential presented by another client: was it refused, and with what code."""

    attempt: str
    refused: bool
    code: str | None


@dataclass
class Row:
    design: str  # a key of DESIGNS
    variant: str  # the store or the algorithm
    facts: Facts
    #: Why this row was not measured (None when it was).
    skipped: str | None = None
    #: The header line carrying the credential on every request, as sent.
    header: str | None = None
    #: The header sent to the refresh endpoint only (hybrid).
    refresh_header: str | None = None
    #: What one request's verification is, e.g. ``Sessions.get: one SQLite lookup``.
    verify_what: str = ""
    cost: Cost | None = None
    #: The hybrid's occasional extra: one refresh rotation.
    rotate_cost: Cost | None = None
    #: ``cost`` over the baseline's (a SQLite session lookup).
    ratio: float | None = None
    revocation: Revocation | None = None
    #: The hybrid's access token, which follows its own revocation mode.
    access_revocation: Revocation | None = None
    #: Copies of the credentials presented by another client (the hybrid rows).
    copied: list[Attempt] | None = None

    @property
    def id(self) -> str:
        return f"{self.design}-{self.variant.lower()}"

    @property
    def label(self) -> str:
        return f"{DESIGNS[self.design]} · {self.variant}"

    @property
    def bytes(self) -> int | None:
        return None if self.header is None else len(self.header.encode("latin-1"))

    @property
    def refresh_bytes(self) -> int | None:
        if self.refresh_header is None:
            return None
        return len(self.refresh_header.encode("latin-1"))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "design": self.design,
            "variant": self.variant,
            "label": self.label,
            "measured": self.skipped is None,
            "not_measured_because": self.skipped,
            "state_lives": self.facts.state,
            "bytes_per_request": self.bytes,
            "header": self.header,
            "refresh_bytes": self.refresh_bytes,
            "refresh_header": self.refresh_header,
            "verify": {
                "what": self.verify_what,
                **(asdict(self.cost) if self.cost else {}),
            },
            "rotate": asdict(self.rotate_cost) if self.rotate_cost else None,
            "ratio_to_baseline": self.ratio,
            "revocation": _revocation(self.revocation),
            "access_revocation": _revocation(self.access_revocation),
            "copied": None if self.copied is None else [asdict(a) for a in self.copied],
            "stolen_credential": self.facts.stolen,
            "xss": self.facts.xss,
            "csrf": self.facts.csrf,
            "infrastructure": self.facts.infrastructure,
            "cross_domain": self.facts.cross_domain,
        }


def _revocation(revocation: Revocation | None) -> dict[str, Any] | None:
    if revocation is None:
        return None
    return {**asdict(revocation), "median_ms": revocation.median_ms}
