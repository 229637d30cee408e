"""The Redis Lua scripts, observed from real servers: every key a script touches is declared in
KEYS, a slot migration never turns into "success with live sessions left", and a damaged or
foreign value at a session key is a StoreError on every path.

1. Declared keys: a private ``redis-server`` is watched with ``MONITOR``, which reports every
   command a script runs (``[0 lua]`` lines) next to the EVALSHA that ran it. Keyspace
   notifications or a ``--scan`` diff would only see writes; the scripts this replaced *read*
   undeclared keys too (LIST's GET, PRUNE's EXISTS, the refresh rotation's HMGET and EXISTS).
   The keys of each command come from the server itself (``COMMAND GETKEYS``) and must be a
   subset of the KEYS of its script; every script of ``gatepass.stores.redis.scripts`` must have
   run. The same capture counts the refresh rotation's round trips (the commands clients send):
   a read and a compare-and-set for a family without a session, plus the session's index entry
   and the session itself for one bound to a session; and the scripts refuse a family id that
   the token's stored reference does not name.
2. Migration: on the session-wide test cluster, a user's slot is put in MIGRATING / IMPORTING
   state and part of the user's keys are MIGRATEd; revoke_all, revoke (by id and by token), list
   and a session-bound refresh rotation must then either see every key (after the migration is
   finished, in a background thread) or raise StoreUnavailable. The slot is given back to its
   owner afterwards.
3. Damaged values: written with redis-py straight into session keys, standalone and cluster,
   sync and async.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gp_session_harness import DEFAULTS, START, Harness
from gp_store_servers import RedisServer

from gatepass import (
    AccessTokens,
    AsyncAccessTokens,
    AsyncRefreshTokens,
    AsyncSessions,
    KeyRing,
    RefreshTokens,
    Sessions,
)
from gatepass.errors import InvalidToken, RevokedToken, StoreError, StoreUnavailable
from gatepass.stores import open_async_store, open_store
from gatepass.stores.redis.scripts import SCRIPTS
from gatepass.strategies._refresh_policy import parse as parse_refresh
from gatepass.strategies._refresh_policy import successor
from gatepass.strategies._session_tokens import hash_token, routing_tag
from gp_testkit import FakeClock, drop_redis_prefix

ISS, AUD = "https://auth.example", "api"
SECRET = b"s" * 32


async def _aw(value: Any) -> Any:
    """The result of a sync call, or of an async one, awaited."""
    if inspect.isawaitable(value):
        return await value
    return value


async def _raises(kind: type[BaseException], call: Callable[[], Any]) -> BaseException:
    try:
        await _aw(call())
    except kind as exc:
        return exc
    raise AssertionError(f"{kind.__name__} not raised")


# --- 1: every key a script touches is declared ------------------------------------------------


def _unescape(text: str) -> bytes:
    """An argument as MONITOR quotes it (``sdscatrepr``) back to its bytes."""
    out = bytearray()
    simple = {"n": b"\n", "r": b"\r", "t": b"\t", "a": b"\a", "b": b"\b"}
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "\\":
            out += ch.encode("latin-1")
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "x":
            out.append(int(text[i + 2 : i + 4], 16))
            i += 4
        else:
            out += simple.get(nxt, nxt.encode("latin-1"))
            i += 2
    return bytes(out)


_LINE = re.compile(r"^\+\S+ \[\d+ ([^\]]+)\] (.*)$")
_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')
_END = "gp-monitor-end"


class Monitor:
    """A raw ``MONITOR`` connection read by a thread until a sentinel ``ECHO`` shows up."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.sendall(b"MONITOR\r\n")
        self.buffer = b""
        assert self._line() == b"+OK"
        self.lines: list[tuple[str, list[bytes]]] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("MONITOR connection closed")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _read(self) -> None:
        while True:
            raw = self._line().decode("latin-1")
            match = _LINE.match(raw)
            assert match is not None, raw
            args = [_unescape(a) for a in _ARG.findall(match.group(2))]
            self.lines.append((match.group(1), args))
            if args and args[-1] == _END.encode():
                return

    def stop(self, client: Any) -> list[tuple[str, list[bytes]]]:
        client.echo(_END)
        self.thread.join(30)
        self.sock.close()
        assert not self.thread.is_alive()
        return self.lines


