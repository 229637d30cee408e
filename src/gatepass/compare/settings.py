"""How much a comparison measures, and the configuration every design is measured with."""

from __future__ import annotations

from dataclasses import dataclass

MINUTE = 60
HOUR = 3600
DAY = 86400


@dataclass(frozen=True)
class Settings:
    #: Timed rounds per verification cost (the median is reported).
    rounds: int = 15
    #: Revocation trials per design (the median delay is reported).
    trials: int = 5
    #: Seconds of back-to-back calls per timed round.
    batch: float = 0.02
    #: Stateless algorithms, one row each.
    algs: tuple[str, ...] = ("HS256", "RS256", "ES256", "EdDSA")
    #: The algorithm of the denylist, replicated and hybrid rows (gatepass's default choice).
    token_alg: str = "ES256"
    #: Access-token lifetime: the article's 15 minutes.
    ttl: int = 15 * MINUTE
    #: Session limits (gatepass's defaults).
    idle: int = 30 * MINUTE
    absolute: int = 12 * HOUR
    #: Refresh-family limits (gatepass's defaults).
    refresh_idle: int = 14 * DAY
    refresh_absolute: int = 30 * DAY

    @classmethod
    def quick(cls) -> Settings:
        """The reduced run the test suite uses: every row and column, few and short rounds."""
        return cls(rounds=3, trials=2, batch=0.002)


def duration(seconds: float) -> str:
    """``900`` -> ``15 min``; ``43200`` -> ``12 h``; ``1209600`` -> ``14 d``."""
    for unit, size in (("d", DAY), ("h", HOUR), ("min", MINUTE)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"
