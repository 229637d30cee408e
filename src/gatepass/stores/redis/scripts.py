"""The Redis compare-and-set scripts, registered with redis-py (``register_script``: EVALSHA,
loaded again on NOSCRIPT by redis-py itself). Key layout: :mod:`gatepass.stores.redis.keys`.

The scripts decide nothing: each applies a write only if the state the caller's decision was
based on still holds (compare-and-set) and reports whether it did. Every decision is made in
Python by the strategies. Every script names every key it touches in ``KEYS`` (Redis Cluster
routes and checks only declared keys).
"""

from __future__ import annotations

# --- scripts: sessions --------------------------------------------------------------------------

# KEYS[1] session, KEYS[2] user index. ARGV: value, ttl_ms, index_ttl_ms, public id, hash hex.
# Returns how many entries the user's index holds now (the session cap is decided on it).
CREATE = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return redis.call('HLEN', KEYS[2])
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

# The batch scripts below each take one batch of a user's index entries, read with HSCAN, at
# most BATCH of them (see snapshot()): a script over every session of a user with 200,000 of
# them would hold the server for a second, every other client waiting.

# Batch layout; ARGV[1] hash hex to keep (or ''), ARGV[2] its public id (or '' if not seen yet).
# Deletes every given session and drops each entry that still points at it. Returns {deleted
# public ids..., left}: left counts the entries other than the kept one still in the index
# (created or re-pointed since they were read); the caller scans again until it is 0.
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

# Batch layout. For each given entry, in order, two items: 1 and the session's value; 2 and the
# hash hex the entry points at now (re-pointed by a rotation since it was read: read again);
# 0 and '' when the session is gone (its entry dropped if it still pointed at it).
LIST = """
local idx = KEYS[1]
local out = {}
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v then
    out[#out + 1] = 1
    out[#out + 1] = v
  else
    local id = ARGV[2 * i - 1]
    local now = redis.call('HGET', idx, id)
    if now == ARGV[2 * i] then redis.call('HDEL', idx, id) end
    if now and now ~= ARGV[2 * i] then
      out[#out + 1] = 2
      out[#out + 1] = now
    else
      out[#out + 1] = 0
      out[#out + 1] = ''
    end
  end
end
return out
"""

# Batch layout. Drops the entries whose session is gone and that still point at it.
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
