"""``memory://``: dicts behind one lock, for tests, demos and single-process apps.

Atomicity is the lock: every compare-and-set holds ``self.lock``, so concurrent threads (and
asyncio tasks, which never await while holding it) cannot resurrect a revoked session or apply a
stale decision. Reads of one key take no lock (a dict lookup is atomic; records are immutable).
Nothing survives the process; nothing is shared with another process.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import replace
from typing import Any

from gatepass.stores.limits import point_in_time
from gatepass.stores.records import (
    Family,
    FamilyRead,
    RevocationEntry,
    RevocationLookup,
    SessionRecord,
)
from gatepass.stores.threaded import ThreadedAsyncStore

#: A token's reference: (family id, generation, expires_at).
_TokenRef = tuple[str, int, float]


class MemoryStore:
    """Process-local store implementing every protocol of :mod:`gatepass.stores.protocols`."""

    kind = "memory"
    purges_itself = False

    def __init__(self, prefix: str = "gatepass:") -> None:
        self.prefix = prefix
        self.lock = threading.RLock()
        self._sessions: dict[bytes, SessionRecord] = {}
        self._users: dict[str, dict[str, bytes]] = {}
        self._families: dict[str, Family] = {}
        self._tokens: dict[bytes, _TokenRef] = {}
        self._revocations: dict[tuple[str, str], tuple[int, float]] = {}
        self._proofs: dict[str, float] = {}
        self._feeds: set[MemoryFeed] = set()

    def table(self, name: str) -> dict[Any, Any]:
        """A copy of one of the store's dicts, for tests and tooling: ``sessions`` (token hash
        -> record), ``users`` (user id -> public id -> token hash), ``refresh_families``,
        ``refresh_tokens``, ``revocations`` or ``dpop_proofs``."""
        tables: dict[str, dict[Any, Any]] = {
            "sessions": self._sessions,
            "users": self._users,
            "refresh_families": self._families,
            "refresh_tokens": self._tokens,
            "revocations": self._revocations,
            "dpop_proofs": self._proofs,
        }
        with self.lock:
            return dict(tables[name])

    def setup(self) -> None:
        """Nothing to create."""

    def close(self) -> None:
        """Nothing to release (the data stays until the store is garbage-collected)."""

    def purge_expired(
        self, now: float | None = None, *, sessions_before: float | None = None
    ) -> int:
        when = time.time() if now is None else point_in_time(now, "purge time")
        cut = when if sessions_before is None else point_in_time(sessions_before, "purge time")
        with self.lock:
            dead = [(h, r) for h, r in self._sessions.items() if r.expires_at <= cut]
            for token_hash, record in dead:
                self._drop(token_hash, record)
            families = [k for k, f in self._families.items() if f.expires_at <= when]
            for key in families:
                del self._families[key]
            tokens = [k for k, ref in self._tokens.items() if ref[2] <= when]
            for token_hash in tokens:
                del self._tokens[token_hash]
            entries = [k for k, (_, expires) in self._revocations.items() if expires <= when]
            for pair in entries:
                del self._revocations[pair]
            proofs = [k for k, expires in self._proofs.items() if expires <= when]
            for proof_id in proofs:
                del self._proofs[proof_id]
        return len(dead) + len(families) + len(tokens) + len(entries) + len(proofs)

    # --- DPoP proofs ---------------------------------------------------------------------------

    def proof_add(self, proof_id: str, expires_at: float) -> bool:
        with self.lock:
            if proof_id in self._proofs:
                return False
            self._proofs[proof_id] = expires_at
            return True

    # --- sessions ------------------------------------------------------------------------------

    def _drop(self, token_hash: bytes, record: SessionRecord) -> None:
        del self._sessions[token_hash]
        index = self._users.get(record.user_id)
        if index is not None and index.get(record.id) == token_hash:
            del index[record.id]
            if not index:
                del self._users[record.user_id]

    def session_create(
        self, token_hash: bytes, record: SessionRecord, tag: str, *, keep_until: float
    ) -> None:
        with self.lock:
            self._sessions[token_hash] = record
            self._users.setdefault(record.user_id, {})[record.id] = token_hash

    def session_get(self, token_hash: bytes, tag: str) -> SessionRecord | None:
        return self._sessions.get(token_hash)

    def session_touch(
        self,
        token_hash: bytes,
        tag: str,
        current: SessionRecord,
        renewed: SessionRecord,
        *,
        keep_until: float,
    ) -> bool:
        with self.lock:
            if self._sessions.get(token_hash) is not current:
                return False
            self._sessions[token_hash] = renewed
            return True

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
        with self.lock:
            if self._sessions.get(old_hash) is not current:
                return False
            del self._sessions[old_hash]
            self._sessions[new_hash] = moved
            self._users.setdefault(moved.user_id, {})[moved.id] = new_hash
            return True

    def session_set_data(
        self, token_hash: bytes, tag: str, current: SessionRecord, updated: SessionRecord
    ) -> bool:
        with self.lock:
            stored = self._sessions.get(token_hash)
            if stored is None or stored.data is not current.data:
                return False
            self._sessions[token_hash] = stored._replace(data=updated.data)
            return True

    def session_revoke(self, token_hash: bytes, tag: str) -> str | None:
        with self.lock:
            record = self._sessions.get(token_hash)
            if record is None:
                return None
            self._drop(token_hash, record)
            return record.id

    def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool:
        with self.lock:
            token_hash = self._users.get(user_id, {}).get(public_id)
            return token_hash is not None and self.session_revoke(token_hash, tag) is not None

    def session_revoke_user(self, user_id: str, tag: str, keep_hash: bytes | None) -> list[str]:
        with self.lock:
            doomed = [
                (h, self._sessions[h])
                for h in self._users.get(user_id, {}).values()
                if h != keep_hash
            ]
            for token_hash, record in doomed:
                self._drop(token_hash, record)
            return [record.id for _, record in doomed]

    def session_list(self, user_id: str, tag: str) -> list[SessionRecord]:
        with self.lock:
            found = [self._sessions[h] for h in self._users.get(user_id, {}).values()]
        return sorted(found, key=lambda r: r.created_at)

    # --- refresh-token families ----------------------------------------------------------------

    def family_create(self, family: Family, token_hash: bytes, tag: str) -> None:
        with self.lock:
            self._families[family.id] = family
            self._tokens[token_hash] = (family.id, 0, family.expires_at)

    def family_read(self, token_hash: bytes, tag: str, family_id: str) -> FamilyRead:
        with self.lock:
            ref = self._tokens.get(token_hash)
            family = self._families.get(ref[0]) if ref is not None else None
            if ref is None or family is None:
                return FamilyRead(None, 0, None, time.time())
            session = None
            if family.sid is not None:
                session_hash = self._users.get(family.user_id, {}).get(family.sid)
                if session_hash is not None:
                    session = self._sessions.get(session_hash)
            return FamilyRead(family, ref[1], session, time.time(), version=family)

    def family_advance(self, read: FamilyRead, new_hash: bytes, tag: str, now: float) -> bool:
        family = read.family
        if family is None:
            return False
        with self.lock:
            if self._families.get(family.id) is not read.version:
                return False
            if read.session is not None and self._session_of(family) is not read.session:
                return False
            generation = family.generation + 1
            self._families[family.id] = replace(
                family, generation=generation, last_used_at=now, rotated_at=time.time()
            )
            self._tokens.setdefault(new_hash, (family.id, generation, family.expires_at))
            return True

    def _session_of(self, family: Family) -> SessionRecord | None:
        session_hash = self._users.get(family.user_id, {}).get(family.sid or "")
        return None if session_hash is None else self._sessions.get(session_hash)

    def family_revoke(self, family: Family, tag: str) -> bool:
        with self.lock:
            stored = self._families.get(family.id)
            if stored is None or stored.revoked:
                return False
            self._families[family.id] = replace(stored, revoked=True)
            return True

    def family_revoke_token(self, token_hash: bytes, tag: str, family_id: str) -> Family | None:
        with self.lock:
            family = self.family_of(token_hash, tag, family_id)
            if family is not None:
                self._families[family.id] = replace(family, revoked=True)
            return family

    def family_of(self, token_hash: bytes, tag: str, family_id: str) -> Family | None:
        ref = self._tokens.get(token_hash)
        return None if ref is None else self._families.get(ref[0])

    # --- revocations ---------------------------------------------------------------------------

    def revocation_add(self, entry: RevocationEntry, now: float) -> None:
        with self.lock:
            pair = (entry.kind, entry.key)
            old = self._revocations.get(pair)
            if old is not None:
                entry = replace(
                    entry, value=max(old[0], entry.value), expires_at=max(old[1], entry.expires_at)
                )
            self._revocations[pair] = (entry.value, entry.expires_at)
            feeds = list(self._feeds)
        for feed in feeds:
            feed.queue.put(entry)

    def revocation_lookup(
        self, jti: str, sid: str | None, user: str, now: float
    ) -> RevocationLookup:
        table = self._revocations
        j = table.get(("jti", jti))
        s = table.get(("sid", sid)) if sid is not None else None
        u = table.get(("user", user))
        return RevocationLookup(
            j is not None and j[1] > now,
            s is not None and s[1] > now,
            u[0] if u is not None and u[1] > now else None,
        )

    def revocation_snapshot(self, now: float) -> list[RevocationEntry]:
        with self.lock:
            items = list(self._revocations.items())
        return [
            RevocationEntry(kind, key, value, expires)  # type: ignore[arg-type]
            for (kind, key), (value, expires) in items
            if expires > now
        ]

    def revocation_feed(self) -> MemoryFeed:
        return MemoryFeed(self)


class MemoryFeed:
    """The change feed of a :class:`MemoryStore`: every ``revocation_add`` is queued for each
    started feed; nothing can be lost, so the stream never breaks."""

    listener: str | None = None

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.queue: queue.SimpleQueue[RevocationEntry] = queue.SimpleQueue()

    def start(self, now: float) -> list[RevocationEntry]:
        with self.store.lock:
            self.store._feeds.add(self)
            return self.store.revocation_snapshot(now)

    def changes(self, timeout: float) -> list[RevocationEntry]:
        try:
            found = [self.queue.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                found.append(self.queue.get_nowait())
            except queue.Empty:
                return found

    def close(self) -> None:
        with self.store.lock:
            self.store._feeds.discard(self)


class AsyncMemoryStore(ThreadedAsyncStore[MemoryStore]):
    """The asyncio face of a :class:`MemoryStore` (``self.sync``): calls run inline (they never
    wait on I/O), except the change feed's wait, which runs in a worker thread."""

    inline = True

    def __init__(self, prefix: str = "gatepass:", sync: MemoryStore | None = None) -> None:
        super().__init__(sync if sync is not None else MemoryStore(prefix))
        self.lock = self.sync.lock
        self.table = self.sync.table
