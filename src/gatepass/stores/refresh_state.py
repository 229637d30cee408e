"""Refresh-token families per backend: records, the rotation rule, and atomic rotation.

The records and :func:`decide` live here, in the store layer, because the memory and SQLite
backends run the rule in-process while Redis (Lua) and PostgreSQL (PL/pgSQL) mirror it on the
server; the conformance tests in ``tests/strategies/test_refresh.py`` hold all four equal. Token
format, successors and the public API are in :mod:`gatepass.strategies._refresh_policy` and
:mod:`gatepass.strategies.refresh`.

Data: a *family* (user, optional session public id, created, last used, current generation,
rotated at, revoked, absolute expiry) and a *token index* ``sha256(token) -> (family, generation)``
for every token the family ever had, so that an old token presented again is recognised as reuse
and revokes its family. Both live until the family's absolute expiry, then are purged (Redis:
native TTLs). Only hashes are stored.

One atomic step per rotation:

memory   one ``store.lock`` section.
sqlite   one ``BEGIN IMMEDIATE`` transaction (in-process; no network).
redis    one ``EVALSHA`` decides and writes; keys ``<prefix>{<tag>}:rt:<hash hex>`` and
         ``...:rf:<family>`` share the user's hash tag, so the script stays in one Cluster slot.
         Every key it touches is declared in ``KEYS`` (see :mod:`gatepass.stores._redis_lua`).
         The token carries its family id (see :mod:`gatepass.strategies._refresh_policy`), so
         the old and new token keys and the family key are known before the call; the script
         answers ``unknown`` unless the reference stored for the old hash names that family.
         Round trips: 1 per rotation of a family without a session, 1 per revoke. A family
         bound to a session must also declare the user's session index and the session's key,
         named by the session's *current* token hash; the token gives neither (it does not
         carry the user id), so the first call answers ``need`` with the user, sid and the hash
         the family last saw (cached in the family's ``h``: read from the index at ``create``,
         refreshed by the script), and the second declares those keys and does the rotation:
         2. If the session's token changed since (``Sessions.rotate``), the second call answers
         ``moved`` with the index's current hash (and caches it) and a third does it: 3, once.
         ``need`` and ``moved`` change no family state, and every call re-reads everything.
postgres one ``SELECT * FROM <prefix>refresh_rotate(...)``: a PL/pgSQL function that locks the
         family row (``FOR UPDATE``) and applies the rule in one transaction.

Coupling with sessions (read-only, kept to one check): a family bound to a session is dead once
that session is not live. The check reads the session layout documented in
:mod:`gatepass.stores.base` and :mod:`gatepass.stores.redis`: memory ``users``/``sessions``
tables; SQL ``<prefix>sessions`` columns ``user_id, id, expires_at, absolute_expires_at``; Redis
user index ``{tag}:u:<user>`` (public id -> token-hash hex) and the *existence* of the session key
``{tag}:s:<hex>`` (its TTL is the idle deadline, never past the absolute one), not its encoding.
The Redis family keeps the hex it last read from the index (field ``h``) only to name the session
key in advance; the decision always uses what the index says inside the same script.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from gatepass.errors import StoreError
from gatepass.stores.base import register_purge, register_schema
from gatepass.stores.revocation_state import (
    RedisSteps,
    redis_eval,
    redis_eval_async,
    redis_run,
    redis_run_async,
)

Status = Literal["rotated", "grace", "reused", "revoked", "expired", "session", "unknown"]


@dataclass(frozen=True, slots=True)
class Family:
    """One refresh-token family as stored (times in seconds of the refresh clock)."""

    id: str
    user_id: str
    sid: str | None
    created_at: float
    last_used_at: float
    generation: int
    rotated_at: float
    revoked: bool
    expires_at: float  # created_at + absolute lifetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one atomic rotation attempt found (and did). ``generation``: the new one if rotated."""

    status: Status
    family_id: str | None = None
    user_id: str | None = None
    sid: str | None = None
    generation: int = 0