def _script_runs(
    lines: list[tuple[str, list[bytes]]],
) -> list[tuple[list[bytes], list[list[bytes]]]]:
    """``(EVAL/EVALSHA args, [commands the script ran])`` per script call, in order.

    Which side of its EVALSHA line a script's commands are logged on depends on the Redis
    version; the calibration call that starts every capture settles it.
    """
    evals = {b"EVAL", b"EVALSHA"}
    calibration = next(i for i, (_, a) in enumerate(lines) if a[-1:] == [b"gp-calibrate"])
    probe = next(i for i, (c, a) in enumerate(lines) if c == "lua" and a[-1:] == [b"gp-calibrate"])
    after = probe > calibration
    runs: list[tuple[list[bytes], list[list[bytes]]]] = []
    pending: list[list[bytes]] = []
    for client, args in lines[calibration:]:
        if client == "lua":
            if after:
                assert runs, args
                runs[-1][1].append(args)
            else:
                pending.append(args)
            continue
        is_eval = args[0].upper() in evals
        if not after:
            assert is_eval or not pending, (args, pending)
        if is_eval:
            runs.append((args, pending))
            pending = []
    return runs


def _command_keys(client: Any, command: list[bytes]) -> list[bytes]:
    import redis

    if len(command) == 1:  # TIME, PING: no argument, so no key (COMMAND GETKEYS needs one)
        return []
    try:
        keys = client.command_getkeys(*command)
    except redis.ResponseError as exc:
        if "no key arguments" in str(exc):
            return []
        raise
    return [k.encode() if isinstance(k, str) else k for k in keys]


def _all_script_sources() -> set[str]:
    """Every Lua script of the Redis store."""
    return set(SCRIPTS.values())


async def _every_script_scenario(store: Any, client: Any, mode: str) -> None:
    """Drive every script-backed operation (and the branches that touch different keys)."""
    clock = FakeClock(START)
    if mode == "sync":
        sessions: Any = Sessions(store, clock=clock, **DEFAULTS)
        access: Any = AccessTokens(
            KeyRing.generate("ES256"),
            issuer=ISS,
            audience=AUD,
            clock=clock,
            revocation="denylist",
            store=store,
        )
        refresh: Any = RefreshTokens(store, access, secret=SECRET, clock=clock, grace=5)
    else:
        sessions = AsyncSessions(store, clock=clock, **DEFAULTS)
        access = AsyncAccessTokens(
            KeyRing.generate("ES256"),
            issuer=ISS,
            audience=AUD,
            clock=clock,
            revocation="denylist",
            store=store,
        )
        refresh = AsyncRefreshTokens(store, access, secret=SECRET, clock=clock, grace=5)
    tag = routing_tag("alice")

    def drop(token: str) -> None:  # what Redis does when a session's TTL runs out
        assert client.delete(store.keys.key(tag, "s", hash_token(token).hex())) == 1

    t1, _ = await _aw(sessions.create("alice", metadata={"ua": 'a "quoted" \\ value'}))
    t2, _ = await _aw(sessions.create("alice"))
    _, r3 = await _aw(sessions.create("alice"))
    assert await _aw(sessions.get(t1)) is not None
    clock.advance(11)
    assert await _aw(sessions.get(t1)) is not None  # the due touch (CAS)
    await _aw(sessions.update(t1, {"k": "v"}))  # CAS
    t1 = await _aw(sessions.rotate(t1))  # MOVE
    assert await _aw(sessions.revoke(t2))  # TAKE + UNINDEX
    assert not await _aw(sessions.revoke(t2))
    assert await _aw(sessions.revoke(r3.id, user_id="alice"))  # HGET + REVOKE_ID
    assert not await _aw(sessions.revoke(r3.id, user_id="alice"))
    t4, _ = await _aw(sessions.create("alice"))
    drop(t4)
    assert len(await _aw(sessions.list("alice"))) == 1  # LIST, dropping t4's entry
    t5, _ = await _aw(sessions.create("alice"))
    drop(t5)
    await _aw(sessions.purge())  # PRUNE (and the revocation index purge)
    await _aw(sessions.create("alice"))
    assert await _aw(sessions.revoke_all("alice", except_token=t1)) == 1  # REVOKE_USER, keep
    assert await _aw(sessions.revoke_all("alice")) == 1
    assert await _aw(sessions.revoke_all("alice")) == 0

    # Refresh families: without a session, then bound to one.
    a0, access0 = await _aw(refresh.start("bob"))  # CREATE_FAMILY
    a1, _ = await _aw(refresh.rotate(a0))  # READ_FAMILY + ADVANCE_FAMILY
    assert (await _aw(refresh.rotate(a0)))[0] == a1  # grace: READ_FAMILY only
    refresh.grace = 0.05  # the window runs on the server's clock: wait it out
    await _aw(_pause(0.1, mode))
    await _raises(InvalidToken, lambda: refresh.rotate(a0))  # reused: REVOKE_FAMILY
    await _raises(InvalidToken, lambda: refresh.rotate(a1))  # revoked
    refresh.grace = 5
    session_token, record = await _aw(sessions.create("carol"))
    b0, _ = await _aw(refresh.start("carol", session=record))
    b1, _ = await _aw(refresh.rotate(b0))  # the session key declared in ADVANCE_FAMILY
    session_token = await _aw(sessions.rotate(session_token))
    b2, _ = await _aw(refresh.rotate(b1))  # found under the session's new hash
    assert await _aw(sessions.revoke(session_token))
    await _raises(InvalidToken, lambda: refresh.rotate(b2))  # 'session': no index entry left
    session_token, record = await _aw(sessions.create("carol"))
    d0, _ = await _aw(refresh.start("carol", session=record))
    carol = routing_tag("carol")
    assert client.delete(store.keys.key(carol, "s", hash_token(session_token).hex())) == 1
    await _raises(InvalidToken, lambda: refresh.rotate(d0))  # 'session': its key has expired
    _, record = await _aw(sessions.create("carol"))
    c0, _ = await _aw(refresh.start("carol", session=record))
    clock.advance(10**8)
    await _raises(InvalidToken, lambda: refresh.rotate(c0))  # expired
    assert await _aw(refresh.revoke(c0))  # REVOKE_TOKEN
    assert not await _aw(
        refresh.revoke("rt_" + routing_tag("carol") + "." + "A" * 22 + "~" + "A" * 43)
    )
    await _aw(access.revoke(access0))  # ADD_REVOCATION
    await _aw(access.revoke_user("bob"))
    await _aw(access.close() if mode == "sync" else access.aclose())


