"""The asyncio session front-end (the blocking one is generated from this file).

Every method reads from the store, decides with :mod:`gatepass.strategies._session_policy`, and
writes the decision with a compare-and-set call; when the write finds the session changed, it
reads and decides again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gatepass.errors import InvalidToken, StoreError, StoreUnavailable
from gatepass.stores.limits import check_id
from gatepass.stores.protocols import AsyncStore
from gatepass.stores.records import SessionRecord
from gatepass.strategies._async.access import AsyncAccessTokens
from gatepass.strategies._session_config import (
    ATTEMPTS,
    SessionsConfig,
    check_flag,
    kept_hash,
    parse_or_raise,
)
from gatepass.strategies._session_input import (
    MAX_DATA_BYTES,
    check_json,
    merge_data,
)
from gatepass.strategies._session_policy import (
    DEAD,
    LIVE,
    evictions,
    liveness,
    new_record,
    over_cap,
    rotated,
    touched,
)
from gatepass.strategies._session_tokens import (
    TAG_LENGTH,
    TOKEN_LENGTH,
    hash_token,
    is_public_id,
    new_token,
    parse_token,
    routing_tag,
    token_digest,
    token_for_tag,
)

_GONE = "session is unknown, expired or revoked"


class AsyncSessions(SessionsConfig[AsyncStore, AsyncAccessTokens]):
    """Server-side sessions on a store from :func:`gatepass.open_async_store`.

    ``idle_timeout``: a session unused this long is dead. ``absolute_timeout``: no session
    outlives this, however busy. ``touch_interval``: sliding renewal writes at most once per
    interval per session (default: a tenth of the shorter idle timeout, at most a minute).
    Remember-me sessions use ``remember_idle_timeout`` / ``remember_absolute_timeout``.
    ``max_sessions``: sessions one user may hold (default 100, None for no cap); a login
    beyond it revokes the user's oldest session (records no longer live go first), so that one
    user's sessions stay cheap to list and revoke. ``clock`` returns seconds since the epoch
    (inject one in tests). ``access_tokens``: an
    :class:`AsyncAccessTokens` in ``denylist`` or ``replicated`` mode whose tokens die with their
    session (``revoke``, ``revoke_all``). Every method raises ``StoreUnavailable`` if the store
    is down: treat that as "not authenticated, try later", never as "logged in".
    """

    asynchronous = True  # async-only
    access_class = AsyncAccessTokens

    async def create(
        self, user_id: str, *, remember: bool = False, metadata: Mapping[str, Any] | None = None
    ) -> tuple[str, SessionRecord]:
        """Start a session; returns ``(token, record)``. Put the token in the cookie only."""
        check_flag(remember, "remember")
        now = self.clock()
        record = new_record(user_id, self.lifetimes, now, remember=remember, metadata=metadata)
        token = new_token(record.user_id)
        tag = routing_tag(record.user_id)
        keep = self.keep_until(record)
        count = await self.store.session_create(hash_token(token), record, tag, keep_until=keep)
        if over_cap(count, self.max_sessions):
            await self._evict(record, tag, now)
        if self.purge_due():
            await self.store.purge_expired(now, sessions_before=now - self.linger)
        return token, record

    async def _evict(self, record: SessionRecord, tag: str, now: float) -> None:
        """The user has more than ``max_sessions``: revoke what the policy picks (dead records
        first, then the oldest), with their access tokens when those are linked."""
        assert self.max_sessions is not None  # over_cap() is only True with a cap
        stored = await self.store.session_list(record.user_id, tag)
        access = self.access_tokens
        for public_id in evictions(stored, record.id, self.max_sessions, now, self.lifetimes):
            # The access tokens before the record, as in revoke(): should the store fail in
            # between, the record is still there for the next login to evict again.
            if access is not None:
                await access.revoke_session(public_id)
            await self.store.session_revoke_id(record.user_id, public_id, tag)

    async def get(self, token: str) -> SessionRecord | None:
        """The live session for ``token`` (renewed when due), or None: unknown, expired, revoked
        or malformed tokens all look the same.

        The hot path of every request: one store read (plus one write per ``touch_interval``).
        Only what hashing needs is checked here: an ASCII ``str`` (encodable; ``isascii`` is
        O(1)) of the one token length, so junk of any size costs nothing; any other such string
        hashes to nothing stored, and the one backend that builds a key from the tag checks it.
        """
        if type(token) is not str or len(token) != TOKEN_LENGTH or not token.isascii():
            return None
        token_hash = token_digest(token.encode())
        record: SessionRecord | None = await self._session_get(token_hash, token[:TAG_LENGTH])
        if record is None:
            return None
        now = self._clock()
        state = liveness(record, now, self.lifetimes)
        if state == LIVE:
            return record
        if state == DEAD:
            return None
        return await self._touch(token_hash, token[:TAG_LENGTH], record, now)

    async def _touch(
        self, token_hash: bytes, tag: str, record: SessionRecord, now: float
    ) -> SessionRecord | None:
        """The due renewal. If the session changed since the read (touched, rotated or revoked
        meanwhile), the state it is in now is the answer."""
        renewed = touched(record, now, self.lifetimes)
        keep = self.keep_until(renewed)
        if await self.store.session_touch(token_hash, tag, record, renewed, keep_until=keep):
            return renewed
        current = await self.store.session_get(token_hash, tag)
        if current is None or liveness(current, now, self.lifetimes) == DEAD:
            return None
        return current

    async def rotate(self, token: str, *, reauthenticated: bool = False) -> str:
        """Replace the token of a live session (login, privilege change); the old one dies.

        Of concurrent rotations of one token exactly one succeeds; the others raise
        ``InvalidToken``. ``reauthenticated=True`` also sets ``authenticated_at`` to now.
        """
        check_flag(reauthenticated, "reauthenticated")
        old_hash, tag = parse_or_raise(token)
        new = token_for_tag(tag)
        new_hash = hash_token(new)
        for _attempt in range(ATTEMPTS):
            record = await self.store.session_get(old_hash, tag)
            now = self.clock()
            if record is None or liveness(record, now, self.lifetimes) == DEAD:
                raise InvalidToken(_GONE)
            auth = now if reauthenticated else None
            moved = rotated(record, now, self.lifetimes, auth)
            keep = self.keep_until(moved)
            if await self.store.session_move(
                old_hash, new_hash, tag, record, moved, keep_until=keep
            ):
                return new
        raise StoreError("the session kept changing during rotation")

    async def update(self, token: str, data: Mapping[str, Any]) -> SessionRecord:
        """Merge ``data`` into the session's small JSON data (a ``None`` value deletes a key);
        atomic against concurrent updates. Raises ``InvalidToken`` if the session is not live."""
        token_hash, tag = parse_or_raise(token)
        patch = check_json(data, MAX_DATA_BYTES, "data")
        for _attempt in range(ATTEMPTS):
            record = await self.store.session_get(token_hash, tag)
            if record is None or liveness(record, self.clock(), self.lifetimes) == DEAD:
                raise InvalidToken(_GONE)
            merged = check_json(merge_data(record.data, patch), MAX_DATA_BYTES, "data")
            updated = record._replace(data=merged)
            if await self.store.session_set_data(token_hash, tag, record, updated):
                return updated
        raise StoreError("the session kept changing during update")

    async def revoke(self, token_or_id: str, *, user_id: str | None = None) -> bool:
        """Revoke by token, or by public ``id`` together with its ``user_id`` ("your devices").
        Returns whether a session was removed. Another user's id never matches. With
        ``access_tokens`` linked, the session's access tokens go too, even when the session
        itself had already expired."""
        access = self.revoking()
        if user_id is not None:
            uid = check_id(user_id, "user_id")
            if not is_public_id(token_or_id):
                return False  # no session has such an id: nothing to ask the store
            tag = routing_tag(uid)
            if access is not None:
                # The access tokens go before the record: should the store fail in between,
                # the session is still there for the caller to revoke again. The other order
                # would leave tokens alive and no session to name. Only the user's own id may
                # revoke tokens, so the record is looked up first.
                stored = await self.store.session_list(uid, tag)
                if not any(record.id == token_or_id for record in stored):
                    return False
                await access.revoke_session(token_or_id)
            return await self.store.session_revoke_id(uid, token_or_id, tag)
        parsed = parse_token(token_or_id)
        if parsed is None:
            return False
        # The access tokens before the record here too: a failure in between leaves the
        # session for the caller to revoke again with the same token.
        first = None if access is None else await self._readable_id(*parsed)
        if access is not None and first is not None:
            await access.revoke_session(first)
        public_id = await self.store.session_revoke(*parsed)
        if public_id and access is not None and public_id != first:
            # A record the read above could not decode (deleted all the same): its id comes
            # only now, so its tokens can only go after it.
            await access.revoke_session(public_id)
        return public_id is not None

    async def _readable_id(self, token_hash: bytes, tag: str) -> str | None:
        """The public id of the session stored under ``token_hash`` (live or not), or None when
        there is none or its value is damaged (which revoking removes all the same)."""
        try:
            record = await self.store.session_get(token_hash, tag)
        except StoreUnavailable:
            raise
        except StoreError:
            return None
        return None if record is None else record.id

    async def _readable_ids(self, user_id: str, tag: str) -> list[str]:
        """The public ids of the user's stored sessions; none when one of them is damaged (the
        removal names them all the same, afterwards)."""
        try:
            records = await self.store.session_list(user_id, tag)
        except StoreUnavailable:
            raise
        except StoreError:
            return []
        return [record.id for record in records]

    async def revoke_all(self, user_id: str, except_token: str | None = None) -> int:
        """Revoke every session of the user (but the one of ``except_token``); effective on the
        very next ``get`` in every process. Returns how many stored records went (this may
        count expired records that were not purged yet). With ``access_tokens`` linked, the
        user's access tokens go too: all of them, or those of every other session."""
        uid = check_id(user_id, "user_id")
        tag = routing_tag(uid)
        keep = kept_hash(except_token)
        access = self.revoking()
        revoked: set[str] = set()
        if access is not None and except_token is None:
            await access.revoke_user(uid)
        elif access is not None:
            # The access tokens of the other sessions before their records: a failure in
            # between leaves the records for the caller to revoke again (the order revoke()
            # follows). The kept session is named by its own token's read.
            kept = None if keep is None else await self._readable_id(keep, tag)
            for public_id in await self._readable_ids(uid, tag):
                if public_id != kept and public_id not in revoked:
                    await access.revoke_session(public_id)
                    revoked.add(public_id)
        removed = await self.store.session_revoke_user(uid, tag, keep)
        if access is not None and except_token is not None:
            for public_id in removed:
                if public_id not in revoked:  # created since the list: only now known
                    await access.revoke_session(public_id)
        return len(removed)

    async def list(self, user_id: str) -> list[SessionRecord]:
        """The user's live sessions, oldest first, for a "your devices" page."""
        uid = check_id(user_id, "user_id")
        records = await self.store.session_list(uid, routing_tag(uid))
        now = self.clock()
        return [r for r in records if liveness(r, now, self.lifetimes) != DEAD]

    async def purge(self) -> int:
        """Delete what has expired now (stores also do it by themselves)."""
        now = self.clock()
        return await self.store.purge_expired(now, sessions_before=now - self.linger)
