"""Access-token policy as pure functions and one in-memory state class (no I/O).

Shared by :class:`~gatepass.strategies.access.AccessTokens`, its async twin and every revocation
backend, so that what "revoked" means is decided in one module (:func:`decide` for the denylist,
:meth:`RevocationCache.check` inlines the same three rules for the lookup-free hot path), and
when a replicated cache may be trusted (:class:`Replica`).

Same-second issue and the per-user cut-off
------------------------------------------
``iat`` is a whole number of seconds (RFC 7519 NumericDate, as every verifier expects). A cut-off
"every token issued before T for user U is invalid" compared against ``iat`` alone is wrong in one
direction or the other within the second of ``T``: comparing ``iat < floor(T)`` lets a token
issued at ``T - 0.3 s`` survive "log out everywhere"; comparing ``iat <= T`` rejects the token the
user gets by logging in again right after. So every access token also carries ``iat_us``, the
issue time in integer microseconds, and the cut-off is stored in microseconds: a token is revoked
by a cut-off when ``issued_us <= cutoff_us`` (ties revoke: the safe side). A token without
``iat_us`` (another issuer, or a forged claim set that omits it) is taken to have been issued at
the *start* of its ``iat`` second, again the safe side. Both times come from the issuing and
revoking processes' clocks: keep them NTP-synchronised; skew between them shifts the cut-off by
the skew.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from gatepass.errors import ConfigurationError, InvalidToken, RevokedToken, StoreUnavailable
from gatepass.stores.limits import check_id, storable_text
from gatepass.stores.records import RevocationEntry, RevocationLookup

logger = logging.getLogger("gatepass.revocation")

RevocationMode = Literal["stateless", "denylist", "replicated"]
MODES: tuple[RevocationMode, ...] = ("stateless", "denylist", "replicated")
ACCESS_TYP = "at+jwt"
ISSUED_US = "iat_us"
RESERVED = frozenset(
    {"iss", "aud", "sub", "iat", "exp", "nbf", "jti", "sid", "scope", "cnf", ISSUED_US}
)


def check_mode(mode: str) -> RevocationMode:
    if mode not in MODES:
        raise ConfigurationError(f"revocation must be one of {', '.join(MODES)}")
    return mode


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """``scopes`` as a tuple, each a non-empty string without spaces (the ``scope`` claim joins
    them with spaces: RFC 8693 4.2) that every store keeps (:func:`storable_text`): a refresh
    family stores its scopes, and a NUL or a lone surrogate was a driver error on one backend
    and stored as it was on another."""
    if isinstance(scopes, str):
        scope_list: tuple[str, ...] = (scopes,)
    else:
        try:
            scope_list = tuple(scopes)
        except TypeError:
            raise ConfigurationError("scopes must be a string or an iterable of strings") from None
    for scope in scope_list:
        if not isinstance(scope, str) or not scope or " " in scope or not storable_text(scope):
            raise ConfigurationError(
                "each scope must be a non-empty string without spaces, NUL or lone surrogates"
            )
    return scope_list


def check_jkt(jkt: object) -> str:
    """A DPoP key thumbprint as :attr:`DPoPProof.jkt` gives it (RFC 7638, base64url SHA-256);
    text every store keeps, as a refresh family stores it."""
    if not isinstance(jkt, str) or not 0 < len(jkt) <= 128 or not storable_text(jkt):
        raise ConfigurationError("jkt must be a DPoP key thumbprint (DPoPProof.jkt)")
    return jkt


def new_jti() -> str:
    """128 random bits, URL-safe: unguessable and collision-free at any realistic volume."""
    return secrets.token_urlsafe(16)


def build_claims(
    *,
    issuer: str,
    audience: str | Sequence[str],
    user_id: str,
    now: float,
    ttl: int,
    sid: str | None,
    scopes: Iterable[str],
    extra: Mapping[str, Any] | None,
    jkt: str | None = None,
) -> dict[str, Any]:
    """The claim set of one access token (RFC 9068 profile plus ``sid`` and ``iat_us``; with
    ``jkt``, bound to that DPoP key: ``cnf.jkt``, RFC 9449 6.1)."""
    user_id = check_id(user_id, "user_id")
    issued_us = int(now * 1_000_000)
    iat = issued_us // 1_000_000
    claims: dict[str, Any] = {}
    if extra is not None and not isinstance(extra, Mapping):
        raise ConfigurationError(f"claims must be a mapping, not {type(extra).__name__}")
    if extra:
        clash = RESERVED.intersection(extra)
        if clash:
            raise ConfigurationError(f"claims may not override {', '.join(sorted(clash))}")
        claims.update(extra)
    claims.update(
        iss=issuer,
        aud=audience if isinstance(audience, str) else list(audience),
        sub=user_id,
        iat=iat,
        exp=iat + ttl,
        jti=new_jti(),
    )
    claims[ISSUED_US] = issued_us
    if sid is not None:
        claims["sid"] = check_id(sid, "session id")
    scope_list = check_scopes(scopes)
    if scope_list:
        claims["scope"] = " ".join(scope_list)
    if jkt is not None:
        claims["cnf"] = {"jkt": check_jkt(jkt)}
    return claims


def issued_us(claims: Mapping[str, Any]) -> int:
    """The token's issue time in microseconds; the start of its ``iat`` second if no companion."""
    iat = claims.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise InvalidToken("access token has no integer iat")
    precise = claims.get(ISSUED_US)
    if isinstance(precise, int) and not isinstance(precise, bool) and precise // 1_000_000 == iat:
        return precise
    return iat * 1_000_000


