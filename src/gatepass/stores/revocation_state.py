"""Where the access-token denylist and per-user cut-offs live, per backend (I/O only, no policy).

One logical table of :class:`Entry` rows
``(kind, key, value, expires_at)`` with ``kind`` in ``jti`` / ``sid`` / ``user``; ``value`` is the
cut-off in microseconds for ``user`` rows (it only ever grows) and 0 otherwise. Rows stop
mattering at ``expires_at`` (every token they could reject has expired) and are purged then.

Layout per backend:

memory
    ``store.table("revocations")``: ``{(kind, key): (value, expires_at)}`` under ``store.lock``;
    ``store.table("revocation_subscribers")``: in-process callbacks (replicated mode).
sqlite
    table ``<prefix>revocations`` with a ``seq`` column and a counter row (``kind = '#'``): every
    write bumps the counter in the same ``BEGIN IMMEDIATE`` transaction, so other processes poll
    ``WHERE seq > ?`` (an index range scan that returns nothing when nothing changed).
redis
    every key in ONE cluster slot (hash tag ``{rv}``): ``<prefix>{rv}:jti:<jti>``,
    ``...:sid:<sid>``, ``...:user:<user>`` strings with native TTLs (the denylist check is one
    ``MGET``), an index zset ``<prefix>{rv}:index`` (member ``kind|value|key``, score
    ``expires_at``) for full reloads, and the pub/sub channel ``<prefix>revocations``. A Lua
    script writes key, index and message atomically in one round trip. One slot is deliberate:
    the set holds only revoked, unexpired tokens, which is small.
postgres
    table ``<prefix>revocations``; a write is one statement (upsert + ``pg_notify`` in a CTE), so
    the notification is sent exactly when the row commits. Channel ``<schema>.<prefix>revocations``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from gatepass.errors import StoreError
from gatepass.stores.base import register_purge, register_schema

#: What a denylist lookup returns: (jti revoked, sid revoked, user cut-off in µs or None).
Lookup = tuple[bool, bool, int | None]


EntryKind = Literal["jti", "sid", "user"]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Entry:
    """One revocation: a ``jti``, a session id, or a user's cut-off (``value`` in µs).

    ``expires_at`` is when the entry stops mattering: every token it could reject has expired.
    """

    kind: EntryKind
    key: str
    value: int
    expires_at: float

    def encode(self) -> str:
        """Wire form for pub/sub messages: ``kind|expires|value|key`` (key last: may hold '|')."""
        return f"{self.kind}|{self.expires_at!r}|{self.value}|{self.key}"

    @classmethod
    def decode(cls, text: str) -> Entry:
        kind, expires, value, key = text.split("|", 3)
        if kind not in ("jti", "sid", "user"):
            raise ValueError("unknown revocation kind")
        return cls(kind, key, int(value), float(expires))  # type: ignore[arg-type]


def _entry(kind: str, key: str, value: int, expires_at: float) -> Entry:
    return Entry(kind, key, int(value), float(expires_at))  # type: ignore[arg-type]


def _index_name(table: Callable[[str], str], name: str) -> str:
    """An index name: the table-name rules (prefix, quoting) without any schema part."""
    return table(name).rsplit(".", 1)[-1]


# --- schema ------------------------------------------------------------------------------------


def _sqlite_ddl(table: Callable[[str], str]) -> Sequence[str]:
    t = table("revocations")
    return [
        f"""CREATE TABLE IF NOT EXISTS {t} (
            kind TEXT NOT NULL, key TEXT NOT NULL, value INTEGER NOT NULL,
            expires_at REAL NOT NULL, seq INTEGER NOT NULL,
            PRIMARY KEY (kind, key)) WITHOUT ROWID""",
        f"CREATE INDEX IF NOT EXISTS {_index_name(table, 'revocations_seq')} ON {t} (seq)",
        f"CREATE INDEX IF NOT EXISTS {_index_name(table, 'revocations_exp')} ON {t} (expires_at)",
    ]


def _postgres_ddl(table: Callable[[str], str]) -> Sequence[str]:
    t = table("revocations")
    return [
        f"""CREATE TABLE IF NOT EXISTS {t} (
            kind text NOT NULL, key text NOT NULL, value bigint NOT NULL,
            expires_at double precision NOT NULL, PRIMARY KEY (kind, key))""",
        f"CREATE INDEX IF NOT EXISTS {_index_name(table, 'revocations_exp')} ON {t} (expires_at)",
    ]


register_schema("sqlite", "revocation", _sqlite_ddl)
register_schema("postgres", "revocation", _postgres_ddl)

_COUNTER_EXPIRES = 1e300  # the sqlite counter row never expires

# --- redis ---------------------------------------------------------------------------------------

REDIS_TAG = "rv"

# KEYS: entry key, index (every key it touches; the pub/sub channel is not a key).
# ARGV: kind, key, value, expires_at, ttl_ms, now, channel.
# Values are decimal strings compared by length then lexically: Lua numbers are doubles and
# would print a 16-digit microsecond cut-off in exponent form.
_REDIS_ADD = """
local v = ARGV[3]
local cur = redis.call('GET', KEYS[1])
if cur and (#cur > #v or (#cur == #v and cur > v)) then v = cur end
local ttl = tonumber(ARGV[5])
local left = redis.call('PTTL', KEYS[1])
if left > ttl then ttl = left end
redis.call('SET', KEYS[1], v, 'PX', ttl)
local member = ARGV[1] .. '|' .. v .. '|' .. ARGV[2]
local score = redis.call('ZSCORE', KEYS[2], member)
if not score or tonumber(score) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[2], ARGV[4], member)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[6])
redis.call('PUBLISH', ARGV[7], ARGV[1] .. '|' .. ARGV[4] .. '|' .. v .. '|' .. ARGV[2])
return v
"""


def redis_eval(store: Any, source: str, keys: Sequence[Any], args: Sequence[Any]) -> Any:
    """EVALSHA the store-registered script; EVAL once on NOSCRIPT (after a restart/flush)."""
    from redis.exceptions import NoScriptError  # noqa: PLC0415 - redis is an optional extra

    script = store.script(source)
    with store.errors():
        try:
            return store.client.evalsha(script.sha, len(keys), *keys, *args)
        except NoScriptError:
            return store.client.eval(script.source, len(keys), *keys, *args)


async def redis_eval_async(
    store: Any, source: str, keys: Sequence[Any], args: Sequence[Any]
) -> Any:
    from redis.exceptions import NoScriptError  # noqa: PLC0415

    script = store.script(source)
    with store.errors():
        try:
            return await store.client.evalsha(script.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await store.client.eval(script.source, len(keys), *keys, *args)


#: A sans-I/O Redis operation: yields ``("eval", source, keys, args)`` or ``(client method,
#: *args)``, receives each result, returns the operation's result (as in the session store).
RedisSteps = Generator[tuple[Any, ...], Any, _T]


def redis_run(store: Any, steps: RedisSteps[_T]) -> _T:
    """Drive a step generator with the blocking store (errors translated)."""
    try:
        step = next(steps)
        while True:
            if step[0] == "eval":
                result = redis_eval(store, step[1], step[2], step[3])
            else:
                with store.errors():
                    result = getattr(store.client, step[0])(*step[1:])
            step = steps.send(result)
    except StopIteration as stop:
        done: _T = stop.value
        return done


async def redis_run_async(store: Any, steps: RedisSteps[_T]) -> _T:
    """Drive a step generator with the asyncio store (errors translated)."""
    try:
        step = next(steps)
        while True:
            if step[0] == "eval":
                result = await redis_eval_async(store, step[1], step[2], step[3])
            else:
                with store.errors():
                    result = await getattr(store.client, step[0])(*step[1:])
            step = steps.send(result)
    except StopIteration as stop:
        done: _T = stop.value
        return done


def redis_channel(store: Any) -> str:
    return f"{store.prefix}revocations"


def redis_key(store: Any, kind: str, key: str) -> str:
    return str(store.key(REDIS_TAG, kind, key))


def redis_index(store: Any) -> str:
    return str(store.key(REDIS_TAG, "index"))


def _redis_add_args(store: Any, entry: Entry, now: float) -> tuple[list[str], list[str]]:
    ttl_ms = max(1, int((entry.expires_at - now) * 1000) + 1)
    keys = [redis_key(store, entry.kind, entry.key), redis_index(store)]
    args = [
        entry.kind,
        entry.key,
        str(entry.value),
        repr(entry.expires_at),
        str(ttl_ms),
        repr(now),
        redis_channel(store),
    ]
    return keys, args


def _redis_lookup_keys(store: Any, jti: str, sid: str | None, user: str) -> list[str]:
    return [
        redis_key(store, "jti", jti),
        redis_key(store, "sid", sid or ""),
        redis_key(store, "user", user),
    ]


def _redis_decode_lookup(values: Sequence[Any], has_sid: bool) -> Lookup:
    cut = values[2]
    return (
        values[0] is not None,
        has_sid and values[1] is not None,
        None if cut is None else int(cut),
    )


def _redis_decode_index(rows: Sequence[tuple[bytes, float]]) -> list[Entry]:
    entries = []
    for member, score in rows:
        kind, value, key = member.decode("utf-8").split("|", 2)
        entries.append(_entry(kind, key, int(value), float(score)))
    return entries


# --- postgres ----------------------------------------------------------------------------------


def postgres_channel(store: Any) -> str:
    return f"{store.schema}.{store.prefix}revocations"[:63]


def _pg_add_sql(store: Any) -> str:
    t = store.table("revocations")
    return (
        f"WITH up AS (INSERT INTO {t} AS r (kind, key, value, expires_at) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (kind, key) DO UPDATE SET value = GREATEST(r.value, EXCLUDED.value), "
        "expires_at = GREATEST(r.expires_at, EXCLUDED.expires_at) "
        "RETURNING kind, key, value, expires_at) "
        "SELECT pg_notify(%s, kind || '|' || expires_at::text || '|' || value::text || '|' || key) "
        "FROM up"
    )


def _sql_lookup(store: Any, ph: str) -> str:
    t = store.table("revocations")
    return (
        f"SELECT kind, value FROM {t} WHERE expires_at > {ph} AND ("
        f"(kind = 'jti' AND key = {ph}) OR (kind = 'sid' AND key = {ph}) "
        f"OR (kind = 'user' AND key = {ph}))"
    )


def _decode_rows(rows: Sequence[Sequence[Any]]) -> Lookup:
    jti = sid = False
    cutoff: int | None = None
    for kind, value in rows:
        if kind == "jti":
            jti = True
        elif kind == "sid":
            sid = True
        elif kind == "user":
            cutoff = int(value)
    return jti, sid, cutoff


# --- sync operations ------------------------------------------------------------------------------


def add(store: Any, entry: Entry, now: float | None = None) -> None:
    """Record one revocation durably (and announce it to replicated listeners)."""
    when = time.time() if now is None else now
    kind = store.kind
    if kind == "memory":
        with store.lock:
            table = store.table("revocations")
            old = table.get((entry.kind, entry.key))
            if old is not None:
                entry = _entry(
                    entry.kind,
                    entry.key,
                    max(old[0], entry.value),
                    max(old[1], entry.expires_at),
                )
            table[(entry.kind, entry.key)] = (entry.value, entry.expires_at)
            subscribers = list(store.table("revocation_subscribers").values())
        for callback in subscribers:
            callback(entry)
    elif kind == "sqlite":
        t = store.table("revocations")
        with store.transaction() as conn:
            seq = conn.execute(
                f"INSERT INTO {t} (kind, key, value, expires_at, seq) VALUES ('#', 'seq', 1, ?, 0) "
                "ON CONFLICT (kind, key) DO UPDATE SET value = value + 1 RETURNING value",
                (_COUNTER_EXPIRES,),
            ).fetchone()[0]
            conn.execute(
                f"INSERT INTO {t} AS r (kind, key, value, expires_at, seq) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET value = max(r.value, excluded.value), "
                "expires_at = max(r.expires_at, excluded.expires_at), seq = excluded.seq",
                (entry.kind, entry.key, entry.value, entry.expires_at, seq),
            )
    elif kind == "redis":
        keys, args = _redis_add_args(store, entry, when)
        redis_eval(store, _REDIS_ADD, keys, args)
    elif kind == "postgres":
        with store.connection() as conn:
            conn.execute(
                _pg_add_sql(store),
                (
                    entry.kind,
                    entry.key,
                    entry.value,
                    entry.expires_at,
                    postgres_channel(store),
                ),
            )
    else:  # pragma: no cover - the store contract lists four kinds
        raise StoreError(f"unknown store kind {kind!r}")


def lookup(store: Any, jti: str, sid: str | None, user: str, now: float) -> Lookup:
    """The denylist check for one token, in one round trip."""
    kind = store.kind
    if kind == "memory":
        table = store.table("revocations")
        j = table.get(("jti", jti))
        s = table.get(("sid", sid)) if sid is not None else None
        u = table.get(("user", user))
        return (
            j is not None and j[1] > now,
            s is not None and s[1] > now,
            u[0] if u is not None and u[1] > now else None,
        )
    if kind == "sqlite":
        with store.errors(), store.connection() as conn:
            rows = conn.execute(_sql_lookup(store, "?"), (now, jti, sid or "", user)).fetchall()
        return _decode_rows(rows)
    if kind == "redis":
        with store.errors():
            values = store.client.mget(_redis_lookup_keys(store, jti, sid, user))
        return _redis_decode_lookup(values, sid is not None)
    if kind == "postgres":
        with store.connection() as conn:
            rows = conn.execute(_sql_lookup(store, "%s"), (now, jti, sid or "", user)).fetchall()
        return _decode_rows(rows)
    raise StoreError(f"unknown store kind {kind!r}")  # pragma: no cover


def load_all(store: Any, now: float) -> tuple[list[Entry], int]:
    """Every live entry, and (sqlite) the change counter to poll from; 0 elsewhere."""
    kind = store.kind
    if kind == "memory":
        with store.lock:
            items = list(store.table("revocations").items())
        return [_entry(k, key, v, e) for (k, key), (v, e) in items if e > now], 0
    if kind == "sqlite":
        t = store.table("revocations")
        with store.errors(), store.connection() as conn:
            row = conn.execute(f"SELECT value FROM {t} WHERE kind = '#'").fetchone()
            counter = 0 if row is None else int(row[0])
            rows = conn.execute(
                f"SELECT kind, key, value, expires_at FROM {t} "
                "WHERE kind != '#' AND expires_at > ?",
                (now,),
            ).fetchall()
        return [_entry(*r) for r in rows], counter
    if kind == "redis":
        with store.errors():
            rows = store.client.zrangebyscore(
                redis_index(store), f"({now!r}", "+inf", withscores=True
            )
        return _redis_decode_index(rows), 0
    if kind == "postgres":
        t = store.table("revocations")
        with store.connection() as conn:
            rows = conn.execute(
                f"SELECT kind, key, value, expires_at FROM {t} WHERE expires_at > %s", (now,)
            ).fetchall()
        return [_entry(*r) for r in rows], 0
    raise StoreError(f"unknown store kind {kind!r}")  # pragma: no cover


def sqlite_changes(conn: Any, store: Any, since: int) -> tuple[list[Entry], int]:
    """Rows written after change ``since`` (one index range scan), and the new high-water mark."""
    t = store.table("revocations")
    rows = conn.execute(
        f"SELECT kind, key, value, expires_at, seq FROM {t} WHERE seq > ? ORDER BY seq", (since,)
    ).fetchall()
    entries = [_entry(k, key, v, e) for k, key, v, e, _ in rows if k != "#"]
    top = max([since, *(int(r[4]) for r in rows)])
    return entries, top


# --- async operations (same statements, awaited) ------------------------------------------------


async def add_async(store: Any, entry: Entry, now: float | None = None) -> None:
    when = time.time() if now is None else now
    kind = store.kind
    if kind == "memory":
        add(store.sync, entry, when)
    elif kind == "sqlite":
        await store.run(add, store.sync, entry, when)
    elif kind == "redis":
        keys, args = _redis_add_args(store, entry, when)
        await redis_eval_async(store, _REDIS_ADD, keys, args)
    elif kind == "postgres":
        async with store.connection() as conn:
            await conn.execute(
                _pg_add_sql(store),
                (entry.kind, entry.key, entry.value, entry.expires_at, postgres_channel(store)),
            )
    else:  # pragma: no cover
        raise StoreError(f"unknown store kind {kind!r}")


async def lookup_async(store: Any, jti: str, sid: str | None, user: str, now: float) -> Lookup:
    kind = store.kind
    if kind == "memory":
        return lookup(store.sync, jti, sid, user, now)
    if kind == "sqlite":
        result: Lookup = await store.run(lookup, store.sync, jti, sid, user, now)
        return result
    if kind == "redis":
        with store.errors():
            values = await store.client.mget(_redis_lookup_keys(store, jti, sid, user))
        return _redis_decode_lookup(values, sid is not None)
    if kind == "postgres":
        async with store.connection() as conn:
            cur = await conn.execute(_sql_lookup(store, "%s"), (now, jti, sid or "", user))
            rows = await cur.fetchall()
        return _decode_rows(rows)
    raise StoreError(f"unknown store kind {kind!r}")  # pragma: no cover


async def load_all_async(store: Any, now: float) -> tuple[list[Entry], int]:
    kind = store.kind
    if kind == "memory":
        return load_all(store.sync, now)
    if kind == "sqlite":
        result: tuple[list[Entry], int] = await store.run(load_all, store.sync, now)
        return result
    if kind == "redis":
        with store.errors():
            rows = await store.client.zrangebyscore(
                redis_index(store), f"({now!r}", "+inf", withscores=True
            )
        return _redis_decode_index(rows), 0
    if kind == "postgres":
        t = store.table("revocations")
        async with store.connection() as conn:
            cur = await conn.execute(
                f"SELECT kind, key, value, expires_at FROM {t} WHERE expires_at > %s", (now,)
            )
            rows = await cur.fetchall()
        return [_entry(*r) for r in rows], 0
    raise StoreError(f"unknown store kind {kind!r}")  # pragma: no cover


# --- purge steps (run by store.purge_expired) -----------------------------------------------------


def _purge_memory(store: Any, now: float) -> int:
    with store.lock:
        table = store.table("revocations")
        dead = [k for k, (_, expires) in table.items() if expires <= now]
        for k in dead:
            del table[k]
    return len(dead)


def _purge_sqlite(store: Any, now: float) -> int:
    # Batched (SQLiteStore.delete_expired); the change counter row ('#') never expires.
    count: int = store.delete_expired(store.table("revocations"), "kind, key", now, "kind != '#'")
    return count


def _purge_redis(store: Any, now: float) -> int:
    with store.errors():
        count: int = store.client.zremrangebyscore(redis_index(store), "-inf", repr(now))
    return count


async def _purge_redis_async(store: Any, now: float) -> int:
    with store.errors():
        count: int = await store.client.zremrangebyscore(redis_index(store), "-inf", repr(now))
    return count


def _purge_postgres(store: Any, now: float) -> int:
    t = store.table("revocations")
    with store.connection() as conn:
        count: int = conn.execute(f"DELETE FROM {t} WHERE expires_at <= %s", (now,)).rowcount
    return count


async def _purge_postgres_async(store: Any, now: float) -> int:
    t = store.table("revocations")
    async with store.connection() as conn:
        cur = await conn.execute(f"DELETE FROM {t} WHERE expires_at <= %s", (now,))
        count: int = cur.rowcount
    return count


register_purge("memory", _purge_memory)
register_purge("sqlite", _purge_sqlite)
register_purge("redis", _purge_redis, async_step=_purge_redis_async)
register_purge("postgres", _purge_postgres, async_step=_purge_postgres_async)
