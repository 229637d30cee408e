"""The asyncio face of a blocking store: for backends without an asyncio driver (SQLite) or
without I/O at all (memory).

Each method calls the blocking store's method of the same name, in a worker thread
(``asyncio.to_thread``) or, with ``inline = True``, directly (the memory store never waits on
I/O). There is no logic here to drift from the blocking store: only the hop to a thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from gatepass.stores.protocols import RevocationFeed, Store
from gatepass.stores.records import (
    Family,
    FamilyRead,
    RevocationEntry,
    RevocationLookup,
    SessionRecord,
)

S = TypeVar("S", bound=Store)
T = TypeVar("T")


class ThreadedAsyncStore(Generic[S]):
    """Every :class:`~gatepass.stores.protocols.AsyncStore` method on a blocking ``sync`` store."""

    inline = False

    def __init__(self, sync: S) -> None:
        self.sync: S = sync
        self.kind = sync.kind
        self.prefix = sync.prefix
        self.purges_itself = sync.purges_itself

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self.inline:
            return fn(*args, **kwargs)
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def setup(self) -> None:
        await self._call(self.sync.setup)

    async def close(self) -> None:
        self.sync.close()

    async def purge_expired(
        self, now: float | None = None, *, sessions_before: float | None = None
    ) -> int:
        return await self._call(self.sync.purge_expired, now, sessions_before=sessions_before)

    async def session_create(
        self, token_hash: bytes, record: SessionRecord, tag: str, *, keep_until: float
    ) -> None:
        await self._call(self.sync.session_create, token_hash, record, tag, keep_until=keep_until)

    async def session_get(self, token_hash: bytes, tag: str) -> SessionRecord | None:
        return await self._call(self.sync.session_get, token_hash, tag)

    async def session_touch(
        self,
        token_hash: bytes,
        tag: str,
        current: SessionRecord,
        renewed: SessionRecord,
        *,
        keep_until: float,
    ) -> bool:
        return await self._call(
            self.sync.session_touch, token_hash, tag, current, renewed, keep_until=keep_until
        )

    async def session_move(
        self,
        old_hash: bytes,
        new_hash: bytes,
        tag: str,
        current: SessionRecord,
        moved: SessionRecord,
        *,
        keep_until: float,
    ) -> bool:
        return await self._call(
            self.sync.session_move, old_hash, new_hash, tag, current, moved, keep_until=keep_until
        )

    async def session_set_data(
        self, token_hash: bytes, tag: str, current: SessionRecord, updated: SessionRecord
    ) -> bool:
        return await self._call(self.sync.session_set_data, token_hash, tag, current, updated)

    async def session_revoke(self, token_hash: bytes, tag: str) -> str | None:
        return await self._call(self.sync.session_revoke, token_hash, tag)

    async def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool:
        return await self._call(self.sync.session_revoke_id, user_id, public_id, tag)

    async def session_revoke_user(
        self, user_id: str, tag: str, keep_hash: bytes | None
    ) -> list[str]:
        return await self._call(self.sync.session_revoke_user, user_id, tag, keep_hash)

    async def session_list(self, user_id: str, tag: str) -> list[SessionRecord]:
        return await self._call(self.sync.session_list, user_id, tag)

    async def family_create(self, family: Family, token_hash: bytes, tag: str) -> None:
        await self._call(self.sync.family_create, family, token_hash, tag)

    async def family_read(self, token_hash: bytes, tag: str, family_id: str) -> FamilyRead:
        return await self._call(self.sync.family_read, token_hash, tag, family_id)

    async def family_advance(self, read: FamilyRead, new_hash: bytes, tag: str, now: float) -> bool:
        return await self._call(self.sync.family_advance, read, new_hash, tag, now)

    async def family_revoke(self, family: Family, tag: str) -> bool:
        return await self._call(self.sync.family_revoke, family, tag)

    async def family_revoke_token(
        self, token_hash: bytes, tag: str, family_id: str
    ) -> Family | None:
        return await self._call(self.sync.family_revoke_token, token_hash, tag, family_id)

    async def family_of(self, token_hash: bytes, tag: str, family_id: str) -> Family | None:
        return await self._call(self.sync.family_of, token_hash, tag, family_id)

    async def revocation_add(self, entry: RevocationEntry, now: float) -> None:
        await self._call(self.sync.revocation_add, entry, now)

    async def revocation_lookup(
        self, jti: str, sid: str | None, user: str, now: float
    ) -> RevocationLookup:
        return await self._call(self.sync.revocation_lookup, jti, sid, user, now)

    async def revocation_snapshot(self, now: float) -> list[RevocationEntry]:
        return await self._call(self.sync.revocation_snapshot, now)

    async def proof_add(self, proof_id: str, expires_at: float) -> bool:
        return await self._call(self.sync.proof_add, proof_id, expires_at)

    def revocation_feed(self) -> ThreadedFeed:
        return ThreadedFeed(self.sync.revocation_feed())


class ThreadedFeed:
    """The asyncio face of a blocking :class:`~gatepass.stores.protocols.RevocationFeed`."""

    def __init__(self, feed: RevocationFeed) -> None:
        self.sync = feed

    @property
    def listener(self) -> str | None:
        return self.sync.listener

    async def start(self, now: float) -> list[RevocationEntry]:
        return await asyncio.to_thread(self.sync.start, now)

    async def changes(self, timeout: float) -> list[RevocationEntry] | None:
        return await asyncio.to_thread(self.sync.changes, timeout)

    async def close(self) -> None:
        await asyncio.to_thread(self.sync.close)
