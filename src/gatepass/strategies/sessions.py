"""Server-side sessions: an opaque token in a cookie, the state in a store, instant revocation.

:class:`Sessions` (blocking) and :class:`AsyncSessions` (asyncio) share every decision through
:class:`_SessionPolicy` and the pure functions of :mod:`gatepass.stores.records`; they differ only
in whether the store call is awaited. See ``docs/sessions.md`` for the design and threat model.

    sessions = Sessions(open_store("sqlite:///app.db"), idle_timeout=1800, absolute_timeout=43200)
    token, record = sessions.create("user-42", metadata={"ua": "Firefox on Linux"})
    record = sessions.get(token)            # None once expired or revoked
    token = sessions.rotate(token)          # after login / privilege change
    sessions.revoke_all("user-42", except_token=token)
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

from gatepass.errors import ConfigurationError, InvalidToken
from gatepass.stores.base import AsyncStore, Store
from gatepass.stores.records import (
    MAX_DATA_BYTES,
    NOW,
    TAG_LENGTH,
    TOKEN_LENGTH,
    Lifetimes,
    SessionRecord,
    TouchSpec,
    check_json,
    check_user_id,
    hash_token,
    is_live,
    is_public_id,
    new_record,
    new_token,
    parse_token,
    routing_tag,
    sha256,
    spec_maker,
    token_for_tag,
)
from gatepass.strategies.access import AccessTokens, AsyncAccessTokens

__all__ = ["AsyncSessions", "SessionRecord", "Sessions"]

MINUTE = 60.0
HOUR = 60 * MINUTE
DAY = 24 * HOUR
StoreT = TypeVar("StoreT", Store, AsyncStore)
AccessT = TypeVar("AccessT", AccessTokens, AsyncAccessTokens)


def _matching_store(store: StoreT, *, asynchronous: bool) -> StoreT:
    """``store`` if it is a gatepass store of the front-end's kind, else ``ConfigurationError``.

    ``Sessions`` on an async store would return a coroutine from ``get`` (truthy: a request would
    pass as logged in); ``AsyncSessions`` on a blocking store would fail on every ``await``.
    """
    get = getattr(store, "session_get", None)
    if not callable(get):
        raise ConfigurationError(
            f"sessions need a store from gatepass.open_store / open_async_store, not {store!r}"
        )
    if inspect.iscoroutinefunction(get) != asynchronous:
        if asynchronous:
            raise ConfigurationError("AsyncSessions needs a store from open_async_store()")
        raise ConfigurationError(
            "Sessions needs a store from open_store(); use AsyncSessions with open_async_store()"
        )
    return store


def _check_flag(value: object, name: str) -> None:
    """Flags are ``bool``: ``remember="false"`` would otherwise mean True."""
    if type(value) is not bool:
        raise ConfigurationError(f"{name} must be True or False, not {value!r}")


def _checked_clock(clock: Callable[[], float]) -> Callable[[], float]:
    """The injected clock: a function returning seconds since the epoch (not called here, so a
    scripted test clock loses no value)."""
    if not callable(clock):
        raise ConfigurationError(f"clock must be a function returning seconds, not {clock!r}")
    return clock


def _revocable(access: AccessT | None, *, asynchronous: bool) -> AccessT | None:
    """Refuse a link that could not keep its promise: stateless tokens cannot be revoked.

    One state model (security note "Sessions" 5): with ``access_tokens`` linked, revoking a
    session also revokes the access tokens that carry its ``sid``, so "log out" means logged out
    for bearer requests too, not only after the access token's ``exp``.
    """
    if access is None:
        return None
    kind = AsyncAccessTokens if asynchronous else AccessTokens
    if not isinstance(access, kind):
        raise ConfigurationError(f"access_tokens must be {kind.__name__}, not {access!r}")
    if access.mode == "stateless":
        raise ConfigurationError(
            "access tokens in stateless mode cannot be revoked; link AccessTokens with "
            "revocation='denylist' or 'replicated'"
        )
    return access


def _other_ids(records: list[SessionRecord], kept: SessionRecord | None) -> list[str]:
    """Public ids of the sessions ``revoke_all(except_token=...)`` is about to end."""
    keep_id = None if kept is None else kept.id
    return [r.id for r in records if r.id != keep_id]


class _SessionPolicy(Generic[StoreT, AccessT]):
    """Configuration and every decision; no I/O. Both front-ends inherit it."""

    #: Whether the front-end awaits its store (a mismatch would hand back a coroutine, which is
    #: truthy: "logged in" by accident), checked against the store and access tokens given.
    _ASYNC = False

    def __init__(
        self,
        store: StoreT,
        *,
        idle_timeout: float = 30 * MINUTE,
        absolute_timeout: float = 12 * HOUR,
        touch_interval: float = MINUTE,
        remember_idle_timeout: float = 14 * DAY,
        remember_absolute_timeout: float = 30 * DAY,
        clock: Callable[[], float] = time.time,
        access_tokens: AccessT | None = None,
    ) -> None:
        self.store = store
        self.access_tokens: AccessT | None = _revocable(access_tokens, asynchronous=self._ASYNC)
        # Passed unconverted: Lifetimes checks each one (a finite real number of seconds, not a
        # bool; positive; touch_interval shorter than the idle timeouts) and stores floats, so
        # "x", None or NaN raise ConfigurationError instead of float()'s ValueError/TypeError.
        self.lifetimes = Lifetimes(
            idle=idle_timeout,
            absolute=absolute_timeout,
            idle_remember=remember_idle_timeout,
            absolute_remember=remember_absolute_timeout,
            touch_interval=touch_interval,
        )
        self.clock = clock

    # ``store`` and ``clock`` are properties because the hot path binds what it needs from them
    # once (the store's read, a spec closure over the clock): assigning either rebinds those.

    @property
    def store(self) -> StoreT:
        return self._store

    @store.setter
    def store(self, store: StoreT) -> None:
        self._store: StoreT = _matching_store(store, asynchronous=self._ASYNC)
        #: The store's read, bound once (an attribute lookup fewer on every request); each
        #: front-end declares its type.
        self._session_get: Any = store.session_get

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self._clock = _checked_clock(clock)
        #: ``touch_spec`` now: one call on the hot path.
        self._spec: Callable[[], TouchSpec] = spec_maker(self.lifetimes, clock)

    def _plan_create(
        self, user_id: str, remember: bool, metadata: Mapping[str, Any] | None
    ) -> tuple[str, bytes, SessionRecord, str]:
        _check_flag(remember, "remember")
        record = new_record(
            user_id, self.lifetimes, self.clock(), remember=remember, metadata=metadata
        )
        token = new_token(record.user_id)
        return token, hash_token(token), record, routing_tag(record.user_id)

    @staticmethod
    def _parse_or_raise(token: object) -> tuple[bytes, str]:
        parsed = parse_token(token)
        if parsed is None:
            raise InvalidToken("not a session token")
        return parsed

    @staticmethod
    def _check_patch(patch: Mapping[str, Any]) -> dict[str, Any]:
        return check_json(patch, MAX_DATA_BYTES, "data")

    @staticmethod
    def _keep(except_token: str | None) -> bytes | None:
        if except_token is None:
            return None
        parsed = parse_token(except_token)
        # A malformed "current" token keeps nothing: every session of the user goes.
        return None if parsed is None else parsed[0]


class Sessions(_SessionPolicy[Store, AccessTokens]):
    """Blocking server-side sessions on a store from :func:`gatepass.open_store`.

    ``idle_timeout``: a session unused this long is dead. ``absolute_timeout``: no session
    outlives this, however busy. ``touch_interval``: sliding renewal writes at most once per
    interval per session (so ``last_seen_at`` is accurate to within it). Remember-me sessions use
    ``remember_idle_timeout`` / ``remember_absolute_timeout``. ``clock`` returns seconds since the
    epoch (inject one in tests). ``access_tokens``: an :class:`AccessTokens` in ``denylist`` or
    ``replicated`` mode whose tokens die with their session (``revoke``, ``revoke_all``). Every
    method raises ``StoreUnavailable`` if the store is down: treat that as "not authenticated,
    try later", never as "logged in".
    """

    _session_get: Callable[[bytes, str, TouchSpec], SessionRecord | None]

    def create(
        self, user_id: str, *, remember: bool = False, metadata: Mapping[str, Any] | None = None
    ) -> tuple[str, SessionRecord]:
        """Start a session; returns ``(token, record)``. Put the token in the cookie only."""
        token, token_hash, record, tag = self._plan_create(user_id, remember, metadata)
        self.store.session_create(token_hash, record, tag)
        return token, record

    def get(self, token: str) -> SessionRecord | None:
        """The live session for ``token`` (renewed when due), or None: unknown, expired, revoked
        or malformed tokens all look the same.

        The hot path of every request: one store read (plus one write per ``touch_interval``).
        The store applies :func:`~gatepass.stores.records.liveness` to what it read and returns
        only a live record, so the decision is made once, where the data is.
        """
        # The hot path checks only what hashing needs: an ASCII str (encodable: no lone
        # surrogates; isascii is O(1)) of the one token length, so junk of any size costs
        # nothing. Any other such string hashes to nothing stored; the tag is checked by the
        # only backend that builds a key from it (Redis: records.is_tag).
        if type(token) is not str or len(token) != TOKEN_LENGTH or not token.isascii():
            return None
        tag = token[:TAG_LENGTH]
        return self._session_get(sha256(token.encode()).digest(), tag, self._spec())

    def rotate(self, token: str, *, reauthenticated: bool = False) -> str:
        """Replace the token of a live session (login, privilege change); the old one dies.

        Of concurrent rotations of one token exactly one succeeds; the others raise
        ``InvalidToken``. ``reauthenticated=True`` also sets ``authenticated_at`` to now.
        """
        _check_flag(reauthenticated, "reauthenticated")
        old_hash, tag = self._parse_or_raise(token)
        spec = self._spec()
        new = token_for_tag(tag)
        auth = spec[NOW] if reauthenticated else None
        record = self.store.session_rotate(old_hash, hash_token(new), tag, spec, auth)
        if record is None:
            raise InvalidToken("session is unknown, expired or revoked")
        return new

    def update(self, token: str, data: Mapping[str, Any]) -> SessionRecord:
        """Merge ``data`` into the session's small JSON data (a ``None`` value deletes a key);
        atomic against concurrent updates. Raises ``InvalidToken`` if the session is not live."""
        token_hash, tag = self._parse_or_raise(token)
        patch = self._check_patch(data)
        record = self.store.session_update(token_hash, tag, patch, self._spec())
        if record is None:
            raise InvalidToken("session is unknown, expired or revoked")
        return record

    def revoke(self, token_or_id: str, *, user_id: str | None = None) -> bool:
        """Revoke by token, or by public ``id`` together with its ``user_id`` ("your devices").
        Returns whether a session was removed. Another user's id never matches."""
        access = self.access_tokens
        if user_id is not None:
            uid = check_user_id(user_id)
            if not is_public_id(token_or_id):
                return False  # no session has such an id: nothing to ask the store
            removed = self.store.session_revoke_id(uid, token_or_id, routing_tag(uid))
            if removed and access is not None:
                access.revoke_session(token_or_id)
            return removed
        parsed = parse_token(token_or_id)
        if parsed is None:
            return False
        record = self.get(token_or_id) if access is not None else None
        removed = self.store.session_revoke(parsed[0], parsed[1])
        if record is not None and access is not None:
            access.revoke_session(record)
        return removed

    def revoke_all(self, user_id: str, except_token: str | None = None) -> int:
        """Revoke every session of the user (but the one of ``except_token``); effective on the
        very next ``get`` in every process. Returns how many stored records went (this may
        count expired records that were not purged yet). With ``access_tokens`` linked, the
        user's access tokens go too: all of them, or those of every other session."""
        uid = check_user_id(user_id)
        access = self.access_tokens
        if access is None:
            return self.store.session_revoke_user(uid, routing_tag(uid), self._keep(except_token))
        if except_token is None:
            access.revoke_user(uid)
            return self.store.session_revoke_user(uid, routing_tag(uid), None)
        kept = self.get(except_token)
        doomed = _other_ids(self.list(uid), kept)
        count = self.store.session_revoke_user(uid, routing_tag(uid), self._keep(except_token))
        for public_id in doomed:
            access.revoke_session(public_id)
        return count

    def list(self, user_id: str) -> list[SessionRecord]:
        """The user's live sessions, oldest first, for a "your devices" page."""
        uid = check_user_id(user_id)
        spec = self._spec()
        records = self.store.session_list(uid, routing_tag(uid), spec[NOW])
        return [r for r in records if is_live(r, spec)]

    def purge(self) -> int:
        """Delete expired sessions now (stores also do it by themselves)."""
        return self.store.purge_expired(self.clock())