def check_shape(claims: Mapping[str, Any]) -> None:
    """Claims every access token must have, typed (jwt.verify checks exp/iss/aud/typ).

    ``sub``, ``jti`` and ``sid`` are looked up in the store: text a store cannot hold (NUL, a
    lone surrogate, which JSON escapes can carry) is refused here, the same in every mode and
    on every store. gatepass never issues such a token (:func:`build_claims` checks the ids).
    """
    sub, jti, sid = claims.get("sub"), claims.get("jti"), claims.get("sid")
    if type(sub) is not str or type(jti) is not str or not sub or not jti:
        raise InvalidToken("access token claims 'sub' and 'jti' must be non-empty strings")
    if sid is not None and type(sid) is not str:
        raise InvalidToken("access token claim 'sid' is not a string")
    if not (storable_text(sub) and storable_text(jti) and (sid is None or storable_text(sid))):
        raise InvalidToken(
            "access token claims 'sub', 'jti' and 'sid' must be text a store can hold: no NUL, "
            "no lone surrogate"
        )


def cutoff_now(now: float) -> int:
    """The cut-off for "revoke every token issued up to now", in microseconds."""
    return int(now * 1_000_000)


_LOST = (
    "the revocation store lost its state (a restart without persistence?): every access token "
    "issued before that is refused until it has expired; log in or refresh again"
)


#: How far ahead of a verifier's clock a loss marker may be dated and still apply (seconds): the
#: largest ``leeway`` a verifier accepts. A verify that read its clock just before another
#: process wrote the marker, or a verifier whose clock lags a little, is well within it.
MAX_MARKER_AHEAD = 300.0


def before_loss(claims: Mapping[str, Any], since_us: int | None, now: float) -> bool:
    """Whether the token was issued before the store's loss marker, so that a revocation of it
    may have been lost: refused then, a global cut-off (fail closed).

    Every token issued before the marker has expired ``ttl`` after it (a longer-lived token is
    refused anyway), so the refusal ends by itself. A marker dated more than
    :data:`MAX_MARKER_AHEAD` after the verifier's clock is not applied: a clock that far behind
    (a test clock set in the past) would otherwise refuse every token it ever sees.
    """
    if since_us is None or since_us > (now + MAX_MARKER_AHEAD) * 1_000_000:
        return False
    return issued_us(claims) < since_us


def decide(claims: Mapping[str, Any], found: RevocationLookup, now: float) -> None:
    """Raise :class:`RevokedToken` if any of the three revocations applies to ``claims``, or if
    it was issued before the store lost its revocations (:func:`before_loss`)."""
    if found.jti:
        raise RevokedToken("access token has been revoked")
    if found.sid:
        raise RevokedToken("the session of this access token has been revoked")
    cutoff_us = found.cutoff_us
    if cutoff_us is not None and issued_us(claims) <= cutoff_us:
        raise RevokedToken("every access token of this user issued before the cut-off is revoked")
    if before_loss(claims, found.since_us, now):
        raise RevokedToken(_LOST)


