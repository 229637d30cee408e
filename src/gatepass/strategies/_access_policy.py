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

import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from gatepass.errors import ConfigurationError, InvalidToken, RevokedToken, StoreUnavailable
from gatepass.stores.records import RevocationEntry, RevocationLookup

RevocationMode = Literal["stateless", "denylist", "replicated"]
MODES: tuple[RevocationMode, ...] = ("stateless", "denylist", "replicated")
ACCESS_TYP = "at+jwt"
ISSUED_US = "iat_us"
RESERVED = frozenset(
    {"iss", "aud", "sub", "iat", "exp", "nbf", "jti", "sid", "scope", "cnf", ISSUED_US}
)
MAX_ID = 255


def check_mode(mode: str) -> RevocationMode:
    if mode not in MODES:
        raise ConfigurationError(f"revocation must be one of {', '.join(MODES)}")
    return mode


def check_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID:
        raise ConfigurationError(f"{what} must be a non-empty string of at most {MAX_ID} chars")
    return value


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """``scopes`` as a tuple, each a non-empty string without spaces (the ``scope`` claim joins
    them with spaces: RFC 8693 4.2)."""
    scope_list = (scopes,) if isinstance(scopes, str) else tuple(scopes)
    for scope in scope_list:
        if not isinstance(scope, str) or not scope or " " in scope:
            raise ConfigurationError("each scope must be a non-empty string without spaces")
    return scope_list


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
    check_id(user_id, "user_id")
    issued_us = int(now * 1_000_000)
    iat = issued_us // 1_000_000
    claims: dict[str, Any] = {}
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
        if not isinstance(jkt, str) or not 0 < len(jkt) <= 128:
            raise ConfigurationError("jkt must be a DPoP key thumbprint (DPoPProof.jkt)")
        claims["cnf"] = {"jkt": jkt}
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
    """Claims every access token must have, typed (jwt.verify checks exp/iss/aud/typ)."""
    sub, jti, sid = claims.get("sub"), claims.get("jti"), claims.get("sid")
    if type(sub) is not str or type(jti) is not str or not sub or not jti:
        raise InvalidToken("access token claims 'sub' and 'jti' must be non-empty strings")
    if sid is not None and type(sid) is not str:
        raise InvalidToken("access token claim 'sid' is not a string")


def cutoff_now(now: float) -> int:
    """The cut-off for "revoke every token issued up to now", in microseconds."""
    return int(now * 1_000_000)


def decide(claims: Mapping[str, Any], found: RevocationLookup) -> None:
    """Raise :class:`RevokedToken` if any of the three revocations applies to ``claims``."""
    if found.jti:
        raise RevokedToken("access token has been revoked")
    if found.sid:
        raise RevokedToken("the session of this access token has been revoked")
    cutoff_us = found.cutoff_us
    if cutoff_us is not None and issued_us(claims) <= cutoff_us:
        raise RevokedToken("every access token of this user issued before the cut-off is revoked")


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
        self.fresh = False
        self.generation = 0  # bumped by each full load (monitoring, tests)

    def apply(self, entry: RevocationEntry) -> None:
        with self._lock:
            self._apply_locked(entry)

    def _apply_locked(self, entry: RevocationEntry) -> None:
        if entry.kind == "jti":
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

    def check(self, claims: Mapping[str, Any]) -> bool:
        """Raise ``RevokedToken`` if revoked; return False if the cache may not be trusted.

        The hot path of replicated mode: three dict lookups, written out inline.
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
        return True


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
        self.cache.replace(entries)
        self.error = None
        self.alive()

    def check(self, claims: Mapping[str, Any]) -> None:
        # A known failure explains more than the silence it causes, so it is reported first.
        if self.error is not None and not self.cache.fresh:
            raise StoreUnavailable(
                f"revocation cache not synchronised ({self.error}); failing closed"
            )
        if self.silent():
            raise StoreUnavailable(
                f"revocation stream silent for more than {self.max_silence} s; failing closed"
            )
        if not self.cache.check(claims):
            raise StoreUnavailable(
                f"revocation cache not synchronised ({self.error}); failing closed"
            )
