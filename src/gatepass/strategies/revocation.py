"""The three revocation modes of access tokens, sync and async.

``stateless``
    Nothing to look up: a token is valid until ``exp``. ``revoke*`` raise ``ConfigurationError``
    (a revocation that silently does nothing would be worse than none).
``denylist``
    One store round trip per verify: the token's ``jti``, its ``sid`` and its user's cut-off,
    fetched together (Redis ``MGET``, one SQL ``SELECT``).
``replicated``
    Verify does no I/O: each process keeps the denylist and cut-offs in memory
    (:class:`~gatepass.strategies._access_policy.RevocationCache`) and a background listener
    applies changes as the store announces them: Redis pub/sub, PostgreSQL ``LISTEN``/``NOTIFY``,
    a polled change counter on SQLite, direct callbacks on ``memory://``.

Failure policy of ``replicated`` (chosen: **fail closed, then resynchronise**)
------------------------------------------------------------------------------
A missed change message means a revoked token could be accepted for as long as the process
lives, so the cache is trusted only while the change stream is known to be intact:

* before the first full load, and from the moment the listener sees its connection fail (an
  error, or the driver reconnecting underneath it) until a new full load has completed after
  re-subscribing, ``verify`` raises :class:`~gatepass.errors.StoreUnavailable`;
* the listener proves the stream alive at least every second (a Redis ``PING`` through the
  subscription, a ``SELECT 1`` on the PostgreSQL listening connection, every SQLite poll); if no
  sign of life arrives for ``max_silence`` seconds (3 s by default: a silently dropped TCP
  connection, a dead listener thread), ``verify`` fails closed as well.

The subscription is made *before* the snapshot is read, and updates are idempotent and
commutative, so nothing published during a reload is lost. The revoking process applies its own
revocation to its cache immediately, so it never sees its own revoked token pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from gatepass.errors import ConfigurationError, MissingDependency, StoreUnavailable
from gatepass.stores import revocation_state as state
from gatepass.stores.revocation_state import Entry
from gatepass.strategies._access_policy import RevocationCache, decide

DEFAULT_MAX_SILENCE = 3.0
DEFAULT_POLL_INTERVAL = 0.05  # SQLite: the propagation bound between processes
_HEARTBEAT = 1.0
_monotonic = time.monotonic
_RETRY_MAX = 2.0


class Revocations(Protocol):
    def check(self, claims: Mapping[str, Any], now: float) -> None: ...
    def add(self, entry: Entry, now: float) -> None: ...
    def close(self) -> None: ...


class AsyncRevocations(Protocol):
    async def check(self, claims: Mapping[str, Any], now: float) -> None: ...
    async def add(self, entry: Entry, now: float) -> None: ...
    async def close(self) -> None: ...


def _refuse() -> None:
    raise ConfigurationError(
        "revocation='stateless' cannot revoke: tokens stay valid until exp "
        "(use revocation='denylist' or 'replicated' with a store)"
    )


class StatelessRevocations:
    def check(self, claims: Mapping[str, Any], now: float) -> None:
        return None

    def add(self, entry: Entry, now: float) -> None:
        _refuse()

    def close(self) -> None:
        return None


class AsyncStatelessRevocations:
    async def check(self, claims: Mapping[str, Any], now: float) -> None:
        return None

    async def add(self, entry: Entry, now: float) -> None:
        _refuse()

    async def close(self) -> None:
        return None


class DenylistRevocations:
    """One round trip per verify; the store's outage is the verifier's outage (fail closed)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def check(self, claims: Mapping[str, Any], now: float) -> None:
        jti, sid, cut = state.lookup(
            self.store, claims["jti"], claims.get("sid"), claims["sub"], now
        )
        decide(claims, jti_revoked=jti, sid_revoked=sid, cutoff_us=cut)

    def add(self, entry: Entry, now: float) -> None:
        state.add(self.store, entry, now)

    def close(self) -> None:
        return None


class AsyncDenylistRevocations:
    def __init__(self, store: Any) -> None:
        self.store = store

    async def check(self, claims: Mapping[str, Any], now: float) -> None:
        jti, sid, cut = await state.lookup_async(
            self.store, claims["jti"], claims.get("sid"), claims["sub"], now
        )
        decide(claims, jti_revoked=jti, sid_revoked=sid, cutoff_us=cut)

    async def add(self, entry: Entry, now: float) -> None:
        await state.add_async(self.store, entry, now)

    async def close(self) -> None:
        return None