class RevocationCache:
    """The in-memory denylist and cut-offs of one process (replicated mode).

    Updates are idempotent and commutative (add a jti, add a sid, raise a cut-off), so applying a
    snapshot and the live change stream in any order and with duplicates converges to the same
    state. ``fresh`` is False until the first full load and again from a lost change stream until
    the next full load: :meth:`check` then fails closed (the caller raises ``StoreUnavailable``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.jti: dict[str, float] = {}
        self.sid: dict[str, float] = {}
        self.cutoff: dict[str, tuple[int, float]] = {}
        #: The store's loss marker (µs; None: a store that keeps what it acknowledged).
        self.since_us: int | None = None
        self.fresh = False
        self.generation = 0  # bumped by each full load (monitoring, tests)

    def apply(self, entry: RevocationEntry) -> None:
        with self._lock:
            self._apply_locked(entry)

    def _apply_locked(self, entry: RevocationEntry) -> None:
        if entry.kind == "all":
            self.since_us = max(entry.value, self.since_us or 0)
        elif entry.kind == "jti":
            self.jti[entry.key] = max(entry.expires_at, self.jti.get(entry.key, 0.0))
        elif entry.kind == "sid":
            self.sid[entry.key] = max(entry.expires_at, self.sid.get(entry.key, 0.0))
        else:
            old = self.cutoff.get(entry.key)
            if old is None:
                self.cutoff[entry.key] = (entry.value, entry.expires_at)
            else:
                self.cutoff[entry.key] = (max(old[0], entry.value), max(old[1], entry.expires_at))

    def replace(self, entries: Iterable[RevocationEntry]) -> None:
        """A full reload: the snapshot plus whatever arrived meanwhile (idempotent merge)."""
        with self._lock:
            for entry in entries:
                self._apply_locked(entry)
            self.fresh = True
            self.generation += 1

    def mark_stale(self) -> None:
        self.fresh = False

    def purge(self, now: float) -> None:
        """Drop entries whose tokens have all expired (keeps memory bounded)."""
        with self._lock:
            self.jti = {k: v for k, v in self.jti.items() if v > now}
            self.sid = {k: v for k, v in self.sid.items() if v > now}
            self.cutoff = {k: v for k, v in self.cutoff.items() if v[1] > now}

    def check(self, claims: Mapping[str, Any], now: float) -> bool:
        """Raise ``RevokedToken`` if revoked; return False if the cache may not be trusted.

        The hot path of replicated mode: three dict lookups, written out inline, and the loss
        marker's comparison when the store has one.
        """
        if not self.fresh:
            return False
        if claims["jti"] in self.jti:
            raise RevokedToken("access token has been revoked")
        sid = claims.get("sid")
        if sid is not None and sid in self.sid:
            raise RevokedToken("the session of this access token has been revoked")
        cut = self.cutoff.get(claims["sub"])
        if cut is not None and issued_us(claims) <= cut[0]:
            raise RevokedToken(
                "every access token of this user issued before the cut-off is revoked"
            )
        if self.since_us is not None and before_loss(claims, self.since_us, now):
            raise RevokedToken(_LOST)
        return True


_LOSS_LOG = (
    "gatepass: the revocation store lost its state (its loss marker was missing: a Redis "
    "restart without persistence, a flush or a failover?); every access token issued before "
    "now is refused until it has expired (fail closed). Give Redis persistence (appendonly yes)."
)


#: The newest loss marker reported by this process (µs): each loss is logged once per process,
#: however many verifiers of the process notice it.
_reported = [0]


def lost_revocations(since_us: int) -> None:
    """Report a loss of the revocation store's state to the operator, once per loss and
    process (the denylist: the process whose lookup wrote the marker; replicated: each process
    that saw the marker move). A fixed text: nothing of a request reaches the log."""
    if since_us > _reported[0]:
        _reported[0] = since_us
        logger.error(_LOSS_LOG)


#: Seconds between the feeds' heartbeats; ``max_silence`` must exceed it.
HEARTBEAT = 1.0


class Replica:
    """A :class:`RevocationCache` plus the bookkeeping that says whether it may be trusted.

    Trusted only while the change stream is known to be intact: not before the first full load,
    not from a known failure until the next full load, and not after ``max_silence`` seconds
    without a sign of life from the stream (a silently dropped connection, a dead listener).
    """

    def __init__(self, max_silence: float, clock: Callable[[], float]) -> None:
        if max_silence <= HEARTBEAT:
            raise ConfigurationError(f"max_silence must exceed the {HEARTBEAT} s heartbeat")
        self.cache = RevocationCache()
        self.max_silence = max_silence
        self.clock = clock  # wall clock for expiry of entries (the tokens' clock)
        self.beat = time.monotonic()
        self.error: str | None = "not loaded yet"

    def alive(self) -> None:
        self.beat = time.monotonic()

    def silent(self) -> bool:
        return time.monotonic() - self.beat > self.max_silence

    def lost(self, reason: str) -> None:
        self.cache.mark_stale()
        self.error = reason

    def loaded(self, entries: list[RevocationEntry]) -> None:
        before = self.cache.since_us
        self.cache.replace(entries)
        self.error = None
        self.alive()
        after = self.cache.since_us
        if before is not None and after is not None and after > before:
            lost_revocations(after)

    def check(self, claims: Mapping[str, Any], now: float) -> None:
        # A known failure explains more than the silence it causes, so it is reported first.
        if self.error is not None and not self.cache.fresh:
            raise StoreUnavailable(
                f"revocation cache not synchronised ({self.error}); failing closed"
            )
        if self.silent():
            raise StoreUnavailable(
                f"revocation stream silent for more than {self.max_silence} s; failing closed"
            )
        if not self.cache.check(claims, now):
            raise StoreUnavailable(
                f"revocation cache not synchronised ({self.error}); failing closed"
            )
