"""The Redis layout, without I/O: key names, value encodings and the compare-and-set scripts.

Key layout (``prefix`` defaults to ``gatepass:``; ``T`` is the 4-character routing tag of a user)::

    <prefix>{T}:s:<sha256 hex>   STRING  a session: JSON array of the SessionRecord fields
    <prefix>{T}:u:<user id>      HASH    public id -> sha256 hex of that user's sessions
    <prefix>{T}:rf:<family id>   HASH    a refresh family (fields below)
    <prefix>{T}:rt:<sha256 hex>  STRING  "<family id>|<generation>" of every token it issued
    <prefix>{rv}:jti:<jti>, ...:sid:<sid>, ...:user:<user>   revocation entries (TTL)
    <prefix>{rv}:index           ZSET    "kind|value|key" scored by expiry (snapshots)
    <prefix>{H}:dp:<proof id>    STRING  a DPoP proof already accepted (TTL: until it is stale);
                                         ``H`` is the id's first four hex digits
    channel <prefix>revocations          pub/sub change messages

All keys of a user share the hash tag ``{T}``, hence one Cluster slot; all revocation keys share
``{rv}``. Every script names every key it touches in ``KEYS`` and builds no key name itself:
Redis Cluster routes and checks only declared keys, so during a slot migration an undeclared
key that already moved would silently read as missing, while a declared one gets ``TRYAGAIN`` /
``ASK`` (redis-py follows ``ASK`` and retries ``TRYAGAIN``, then raises: ``StoreUnavailable``).

The scripts decide nothing: each applies a write only if the state the caller's decision was
based on still holds (compare-and-set) and reports whether it did. Every decision is made in
Python by the strategies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from gatepass.errors import StoreError
from gatepass.stores.jsontext import dump_json, load_json
from gatepass.stores.records import Family, SessionRecord, freeze

_TAG_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
REVOCATION_TAG = "rv"
FAMILY_FIELDS = ("u", "s", "c", "l", "g", "r", "x", "e", "p", "a", "k")


def is_tag(tag: str) -> bool:
    """Whether ``tag`` may become part of a key: four base64url characters, nothing else."""
    return len(tag) == 4 and tag.isascii() and (tag.isalnum() or _TAG_CHARS.issuperset(tag))


def glob_escape(text: str) -> str:
    """``text`` matched literally by a SCAN ``MATCH`` pattern."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


class Keys:
    """Key names under one prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.index_pattern = f"{glob_escape(prefix)}{{*}}:u:*"
        self.channel = f"{prefix}revocations"
        self.revocation_index = self.key(REVOCATION_TAG, "index")

    def key(self, tag: str, *parts: str) -> str:
        return f"{self.prefix}{{{tag}}}:{':'.join(parts)}"

    def session(self, tag: str, token_hash: bytes) -> str:
        return f"{self.prefix}{{{tag}}}:s:{token_hash.hex()}"

    def session_prefix(self, tag: str) -> bytes:
        return f"{self.prefix}{{{tag}}}:s:".encode()

    def user_index(self, tag: str, user_id: str) -> str:
        return f"{self.prefix}{{{tag}}}:u:{user_id}"

    def family(self, tag: str, family_id: str) -> str:
        return f"{self.prefix}{{{tag}}}:rf:{family_id}"

    def token(self, tag: str, token_hash: bytes) -> str:
        return f"{self.prefix}{{{tag}}}:rt:{token_hash.hex()}"

    def proof(self, proof_id: str) -> str:
        """A DPoP proof id's key, tagged by its first four hex digits: proofs spread over the
        Cluster's slots (each is one single-key command)."""
        return f"{self.prefix}{{{proof_id[:4]}}}:dp:{proof_id}"

    def revocation(self, kind: str, key: str) -> str:
        return self.key(REVOCATION_TAG, kind, key)

    def index_tag(self, key: bytes) -> str | None:
        """The tag of a user index found by SCAN (``<prefix>{T}:u:<user>``); None for a key that
        merely matches the pattern (its session keys could not be named)."""
        head = len(self.prefix.encode())
        if key[head : head + 1] != b"{" or key[head + 5 : head + 9] != b"}:u:":
            return None
        try:
            tag = key[head + 1 : head + 5].decode("ascii")
        except UnicodeDecodeError:
            return None
        return tag if is_tag(tag) else None


# --- values -------------------------------------------------------------------------------------

_NUMBER = (float, int)  # JSON numbers as json.loads gives them (never bool: ``type`` is exact)
_MALFORMED = (
    "redis: the value stored at a session key is not a gatepass session record ({}); "
    "it is damaged or was written by something else"
)


def encode(record: SessionRecord) -> str:
    """The stored value: the record's fields as a JSON array (floats round-trip exactly)."""
    return dump_json(list(record))