def decide(
    family: Family,
    generation: int,
    *,
    now: float,
    idle: float,
    grace: float,
    session_live: bool,
) -> Status:
    """The rotation rule (see :mod:`gatepass.strategies._refresh_policy`), steps 1-6."""
    if family.revoked:
        return "revoked"
    if now >= family.expires_at or now >= family.last_used_at + idle:
        return "expired"
    if family.sid is not None and not session_live:
        return "session"
    if generation == family.generation:
        return "rotated"
    if generation == family.generation - 1 and now < family.rotated_at + grace:
        return "grace"
    return "reused"


def _index_name(table: Callable[[str], str], name: str) -> str:
    return table(name).rsplit(".", 1)[-1]


# --- schema -------------------------------------------------------------------------


def _sqlite_ddl(table: Callable[[str], str]) -> Sequence[str]:
    fam, tok = table("refresh_families"), table("refresh_tokens")
    return [
        f"""CREATE TABLE IF NOT EXISTS {fam} (
            id TEXT PRIMARY KEY, user_id TEXT NOT NULL, sid TEXT,
            created_at REAL NOT NULL, last_used_at REAL NOT NULL, generation INTEGER NOT NULL,
            rotated_at REAL NOT NULL, revoked INTEGER NOT NULL, expires_at REAL NOT NULL
        ) WITHOUT ROWID""",
        f"""CREATE TABLE IF NOT EXISTS {tok} (
            token_hash BLOB PRIMARY KEY, family_id TEXT NOT NULL, generation INTEGER NOT NULL,
            expires_at REAL NOT NULL
        ) WITHOUT ROWID""",
        f"CREATE INDEX IF NOT EXISTS {_index_name(table, 'refresh_families_exp')} "
        f"ON {fam} (expires_at)",
        f"CREATE INDEX IF NOT EXISTS {_index_name(table, 'refresh_tokens_exp')} "
        f"ON {tok} (expires_at)",
    ]


def _postgres_ddl(table: Callable[[str], str]) -> Sequence[str]:
    fam, tok = table("refresh_families"), table("refresh_tokens")
    sess, fn = table("sessions"), table("refresh_rotate")
    return [
        f"""CREATE TABLE IF NOT EXISTS {fam} (
            id text PRIMARY KEY, user_id text NOT NULL, sid text,
            created_at double precision NOT NULL, last_used_at double precision NOT NULL,
            generation integer NOT NULL, rotated_at double precision NOT NULL,
            revoked boolean NOT NULL, expires_at double precision NOT NULL)""",
        f"""CREATE TABLE IF NOT EXISTS {tok} (
            token_hash bytea PRIMARY KEY, family_id text NOT NULL, generation integer NOT NULL,
            expires_at double precision NOT NULL)""",
        f"CREATE INDEX IF NOT EXISTS {_index_name(table, 'refresh_families_exp')} "
        f"ON {fam} (expires_at)",
        f"CREATE INDEX IF NOT EXISTS {_index_name(table, 'refresh_tokens_exp')} "
        f"ON {tok} (expires_at)",
        f"""CREATE OR REPLACE FUNCTION {fn}(
            p_old bytea, p_new bytea, p_now double precision, p_idle double precision,
            p_grace double precision, OUT o_status text, OUT o_family text, OUT o_user text,
            OUT o_sid text, OUT o_gen integer)
        LANGUAGE plpgsql AS $gp$
        DECLARE
            t_family text; t_gen integer; f record; live boolean := true;
        BEGIN
            SELECT family_id, generation INTO t_family, t_gen FROM {tok} WHERE token_hash = p_old;
            IF NOT FOUND THEN o_status := 'unknown'; RETURN; END IF;
            SELECT * INTO f FROM {fam} WHERE id = t_family FOR UPDATE;
            IF NOT FOUND THEN o_status := 'unknown'; RETURN; END IF;
            o_family := f.id; o_user := f.user_id; o_sid := f.sid; o_gen := t_gen;
            IF f.revoked THEN o_status := 'revoked'; RETURN; END IF;
            IF p_now >= f.expires_at OR p_now >= f.last_used_at + p_idle THEN
                o_status := 'expired'; RETURN;
            END IF;
            IF f.sid IS NOT NULL THEN
                SELECT EXISTS (SELECT 1 FROM {sess} s WHERE s.user_id = f.user_id
                    AND s.id = f.sid AND s.expires_at > p_now
                    AND s.absolute_expires_at > p_now) INTO live;
                IF NOT live THEN o_status := 'session'; RETURN; END IF;
            END IF;
            IF t_gen = f.generation THEN
                UPDATE {fam} SET generation = f.generation + 1, rotated_at = p_now,
                    last_used_at = p_now WHERE id = f.id;
                INSERT INTO {tok} (token_hash, family_id, generation, expires_at)
                    VALUES (p_new, f.id, f.generation + 1, f.expires_at)
                    ON CONFLICT (token_hash) DO NOTHING;
                o_status := 'rotated'; o_gen := f.generation + 1; RETURN;
            END IF;
            IF t_gen = f.generation - 1 AND p_now < f.rotated_at + p_grace THEN
                o_status := 'grace'; RETURN;
            END IF;
            UPDATE {fam} SET revoked = true WHERE id = f.id;
            o_status := 'reused';
        END
        $gp$""",
    ]


