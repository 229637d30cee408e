"""The store contract, one typed protocol per concern, blocking and asyncio.

A *store* (what :func:`gatepass.open_store` / :func:`gatepass.open_async_store` return) keeps
four kinds of state on one connection or pool: sessions (:class:`SessionStore`), refresh-token
families (:class:`FamilyStore`), access-token revocations with their change feed
(:class:`RevocationStore`) and the DPoP proofs already accepted (:class:`ProofStore`). Each
backend implements every protocol once, in its own package
(``gatepass.stores.memory``, ``.sqlite``, ``.redis``, ``.postgres``); the strategies call them
only through these protocols and never ask which backend they have.

Stores decide nothing. They store, read, and apply compare-and-set writes: a write that names the
state it was decided on (``current``, a :class:`~gatepass.stores.records.FamilyRead`) and applies
only if that state still holds, returning False otherwise, so the caller reads again and decides
again. Every rule (is this session live, is a touch due, is this rotation a reuse, how long must
an entry be kept) is in the strategies' policy modules. Every method raises ``StoreUnavailable``
when the backend cannot answer and ``StoreError`` for anything else that went wrong; never a
driver exception.

Times are seconds since the epoch. Token hashes are ``sha256(token)`` (32 bytes): stores never see
a token. ``tag`` is the 4-character routing tag every token carries (a user's keys share it, so
Redis Cluster keeps them in one slot); ``session_get`` receives it unchecked (the hot path does
not check it) and a backend that builds a key from it must check it and answer None otherwise.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from gatepass.stores.records import (
    Family,
    FamilyRead,
    RevocationEntry,
    RevocationLookup,
    SessionRecord,
)


class SessionStore(Protocol):
    """Server-side sessions by token hash, indexed by user (blocking)."""

    def session_create(
        self, token_hash: bytes, record: SessionRecord, tag: str, *, keep_until: float
    ) -> None:
        """Insert a new session and index it under its user. ``keep_until``: the record must
        stay readable until then (a backend with native expiry sets it as the TTL)."""

    def session_get(self, token_hash: bytes, tag: str) -> SessionRecord | None:
        """The stored record, live or not, in one round trip; None if there is none."""

    def session_touch(
        self,
        token_hash: bytes,
        tag: str,
        current: SessionRecord,
        renewed: SessionRecord,
        *,
        keep_until: float,
    ) -> bool:
        """Replace ``current`` by ``renewed`` if the session still holds ``current``."""

    def session_move(
        self,
        old_hash: bytes,
        new_hash: bytes,
        tag: str,
        current: SessionRecord,
        moved: SessionRecord,
        *,
        keep_until: float,
    ) -> bool:
        """Re-key the session to ``new_hash`` as ``moved`` if it still holds ``current``; the
        old hash then finds nothing (rotation)."""

    def session_set_data(
        self, token_hash: bytes, tag: str, current: SessionRecord, updated: SessionRecord
    ) -> bool:
        """Store ``updated.data`` if the session's data is still ``current.data``."""

    def session_revoke(self, token_hash: bytes, tag: str) -> str | None:
        """Delete the session (live or not); its public id, or None if there was none (``""``
        for a stored value that is not a session record at all: deleted all the same)."""

    def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool:
        """Delete the user's session with this public id; whether there was one."""

    def session_revoke_user(self, user_id: str, tag: str, keep_hash: bytes | None) -> list[str]:
        """Delete every session of the user but ``keep_hash``'s; the public ids deleted."""

    def session_list(self, user_id: str, tag: str) -> list[SessionRecord]:
        """Every stored session of the user (live or not), oldest first."""