async def _pause(seconds: float, mode: str) -> None:
    if mode == "sync":
        time.sleep(seconds)
    else:
        await asyncio.sleep(seconds)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_every_script_declares_every_key_it_touches(
    redis_server_bin: str, tmp_path: Path, mode: str
) -> None:
    import redis
    from redis.crc import key_slot

    server = RedisServer(tmp_path / "redis").start()
    client = redis.Redis(port=server.port)
    url = f"{server.url}?prefix=gpkeys:"
    store: Any = open_store(url) if mode == "sync" else open_async_store(url)
    try:
        await _aw(store.setup())
        monitor = Monitor(server.port)
        client.eval("return redis.call('EXISTS', KEYS[1])", 1, "gp-calibrate")
        await _every_script_scenario(store, client, mode)
        lines = monitor.stop(client)
        runs = _script_runs(lines)
        ran = set()
        for call, commands in runs[1:]:  # runs[0] is the calibration
            if call[0].upper() == b"EVALSHA":
                ran.add(call[1].decode())
            else:
                ran.add(hashlib.sha1(call[1], usedforsecurity=False).hexdigest())
            declared = call[3 : 3 + int(call[2])]
            assert len({key_slot(k) for k in declared}) <= 1, declared
            for command in commands:
                touched = _command_keys(client, command)
                assert set(touched) <= set(declared), (command, declared)
        expected = {
            hashlib.sha1(s.encode(), usedforsecurity=False).hexdigest()
            for s in _all_script_sources()
        }
        assert expected <= ran, "scripts never exercised: " + ", ".join(sorted(expected - ran))
        # Plain commands never span slots either (MGET of the denylist, the index reads).
        for who, args in lines:
            if who != "lua" and args[0].upper() not in {b"EVAL", b"EVALSHA", b"MONITOR"}:
                keys = _command_keys(client, args) if args[0].upper() != b"SCAN" else []
                assert len({key_slot(k) for k in keys}) <= 1, args
    finally:
        await _aw(store.close())
        client.close()
        server.kill()