def decode(value: bytes) -> SessionRecord:
    """The record stored at a session key; :class:`StoreError` for anything :func:`encode` does
    not write (not UTF-8, not JSON, not exactly the 10 fields in their JSON types)."""
    try:
        fields = load_json(value.decode())
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise StoreError(_MALFORMED.format("not UTF-8 JSON")) from None
    if not (
        type(fields) is list
        and len(fields) == 10
        and type(fields[0]) is str
        and type(fields[1]) is str
        and type(fields[2]) in _NUMBER
        and type(fields[3]) in _NUMBER
        and type(fields[4]) in _NUMBER
        and type(fields[5]) in _NUMBER
        and type(fields[6]) in _NUMBER
        and type(fields[7]) is bool
        and type(fields[8]) is dict
        and type(fields[9]) is dict
    ):
        raise StoreError(_MALFORMED.format("wrong shape"))
    fields[8] = freeze(fields[8])  # records are immutable snapshots: metadata and data frozen
    fields[9] = freeze(fields[9])
    return SessionRecord._make(fields)


def ttl_ms(until: float, now: float) -> int:
    """Milliseconds from ``now`` until ``until``: a native TTL (at least 1)."""
    return max(1, int((until - now) * 1000) + 1)


def text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def family_from_fields(family_id: str, fields: Sequence[Any]) -> Family | None:
    """A family from its hash fields in :data:`FAMILY_FIELDS` order; None if it is gone."""
    if fields[0] is None:
        return None
    try:
        # Scopes, login time and key ("p", "a", "k") are absent (nil) from a family an earlier
        # release wrote: read as none, as that release issued them.
        t = ["" if x is None else text(x) for x in fields]
        scopes, auth_time, jkt = [*t[8:11], "", "", ""][:3]
        return Family(
            family_id, t[0], t[1] or None, float(t[2]), float(t[3]), int(t[4]), float(t[5]),
            t[6] == "1", float(t[7]), tuple(scopes.split()),
            float(auth_time) if auth_time else None, jkt or None,
        )  # fmt: skip
    except (TypeError, ValueError):
        raise StoreError("redis: a refresh family is damaged or not gatepass's") from None


def snapshot(
    index: str | bytes,
    session_prefix: bytes,
    entries: Iterable[tuple[bytes, bytes]],
    head: tuple[bytes, bytes] = (b"", b""),
) -> tuple[list[str | bytes], list[bytes]]:
    """KEYS and ARGV of the snapshot scripts: the index, then each session key; ARGV ``head``,
    then each entry's public id and hash hex."""
    keys: list[str | bytes] = [index]
    args = list(head)
    for public_id, hexh in entries:
        keys.append(session_prefix + hexh)
        args.append(public_id)
        args.append(hexh)
    return keys, args


# --- scripts: sessions --------------------------------------------------------------------------

# KEYS[1] session, KEYS[2] user index. ARGV: value, ttl_ms, index_ttl_ms, public id, hash hex.
CREATE = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return 1
"""

# KEYS[1] session. ARGV: expected value, new value, ttl_ms ('' keeps the TTL). 1 if written.
CAS = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '' then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
"""

# KEYS[1] old session, KEYS[2] new session, KEYS[3] user index.
# ARGV: expected old value, new value, ttl_ms, public id, new hash hex. 1 if moved.
MOVE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
return 1
"""

# KEYS[1] session. Deletes it and returns the value it held (false if there was none).
TAKE = """
local v = redis.call('GET', KEYS[1])
if v then redis.call('DEL', KEYS[1]) end
return v
"""

# KEYS[1] user index. ARGV: public id, hash hex. Drops the entry only if it still points at that
# hash (a rotation re-points it). 1 if dropped.
UNINDEX = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
return redis.call('HDEL', KEYS[1], ARGV[1])
"""

