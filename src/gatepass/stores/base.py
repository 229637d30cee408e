"""The store contract: what every backend offers, to sessions and to the modules built beside them.

A *store* is one connection (or pool) to one backend, opened from a URL by
:func:`gatepass.open_store` (blocking) or :func:`gatepass.open_async_store` (asyncio). Sessions use
the session methods below; refresh-token families and the JWT denylist (``gatepass.strategies``,
and store modules whose names contain ``refresh`` / ``revocation``) do their own I/O **on the same
connection** through the stable attributes listed here. Nothing in this module imports from
``gatepass.strategies``: the layering points down only.

Stable contract (kept for other modules; do not rename)
=======================================================

Every store, sync and async:

``store.kind``
    ``"memory"``, ``"sqlite"``, ``"redis"`` or ``"postgres"``: dispatch on this string.
``store.prefix``
    The key prefix (Redis, default ``"gatepass:"``) or table-name prefix (SQL, default
    ``"gatepass_"``; memory keeps it for symmetry). Chosen with ``?prefix=...`` in the URL.
``store.errors()``
    A context manager (a plain ``with`` block, also usable in async code) that turns every
    driver exception (``sqlite3.Error``, ``redis.RedisError``, ``psycopg.Error``, pool timeouts,
    ``OSError``) into :class:`~gatepass.errors.StoreUnavailable` (connection lost, timeout,
    locked, read-only) or :class:`~gatepass.errors.StoreError` (anything else, e.g. a missing
    table). The module-level
    :func:`translate_errors` is the same thing without a store.
``store.setup()``
    Create tables, indexes (and the PostgreSQL schema) if missing; idempotent, safe to call from
    several processes at once. Runs the session DDL and every DDL registered with
    :func:`register_schema` for this backend kind. Redis and memory need no schema: a no-op.
``store.purge_expired(now=None) -> int``
    Delete expired rows by index (SQL), clean per-user indexes of keys Redis already expired, drop
    expired memory entries; returns how many records went. Runs automatically too (see each
    backend); calling it on demand is always safe. Modules may add their own purge step with
    :func:`register_purge`.
``store.close()``
    Release connections / pools. Idempotent.

The async twins (``AsyncMemoryStore`` ...) have the same attributes; ``setup``, ``purge_expired``
and ``close`` are coroutines there.

Backend handles (stable):

memory (``MemoryStore``; ``AsyncMemoryStore.sync`` is the shared ``MemoryStore``)
    ``store.lock``: a ``threading.RLock``; hold it for every read-modify-write.
    ``store.table(name) -> dict``: a named dict created on first use (sessions use ``"sessions"``
    keyed by token hash and ``"users"`` mapping user id to ``{public_id: token_hash}``).
    Never await while holding the lock.
sqlite (``SQLiteStore``; ``AsyncSQLiteStore.sync`` is the wrapped ``SQLiteStore``)
    ``store.path``: the database file (``":memory:"`` for a private in-memory database, one per
    store, shared by its threads).
    ``store.connection()``: the calling thread's connection (autocommit mode, WAL, busy timeout,
    ``sqlite3.Row`` rows off). ``store.transaction()``: ``BEGIN IMMEDIATE`` ... ``COMMIT``
    (rollback on error, errors translated); yields the connection.
    ``store.connect()`` opens a brand-new connection with the same settings (for another process).
    ``store.table(name)``: the quoted table name (``"gatepass_sessions"`` for ``"sessions"``).
    ``AsyncSQLiteStore.run(fn, *args)`` awaits ``fn(*args)`` in a worker thread.
redis (``RedisStore`` / ``AsyncRedisStore``)
    ``store.client``: ``redis.Redis`` / ``redis.cluster.RedisCluster`` (async:
    ``redis.asyncio.Redis`` / ``redis.asyncio.cluster.RedisCluster``), ``decode_responses=False``.
    ``store.cluster``: ``True`` on a cluster.
    ``store.routing_tag(user_id) -> str``: the 4-character hash tag of a user's slot. Every key of
    one user (sessions, user index, and yours: families, cut-offs) must be built with
    ``store.key(tag, *parts)`` = ``f"{prefix}{{{tag}}}:{':'.join(parts)}"`` so that multi-key Lua
    scripts stay in one cluster slot. Session tokens carry the tag (``"<tag>.<secret>"``) so a
    lookup by token alone finds the slot; refresh tokens may do the same.
    ``store.script(source)``: the registered script object (``.sha``, ``.source``), cached.
    ``store.eval_script(source, keys, args)``: EVALSHA it (EVAL on NOSCRIPT), errors
    translated; awaitable on the async store.
postgres (``PostgresStore`` / ``AsyncPostgresStore``)
    ``store.pool``: ``psycopg_pool.ConnectionPool`` / ``AsyncConnectionPool`` of autocommit
    connections. ``store.connection()``: ``with`` / ``async with`` a pooled connection, errors
    translated. ``store.table(name)``: the quoted, schema-qualified name
    (``"myschema"."gatepass_sessions"``). ``store.schema``: the schema (``?schema=``, default
    ``public``).

Registering DDL from another module (SQL backends)::

    from gatepass.stores.base import register_schema
    register_schema("postgres", "refresh", lambda table: [
        f"CREATE TABLE IF NOT EXISTS {table('refresh_families')} (...)",
    ])

``table`` is the store's ``table`` method, so prefixes and schemas apply. Register at import time;
``setup()`` runs every registered entry (in registration order) after the session schema.

Session I/O (used by :mod:`gatepass.strategies.sessions`; policy stays in
:mod:`gatepass.stores.records`, backends only do I/O, atomically):
``session_create``, ``session_get``, ``session_rotate``, ``session_update``, ``session_revoke``,
``session_revoke_id``, ``session_revoke_user``, ``session_list``. See :class:`Store`.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, NoReturn, Protocol, runtime_checkable
from urllib.parse import SplitResult

from gatepass.errors import ConfigurationError, StoreError, StoreUnavailable
from gatepass.stores.records import JSONDict, SessionRecord, TouchSpec, finite_real

StoreKind = Literal["memory", "sqlite", "redis", "postgres"]

#: (name, function from the store's ``table`` to DDL statements), per SQL backend kind.
_SCHEMAS: dict[str, list[tuple[str, Callable[[Callable[[str], str]], Sequence[str]]]]] = {
    "sqlite": [],
    "postgres": [],
}
#: Extra purge steps per kind: called with (store, now) and return a count.
_PURGES: dict[str, list[Callable[[Any, float], int]]] = {
    "memory": [],
    "sqlite": [],
    "redis": [],
    "postgres": [],
}
#: Their asyncio twins for the stores with their own async I/O (Redis and PostgreSQL).
_ASYNC_PURGES: dict[str, list[Callable[[Any, float], Awaitable[int]]]] = {
    "redis": [],
    "postgres": [],
}


def register_schema(
    kind: Literal["sqlite", "postgres"],
    name: str,
    ddl: Callable[[Callable[[str], str]], Sequence[str]],
) -> None:
    """Add DDL that ``store.setup()`` runs for ``kind``; re-registering ``name`` replaces it."""
    entries = _SCHEMAS[kind]
    entries[:] = [entry for entry in entries if entry[0] != name]
    entries.append((name, ddl))


def registered_schemas(
    kind: str,
) -> list[tuple[str, Callable[[Callable[[str], str]], Sequence[str]]]]:
    """The DDL registered for ``kind``, in order (used by the backends' ``setup``)."""
    return list(_SCHEMAS.get(kind, []))


def register_purge(
    kind: StoreKind,
    step: Callable[[Any, float], int],
    *,
    async_step: Callable[[Any, float], Awaitable[int]] | None = None,
) -> None:
    """Add a purge step that ``purge_expired`` runs after the session purge.

    ``step`` is blocking and receives the *sync* store: blocking stores call it directly, and the
    async memory and SQLite stores (which wrap a sync store) call it too. The asyncio Redis and
    PostgreSQL stores have their own connections, so they run ``async_step`` (the same purge
    written with ``await``), which a module registering for ``"redis"`` or ``"postgres"`` should
    pass; without one, those async stores cannot run the step.

    Every step skips a store whose ``setup()`` ran before the registering module was imported
    (its tables are missing: a plain ``StoreError``); ``StoreUnavailable`` still propagates.
    Registering the same function again changes nothing.
    """
    if not any(getattr(known, "__wrapped__", None) is step for known in _PURGES[kind]):
        _PURGES[kind].append(_skipping_missing_tables(step))
    if async_step is not None:
        steps = _ASYNC_PURGES.setdefault(kind, [])
        if not any(getattr(known, "__wrapped__", None) is async_step for known in steps):
            steps.append(_skipping_missing_tables_async(async_step))


def _skipping_missing_tables(step: Callable[[Any, float], int]) -> Callable[[Any, float], int]:
    @functools.wraps(step)
    def run(store: Any, now: float) -> int:
        try:
            return step(store, now)
        except StoreError as exc:
            if type(exc) is not StoreError:
                raise
            return 0

    return run


def _skipping_missing_tables_async(
    step: Callable[[Any, float], Awaitable[int]],
) -> Callable[[Any, float], Awaitable[int]]:
    @functools.wraps(step)
    async def run(store: Any, now: float) -> int:
        try:
            return await step(store, now)
        except StoreError as exc:
            if type(exc) is not StoreError:
                raise
            return 0

    return run


def registered_purges(kind: str) -> list[Callable[[Any, float], int]]:
    return list(_PURGES.get(kind, []))


def registered_async_purges(kind: str) -> list[Callable[[Any, float], Awaitable[int]]]:
    return list(_ASYNC_PURGES.get(kind, []))


def url_with_query(parts: SplitResult, query: str) -> str:
    """``parts`` as a URL again with ``query`` instead of its own: always with ``//``.

    ``urlunsplit`` drops the ``//`` of a URL with no host (``postgresql:///db?host=...``,
    ``unix:///tmp/redis.sock``), which the drivers then refuse or misread.
    """
    url = f"{parts.scheme}://{parts.netloc}{parts.path}"
    if query:
        url += f"?{query}"
    if parts.fragment:
        url += f"#{parts.fragment}"
    return url


def purge_time(now: object) -> float:
    """The cut-off of a ``purge_expired(now)`` call: ``time.time()`` when ``now`` is None.

    Checked because the comparison happens in the store: SQLite orders every number below every
    string, so ``DELETE ... WHERE expires_at <= 'x'`` would delete live sessions too. Only a
    finite real number (not a ``bool``) is a point in time.
    """
    if now is None:
        return time.time()
    when = finite_real(now)
    if when is None:
        raise ConfigurationError(f"purge time must be a finite number of seconds, not {now!r:.40}")
    return when


def _classify(exc: BaseException) -> type[StoreError] | None:
    """Which gatepass error a driver exception becomes, or None if it is not a driver error."""
    if isinstance(exc, StoreError):
        return None
    if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
        message = str(exc).lower()
        if "no such table" in message or "syntax error" in message:
            return StoreError
        return StoreUnavailable
    if isinstance(exc, sqlite3.Error):
        return StoreError
    module = type(exc).__module__
    if module.startswith("redis"):
        import redis.exceptions as rx  # noqa: PLC0415 - only when a redis error exists

        # Server answers that mean "not now" (a replica, loading, a migration, a cluster that
        # lost a master: CLUSTERDOWN / MASTERDOWN) are outages; other error replies are errors.
        if isinstance(exc, rx.ResponseError) and not isinstance(
            exc, rx.ReadOnlyError | rx.BusyLoadingError | rx.TryAgainError | rx.ClusterDownError
        ):
            return StoreError
        return StoreUnavailable
    if module.startswith(("psycopg", "psycopg_pool")):
        import psycopg  # noqa: PLC0415 - only when a psycopg error exists

        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
            return StoreUnavailable
        if isinstance(exc, psycopg.Error):
            return StoreError
        return StoreUnavailable  # psycopg_pool.PoolTimeout, TooManyRequests, PoolClosed
    if isinstance(exc, OSError | TimeoutError | ConnectionError):
        return StoreUnavailable
    return None


# SQLite "no such table", PostgreSQL 'relation "..." does not exist' / UndefinedFunction.
_MISSING_SCHEMA = re.compile(r"no such table|relation .* does not exist|function .* does not exist")
_SCHEMA_HINT = " (the schema is missing: call store.setup() once, e.g. at deploy time)"


class translate_errors(contextlib.AbstractContextManager[None]):
    """Re-raise driver exceptions as ``StoreUnavailable`` / ``StoreError`` (fail closed).

    ``with translate_errors("redis"): ...``. The original exception is chained (``__cause__``)
    for logs; its text is included because driver messages hold no token (we only send hashes).
    A class rather than a generator-based context manager: it sits on every hot path, and a
    stateless instance can be reused and nested freely.
    """

    __slots__ = ("backend",)

    def __init__(self, backend: str = "store") -> None:
        self.backend = backend

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None or not isinstance(exc, Exception):
            return
        kind = _classify(exc)
        if kind is None:
            return
        text = str(exc)[:200]
        hint = _SCHEMA_HINT if _MISSING_SCHEMA.search(text) else ""
        raise kind(f"{self.backend}: {type(exc).__name__}: {text}{hint}") from exc

    def reraise(self, exc: BaseException) -> NoReturn:
        """Raise what leaving ``with self:`` would raise for ``exc``.

        For the hottest paths, written as ``try: ... except Exception as exc:
        errors.reraise(exc)``: a ``try`` block costs nothing until something fails, while a
        ``with`` block calls ``__enter__`` and ``__exit__`` on every pass.
        """
        self.__exit__(type(exc), exc, exc.__traceback__)
        raise exc


@runtime_checkable
class Store(Protocol):
    """A blocking store. Every method raises ``StoreUnavailable`` when the backend is down.

    Session methods take the SHA-256 of the token (``bytes``, 32) and plain values. Decisions are
    the pure functions of :mod:`gatepass.stores.records` (called by the stores themselves where a
    decision must sit between a read and a conditional write); backends only do I/O.

    The ``tag`` of ``session_get`` is the presented token's first four characters, *unchecked*
    (``Sessions.get`` checks only type, length and ASCII on its hot path): a backend that builds
    a key or a name from it must check it with :func:`gatepass.stores.records.is_tag` first and
    answer None otherwise, as the Redis store does. Every other method gets a checked tag.
    """

    kind: StoreKind
    prefix: str

    def errors(self) -> contextlib.AbstractContextManager[None]: ...
    def setup(self) -> None: ...
    def purge_expired(self, now: float | None = None) -> int: ...
    def close(self) -> None: ...

    def session_create(self, token_hash: bytes, record: SessionRecord, tag: str) -> None:
        """Insert a new session and index it under its user."""

    def session_get(self, token_hash: bytes, tag: str, touch: TouchSpec) -> SessionRecord | None:
        """One round trip: the record if :func:`~gatepass.stores.records.liveness` says it is
        live (renewed first when due: one more write), else None (absent, expired, revoked).
        The record is a deeply immutable snapshot (``metadata`` and ``data`` frozen)."""

    def session_rotate(
        self, old_hash: bytes, new_hash: bytes, tag: str, touch: TouchSpec, auth_time: float | None
    ) -> SessionRecord | None:
        """Atomically move a live session to a new token hash; None if it was not live."""

    def session_update(
        self, token_hash: bytes, tag: str, patch: Mapping[str, Any], touch: TouchSpec
    ) -> SessionRecord | None:
        """Merge ``patch`` into the live session's data (None values delete keys)."""

    def session_revoke(self, token_hash: bytes, tag: str) -> bool: ...
    def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool: ...
    def session_revoke_user(self, user_id: str, tag: str, keep_hash: bytes | None) -> int: ...
    def session_list(self, user_id: str, tag: str, now: float) -> list[SessionRecord]: ...


@runtime_checkable
class AsyncStore(Protocol):
    """The asyncio twin of :class:`Store`: same methods, awaited."""

    kind: StoreKind
    prefix: str

    def errors(self) -> contextlib.AbstractContextManager[None]: ...
    async def setup(self) -> None: ...
    async def purge_expired(self, now: float | None = None) -> int: ...
    async def close(self) -> None: ...
    async def session_create(self, token_hash: bytes, record: SessionRecord, tag: str) -> None: ...
    async def session_get(
        self, token_hash: bytes, tag: str, touch: TouchSpec
    ) -> SessionRecord | None: ...
    async def session_rotate(
        self, old_hash: bytes, new_hash: bytes, tag: str, touch: TouchSpec, auth_time: float | None
    ) -> SessionRecord | None: ...
    async def session_update(
        self, token_hash: bytes, tag: str, patch: Mapping[str, Any], touch: TouchSpec
    ) -> SessionRecord | None: ...
    async def session_revoke(self, token_hash: bytes, tag: str) -> bool: ...
    async def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool: ...
    async def session_revoke_user(self, user_id: str, tag: str, keep_hash: bytes | None) -> int: ...
    async def session_list(self, user_id: str, tag: str, now: float) -> list[SessionRecord]: ...


__all__ = [
    "AsyncStore",
    "JSONDict",
    "Store",
    "StoreKind",
    "register_purge",
    "register_schema",
    "registered_purges",
    "registered_schemas",
    "translate_errors",
]