register_schema("sqlite", "refresh", _sqlite_ddl)
register_schema("postgres", "refresh", _postgres_ddl)


# --- redis -------------------------------------------------------------------------------

# KEYS: family, token index; for a family bound to a session also the user's session index.
# ARGV: user, sid ('' for none), now, expires_at, ttl_ms, family id.
# Field 'h' caches the session's token-hash hex as the index has it (read-only), so that a
# rotation can name the session's key in its second call instead of reading the index first.
_REDIS_CREATE = """
local h = ''
if ARGV[2] ~= '' then h = redis.call('HGET', KEYS[3], ARGV[2]) or '' end
redis.call('HSET', KEYS[1], 'u', ARGV[1], 's', ARGV[2], 'c', ARGV[3], 'l', ARGV[3], 'g', '0',
  'r', ARGV[3], 'x', '0', 'e', ARGV[4], 'h', h)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('SET', KEYS[2], ARGV[6] .. '|0', 'PX', ARGV[5])
return 1
"""

# KEYS: old token index, new token index, the family named by the token; for a family bound to
# a session also (once the first call has said 'need') the user's session index and, unless
# ARGV[6] is '', the session key {tag}:s:<ARGV[6]>. Every key the script touches is declared:
# see gatepass.stores._redis_lua for why.
# ARGV: now, idle, grace, the family id carried by the token, the user whose index is declared
# ('' for none), the session hash hex that session key was named from.
# Returns {status, family, user, sid, generation}, mirroring decide(); a token whose stored
# reference names another family is 'unknown', like one that is not stored at all. Or asks to be
# called again with the session keys: 'need' (the family is bound to a session) or 'moved' (the
# index points at another session hash), with that hash as a sixth element. Neither changes the
# family's state; 'moved' refreshes the cached hash 'h'.
_REDIS_ROTATE = """
local fid = ARGV[4]
local ref = redis.call('GET', KEYS[1])
if not ref or string.sub(ref, 1, #fid + 1) ~= fid .. '|' then return {'unknown'} end
local gen = tonumber(string.sub(ref, #fid + 2))
local fkey = KEYS[3]
local f = redis.call('HMGET', fkey, 'u', 's', 'c', 'l', 'g', 'r', 'x', 'e', 'h')
if not f[1] then return {'unknown'} end
local now = tonumber(ARGV[1])
local out = {'', fid, f[1], f[2], tostring(gen)}
if f[7] == '1' then out[1] = 'revoked'; return out end
if now >= tonumber(f[8]) or now >= tonumber(f[4]) + tonumber(ARGV[2]) then
  out[1] = 'expired'; return out
end
if f[2] ~= '' then
  if #KEYS < 4 or ARGV[5] ~= f[1] then out[1] = 'need'; out[6] = f[9] or ''; return out end
  local h = redis.call('HGET', KEYS[4], f[2])
  if not h then out[1] = 'session'; return out end
  if h ~= ARGV[6] then
    redis.call('HSET', fkey, 'h', h)
    out[1] = 'moved'; out[6] = h; return out
  end
  if redis.call('EXISTS', KEYS[5]) == 0 then out[1] = 'session'; return out end
end
local cur = tonumber(f[5])
if gen == cur then
  local ttl = math.floor((tonumber(f[8]) - now) * 1000) + 1
  redis.call('HSET', fkey, 'g', tostring(cur + 1), 'r', ARGV[1], 'l', ARGV[1])
  redis.call('SET', KEYS[2], fid .. '|' .. tostring(cur + 1), 'PX', ttl)
  out[1] = 'rotated'; out[5] = tostring(cur + 1); return out
end
if gen == cur - 1 and now < tonumber(f[6]) + tonumber(ARGV[3]) then
  out[1] = 'grace'; return out
end
redis.call('HSET', fkey, 'x', '1')
out[1] = 'reused'
return out
"""