# --- replicated: the shared part ----------------------------------------------------------------


class _Replica:
    """The cache plus liveness bookkeeping, shared by the sync and async replicated modes."""

    def __init__(self, max_silence: float, clock: Callable[[], float]) -> None:
        if max_silence <= _HEARTBEAT:
            raise ConfigurationError(f"max_silence must exceed the {_HEARTBEAT} s heartbeat")
        self.cache = RevocationCache()
        self.max_silence = max_silence
        self.clock = clock  # wall clock for expiry of entries (the tokens' clock)
        self.beat = time.monotonic()
        self.always_live = False  # memory://: no stream that could break
        self.error: str | None = "not loaded yet"

    def alive(self) -> None:
        self.beat = time.monotonic()

    def lost(self, reason: str) -> None:
        self.cache.mark_stale()
        self.error = reason

    def loaded(self, entries: list[Entry]) -> None:
        self.cache.replace(entries)
        self.error = None
        self.alive()

    def check(self, claims: Mapping[str, Any]) -> None:
        # A known failure explains more than the silence it causes, so it is reported first.
        if self.error is not None and not self.cache.fresh:
            raise StoreUnavailable(
                f"revocation cache not synchronised ({self.error}); failing closed"
            )
        if not self.always_live and _monotonic() - self.beat > self.max_silence:
            raise StoreUnavailable(
                f"revocation stream silent for more than {self.max_silence} s; failing closed"
            )
        if not self.cache.check(claims):
            raise StoreUnavailable(
                f"revocation cache not synchronised ({self.error}); failing closed"
            )

    def apply_message(self, data: bytes | str) -> None:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        try:
            entry = Entry.decode(text)
        except ValueError:
            return  # not ours or corrupt: ignore (a reload would not help either)
        self.cache.apply(entry)


def _tracking_pubsub(pubsub: Any, on_connect: Callable[[], None]) -> Any:
    """Make a redis-py PubSub report every (re)connect.

    redis-py silently reconnects and re-subscribes a PubSub after a dropped connection; messages
    published in between are lost. Seeing each connect lets the listener reload.
    """
    base = type(pubsub)

    def hooked(self: Any, connection: Any) -> Any:
        on_connect()
        return base.on_connect(self, connection)

    pubsub.__class__ = type("GatepassTrackingPubSub", (base,), {"on_connect": hooked})
    return pubsub


def _sockname(pubsub: Any) -> tuple[str, int] | None:
    """The local address of the subscription's socket (diagnostics: find it in CLIENT LIST)."""
    connection = getattr(pubsub, "connection", None)
    sock: Any = getattr(connection, "_sock", None)
    if sock is None:
        writer = getattr(connection, "_writer", None)
        sock = writer.get_extra_info("socket") if writer is not None else None
    try:
        host, port = sock.getsockname()[:2]
    except (AttributeError, OSError, ValueError):
        return None
    return str(host), int(port)


def _pg_conninfo(store: Any) -> str:
    conninfo = getattr(store, "conninfo", None) or getattr(store.pool, "conninfo", None)
    if not isinstance(conninfo, str):
        raise ConfigurationError("replicated mode needs the PostgreSQL pool's conninfo")
    return conninfo


def _pg_listen_sql(store: Any) -> Any:
    from psycopg import sql  # noqa: PLC0415 - optional extra

    return sql.SQL("LISTEN {}").format(sql.Identifier(state.postgres_channel(store)))


# --- replicated, sync: a background thread -----------------------------------------------------