# --- 1b: round trips of the refresh scripts, counted by the server ------------------------------


def _client_commands(lines: list[tuple[str, list[bytes]]]) -> list[str]:
    """The commands clients sent, one round trip each (these paths pipeline nothing): what
    MONITOR logs outside scripts, without the capture's own sentinel."""
    return [
        args[0].decode().upper()
        for who, args in lines
        if who != "lua" and args[-1:] != [_END.encode()]
    ]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_refresh_round_trips_per_rotation_and_revoke(
    redis_server_bin: str, tmp_path: Path, mode: str
) -> None:
    """A rotation of a family without a session: two round trips, a read-only script (the
    family, the token's reference, the server's clock) and the compare-and-set; a grace repeat
    or a refusal only the read; a revoke one script. A family bound to a session also reads the
    user's index entry and the session: four, however often the session's token changed."""
    import redis

    server = RedisServer(tmp_path / "redis").start()
    client = redis.Redis(port=server.port)
    store: Any = open_store(server.url) if mode == "sync" else open_async_store(server.url)
    try:
        await _aw(store.setup())
        for source in _all_script_sources():  # a fresh server would answer NOSCRIPT once each
            client.script_load(source)
        client.ping()  # the sentinel's connection is open before any capture
        clock = FakeClock(START)
        keys = KeyRing.generate("ES256")
        access: Any
        if mode == "sync":
            sessions: Any = Sessions(store, idle_timeout=3600, absolute_timeout=7200, clock=clock)
            access = AccessTokens(keys, issuer=ISS, audience=AUD, clock=clock)
            refresh: Any = RefreshTokens(store, access, secret=SECRET, clock=clock, grace=5)
        else:
            sessions = AsyncSessions(store, idle_timeout=3600, absolute_timeout=7200, clock=clock)
            access = AsyncAccessTokens(keys, issuer=ISS, audience=AUD, clock=clock)
            refresh = AsyncRefreshTokens(store, access, secret=SECRET, clock=clock, grace=5)

        async def trips(call: Callable[[], Any]) -> tuple[Any, list[str]]:
            monitor = Monitor(server.port)
            try:
                result: Any = await _aw(call())
            except InvalidToken as exc:
                result = exc
            return result, _client_commands(monitor.stop(client))

        await _aw(refresh.start("warm-up"))  # opens the store's connection

        # A family without a session: a read and a write per rotation, the read alone otherwise.
        (a0, _), sent = await trips(lambda: refresh.start("bob"))
        assert sent == ["EVALSHA"]
        (a1, _), sent = await trips(lambda: refresh.rotate(a0))  # rotated
        assert sent == ["EVALSHA", "EVALSHA"]
        (again, _), sent = await trips(lambda: refresh.rotate(a0))  # grace: the same successor
        assert again == a1 and sent == ["EVALSHA"]
        (a2, _), sent = await trips(lambda: refresh.rotate(a1))
        assert sent == ["EVALSHA", "EVALSHA"]
        unknown = a2[:31] + "A" * 43  # a real family id, a made-up secret
        error, sent = await trips(lambda: refresh.rotate(unknown))
        assert type(error) is InvalidToken and sent == ["EVALSHA"]
        # Revoke: read the family, then revoke it (last, after its access tokens: none here).
        revoked, sent = await trips(lambda: refresh.revoke(a2))
        assert revoked is True and sent == ["EVALSHA", "EVALSHA"]
        error, sent = await trips(lambda: refresh.rotate(a2))
        assert isinstance(error, RevokedToken) and sent == ["EVALSHA"]

        # Bound to a session: the family, the index entry, the session, the compare-and-set.
        bound = ["EVALSHA", "HGET", "GET", "EVALSHA"]
        session_token, record = await _aw(sessions.create("carol"))
        (b0, _), sent = await trips(lambda: refresh.start("carol", session=record))
        assert sent == ["EVALSHA"]
        (b1, _), sent = await trips(lambda: refresh.rotate(b0))
        assert sent == bound
        (b2, _), sent = await trips(lambda: refresh.rotate(b1))
        assert sent == bound
        session_token = await _aw(sessions.rotate(session_token))
        (b3, _), sent = await trips(lambda: refresh.rotate(b2))  # the session's new hash
        assert sent == bound
        (b4, _), sent = await trips(lambda: refresh.rotate(b3))
        assert sent == bound
        # Revoke: read the family; the session store ends the session by id (HGET of the index
        # + its compare-and-set script); the family is revoked last.
        revoked, sent = await trips(lambda: refresh.revoke(b4))
        assert revoked is True and sent == ["EVALSHA", "HGET", "EVALSHA", "EVALSHA"]
        assert await _aw(sessions.get(session_token)) is None
        # Revoked or ended: no write; the read stops at the index entry the session left.
        error, sent = await trips(lambda: refresh.rotate(b4))
        assert isinstance(error, RevokedToken) and sent == ["EVALSHA", "HGET"]
        _, record = await _aw(sessions.create("carol"))
        c0, _ = await _aw(refresh.start("carol", session=record))
        assert await _aw(sessions.revoke(record.id, user_id="carol"))
        error, sent = await trips(lambda: refresh.rotate(c0))  # 'session'
        assert isinstance(error, RevokedToken) and sent == ["EVALSHA", "HGET"]
    finally:
        await _aw(store.close())
        client.close()
        server.kill()


