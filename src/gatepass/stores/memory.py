"""``memory://``: dicts behind one lock, for tests, demos and single-process apps.

Atomicity is the lock: every read-modify-write holds ``store.lock``, so concurrent threads (and
asyncio tasks, which never await while holding it) cannot resurrect a revoked session or lose an
update. Nothing survives the process; nothing is shared with another process.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from gatepass.stores.base import purge_time, registered_purges
from gatepass.stores.records import (
    DUE,
    LIVE,
    MAX_DATA_BYTES,
    MAX_METADATA_BYTES,
    FrozenDict,
    SessionRecord,
    TouchSpec,
    check_json,
    is_live,
    liveness,
    merge_data,
    rotated,
    touched,
)

#: Purge automatically after at least this many session creations (and at least as many as there
#: are sessions, so that the full scan stays amortised O(1) per creation). The first purge comes
#: after a random 1 to 1000 creations: a process that creates fewer than 1000 sessions (a CLI
#: tool, a serverless function, a test) still purges with probability n/1000, so across many
#: processes a purge still runs on average once per 1000 creations.
_PURGE_EVERY = 1000


class MemoryStore:
    """Process-local store. See :mod:`gatepass.stores.base` for the stable attributes."""

    kind: Literal["memory"] = "memory"

    def __init__(self, prefix: str = "gatepass:") -> None:
        self.prefix = prefix
        self.lock = threading.RLock()
        self._tables: dict[str, dict[Any, Any]] = {}
        self._sessions: dict[bytes, SessionRecord] = self.table("sessions")
        self._users: dict[str, dict[str, bytes]] = self.table("users")
        self._creates = 0
        self._next_purge = 1 + secrets.randbelow(_PURGE_EVERY)

    def table(self, name: str) -> dict[Any, Any]:
        with self.lock:
            return self._tables.setdefault(name, {})

    def errors(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def setup(self) -> None:
        """Nothing to create."""

    def close(self) -> None:
        """Nothing to release (the data stays until the store is garbage-collected)."""

    def purge_expired(self, now: float | None = None) -> int:
        when = purge_time(now)
        removed = 0
        with self.lock:
            for token_hash, record in list(self._sessions.items()):
                if when >= record.expires_at or when >= record.absolute_expires_at:
                    self._drop(token_hash, record)
                    removed += 1
        for step in registered_purges(self.kind):
            removed += step(self, when)
        return removed

    # --- sessions ------------------------------------------------------------------------------

    def _drop(self, token_hash: bytes, record: SessionRecord) -> None:
        del self._sessions[token_hash]
        index = self._users.get(record.user_id)
        if index is not None:
            index.pop(record.id, None)
            if not index:
                del self._users[record.user_id]

    def session_create(self, token_hash: bytes, record: SessionRecord, tag: str) -> None:
        # Stored records are handed out as they are, so they must be deeply immutable; Sessions
        # builds them so, a direct caller of the store might not.
        if type(record.metadata) is not FrozenDict or type(record.data) is not FrozenDict:
            record = record._replace(
                metadata=check_json(record.metadata, MAX_METADATA_BYTES, "metadata"),
                data=check_json(record.data, MAX_DATA_BYTES, "data"),
            )
        with self.lock:
            self._sessions[token_hash] = record
            self._users.setdefault(record.user_id, {})[record.id] = token_hash
            self._creates += 1
            due = self._creates >= self._next_purge
            if due:
                self._next_purge = self._creates + max(_PURGE_EVERY, len(self._sessions))
        if due:
            self.purge_expired(record.created_at)

    def session_get(self, token_hash: bytes, tag: str, touch: TouchSpec) -> SessionRecord | None:
        # Lock-free read (one dict lookup is atomic); records are immutable, so the stored one
        # is returned as is. Only a due renewal takes the lock, and re-decides under it.
        record = self._sessions.get(token_hash)
        if record is None:
            return None
        state = liveness(record, touch)
        if state == LIVE:
            return record
        if state != DUE:
            return None
        with self.lock:
            record = self._sessions.get(token_hash)
            if record is None:
                return None
            state = liveness(record, touch)
            if state == DUE:
                record = self._sessions[token_hash] = touched(record, touch)
            return record if state else None

    def session_rotate(
        self, old_hash: bytes, new_hash: bytes, tag: str, touch: TouchSpec, auth_time: float | None
    ) -> SessionRecord | None:
        with self.lock:
            record = self._sessions.get(old_hash)
            if record is None or not is_live(record, touch):
                return None
            record = rotated(record, touch, auth_time)
            del self._sessions[old_hash]
            self._sessions[new_hash] = record
            self._users.setdefault(record.user_id, {})[record.id] = new_hash
            return record

    def session_update(
        self, token_hash: bytes, tag: str, patch: Mapping[str, Any], touch: TouchSpec
    ) -> SessionRecord | None:
        with self.lock:
            record = self._sessions.get(token_hash)
            if record is None or not is_live(record, touch):
                return None
            data = check_json(merge_data(record.data, patch), MAX_DATA_BYTES, "data")
            record = self._sessions[token_hash] = record._replace(data=data)
            return record

    def session_revoke(self, token_hash: bytes, tag: str) -> bool:
        with self.lock:
            record = self._sessions.get(token_hash)
            if record is None:
                return False
            self._drop(token_hash, record)
            return True

    def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool:
        with self.lock:
            token_hash = self._users.get(user_id, {}).get(public_id)
            if token_hash is None:
                return False
            return self.session_revoke(token_hash, tag)

    def session_revoke_user(self, user_id: str, tag: str, keep_hash: bytes | None) -> int:
        with self.lock:
            index = self._users.get(user_id, {})
            doomed = [h for h in index.values() if h != keep_hash]
            for token_hash in doomed:
                self._drop(token_hash, self._sessions[token_hash])
            return len(doomed)

    def session_list(self, user_id: str, tag: str, now: float) -> list[SessionRecord]:
        with self.lock:
            return [self._sessions[h] for h in self._users.get(user_id, {}).values()]

    def iter_sessions(self) -> Iterator[SessionRecord]:
        """Every stored record (tests and tools)."""
        with self.lock:
            return iter(list(self._sessions.values()))


class AsyncMemoryStore:
    """The asyncio face of a :class:`MemoryStore` (``self.sync``); calls never block on I/O."""

    kind: Literal["memory"] = "memory"

    def __init__(self, prefix: str = "gatepass:", sync: MemoryStore | None = None) -> None:
        self.sync = sync if sync is not None else MemoryStore(prefix)
        self.prefix = self.sync.prefix
        self.lock = self.sync.lock

    def table(self, name: str) -> dict[Any, Any]:
        return self.sync.table(name)

    def errors(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    async def setup(self) -> None:
        self.sync.setup()

    async def close(self) -> None:
        self.sync.close()

    async def purge_expired(self, now: float | None = None) -> int:
        return self.sync.purge_expired(purge_time(now))

    async def session_create(self, token_hash: bytes, record: SessionRecord, tag: str) -> None:
        self.sync.session_create(token_hash, record, tag)

    async def session_get(
        self, token_hash: bytes, tag: str, touch: TouchSpec
    ) -> SessionRecord | None:
        return self.sync.session_get(token_hash, tag, touch)

    async def session_rotate(
        self, old_hash: bytes, new_hash: bytes, tag: str, touch: TouchSpec, auth_time: float | None
    ) -> SessionRecord | None:
        return self.sync.session_rotate(old_hash, new_hash, tag, touch, auth_time)

    async def session_update(
        self, token_hash: bytes, tag: str, patch: Mapping[str, Any], touch: TouchSpec
    ) -> SessionRecord | None:
        return self.sync.session_update(token_hash, tag, patch, touch)

    async def session_revoke(self, token_hash: bytes, tag: str) -> bool:
        return self.sync.session_revoke(token_hash, tag)

    async def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool:
        return self.sync.session_revoke_id(user_id, public_id, tag)

    async def session_revoke_user(self, user_id: str, tag: str, keep_hash: bytes | None) -> int:
        return self.sync.session_revoke_user(user_id, tag, keep_hash)

    async def session_list(self, user_id: str, tag: str, now: float) -> list[SessionRecord]:
        return self.sync.session_list(user_id, tag, now)