# KEYS: token index, the family named by the token. ARGV: the family id carried by the token.
# Returns {family, user, sid}, or false if unknown (also when the stored reference names another
# family).
_REDIS_REVOKE = """
local fid = ARGV[1]
local ref = redis.call('GET', KEYS[1])
if not ref or string.sub(ref, 1, #fid + 1) ~= fid .. '|' then return false end
local f = redis.call('HMGET', KEYS[2], 'u', 's')
if not f[1] then return false end
redis.call('HSET', KEYS[2], 'x', '1')
return {fid, f[1], f[2]}
"""
#: Bound on the rotation's calls for a session-bound family (each 'moved' means the session's
#: token changed meanwhile).
_ATTEMPTS = 100


def _rk_token(store: Any, tag: str, token_hash: bytes) -> str:
    return str(store.key(tag, "rt", token_hash.hex()))


def _rk_family_prefix(store: Any, tag: str) -> str:
    return str(store.key(tag, "rf", ""))


def _redis_create_args(
    store: Any, family: Family, token_hash: bytes, tag: str
) -> tuple[list[str], list[Any]]:
    ttl_ms = max(1, int((family.expires_at - family.created_at) * 1000) + 1)
    keys = [_rk_family_prefix(store, tag) + family.id, _rk_token(store, tag, token_hash)]
    if family.sid is not None:
        keys.append(str(store.key(tag, "u", family.user_id)))
    args = [
        family.user_id,
        family.sid or "",
        repr(family.created_at),
        repr(family.expires_at),
        ttl_ms,
        family.id,
    ]
    return keys, args


def _redis_rotate_steps(
    store: Any,
    old: bytes,
    new: bytes,
    tag: str,
    family_id: str,
    *,
    now: float,
    idle: float,
    grace: float,
) -> RedisSteps[Outcome]:
    """The rotation script with every key declared. The token names its family, so a family
    without a session takes one call. One bound to a session takes a second, declaring the
    user's session index and the session key named by the hash the first call reported; a third
    only if the index points elsewhere by then ('moved', with the current hash)."""
    base = [
        _rk_token(store, tag, old),
        _rk_token(store, tag, new),
        _rk_family_prefix(store, tag) + family_id,
    ]
    head = [repr(now), repr(idle), repr(grace), family_id]
    keys: list[Any] = base
    args: list[Any] = [*head, "", ""]
    for _attempt in range(_ATTEMPTS):
        reply = yield ("eval", _REDIS_ROTATE, keys, args)
        if _text(reply[0]) not in ("need", "moved"):
            return _redis_outcome(reply)
        user, hexh = reply[2], reply[5]
        keys = [*base, store.key(tag, "u", "").encode() + user]
        if hexh:
            keys.append(store.key(tag, "s", "").encode() + hexh)
        args = [*head, user, hexh]
    raise StoreError("redis: the refresh family's session kept changing during rotation")


