# GENERATED from gatepass/stores/redis/_async/families.py by scripts/unasync.py: do not edit.
# Change the asyncio source, then run `python scripts/unasync.py`.
"""Refresh-token families in Redis: a read-only script per read, a compare-and-set per write.

A rotation takes two round trips for a family without a session (read, write) and four for one
bound to a session (the family, the user's index entry, the session, the write): the session's
key is named by its current token hash, which only the index knows. The read script runs on the
family's node and returns that node's clock (``TIME``): the grace window is measured on it. The
write carries a deadline on the same clock, a socket timeout after the read: a write that reaches
the server later (a stall the caller already gave up on) changes nothing and the caller sees
``StoreUnavailable``, never a rotation it did not hear about.
"""

from __future__ import annotations

from dataclasses import replace

from gatepass.errors import StoreUnavailable
from gatepass.stores.records import Family, FamilyRead
from gatepass.stores.redis._sync.client import RedisClient
from gatepass.stores.redis.keys import decode, family_from_fields, text, ttl_ms


class RedisFamilies(RedisClient):
    """:class:`~gatepass.stores.protocols.FamilyStore` on Redis."""

    def family_create(self, family: Family, token_hash: bytes, tag: str) -> None:
        self.run_script(
            "CREATE_FAMILY",
            [self.keys.family(tag, family.id), self.keys.token(tag, token_hash)],
            [
                family.user_id,
                family.sid or "",
                repr(family.created_at),
                repr(family.last_used_at),
                str(family.generation),
                repr(family.rotated_at),
                "1" if family.revoked else "0",
                repr(family.expires_at),
                ttl_ms(family.expires_at, family.created_at),
                family.id,
                " ".join(family.scopes),
                "" if family.auth_time is None else repr(family.auth_time),
                family.jkt or "",
            ],
        )

    def _read(
        self, token_hash: bytes, tag: str, family_id: str
    ) -> tuple[Family | None, int, float]:
        reply = self.run_script(
            "READ_FAMILY",
            [self.keys.token(tag, token_hash), self.keys.family(tag, family_id)],
            [family_id],
        )
        store_now = int(reply[0]) + int(reply[1]) / 1_000_000
        ref = text(reply[2])
        head = f"{family_id}|"
        if not ref.startswith(head):  # unknown, or the reference names another family
            return None, 0, store_now
        return family_from_fields(family_id, reply[3:14]), int(ref[len(head) :]), store_now

    def family_read(self, token_hash: bytes, tag: str, family_id: str) -> FamilyRead:
        family, generation, store_now = self._read(token_hash, tag, family_id)
        if family is None:
            return FamilyRead(None, 0, None, store_now)
        session = session_key = None
        if family.sid is not None:
            with self.errors:
                hexh = self.client.hget(self.keys.user_index(tag, family.user_id), family.sid)
            if hexh is not None:
                session_key = self.keys.session_prefix(tag) + hexh
                with self.errors:
                    value = self.client.get(session_key)
                session = None if value is None else decode(value)
        deadline = store_now + self.socket_timeout
        return FamilyRead(family, generation, session, store_now, version=(session_key, deadline))

    def family_advance(self, read: FamilyRead, new_hash: bytes, tag: str, now: float) -> bool:
        family = read.family
        if family is None:
            return False
        session_key, deadline = read.version
        keys = [self.keys.family(tag, family.id), self.keys.token(tag, new_hash)]
        if read.session is not None:
            keys.append(session_key)
        args = [str(family.generation), repr(now), repr(deadline), family.id]
        done = self.run_script("ADVANCE_FAMILY", keys, args)
        if done == -1:
            raise StoreUnavailable(
                "redis: the rotation reached the server after the caller stopped waiting; "
                "nothing was changed"
            )
        return bool(done)

    def family_revoke(self, family: Family, tag: str) -> bool:
        keys = [self.keys.family(tag, family.id)]
        return bool(self.run_script("REVOKE_FAMILY", keys, []))

    def family_revoke_token(self, token_hash: bytes, tag: str, family_id: str) -> Family | None:
        fields = self.run_script(
            "REVOKE_TOKEN",
            [self.keys.token(tag, token_hash), self.keys.family(tag, family_id)],
            [family_id],
        )
        if not fields:
            return None
        family = family_from_fields(family_id, fields)
        return None if family is None else replace(family, revoked=True)

    def family_of(self, token_hash: bytes, tag: str, family_id: str) -> Family | None:
        return (self._read(token_hash, tag, family_id))[0]