def test_refresh_scripts_refuse_a_family_id_the_reference_does_not_name(
    redis_server_bin: str, tmp_path: Path
) -> None:
    """The rotation and revoke scripts name the family's key from the id the token carries, and
    only act if the reference stored for the token's hash names that same family. Asked with a
    real token hash and another (real) family of the same user, both answer 'unknown' and write
    nothing. (Through the public API such a token cannot even be built: its hash would differ.)"""
    import redis

    server = RedisServer(tmp_path / "redis").start()
    client = redis.Redis(port=server.port)
    store = open_store(server.url)
    try:
        store.setup()
        clock = FakeClock(START)
        access = AccessTokens(KeyRing.generate("ES256"), issuer=ISS, audience=AUD, clock=clock)
        refresh = RefreshTokens(store, access, secret=SECRET, clock=clock)
        sessions = Sessions(store, idle_timeout=3600, absolute_timeout=7200, clock=clock)
        _, record = sessions.create("dave")
        a0, _ = refresh.start("dave")
        b0, _ = refresh.start("dave", session=record)
        a_parsed, b_parsed = parse_refresh(a0), parse_refresh(b0)
        assert a_parsed is not None and b_parsed is not None
        (a_hash, tag, a_family), (b_hash, _, b_family) = a_parsed, b_parsed
        a_next = hash_token(successor(SECRET, a0))
        b_next = hash_token(successor(SECRET, b0))

        def snapshot() -> dict[bytes, bytes | None]:
            return {key: client.dump(key) for key in client.scan_iter(count=1000)}

        before = snapshot()
        assert store.family_read(a_hash, tag, b_family).family is None
        assert store.family_read(b_hash, tag, a_family).family is None
        assert store.family_revoke_token(a_hash, tag, b_family) is None
        assert store.family_revoke_token(b_hash, tag, a_family) is None
        assert snapshot() == before
        # The right family id: the very same calls work.
        for token_hash, next_hash, family_id in (
            (a_hash, a_next, a_family),
            (b_hash, b_next, b_family),
        ):
            read = store.family_read(token_hash, tag, family_id)
            assert read.family is not None and read.family.id == family_id
            assert store.family_advance(read, next_hash, tag, clock())
        revoked = store.family_revoke_token(a_hash, tag, a_family)
        assert revoked is not None and revoked.revoked
    finally:
        store.close()
        client.close()
        server.kill()


# --- 2: a slot migration is never "success with survivors" ------------------------------------