# KEYS[1] user index, KEYS[2] the session its entry pointed at when read. ARGV: public id, hash
# hex. -1 if the entry changed meanwhile (read it again), else how many sessions went (0 or 1).
REVOKE_ID = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return -1 end
redis.call('HDEL', KEYS[1], ARGV[1])
return redis.call('DEL', KEYS[2])
"""

# Snapshot layout (see snapshot()); ARGV[1] hash hex to keep (or ''), ARGV[2] its public id.
# Deletes every given session and drops each entry that still points at it. Returns {deleted
# public ids..., left}: left counts the entries other than the kept one still in the index
# (created or re-pointed since the snapshot); the caller reads the index again until it is 0.
REVOKE_USER = """
local idx = KEYS[1]
local out = {}
for i = 2, #KEYS do
  local id = ARGV[2 * i - 1]
  if redis.call('DEL', KEYS[i]) == 1 then out[#out + 1] = id end
  if redis.call('HGET', idx, id) == ARGV[2 * i] then redis.call('HDEL', idx, id) end
end
local left = redis.call('HLEN', idx)
if ARGV[2] ~= '' and redis.call('HGET', idx, ARGV[2]) == ARGV[1] then left = left - 1 end
out[#out + 1] = left
return out
"""

# Snapshot layout. false if the index is no longer exactly the snapshot (read it again); else
# the values of the sessions, after dropping the entries whose session Redis already expired.
LIST = """
local idx = KEYS[1]
if redis.call('HLEN', idx) ~= #KEYS - 1 then return false end
for i = 2, #KEYS do
  if redis.call('HGET', idx, ARGV[2 * i - 1]) ~= ARGV[2 * i] then return false end
end
local out = {}
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v then out[#out + 1] = v else redis.call('HDEL', idx, ARGV[2 * i - 1]) end
end
return out
"""

# Snapshot layout. Drops the entries whose session is gone and that still point at it.
PRUNE = """
local idx = KEYS[1]
local n = 0
for i = 2, #KEYS do
  local id = ARGV[2 * i - 1]
  if redis.call('EXISTS', KEYS[i]) == 0 and redis.call('HGET', idx, id) == ARGV[2 * i] then
    redis.call('HDEL', idx, id)
    n = n + 1
  end
end
return n
"""

# --- scripts: refresh families ------------------------------------------------------------------

# KEYS: family, first token. ARGV: the first eight FAMILY_FIELDS values, ttl_ms, family id, then
# the values of 'p', 'a', 'k'.
CREATE_FAMILY = """
redis.call('HSET', KEYS[1], 'u', ARGV[1], 's', ARGV[2], 'c', ARGV[3], 'l', ARGV[4], 'g', ARGV[5],
  'r', ARGV[6], 'x', ARGV[7], 'e', ARGV[8], 'p', ARGV[11], 'a', ARGV[12], 'k', ARGV[13])
redis.call('PEXPIRE', KEYS[1], ARGV[9])
redis.call('SET', KEYS[2], ARGV[10] .. '|' .. ARGV[5], 'PX', ARGV[9])
return 1
"""

# Read only. KEYS: token, family. ARGV: the family id the token carries.
# Returns {server time, the token's reference, the family's fields...}.
READ_FAMILY = """#!lua flags=no-writes
local t = redis.call('TIME')
local ref = redis.call('GET', KEYS[1]) or ''
local f = redis.call('HMGET', KEYS[2], 'u', 's', 'c', 'l', 'g', 'r', 'x', 'e', 'p', 'a', 'k')
return {t[1], t[2], ref, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11]}
"""

# KEYS: family, new token, and for a family with a session the session key read.
# ARGV: expected generation, last used (caller's clock), deadline (server clock), family id.
# -1 if the server's clock has passed the deadline (the caller stopped waiting: nothing written),
# 0 if the family (or its session) changed since the read, else 1: the next generation, with
# rotated_at = the server's clock now, and the new token's reference.
ADVANCE_FAMILY = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
if now >= tonumber(ARGV[3]) then return -1 end
local f = redis.call('HMGET', KEYS[1], 'g', 'x')
if f[1] ~= ARGV[1] or f[2] ~= '0' then return 0 end
if #KEYS > 2 and redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
local g = tostring(tonumber(ARGV[1]) + 1)
local rotated = t[1] .. '.' .. string.format('%06d', t[2])
redis.call('HSET', KEYS[1], 'g', g, 'l', ARGV[2], 'r', rotated)
local ttl = math.max(1, redis.call('PTTL', KEYS[1]))
redis.call('SET', KEYS[2], ARGV[4] .. '|' .. g, 'PX', ttl, 'NX')
return 1
"""

# KEYS: family. Marks it revoked if it exists and is not yet: 1 if this call did.
REVOKE_FAMILY = """
if redis.call('HGET', KEYS[1], 'x') ~= '0' then return 0 end
redis.call('HSET', KEYS[1], 'x', '1')
return 1
"""

# KEYS: token, family. ARGV: the family id the token carries. Revokes the family if the token's
# reference names it; returns the family's fields (before revoking), or false if unknown.
REVOKE_TOKEN = """
local ref = redis.call('GET', KEYS[1])
if not ref or string.sub(ref, 1, #ARGV[1] + 1) ~= ARGV[1] .. '|' then return false end
local f = redis.call('HMGET', KEYS[2], 'u', 's', 'c', 'l', 'g', 'r', 'x', 'e', 'p', 'a', 'k')
if not f[1] then return false end
redis.call('HSET', KEYS[2], 'x', '1')
return f
"""

# --- scripts: revocations ------------------------------------------------------------------------

# KEYS: entry key, index. ARGV: kind, key, value, expires_at, ttl_ms, now, channel.
# Merges monotonically (value and TTL only grow; values are decimal strings compared by length,
# then lexically: Lua numbers are doubles and would print a 16-digit cut-off in exponent form),
# drops index members past their expiry, and publishes the merged entry.
ADD_REVOCATION = """
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

SCRIPTS = {
    name: source
    for name, source in globals().items()
    if name.isupper() and isinstance(source, str) and "redis.call" in source
}