def _redis_revoke_args(
    store: Any, token_hash: bytes, tag: str, family_id: str
) -> tuple[list[str], list[str]]:
    keys = [_rk_token(store, tag, token_hash), _rk_family_prefix(store, tag) + family_id]
    return keys, [family_id]


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _redis_outcome(reply: Sequence[Any]) -> Outcome:
    status = _text(reply[0])
    if status == "unknown":
        return Outcome("unknown")
    sid = _text(reply[3])
    return Outcome(
        status,  # type: ignore[arg-type]
        _text(reply[1]),
        _text(reply[2]),
        sid or None,
        int(_text(reply[4])),
    )


def _redis_revoked(reply: Any) -> Outcome:
    if not reply:
        return Outcome("unknown")
    sid = _text(reply[2])
    return Outcome("revoked", _text(reply[0]), _text(reply[1]), sid or None)


# --- memory and sqlite (the rule runs here) -------------------------------------------------------


def _memory_session_live(store: Any, user_id: str, sid: str, now: float) -> bool:
    token_hash = store.table("users").get(user_id, {}).get(sid)
    record = store.table("sessions").get(token_hash) if token_hash is not None else None
    return record is not None and now < record.expires_at and now < record.absolute_expires_at


def _sqlite_family(conn: Any, store: Any, family_id: str) -> Family | None:
    row = conn.execute(
        "SELECT id, user_id, sid, created_at, last_used_at, generation, rotated_at, revoked, "
        f"expires_at FROM {store.table('refresh_families')} WHERE id = ?",
        (family_id,),
    ).fetchone()
    if row is None:
        return None
    return Family(row[0], row[1], row[2], row[3], row[4], int(row[5]), row[6], bool(row[7]), row[8])


def _sqlite_session_live(conn: Any, store: Any, user_id: str, sid: str, now: float) -> bool:
    row = conn.execute(
        f"SELECT 1 FROM {store.table('sessions')} WHERE user_id = ? AND id = ? "
        "AND expires_at > ? AND absolute_expires_at > ?",
        (user_id, sid, now, now),
    ).fetchone()
    return row is not None


def _apply(family: Family, generation: int, status: Status) -> Outcome:
    new_gen = family.generation + 1 if status == "rotated" else generation
    return Outcome(status, family.id, family.user_id, family.sid, new_gen)


# --- sync operations ----------------------------------------------------------------


def create(store: Any, family: Family, token_hash: bytes, tag: str) -> None:
    """Store a new family with its first token (generation 0)."""
    kind = store.kind
    if kind == "memory":
        with store.lock:
            store.table("refresh_families")[family.id] = family
            store.table("refresh_tokens")[token_hash] = (family.id, 0, family.expires_at)
    elif kind == "sqlite":
        with store.transaction() as conn:
            conn.execute(
                f"INSERT INTO {store.table('refresh_families')} VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    family.id,
                    family.user_id,
                    family.sid,
                    family.created_at,
                    family.last_used_at,
                    0,
                    family.rotated_at,
                    0,
                    family.expires_at,
                ),
            )
            conn.execute(
                f"INSERT INTO {store.table('refresh_tokens')} VALUES (?,?,?,?)",
                (token_hash, family.id, 0, family.expires_at),
            )
    elif kind == "redis":
        redis_eval(store, _REDIS_CREATE, *_redis_create_args(store, family, token_hash, tag))
    elif kind == "postgres":
        with store.connection() as conn, conn.transaction():
            conn.execute(*_pg_create(store, family, token_hash))
            conn.execute(
                f"INSERT INTO {store.table('refresh_tokens')} VALUES (%s, %s, 0, %s)",
                (token_hash, family.id, family.expires_at),
            )
    else:  # pragma: no cover
        raise StoreError(f"unknown store kind {kind!r}")


def _pg_create(store: Any, family: Family, token_hash: bytes) -> tuple[str, tuple[Any, ...]]:
    return (
        f"INSERT INTO {store.table('refresh_families')} VALUES (%s,%s,%s,%s,%s,0,%s,false,%s)",
        (
            family.id,
            family.user_id,
            family.sid,
            family.created_at,
            family.last_used_at,
            family.rotated_at,
            family.expires_at,
        ),
    )