class AsyncSessions(_SessionPolicy[AsyncStore, AsyncAccessTokens]):
    """The asyncio twin of :class:`Sessions`, on a store from :func:`gatepass.open_async_store`."""

    _ASYNC = True

    _session_get: Callable[[bytes, str, TouchSpec], Awaitable[SessionRecord | None]]

    async def create(
        self, user_id: str, *, remember: bool = False, metadata: Mapping[str, Any] | None = None
    ) -> tuple[str, SessionRecord]:
        token, token_hash, record, tag = self._plan_create(user_id, remember, metadata)
        await self.store.session_create(token_hash, record, tag)
        return token, record

    async def get(self, token: str) -> SessionRecord | None:
        if type(token) is not str or len(token) != TOKEN_LENGTH or not token.isascii():
            return None
        tag = token[:TAG_LENGTH]
        return await self._session_get(sha256(token.encode()).digest(), tag, self._spec())

    async def rotate(self, token: str, *, reauthenticated: bool = False) -> str:
        _check_flag(reauthenticated, "reauthenticated")
        old_hash, tag = self._parse_or_raise(token)
        spec = self._spec()
        new = token_for_tag(tag)
        auth = spec[NOW] if reauthenticated else None
        record = await self.store.session_rotate(old_hash, hash_token(new), tag, spec, auth)
        if record is None:
            raise InvalidToken("session is unknown, expired or revoked")
        return new

    async def update(self, token: str, data: Mapping[str, Any]) -> SessionRecord:
        token_hash, tag = self._parse_or_raise(token)
        patch = self._check_patch(data)
        record = await self.store.session_update(token_hash, tag, patch, self._spec())
        if record is None:
            raise InvalidToken("session is unknown, expired or revoked")
        return record

    async def revoke(self, token_or_id: str, *, user_id: str | None = None) -> bool:
        access = self.access_tokens
        if user_id is not None:
            uid = check_user_id(user_id)
            if not is_public_id(token_or_id):
                return False
            removed = await self.store.session_revoke_id(uid, token_or_id, routing_tag(uid))
            if removed and access is not None:
                await access.revoke_session(token_or_id)
            return removed
        parsed = parse_token(token_or_id)
        if parsed is None:
            return False
        record = await self.get(token_or_id) if access is not None else None
        removed = await self.store.session_revoke(parsed[0], parsed[1])
        if record is not None and access is not None:
            await access.revoke_session(record)
        return removed

    async def revoke_all(self, user_id: str, except_token: str | None = None) -> int:
        uid = check_user_id(user_id)
        access = self.access_tokens
        keep = self._keep(except_token)
        if access is None:
            return await self.store.session_revoke_user(uid, routing_tag(uid), keep)
        if except_token is None:
            await access.revoke_user(uid)
            return await self.store.session_revoke_user(uid, routing_tag(uid), None)
        kept = await self.get(except_token)
        doomed = _other_ids(await self.list(uid), kept)
        count = await self.store.session_revoke_user(uid, routing_tag(uid), keep)
        for public_id in doomed:
            await access.revoke_session(public_id)
        return count

    async def list(self, user_id: str) -> list[SessionRecord]:
        uid = check_user_id(user_id)
        spec = self._spec()
        records = await self.store.session_list(uid, routing_tag(uid), spec[NOW])
        return [r for r in records if is_live(r, spec)]

    async def purge(self) -> int:
        return await self.store.purge_expired(self.clock())
