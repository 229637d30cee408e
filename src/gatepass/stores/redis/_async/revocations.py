"""Access-token revocations in Redis, and their change feed over pub/sub.

Every entry key shares the hash tag ``{rv}`` (one Cluster slot: the set holds only revoked,
unexpired tokens, which is small); the denylist check is one ``MGET``. A write merges the entry,
updates the snapshot index and publishes the change in one script.

The loss marker: a Redis restarted without persistence (or flushed, or failed over to a replica
that had not received the writes) comes back without the revocations, and without saying so.
So the store holds one key with no TTL, ``{rv}:since``, written by ``setup()`` and by the first
reader that finds it missing (``SET NX``: one writer wins, every reader agrees on its value):
the time from which the revocations are complete. The denylist check reads it in the same
``MGET``, a snapshot in the same pipeline; a missing marker is written there and then, with the
reader's clock, as the loss time. What follows from it (tokens issued before it are refused)
is decided by the strategies (:mod:`gatepass.strategies._access_policy`).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from gatepass.errors import StoreError, StoreUnavailable
from gatepass.stores.records import RevocationEntry, RevocationLookup, entry
from gatepass.stores.redis._async.client import AsyncRedisClient
from gatepass.stores.redis.keys import ttl_ms

#: The feed pings its subscription at least this often (seconds): the pong proves it alive.
HEARTBEAT = 1.0


class AsyncRedisRevocations(AsyncRedisClient):
    """:class:`~gatepass.stores.protocols.AsyncRevocationStore` on Redis."""

    async def revocation_add(self, entry: RevocationEntry, now: float) -> None:
        keys = [self.keys.revocation(entry.kind, entry.key), self.keys.revocation_index]
        args = [
            entry.kind,
            entry.key,
            str(entry.value),
            repr(entry.expires_at),
            str(ttl_ms(entry.expires_at, now)),
            repr(now),
            self.keys.channel,
        ]
        await self.run_script("ADD_REVOCATION", keys, args)

    async def setup(self) -> None:
        """The server answers, the scripts are loaded, and the loss marker exists (dated now:
        no token of this store's revocations can be older than its first setup)."""
        await super().setup()
        await self._mark(time.time())

    async def _mark(self, now: float) -> tuple[int, bool]:
        """Write the loss marker if it is missing: its value, and whether this call wrote it.
        ``SET NX GET`` in one command: of concurrent writers one wins, and all get its value."""
        with self.errors:
            old = await self.client.set(
                self.keys.revocation_marker, str(int(now * 1_000_000)), nx=True, get=True
            )
        if old is None:
            return int(now * 1_000_000), True
        return _marker(old), False

    async def revocation_lookup(
        self, jti: str, sid: str | None, user: str, now: float
    ) -> RevocationLookup:
        keys = [
            self.keys.revocation("jti", jti),
            self.keys.revocation("sid", sid or ""),
            self.keys.revocation("user", user),
            self.keys.revocation_marker,
        ]
        with self.errors:
            values = await self.client.mget(keys)
        cut, marker = values[2], values[3]
        since, lost = (_marker(marker), False) if marker is not None else await self._mark(now)
        return RevocationLookup(
            values[0] is not None,
            sid is not None and values[1] is not None,
            None if cut is None else int(cut),
            since,
            lost,
        )

    async def revocation_snapshot(self, now: float) -> list[RevocationEntry]:
        """The live entries, and the loss marker as an ``all`` entry, in one round trip."""
        with self.errors:
            pipe = self.client.pipeline(transaction=False)
            pipe.zrangebyscore(self.keys.revocation_index, f"({now!r}", "+inf", withscores=True)
            pipe.get(self.keys.revocation_marker)
            rows, marker = await pipe.execute()
        since = _marker(marker) if marker is not None else (await self._mark(now))[0]
        found = [entry("all", "", since, float("inf"))]
        for member, score in rows:
            kind, value, key = member.decode("utf-8").split("|", 2)
            found.append(entry(kind, key, int(value), float(score)))
        return found

    def revocation_feed(self) -> AsyncRedisFeed:
        return AsyncRedisFeed(self)

    async def purge_revocations(self, before: float) -> int:
        with self.errors:
            count: int = await self.client.zremrangebyscore(
                self.keys.revocation_index, "-inf", repr(before)
            )
        return count


def _marker(value: bytes) -> int:
    """The loss marker's microseconds; StoreError if the key holds anything else."""
    if not (value.isdigit() and len(value) <= 18):
        raise StoreError("redis: the revocation loss marker is damaged or not gatepass's")
    return int(value)


def _sockname(pubsub: Any) -> str | None:
    """``host:port`` of the subscription's socket (find it in ``CLIENT LIST``; diagnostics)."""
    connection = getattr(pubsub, "connection", None)
    sock: Any = getattr(connection, "_sock", None)
    if sock is None:
        writer = getattr(connection, "_writer", None)
        sock = writer.get_extra_info("socket") if writer is not None else None
    try:
        host, port = sock.getsockname()[:2]
    except (AttributeError, OSError, ValueError):
        return None
    return f"{host}:{port}"


class AsyncRedisFeed:
    """A pub/sub subscription to the revocation channel.

    redis-py reconnects a dropped subscription by itself and messages published meanwhile are
    lost, so the feed registers for connection events: any reconnect ends the feed with
    ``StoreUnavailable`` (the caller reloads a snapshot on a new feed).
    """

    def __init__(self, store: AsyncRedisRevocations) -> None:
        self.store = store
        self.listener: str | None = None
        self._pubsub: Any = None
        self._connected = 0
        self._next_ping = 0.0

    async def start(self, now: float) -> list[RevocationEntry]:
        store = self.store
        with store.errors:
            self._pubsub = store.client.pubsub()
            await self._pubsub.subscribe(store.keys.channel)
            deadline = time.monotonic() + 5.0
            while True:
                message = await self._pubsub.get_message(timeout=0.2)
                if message is not None and message.get("type") == "subscribe":
                    break
                if time.monotonic() > deadline:
                    raise StoreUnavailable("redis: no subscribe confirmation")
        self._pubsub.connection.register_connect_callback(self._on_connect)
        self.listener = _sockname(self._pubsub)
        self._next_ping = time.monotonic() + HEARTBEAT
        return await store.revocation_snapshot(now)

    def _on_connect(self, connection: Any) -> None:
        self._connected += 1

    async def changes(self, timeout: float) -> list[RevocationEntry] | None:
        deadline = time.monotonic() + timeout
        found: list[RevocationEntry] = []
        alive = False
        while True:
            with self.store.errors:
                message = await self._pubsub.get_message(
                    timeout=max(0.0, deadline - time.monotonic())
                )
            if self._connected:
                raise StoreUnavailable("redis pub/sub connection was re-established")
            if message is not None:
                alive = True  # a message or a pong: the subscription is there
                if message.get("type") == "message":
                    # Not ours when it does not decode: ignored (a reload would not help either).
                    with contextlib.suppress(ValueError, UnicodeDecodeError):
                        found.append(RevocationEntry.decode(message["data"].decode("utf-8")))
            current = time.monotonic()
            if current >= self._next_ping:
                with self.store.errors:
                    await self._pubsub.ping()
                self._next_ping = current + HEARTBEAT
            if found or current >= deadline:
                return found if alive else None

    async def close(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):  # closing a broken subscription may fail too
                await pubsub.aclose()