def rotate(
    store: Any,
    old: bytes,
    new: bytes,
    tag: str,
    family_id: str,
    *,
    now: float,
    idle: float,
    grace: float,
) -> Outcome:
    """Apply the rotation rule atomically; see :func:`decide`. ``family_id`` is the one the
    old token carries: Redis names the family's key with it (and answers ``unknown`` if the
    token's stored reference disagrees); the other backends find the family from the token's
    hash alone, which only the real token has."""
    kind = store.kind
    if kind == "memory":
        with store.lock:
            tokens = store.table("refresh_tokens")
            ref = tokens.get(old)
            family = store.table("refresh_families").get(ref[0]) if ref is not None else None
            if ref is None or family is None:
                return Outcome("unknown")
            live = family.sid is None or _memory_session_live(
                store, family.user_id, family.sid, now
            )
            status = decide(family, ref[1], now=now, idle=idle, grace=grace, session_live=live)
            if status == "rotated":
                store.table("refresh_families")[family.id] = replace(
                    family, generation=family.generation + 1, rotated_at=now, last_used_at=now
                )
                tokens[new] = (family.id, family.generation + 1, family.expires_at)
            elif status == "reused":
                store.table("refresh_families")[family.id] = replace(family, revoked=True)
            return _apply(family, ref[1], status)
    if kind == "sqlite":
        tok, fam = store.table("refresh_tokens"), store.table("refresh_families")
        with store.transaction() as conn:
            row = conn.execute(
                f"SELECT family_id, generation FROM {tok} WHERE token_hash = ?", (old,)
            ).fetchone()
            family = _sqlite_family(conn, store, row[0]) if row is not None else None
            if row is None or family is None:
                return Outcome("unknown")
            generation = int(row[1])
            live = family.sid is None or _sqlite_session_live(
                conn, store, family.user_id, family.sid, now
            )
            status = decide(family, generation, now=now, idle=idle, grace=grace, session_live=live)
            if status == "rotated":
                conn.execute(
                    f"UPDATE {fam} SET generation = ?, rotated_at = ?, last_used_at = ? "
                    "WHERE id = ?",
                    (family.generation + 1, now, now, family.id),
                )
                conn.execute(
                    f"INSERT OR IGNORE INTO {tok} VALUES (?,?,?,?)",
                    (new, family.id, family.generation + 1, family.expires_at),
                )
            elif status == "reused":
                conn.execute(f"UPDATE {fam} SET revoked = 1 WHERE id = ?", (family.id,))
            return _apply(family, generation, status)
    if kind == "redis":
        steps = _redis_rotate_steps(
            store, old, new, tag, family_id, now=now, idle=idle, grace=grace
        )
        return redis_run(store, steps)
    if kind == "postgres":
        with store.connection() as conn:
            row = conn.execute(
                f"SELECT * FROM {store.table('refresh_rotate')}(%s, %s, %s, %s, %s)",
                (old, new, now, idle, grace),
            ).fetchone()
        return _pg_outcome(row)
    raise StoreError(f"unknown store kind {kind!r}")  # pragma: no cover


def _pg_outcome(row: Sequence[Any] | None) -> Outcome:
    if row is None or row[0] == "unknown":
        return Outcome("unknown")
    return Outcome(row[0], row[1], row[2], row[3], int(row[4]))