class FamilyStore(Protocol):
    """Refresh-token families and the hash of every token they ever issued (blocking)."""

    def family_create(self, family: Family, token_hash: bytes, tag: str) -> None:
        """Store a new family with its first token (generation 0)."""

    def family_read(self, token_hash: bytes, tag: str, family_id: str) -> FamilyRead:
        """The family of a token with the token's generation, the family's session record and
        the store's clock, for one rotation decision. ``family_id`` is the id the token carries:
        a backend may name keys with it, and answers "unknown" (``family`` None) unless the
        token's stored reference names that same family."""

    def family_advance(self, read: FamilyRead, new_hash: bytes, tag: str, now: float) -> bool:
        """Apply a rotation decided on ``read``: the family moves to the next generation
        (``last_used_at = now``, ``rotated_at`` = the store's clock now) and ``new_hash`` becomes
        that generation's token, if the family (and its session) are still as read. False if not
        (read again); ``StoreUnavailable`` if the write could only have applied after the caller
        stopped waiting for it, so an outage never turns into a state the caller did not see."""

    def family_revoke(self, family: Family, tag: str) -> bool:
        """Mark the family revoked (reuse detected); whether this call did (False: it already
        was, so the reuse has been reported once already)."""

    def family_revoke_token(self, token_hash: bytes, tag: str, family_id: str) -> Family | None:
        """Revoke the family of a token (any generation); the family, or None if unknown."""

    def family_of(self, token_hash: bytes, tag: str, family_id: str) -> Family | None:
        """The family a token belongs to (tests, tooling, admin pages)."""


@runtime_checkable
class RevocationFeed(Protocol):
    """One process's subscription to the revocations every process writes (blocking).

    ``start`` subscribes first and then reads the snapshot, so nothing written in between is
    lost (entries merge idempotently). ``changes`` waits up to ``timeout`` seconds and returns
    what arrived: a list (maybe empty) when the stream showed a sign of life meanwhile (backends
    send their own heartbeat at least once a second), None when it stayed silent, and
    ``StoreUnavailable`` when it broke and changes may have been missed: close it and start a
    new feed. ``listener`` identifies the connection for
    diagnostics (Redis: ``"host:port"`` of the subscriber socket; PostgreSQL: the backend pid).
    """

    @property
    def listener(self) -> str | None: ...

    def start(self, now: float) -> list[RevocationEntry]: ...
    def changes(self, timeout: float) -> list[RevocationEntry] | None: ...
    def close(self) -> None: ...


class RevocationStore(Protocol):
    """The access-token denylist and per-user cut-offs, with their change feed (blocking)."""

    def revocation_add(self, entry: RevocationEntry, now: float) -> None:
        """Merge one entry durably (``value``/``expires_at`` only grow) and announce it."""

    def revocation_lookup(
        self, jti: str, sid: str | None, user: str, now: float
    ) -> RevocationLookup:
        """The entries of one token that still matter at ``now``, in one round trip."""

    def revocation_snapshot(self, now: float) -> list[RevocationEntry]:
        """Every entry that still matters at ``now``."""

    def revocation_feed(self) -> RevocationFeed:
        """A new, unstarted subscription to the change stream."""


class ProofStore(Protocol):
    """DPoP proofs already accepted: the replay cache every process shares (blocking).

    The verifier (:mod:`gatepass.tokens.dpop_verify`) asks once per proof, after every other check
    passed, through :class:`gatepass.strategies.dpop.StoreReplayCache`. ``proof_id`` is the
    verifier's fixed-size hash of the proof's key and ``jti`` (64 hex characters): a store never
    keeps client-chosen text.
    """

    def proof_add(self, proof_id: str, expires_at: float) -> bool:
        """Record ``proof_id`` until at least ``expires_at``, atomically, in one round trip:
        True if this call recorded it, False if it was recorded already (a replay). An entry
        may outlive ``expires_at`` until the store's purge removes it; the proof is refused as
        too old by then anyway."""


class Store(SessionStore, FamilyStore, RevocationStore, ProofStore, Protocol):
    """A blocking store: every concern, plus its lifecycle.

    ``kind`` names the backend for people (logs, diagnostics, tests); code never branches on it.
    ``purges_itself`` is True where the backend expires records natively (Redis TTLs), so that
    nobody needs to call :meth:`purge_expired` on a schedule.
    """

    kind: str
    prefix: str
    purges_itself: bool

    def setup(self) -> None:
        """Create tables and indexes if missing (idempotent, safe from several processes)."""

    def purge_expired(
        self, now: float | None = None, *, sessions_before: float | None = None
    ) -> int:
        """Delete what stopped mattering at ``now`` (default: the current time): sessions whose
        idle deadline is at or before ``sessions_before`` (default ``now``), families past their
        absolute expiry, revocation entries and DPoP proof ids past theirs. Returns how many
        records went."""

    def close(self) -> None:
        """Release connections (idempotent)."""