class Migration:
    """Moves one hash slot of the test cluster between two masters, step by step."""

    def __init__(self, seed_url: str, slot: int) -> None:
        import redis

        port = int(seed_url.rsplit(":", 1)[1].split("/", maxsplit=1)[0].split("?", maxsplit=1)[0])
        seed = redis.Redis(port=port)
        try:
            text = seed.execute_command("CLUSTER", "NODES").decode()
        finally:
            seed.close()
        self.slot = slot
        self.nodes: dict[str, tuple[int, Any]] = {}  # id -> (port, client)
        for line in text.splitlines():
            fields = line.split()
            if "master" in fields[2].split(","):
                node_port = int(fields[1].split("@")[0].rsplit(":", 1)[1])
                self.nodes[fields[0]] = (node_port, redis.Redis(port=node_port))
        self.home = self.owner()
        self.src = self.dst = self.home
        self.migrating = False

    def client(self, node: str) -> Any:
        return self.nodes[node][1]

    def owner(self) -> str:
        """The node that serves the slot, as every master sees it (they must agree)."""
        owners = set()
        for node in self.nodes:
            text = self.client(node).execute_command("CLUSTER", "NODES").decode()
            for line in text.splitlines():
                fields = line.split()
                for spec in fields[8:]:
                    first, _, last = spec.partition("-")
                    if not spec.startswith("[") and int(first) <= self.slot <= int(last or first):
                        owners.add(fields[0])
        assert len(owners) == 1, owners
        return owners.pop()

    def begin(self) -> None:
        """MIGRATING on the owner, IMPORTING on the target (home again if the slot is away)."""
        self.src = self.owner()
        self.dst = (
            self.home if self.src != self.home else next(n for n in self.nodes if n != self.src)
        )
        self.client(self.dst).execute_command(
            "CLUSTER", "SETSLOT", self.slot, "IMPORTING", self.src
        )
        self.client(self.src).execute_command(
            "CLUSTER", "SETSLOT", self.slot, "MIGRATING", self.dst
        )
        self.migrating = True

    def move(self, keys: list[str | bytes]) -> None:
        if keys:
            self.client(self.src).execute_command(
                "MIGRATE", "127.0.0.1", self.nodes[self.dst][0], "", 0, 5000, "KEYS", *keys
            )

    def finish(self) -> None:
        """Move every key left in the slot, then give the slot to the target everywhere."""
        if not self.migrating:
            return
        src = self.client(self.src)
        while keys := src.execute_command("CLUSTER", "GETKEYSINSLOT", self.slot, 1000):
            self.move(keys)
        others = [n for n in self.nodes if n not in (self.src, self.dst)]
        for node in [self.dst, self.src, *others]:
            self.client(node).execute_command("CLUSTER", "SETSLOT", self.slot, "NODE", self.dst)
        self.migrating = False

    def restore(self) -> None:
        """Hand the slot back to its original owner (finishing any migration in progress)."""
        self.finish()
        if self.owner() != self.home:
            self.begin()
            self.finish()

    def close(self) -> None:
        for _, client in self.nodes.values():
            client.close()


@pytest.fixture
def migrating(redis_cluster_url: str) -> Iterator[tuple[str, Callable[[str], Migration]]]:
    """``(store URL with a private prefix, start(user_id) -> Migration)``; restores the slot and
    removes the prefix's keys afterwards."""
    from redis.crc import key_slot

    prefix = f"gpmig{secrets.token_hex(3)}:"
    started: list[Migration] = []

    def start(user_id: str) -> Migration:
        migration = Migration(redis_cluster_url, key_slot(f"{{{routing_tag(user_id)}}}".encode()))
        started.append(migration)
        return migration

    try:
        yield f"{redis_cluster_url}?prefix={prefix}", start
    finally:
        for migration in started:
            try:
                migration.restore()
            finally:
                migration.close()
        drop_redis_prefix(f"{redis_cluster_url}?prefix={prefix}")


def _sessions(url: str, mode: str) -> tuple[Any, Any]:
    store: Any = open_store(url) if mode == "sync" else open_async_store(url)
    cls = Sessions if mode == "sync" else AsyncSessions
    return store, cls(store, idle_timeout=3600, absolute_timeout=7200)


def _session_key(store: Any, user_id: str, token: str) -> str:
    return str(store.keys.key(routing_tag(user_id), "s", hash_token(token).hex()))


def _index_key(store: Any, user_id: str) -> str:
    return str(store.keys.key(routing_tag(user_id), "u", user_id))


async def _alive(sessions: Any, tokens: list[str]) -> list[str]:
    return [t for t in tokens if await _aw(sessions.get(t)) is not None]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("moved", ["sessions", "index"])