def revoke(store: Any, token_hash: bytes, tag: str, family_id: str) -> Outcome:
    """Revoke the family of a token (any generation). ``status`` is ``revoked`` or ``unknown``.
    ``family_id`` as for :func:`rotate`."""
    kind = store.kind
    if kind == "memory":
        with store.lock:
            ref = store.table("refresh_tokens").get(token_hash)
            families = store.table("refresh_families")
            family = families.get(ref[0]) if ref is not None else None
            if family is None:
                return Outcome("unknown")
            families[family.id] = replace(family, revoked=True)
            return Outcome("revoked", family.id, family.user_id, family.sid)
    if kind == "sqlite":
        tok, fam = store.table("refresh_tokens"), store.table("refresh_families")
        with store.transaction() as conn:
            row = conn.execute(
                f"UPDATE {fam} SET revoked = 1 WHERE id = "
                f"(SELECT family_id FROM {tok} WHERE token_hash = ?) RETURNING id, user_id, sid",
                (token_hash,),
            ).fetchone()
        return Outcome("unknown") if row is None else Outcome("revoked", row[0], row[1], row[2])
    if kind == "redis":
        reply = redis_eval(
            store, _REDIS_REVOKE, *_redis_revoke_args(store, token_hash, tag, family_id)
        )
        return _redis_revoked(reply)
    if kind == "postgres":
        with store.connection() as conn:
            row = conn.execute(_pg_revoke_sql(store), (token_hash,)).fetchone()
        return Outcome("unknown") if row is None else Outcome("revoked", row[0], row[1], row[2])
    raise StoreError(f"unknown store kind {kind!r}")  # pragma: no cover


def _pg_revoke_sql(store: Any) -> str:
    tok, fam = store.table("refresh_tokens"), store.table("refresh_families")
    return (
        f"UPDATE {fam} SET revoked = true WHERE id = "
        f"(SELECT family_id FROM {tok} WHERE token_hash = %s) RETURNING id, user_id, sid"
    )


def family_of(store: Any, token_hash: bytes, tag: str) -> Family | None:
    """The family a token belongs to (for tests, tooling and admin pages)."""
    kind = store.kind
    if kind == "memory":
        with store.lock:
            ref = store.table("refresh_tokens").get(token_hash)
            return None if ref is None else store.table("refresh_families").get(ref[0])
    if kind == "sqlite":
        with store.errors(), store.connection() as conn:
            row = conn.execute(
                f"SELECT family_id FROM {store.table('refresh_tokens')} WHERE token_hash = ?",
                (token_hash,),
            ).fetchone()
            return None if row is None else _sqlite_family(conn, store, row[0])
    if kind == "redis":
        with store.errors():
            ref = store.client.get(_rk_token(store, tag, token_hash))
            if ref is None:
                return None
            fid = _text(ref).split("|", 1)[0]
            v = store.client.hmget(
                _rk_family_prefix(store, tag) + fid, "u", "s", "c", "l", "g", "r", "x", "e"
            )
        if v[0] is None:
            return None
        t = [_text(x) for x in v]
        return Family(
            fid, t[0], t[1] or None, float(t[2]), float(t[3]), int(t[4]), float(t[5]),
            t[6] == "1", float(t[7]),
        )  # fmt: skip
    if kind == "postgres":
        with store.connection() as conn:
            row = conn.execute(
                "SELECT f.id, f.user_id, f.sid, f.created_at, f.last_used_at, f.generation, "
                f"f.rotated_at, f.revoked, f.expires_at FROM {store.table('refresh_families')} f "
                f"JOIN {store.table('refresh_tokens')} t ON t.family_id = f.id "
                "WHERE t.token_hash = %s",
                (token_hash,),
            ).fetchone()
        if row is None:
            return None
        return Family(
            row[0], row[1], row[2], row[3], row[4], int(row[5]), row[6], bool(row[7]), row[8]
        )
    raise StoreError(f"unknown store kind {kind!r}")  # pragma: no cover


# --- async operations -------------------------------------------------------------------


async def create_async(store: Any, family: Family, token_hash: bytes, tag: str) -> None:
    kind = store.kind
    if kind == "memory":
        create(store.sync, family, token_hash, tag)
    elif kind == "sqlite":
        await store.run(create, store.sync, family, token_hash, tag)
    elif kind == "redis":
        args = _redis_create_args(store, family, token_hash, tag)
        await redis_eval_async(store, _REDIS_CREATE, *args)
    elif kind == "postgres":
        async with store.connection() as conn, conn.transaction():
            await conn.execute(*_pg_create(store, family, token_hash))
            await conn.execute(
                f"INSERT INTO {store.table('refresh_tokens')} VALUES (%s, %s, 0, %s)",
                (token_hash, family.id, family.expires_at),
            )
    else:  # pragma: no cover
        raise StoreError(f"unknown store kind {kind!r}")