# --- asyncio: the same protocols, awaited ---------------------------------------------------------


class AsyncSessionStore(Protocol):
    """:class:`SessionStore`, awaited."""

    async def session_create(
        self, token_hash: bytes, record: SessionRecord, tag: str, *, keep_until: float
    ) -> None: ...
    async def session_get(self, token_hash: bytes, tag: str) -> SessionRecord | None: ...
    async def session_touch(
        self,
        token_hash: bytes,
        tag: str,
        current: SessionRecord,
        renewed: SessionRecord,
        *,
        keep_until: float,
    ) -> bool: ...
    async def session_move(
        self,
        old_hash: bytes,
        new_hash: bytes,
        tag: str,
        current: SessionRecord,
        moved: SessionRecord,
        *,
        keep_until: float,
    ) -> bool: ...
    async def session_set_data(
        self, token_hash: bytes, tag: str, current: SessionRecord, updated: SessionRecord
    ) -> bool: ...
    async def session_revoke(self, token_hash: bytes, tag: str) -> str | None: ...
    async def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool: ...
    async def session_revoke_user(
        self, user_id: str, tag: str, keep_hash: bytes | None
    ) -> list[str]: ...
    async def session_list(self, user_id: str, tag: str) -> list[SessionRecord]: ...


class AsyncFamilyStore(Protocol):
    """:class:`FamilyStore`, awaited."""

    async def family_create(self, family: Family, token_hash: bytes, tag: str) -> None: ...
    async def family_read(self, token_hash: bytes, tag: str, family_id: str) -> FamilyRead: ...
    async def family_advance(
        self, read: FamilyRead, new_hash: bytes, tag: str, now: float
    ) -> bool: ...
    async def family_revoke(self, family: Family, tag: str) -> bool: ...
    async def family_revoke_token(
        self, token_hash: bytes, tag: str, family_id: str
    ) -> Family | None: ...
    async def family_of(self, token_hash: bytes, tag: str, family_id: str) -> Family | None: ...


@runtime_checkable
class AsyncRevocationFeed(Protocol):
    """:class:`RevocationFeed`, awaited."""

    @property
    def listener(self) -> str | None: ...

    async def start(self, now: float) -> list[RevocationEntry]: ...
    async def changes(self, timeout: float) -> list[RevocationEntry] | None: ...
    async def close(self) -> None: ...


class AsyncRevocationStore(Protocol):
    """:class:`RevocationStore`, awaited."""

    async def revocation_add(self, entry: RevocationEntry, now: float) -> None: ...
    async def revocation_lookup(
        self, jti: str, sid: str | None, user: str, now: float
    ) -> RevocationLookup: ...
    async def revocation_snapshot(self, now: float) -> list[RevocationEntry]: ...
    def revocation_feed(self) -> AsyncRevocationFeed: ...


class AsyncProofStore(Protocol):
    """:class:`ProofStore`, awaited."""

    async def proof_add(self, proof_id: str, expires_at: float) -> bool: ...


class AsyncStore(
    AsyncSessionStore, AsyncFamilyStore, AsyncRevocationStore, AsyncProofStore, Protocol
):
    """An asyncio store (see :class:`Store`)."""

    kind: str
    prefix: str
    purges_itself: bool

    async def setup(self) -> None: ...
    async def purge_expired(
        self, now: float | None = None, *, sessions_before: float | None = None
    ) -> int: ...
    async def close(self) -> None: ...


__all__ = [
    "AsyncFamilyStore",
    "AsyncProofStore",
    "AsyncRevocationFeed",
    "AsyncRevocationStore",
    "AsyncSessionStore",
    "AsyncStore",
    "FamilyStore",
    "ProofStore",
    "RevocationFeed",
    "RevocationStore",
    "SessionStore",
    "Store",
]