async def test_revoke_all_during_a_migration_fails_closed(
    migrating: tuple[str, Callable[[str], Migration]], mode: str, moved: str
) -> None:
    url, start = migrating
    store, sessions = _sessions(url, mode)
    try:
        await _aw(store.setup())
        user = f"mig-{mode}-{moved}"
        tokens = [(await _aw(sessions.create(user)))[0] for _ in range(6)]
        migration = start(user)
        migration.begin()
        if moved == "index":  # the index alone on the target, every session on the source
            migration.move([_index_key(store, user)])
        else:  # half the sessions on the target, the index and the rest on the source
            migration.move([_session_key(store, user, t) for t in tokens[:3]])
        # The slot stays split: every attempt sees TRYAGAIN, so revoke_all must fail closed.
        await _raises(StoreUnavailable, lambda: sessions.revoke_all(user))
        await _raises(StoreUnavailable, lambda: sessions.list(user))
        migration.finish()
        assert await _alive(sessions, tokens) == tokens  # nothing was half-revoked
        assert len(await _aw(sessions.list(user))) == 6  # and the index was not pruned
        assert await _aw(sessions.revoke_all(user)) == 6
        assert await _alive(sessions, tokens) == []
    finally:
        await _aw(store.close())


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_revoke_all_while_a_migration_completes(
    migrating: tuple[str, Callable[[str], Migration]], mode: str
) -> None:
    """The migration finishes in the background while revoke_all runs: whichever way the race
    goes, the outcome is all-or-error, never a count with live sessions left."""
    url, start = migrating
    store, sessions = _sessions(url, mode)
    try:
        await _aw(store.setup())
        user = f"mig-bg-{mode}"
        migration = start(user)
        for _round in range(3):
            tokens = [(await _aw(sessions.create(user)))[0] for _ in range(6)]
            migration.begin()
            migration.move([_session_key(store, user, t) for t in tokens[::2]])
            finisher = threading.Timer(0.05 * _round, migration.finish)
            finisher.start()
            try:
                outcome: Any = await _aw(sessions.revoke_all(user))
            except StoreUnavailable as exc:
                outcome = exc
            finally:
                finisher.join()
            left = await _alive(sessions, tokens)
            if not isinstance(outcome, StoreUnavailable):
                assert (outcome, left) == (6, [])
            else:
                assert await _aw(sessions.revoke_all(user)) == 6
                assert await _alive(sessions, tokens) == []
    finally:
        await _aw(store.close())


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_revoke_one_during_a_migration(
    migrating: tuple[str, Callable[[str], Migration]], mode: str
) -> None:
    url, start = migrating
    store, sessions = _sessions(url, mode)
    try:
        await _aw(store.setup())
        user = f"mig-one-{mode}"
        created = [await _aw(sessions.create(user)) for _ in range(4)]
        tokens = [t for t, _ in created]
        migration = start(user)
        migration.begin()
        migration.move([_session_key(store, user, t) for t in tokens[:2]])
        # By id: the index (source) and the session (target) are split: TRYAGAIN.
        by_id = created[0][1].id
        await _raises(StoreUnavailable, lambda: sessions.revoke(by_id, user_id=user))
        # By token: the session key alone (ASK to the target), then its index entry (source).
        assert await _aw(sessions.revoke(tokens[1]))
        assert await _aw(sessions.get(tokens[1])) is None
        assert await _aw(sessions.revoke(tokens[2]))  # not moved: served by the source
        migration.finish()
        assert await _alive(sessions, tokens) == [tokens[0], tokens[3]]
        assert sorted(r.id for r in await _aw(sessions.list(user))) == sorted(
            [created[0][1].id, created[3][1].id]
        )
        assert await _aw(sessions.revoke(by_id, user_id=user))
        assert await _alive(sessions, tokens) == [tokens[3]]
    finally:
        await _aw(store.close())


def test_session_bound_refresh_rotation_during_a_migration(
    migrating: tuple[str, Callable[[str], Migration]],
) -> None:
    """The rotation checks the session inside its script, now with the session key declared:
    with that key moved away it fails closed (never "session ended", which would refuse the
    user or revoke the family) and works once the migration is over."""
    url, start = migrating
    store = open_store(url)
    try:
        store.setup()
        sessions = Sessions(store, idle_timeout=3600, absolute_timeout=7200)
        access = AccessTokens(KeyRing.generate("ES256"), issuer=ISS, audience=AUD)
        refresh = RefreshTokens(store, access, secret=SECRET)
        user = "mig-refresh"
        token, record = sessions.create(user)
        r0, _ = refresh.start(user, session=record)
        migration = start(user)
        migration.begin()
        migration.move([_session_key(store, user, token)])
        with pytest.raises(StoreUnavailable):
            refresh.rotate(r0)
        migration.finish()
        r1, _ = refresh.rotate(r0)
        assert refresh.rotate(r1)[0] != r1
    finally:
        store.close()