class ReplicatedRevocations:
    """In-memory revocation checks kept current by a listener thread (see the module docstring)."""

    def __init__(
        self,
        store: Any,
        *,
        clock: Callable[[], float] = time.time,
        max_silence: float = DEFAULT_MAX_SILENCE,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        wait: float = 5.0,
    ) -> None:
        self.store = store
        self.poll_interval = poll_interval
        self.replica = _Replica(max_silence, clock)
        self._stop = threading.Event()
        self._loaded = threading.Event()
        self._unsubscribe: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None
        self.reloads = 0
        #: Wait before the first reconnect attempt after a failure (doubles up to 2 s).
        self.retry_delay = 0.05
        #: Diagnostics: the listener's socket address (Redis) or backend pid (PostgreSQL).
        self.listener_address: tuple[str, int] | None = None
        self.listener_pid: int | None = None
        if store.kind == "memory":
            self._start_memory()
        else:
            target = {
                "sqlite": self._run_sqlite,
                "redis": self._run_redis,
                "postgres": self._run_postgres,
            }[store.kind]
            self._thread = threading.Thread(
                target=self._guard, args=(target,), name="gatepass-revocations", daemon=True
            )
            self._thread.start()
            # Not an error if it takes longer: verify fails closed until the first load.
            self._loaded.wait(wait)

    # public ------------------------------------------------------------------------------------

    def check(self, claims: Mapping[str, Any], now: float) -> None:
        self.replica.check(claims)

    def add(self, entry: Entry, now: float) -> None:
        state.add(self.store, entry, now)
        self.replica.cache.apply(entry)  # our own revocation applies here at once

    @property
    def synchronised(self) -> bool:
        return self.replica.cache.fresh

    def wait_synchronised(self, timeout: float) -> bool:
        """Block until the cache is trusted again (tests, start-up probes)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.replica.cache.fresh and not self._silent():
                return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self._stop.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    # internals -----------------------------------------------------------------------------------

    def _silent(self) -> bool:
        return (
            not self.replica.always_live
            and time.monotonic() - self.replica.beat > self.replica.max_silence
        )

    def _reload(self, entries: list[Entry]) -> None:
        self.replica.loaded(entries)
        self.reloads += 1
        self._loaded.set()

    def _guard(self, target: Callable[[], None]) -> None:
        """Run a listener loop until close(); any failure marks the cache stale, then retries."""
        delay = self.retry_delay
        while not self._stop.is_set():
            try:
                target()
                delay = self.retry_delay
            except Exception as exc:  # every failure: resync before trusting
                self.replica.lost(f"{type(exc).__name__}: {str(exc)[:120]}")
            if self._stop.wait(delay):
                break
            delay = min(delay * 2, _RETRY_MAX)

    def _start_memory(self) -> None:
        subscribers = self.store.table("revocation_subscribers")
        token = object()
        with self.store.lock:
            subscribers[id(token)] = self.replica.cache.apply
            entries, _ = state.load_all(self.store, self.replica.clock())
        self._reload(entries)
        self.replica.always_live = True

        def unsubscribe() -> None:
            with self.store.lock:
                subscribers.pop(id(token), None)

        self._token = token
        self._unsubscribe = unsubscribe

    def _run_sqlite(self) -> None:
        store = self.store
        entries, since = state.load_all(store, self.replica.clock())
        self._reload(entries)
        # Its own connection, except for a private ``:memory:`` database (one connection only).
        conn = store.connect() if store.path != ":memory:" else None
        try:
            purge_at = time.monotonic() + 60
            while not self._stop.wait(self.poll_interval):
                with store.errors(), contextlib.ExitStack() as stack:
                    current = conn if conn is not None else stack.enter_context(store.connection())
                    changes, since = state.sqlite_changes(current, store, since)
                for entry in changes:
                    self.replica.cache.apply(entry)
                self.replica.alive()
                if time.monotonic() > purge_at:
                    self.replica.cache.purge(self.replica.clock())
                    purge_at = time.monotonic() + 60
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()

    def _run_redis(self) -> None:
        store = self.store
        reconnected = threading.Event()
        with store.errors():
            pubsub = _tracking_pubsub(store.client.pubsub(), reconnected.set)
        try:
            with store.errors():
                pubsub.subscribe(state.redis_channel(store))
                self._wait_subscribed(pubsub)
            reconnected.clear()
            self.listener_address = _sockname(pubsub)
            entries, _ = state.load_all(store, self.replica.clock())
            self._reload(entries)
            next_ping = time.monotonic() + _HEARTBEAT
            purge_at = time.monotonic() + 60
            while not self._stop.is_set():
                with store.errors():
                    message = pubsub.get_message(timeout=0.2)
                if reconnected.is_set():
                    raise StoreUnavailable("redis pub/sub connection was re-established")
                if message is not None:
                    self.replica.alive()
                    if message.get("type") == "message":
                        self.replica.apply_message(message["data"])
                now = time.monotonic()
                if now >= next_ping:
                    with store.errors():
                        pubsub.ping()
                    next_ping = now + _HEARTBEAT
                if now > purge_at:
                    self.replica.cache.purge(self.replica.clock())
                    purge_at = now + 60
        finally:
            with contextlib.suppress(Exception):
                pubsub.close()

    def _wait_subscribed(self, pubsub: Any) -> None:
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and not self._stop.is_set():
            message = pubsub.get_message(timeout=0.2)
            if message is not None and message.get("type") == "subscribe":
                return
        raise StoreUnavailable("redis: no subscribe confirmation")

    def _run_postgres(self) -> None:
        try:
            import psycopg  # noqa: PLC0415 - optional extra
        except ImportError:  # pragma: no cover
            raise MissingDependency("pip install 'gatepass[postgres]'") from None
        store = self.store
        with store.errors():
            conn = psycopg.connect(_pg_conninfo(store), autocommit=True, connect_timeout=5)
        try:
            with store.errors():
                conn.execute(_pg_listen_sql(store))
            self.listener_pid = conn.info.backend_pid
            entries, _ = state.load_all(store, self.replica.clock())
            self._reload(entries)
            purge_at = time.monotonic() + 60
            next_ping = 0.0
            while not self._stop.is_set():
                with store.errors():
                    for notify in conn.notifies(timeout=0.2):
                        self.replica.apply_message(notify.payload)
                    if time.monotonic() >= next_ping:
                        conn.execute("SELECT 1")  # proves the connection alive (heartbeat)
                        next_ping = time.monotonic() + _HEARTBEAT
                        self.replica.alive()
                if time.monotonic() > purge_at:
                    self.replica.cache.purge(self.replica.clock())
                    purge_at = time.monotonic() + 60
        finally:
            with contextlib.suppress(Exception):
                conn.close()


# --- replicated, async: a background task ------------------------------------------------------


class AsyncReplicatedRevocations:
    """The asyncio twin: the listener is a task on the running loop, started by :meth:`start`."""

    def __init__(
        self,
        store: Any,
        *,
        clock: Callable[[], float] = time.time,
        max_silence: float = DEFAULT_MAX_SILENCE,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        self.store = store
        self.poll_interval = poll_interval
        self.replica = _Replica(max_silence, clock)
        self._task: asyncio.Task[None] | None = None
        self._loaded: asyncio.Event | None = None
        self._closed = False
        self._unsubscribe: Callable[[], None] | None = None
        self.reloads = 0
        self.retry_delay = 0.05
        self.listener_address: tuple[str, int] | None = None
        self.listener_pid: int | None = None

    async def start(self, wait: float = 5.0) -> None:
        """Start the listener (idempotent) and wait up to ``wait`` s for the first full load."""
        if self._closed:
            raise ConfigurationError("this AsyncAccessTokens is closed")
        if self.store.kind == "memory" and self._unsubscribe is None:
            self._start_memory()
            return
        if self._task is None:
            self._loaded = asyncio.Event()
            target = {
                "sqlite": self._run_sqlite,
                "redis": self._run_redis,
                "postgres": self._run_postgres,
            }[self.store.kind]
            self._task = asyncio.get_running_loop().create_task(
                self._guard(target), name="gatepass-revocations"
            )
        if self._loaded is not None and not self._loaded.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._loaded.wait(), wait)

    async def check(self, claims: Mapping[str, Any], now: float) -> None:
        if self._task is None and self._unsubscribe is None:
            await self.start()
        self.replica.check(claims)

    async def add(self, entry: Entry, now: float) -> None:
        await state.add_async(self.store, entry, now)
        self.replica.cache.apply(entry)

    @property
    def synchronised(self) -> bool:
        return self.replica.cache.fresh

    async def wait_synchronised(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fresh = self.replica.cache.fresh
            if fresh and time.monotonic() - self.replica.beat <= self.replica.max_silence:
                return True
            await asyncio.sleep(0.01)
        return False

    async def close(self) -> None:
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    def _reload(self, entries: list[Entry]) -> None:
        self.replica.loaded(entries)
        self.reloads += 1
        if self._loaded is not None:
            self._loaded.set()

    def _start_memory(self) -> None:
        sync = self.store.sync
        subscribers = sync.table("revocation_subscribers")
        token = object()
        with sync.lock:
            subscribers[id(token)] = self.replica.cache.apply
            entries, _ = state.load_all(sync, self.replica.clock())
        self._reload(entries)
        self.replica.always_live = True

        def unsubscribe() -> None:
            with sync.lock:
                subscribers.pop(id(token), None)

        self._token = token
        self._unsubscribe = unsubscribe

    async def _guard(self, target: Callable[[], Any]) -> None:
        delay = self.retry_delay
        while True:
            try:
                await target()
                delay = self.retry_delay
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every failure: resync before trusting
                self.replica.lost(f"{type(exc).__name__}: {str(exc)[:120]}")
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)

    async def _run_sqlite(self) -> None:
        store = self.store
        entries, since = await state.load_all_async(store, self.replica.clock())
        self._reload(entries)
        conn = await store.run(store.sync.connect) if store.sync.path != ":memory:" else None
        try:
            purge_at = time.monotonic() + 60
            while True:
                await asyncio.sleep(self.poll_interval)
                changes, since = await store.run(self._poll, conn, since)
                for entry in changes:
                    self.replica.cache.apply(entry)
                self.replica.alive()
                if time.monotonic() > purge_at:
                    self.replica.cache.purge(self.replica.clock())
                    purge_at = time.monotonic() + 60
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()

    def _poll(self, conn: Any, since: int) -> tuple[list[Entry], int]:
        sync = self.store.sync
        with sync.errors(), contextlib.ExitStack() as stack:
            current = conn if conn is not None else stack.enter_context(sync.connection())
            return state.sqlite_changes(current, sync, since)

    async def _run_redis(self) -> None:
        store = self.store
        reconnected = threading.Event()
        with store.errors():
            pubsub = _tracking_pubsub(store.client.pubsub(), reconnected.set)
        try:
            with store.errors():
                await pubsub.subscribe(state.redis_channel(store))
                deadline = time.monotonic() + 5.0
                while True:
                    message = await pubsub.get_message(timeout=0.2)
                    if message is not None and message.get("type") == "subscribe":
                        break
                    if time.monotonic() > deadline:
                        raise StoreUnavailable("redis: no subscribe confirmation")
            reconnected.clear()
            self.listener_address = _sockname(pubsub)
            entries, _ = await state.load_all_async(store, self.replica.clock())
            self._reload(entries)
            next_ping = time.monotonic() + _HEARTBEAT
            purge_at = time.monotonic() + 60
            while True:
                with store.errors():
                    message = await pubsub.get_message(timeout=0.2)
                if reconnected.is_set():
                    raise StoreUnavailable("redis pub/sub connection was re-established")
                if message is not None:
                    self.replica.alive()
                    if message.get("type") == "message":
                        self.replica.apply_message(message["data"])
                now = time.monotonic()
                if now >= next_ping:
                    with store.errors():
                        await pubsub.ping()
                    next_ping = now + _HEARTBEAT
                if now > purge_at:
                    self.replica.cache.purge(self.replica.clock())
                    purge_at = now + 60
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _run_postgres(self) -> None:
        try:
            import psycopg  # noqa: PLC0415 - optional extra
        except ImportError:  # pragma: no cover
            raise MissingDependency("pip install 'gatepass[postgres]'") from None
        store = self.store
        with store.errors():
            conn = await psycopg.AsyncConnection.connect(
                _pg_conninfo(store), autocommit=True, connect_timeout=5
            )
        try:
            with store.errors():
                await conn.execute(_pg_listen_sql(store))
            self.listener_pid = conn.info.backend_pid
            entries, _ = await state.load_all_async(store, self.replica.clock())
            self._reload(entries)
            purge_at = time.monotonic() + 60
            next_ping = 0.0
            while True:
                with store.errors():
                    async for notify in conn.notifies(timeout=0.2):
                        self.replica.apply_message(notify.payload)
                    if time.monotonic() >= next_ping:
                        await conn.execute("SELECT 1")
                        next_ping = time.monotonic() + _HEARTBEAT
                        self.replica.alive()
                if time.monotonic() > purge_at:
                    self.replica.cache.purge(self.replica.clock())
                    purge_at = time.monotonic() + 60
        finally:
            with contextlib.suppress(Exception):
                await conn.close()