async def rotate_async(
    store: Any,
    old: bytes,
    new: bytes,
    tag: str,
    family_id: str,
    *,
    now: float,
    idle: float,
    grace: float,
) -> Outcome:
    kind = store.kind
    if kind == "memory":
        return rotate(store.sync, old, new, tag, family_id, now=now, idle=idle, grace=grace)
    if kind == "sqlite":
        outcome: Outcome = await store.run(
            lambda: rotate(store.sync, old, new, tag, family_id, now=now, idle=idle, grace=grace)
        )
        return outcome
    if kind == "redis":
        steps = _redis_rotate_steps(
            store, old, new, tag, family_id, now=now, idle=idle, grace=grace
        )
        return await redis_run_async(store, steps)
    if kind == "postgres":
        async with store.connection() as conn:
            cur = await conn.execute(
                f"SELECT * FROM {store.table('refresh_rotate')}(%s, %s, %s, %s, %s)",
                (old, new, now, idle, grace),
            )
            row = await cur.fetchone()
        return _pg_outcome(row)
    raise StoreError(f"unknown store kind {kind!r}")  # pragma: no cover


async def revoke_async(store: Any, token_hash: bytes, tag: str, family_id: str) -> Outcome:
    kind = store.kind
    if kind == "memory":
        return revoke(store.sync, token_hash, tag, family_id)
    if kind == "sqlite":
        outcome: Outcome = await store.run(revoke, store.sync, token_hash, tag, family_id)
        return outcome
    if kind == "redis":
        args = _redis_revoke_args(store, token_hash, tag, family_id)
        return _redis_revoked(await redis_eval_async(store, _REDIS_REVOKE, *args))
    if kind == "postgres":
        async with store.connection() as conn:
            cur = await conn.execute(_pg_revoke_sql(store), (token_hash,))
            row = await cur.fetchone()
        return Outcome("unknown") if row is None else Outcome("revoked", row[0], row[1], row[2])
    raise StoreError(f"unknown store kind {kind!r}")  # pragma: no cover


# --- purge steps -------------------------------------------------------------------------


def _purge_memory(store: Any, now: float) -> int:
    with store.lock:
        families = store.table("refresh_families")
        tokens = store.table("refresh_tokens")
        dead = [k for k, f in families.items() if f.expires_at <= now]
        for k in dead:
            del families[k]
        stale = [k for k, ref in tokens.items() if ref[2] <= now]
        for k in stale:
            del tokens[k]
    return len(dead) + len(stale)


def _purge_sql(store: Any, now: float) -> int:
    fam, tok = store.table("refresh_families"), store.table("refresh_tokens")
    if store.kind == "sqlite":  # batched: other writers get the lock between batches
        sqlite_removed: int = store.delete_expired(tok, "token_hash", now)
        return sqlite_removed + int(store.delete_expired(fam, "id", now))
    removed = 0
    with store.connection() as conn:  # PostgreSQL: row locks only, nobody waits
        for table in (tok, fam):
            removed += conn.execute(f"DELETE FROM {table} WHERE expires_at <= %s", (now,)).rowcount
    return removed


async def _purge_postgres_async(store: Any, now: float) -> int:
    """:func:`_purge_sql` on the asyncio PostgreSQL store (same statements)."""
    fam, tok = store.table("refresh_families"), store.table("refresh_tokens")
    removed = 0
    async with store.connection() as conn:
        for table in (tok, fam):
            cur = await conn.execute(f"DELETE FROM {table} WHERE expires_at <= %s", (now,))
            removed += cur.rowcount
    return removed


register_purge("memory", _purge_memory)
register_purge("sqlite", _purge_sql)
register_purge("postgres", _purge_sql, async_step=_purge_postgres_async)