# --- 3: damaged or foreign values are StoreError on every path -------------------------------

DAMAGED = {
    "empty": b"",
    "not json": b"not json",
    "invalid utf-8": b"\xff\xfe[",
    "two numbers": b"[1,2]",
    "an object": b'{"id": "x"}',
    "nine fields": b'["id","u",1.0,1.0,1.0,9e18,9e18,false,{}]',
    "eleven fields": b'["id","u",1.0,1.0,1.0,9e18,9e18,false,{},{},1]',
    "trailing data": b'["id","u",1.0,1.0,1.0,9e18,9e18,false,{},{}]x',
    "numeric id": b'[1,"u",1.0,1.0,1.0,9e18,9e18,false,{},{}]',
    "string time": b'["id","u","1",1.0,1.0,9e18,9e18,false,{},{}]',
    "boolean time": b'["id","u",true,1.0,1.0,9e18,9e18,false,{},{}]',
    "NaN time": b'["id","u",NaN,1.0,1.0,9e18,9e18,false,{},{}]',
    "numeric remember": b'["id","u",1.0,1.0,1.0,9e18,9e18,1,{},{}]',
    "list metadata": b'["id","u",1.0,1.0,1.0,9e18,9e18,false,[],{}]',
    "null data": b'["id","u",1.0,1.0,1.0,9e18,9e18,false,{},null]',
    "deep nesting": b"[" * 100_000,
}


def _sync_client(h: Harness) -> Any:
    """A second, blocking store on the same URL: its ``client`` writes the damage."""
    return open_store(h.url)


@pytest.mark.parametrize("backend", ["redis", "redis_cluster"])
@pytest.mark.parametrize("damage", list(DAMAGED))
async def test_damaged_session_values_are_store_errors(harness: Harness, damage: str) -> None:
    h = harness
    raw = _sync_client(h)
    try:
        token, _ = await h.create("alice")
        other, kept = await h.create("alice")
        key = _session_key(h.store, "alice", token)
        assert raw.client.exists(key) == 1
        raw.client.set(key, DAMAGED[damage], keepttl=True)
        calls: dict[str, Callable[[], Any]] = {
            "get": lambda: h.get(token),
            "list": lambda: h.list("alice"),
            "rotate": lambda: h.rotate(token),
            "update": lambda: h.update(token, {"k": 1}),
        }
        for name, call in calls.items():
            exc = await _raises(StoreError, call)
            assert type(exc) is StoreError, name
            assert "not a gatepass session record" in str(exc), (name, exc)
        h.clock.advance(DEFAULTS["touch_interval"] + 1)  # the get that would also touch
        await _raises(StoreError, lambda: h.get(token))
        # A damaged session is still removable, and the others are unaffected.
        assert await h.get(other) is not None
        assert await h.revoke(token)
        assert raw.client.exists(key) == 0
        assert [r.id for r in await h.list("alice")] == [kept.id]
    finally:
        raw.close()


@pytest.mark.parametrize("backend", ["redis", "redis_cluster"])
async def test_damaged_value_seen_by_a_touch_retry(harness: Harness) -> None:
    """A due touch is a compare-and-set on the value the GET returned; when it fails because the
    value changed meanwhile, the value read again is decoded too. The change between the two is
    made here by a second writer between the read and the touch (a white-box call of the
    sessions' touch step, the one thing a request cannot interleave on demand)."""
    h = harness
    raw = _sync_client(h)
    try:
        token, _ = await h.create("alice")
        token_hash, tag = hash_token(token), routing_tag("alice")
        h.clock.advance(DEFAULTS["touch_interval"] + 1)
        record = await _aw(h.store.session_get(token_hash, tag))
        raw.client.set(_session_key(h.store, "alice", token), b"[1,2]", keepttl=True)
        touch = h.sessions._touch  # the second writer came between the read and this step
        exc = await _raises(StoreError, lambda: touch(token_hash, tag, record, h.clock()))
        assert "not a gatepass session record" in str(exc)
    finally:
        raw.close()
