# GENERATED from gatepass/stores/redis/_async/sessions.py by scripts/unasync.py: do not edit.
# Change the asyncio source, then run `python scripts/unasync.py`.
"""Sessions in Redis: a ``GET`` per read, one compare-and-set script per write.

Round trips: ``get`` 1 ``GET``; ``create``, ``touch``, ``move``, ``set_data`` 1 script each;
``revoke`` 2 (take the session, then drop its index entry: the index is named by the user id
inside the value); ``revoke`` by id ``HGET`` + script; ``revoke_user`` and ``list`` an ``HSCAN``
step + a script per batch of at most ``BATCH`` sessions (no call holds the server for long, however
many sessions a user has), ``revoke_user`` again until a script finds the index empty.
"""

from __future__ import annotations

import contextlib

from gatepass.errors import StoreError
from gatepass.stores.records import SessionRecord
from gatepass.stores.redis._sync.client import RedisClient
from gatepass.stores.redis.keys import (
    BATCH,
    batches,
    decode,
    encode,
    is_tag,
    snapshot,
    ttl_ms,
)

#: Bound on re-reading an index that keeps changing under a multi-key operation.
_ATTEMPTS = 100


class RedisSessions(RedisClient):
    """:class:`~gatepass.stores.protocols.SessionStore` on Redis."""

    def session_create(
        self, token_hash: bytes, record: SessionRecord, tag: str, *, keep_until: float
    ) -> int:
        now = record.created_at
        # The index outlives every session it lists, each kept until its own keep_until.
        index_until = record.absolute_expires_at + max(0.0, keep_until - record.expires_at)
        count = self.run_script(
            "CREATE",
            [self.keys.session(tag, token_hash), self.keys.user_index(tag, record.user_id)],
            [
                encode(record),
                ttl_ms(keep_until, now),
                ttl_ms(index_until, now),
                record.id,
                token_hash.hex(),
            ],
        )
        return int(count)

    def session_get(self, token_hash: bytes, tag: str) -> SessionRecord | None:
        if not is_tag(tag):  # unchecked on the get path: it becomes part of a key
            return None
        key = f"{self.prefix}{{{tag}}}:s:{token_hash.hex()}"  # Keys.session, inlined: hot path
        with self.errors:
            value = self.client.get(key)
        return None if value is None else decode(value)

    def session_touch(
        self,
        token_hash: bytes,
        tag: str,
        current: SessionRecord,
        renewed: SessionRecord,
        *,
        keep_until: float,
    ) -> bool:
        args = [encode(current), encode(renewed), ttl_ms(keep_until, renewed.last_seen_at)]
        return bool(self.run_script("CAS", [self.keys.session(tag, token_hash)], args))

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
        keys = [
            self.keys.session(tag, old_hash),
            self.keys.session(tag, new_hash),
            self.keys.user_index(tag, current.user_id),
        ]
        args = [
            encode(current),
            encode(moved),
            ttl_ms(keep_until, moved.last_seen_at),
            moved.id,
            new_hash.hex(),
        ]
        return bool(self.run_script("MOVE", keys, args))

    def session_set_data(
        self, token_hash: bytes, tag: str, current: SessionRecord, updated: SessionRecord
    ) -> bool:
        args = [encode(current), encode(updated), ""]
        return bool(self.run_script("CAS", [self.keys.session(tag, token_hash)], args))

    def session_revoke(self, token_hash: bytes, tag: str) -> str | None:
        """Take the session (one atomic script on its key), then drop its index entry if it
        still points at this hash. Should the second step fail, the session is revoked all the
        same and the dangling entry is harmless (``list``, ``revoke_user`` and the purge prune
        it), as is one left by a damaged value, which is deleted like any other."""
        value = self.run_script("TAKE", [self.keys.session(tag, token_hash)], [])
        if value is None:
            return None
        try:
            record = decode(value)
        except StoreError:
            return ""  # not a session record: deleted, and it names no session
        with contextlib.suppress(StoreError):
            self.run_script(
                "UNINDEX",
                [self.keys.user_index(tag, record.user_id)],
                [record.id, token_hash.hex()],
            )
        return record.id

    def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool:
        index = self.keys.user_index(tag, user_id)
        prefix = self.keys.session_prefix(tag)
        for _attempt in range(_ATTEMPTS):
            with self.errors:
                hexh = self.client.hget(index, public_id)
            if hexh is None:
                return False
            done = self.run_script("REVOKE_ID", [index, prefix + hexh], [public_id, hexh])
            if done >= 0:
                return bool(done)
        raise StoreError("redis: the session kept changing during revocation")

    def _scan(self, index: str, cursor: int) -> tuple[int, list[tuple[bytes, bytes]]]:
        """One ``HSCAN`` step over a user's index: at most about :data:`BATCH` entries."""
        with self.errors:
            cursor, found = self.client.hscan(index, cursor, count=BATCH)
        return int(cursor), list(found.items())

    def session_revoke_user(self, user_id: str, tag: str, keep_hash: bytes | None) -> list[str]:
        """Scan the index in steps, delete each batch of sessions with one script, and scan
        again until a script reports the index held nothing else (sessions created or rotated
        meanwhile go too)."""
        index = self.keys.user_index(tag, user_id)
        prefix = self.keys.session_prefix(tag)
        keep = b"" if keep_hash is None else keep_hash.hex().encode()
        removed: list[str] = []
        for _attempt in range(_ATTEMPTS):
            keep_id = b""
            cursor = 0
            while True:
                cursor, entries = self._scan(index, cursor)
                doomed: list[tuple[bytes, bytes]] = []
                for public_id, hexh in entries:
                    if keep and hexh == keep:
                        keep_id = public_id
                    else:
                        doomed.append((public_id, hexh))
                for batch in batches(doomed):
                    keys, args = snapshot(index, prefix, batch, (keep, keep_id))
                    *deleted, _left = self.run_script("REVOKE_USER", keys, args)
                    removed.extend(public_id.decode() for public_id in deleted)
                if cursor == 0:
                    break
            keys, args = snapshot(index, prefix, (), (keep, keep_id))
            (left,) = self.run_script("REVOKE_USER", keys, args)
            if not left:  # at that moment the index held nothing but the kept session
                return removed
        raise StoreError("redis: the user's sessions kept changing during revoke_all")

    def session_list(self, user_id: str, tag: str) -> list[SessionRecord]:
        """Scan the index in steps and read each batch of sessions with one script (which
        drops entries of sessions Redis already expired); an entry re-pointed by a rotation
        meanwhile is read again at its new hash."""
        index = self.keys.user_index(tag, user_id)
        prefix = self.keys.session_prefix(tag)
        found: dict[bytes, SessionRecord] = {}
        moves = 0
        cursor = 0
        while True:
            cursor, pending = self._scan(index, cursor)
            while pending:
                batch, pending = pending[:BATCH], pending[BATCH:]
                reply = self.run_script("LIST", *snapshot(index, prefix, batch))
                for (public_id, _hexh), status, payload in zip(
                    batch, reply[::2], reply[1::2], strict=True
                ):
                    if status == 1:
                        found[public_id] = decode(payload)
                    elif status == 2:
                        moves += 1
                        pending.append((public_id, payload))
                if moves > _ATTEMPTS * BATCH:
                    raise StoreError("redis: the user's sessions kept changing during list")
            if cursor == 0:
                return sorted(found.values(), key=lambda r: r.created_at)

    def prune_indexes(self) -> int:
        """Drop index entries whose session Redis has already expired (every user), one batch
        of one index per script."""
        with self.errors:
            found = [k for k in self.client.scan_iter(match=self.keys.index_pattern, count=1000)]
        removed = 0
        for index in found:
            tag = self.keys.index_tag(index)
            if tag is None:
                continue
            prefix = self.keys.session_prefix(tag)
            cursor = 0
            while True:
                cursor, entries = self._scan(index, cursor)
                for batch in batches(entries):
                    removed += int(self.run_script("PRUNE", *snapshot(index, prefix, batch)))
                if cursor == 0:
                    break
        return removed
