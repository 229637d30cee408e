"""The Lua scripts of the Redis session store (one EVALSHA per operation, atomic on the server).

Every key a script touches shares the user's hash tag, so each script runs in one slot and works
unchanged on Redis Cluster. Keys built inside a script (from an ``ARGV`` prefix) are in the same
slot as the declared ``KEYS[1]`` by construction.

Session hash fields: ``u`` user id, ``i`` public id, ``c`` created, ``a`` authenticated, ``t`` last
seen, ``e`` idle deadline, ``x`` absolute deadline, ``m`` remember (``1``/``0``), ``md`` metadata
JSON, ``d`` data JSON. Scripts return them in that order (``FIELDS``).

The liveness test below mirrors :func:`gatepass.stores.records.is_live` and the new deadline
mirrors :func:`~gatepass.stores.records.next_expiry`; the conformance tests hold them equal.
ARGV layout of the "spec" (``now, touch_before, idle, idle_remember, absolute,
absolute_remember``) is :func:`gatepass.stores.redis.spec_args`.
"""

from __future__ import annotations

FIELDS = ("u", "i", "c", "a", "t", "e", "x", "m", "md", "d")

_LIVE = """
local function live(v, now, spec)
  if not v[1] then return false end
  local idle, abs
  if v[8] == '1' then idle = tonumber(spec[4]); abs = tonumber(spec[6])
  else idle = tonumber(spec[3]); abs = tonumber(spec[5]) end
  local t = tonumber(v[5])
  return now < tonumber(v[6]) and now < tonumber(v[7]) and now < t + idle
    and now < tonumber(v[3]) + abs, idle
end
local function deadline(v, now, idle)
  return math.min(now + idle, tonumber(v[7]))
end
"""

_HMGET = "redis.call('HMGET', KEYS[1], 'u','i','c','a','t','e','x','m','md','d')"

# KEYS[1] session, KEYS[2] user index.
# ARGV: u i c a t e x m md d, ttl_ms, index_ttl_ms, hash_hex
CREATE = """
redis.call('HSET', KEYS[1], 'u', ARGV[1], 'i', ARGV[2], 'c', ARGV[3], 'a', ARGV[4],
  't', ARGV[5], 'e', ARGV[6], 'x', ARGV[7], 'm', ARGV[8], 'md', ARGV[9], 'd', ARGV[10])
redis.call('PEXPIRE', KEYS[1], ARGV[11])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[13])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[12]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[12])
end
return 1
"""

# KEYS[1] session. ARGV: spec (6). Returns the fields (touched when due) or false.
GET = (
    _LIVE
    + f"local v = {_HMGET}\n"
    + """
if not v[1] then return false end
local now = tonumber(ARGV[1])
local ok, idle = live(v, now, ARGV)
if ok and tonumber(v[5]) <= tonumber(ARGV[2]) then
  local ne = deadline(v, now, idle)
  v[5] = ARGV[1]
  v[6] = string.format('%.17g', ne)
  redis.call('HSET', KEYS[1], 't', v[5], 'e', v[6])
  redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((ne - now) * 1000)))
end
return v
"""
)

# KEYS[1] old session, KEYS[2] new session. ARGV: spec (6), auth_time or '', index prefix,
# new hash hex. Moves a live session to the new key; returns the new fields or false.
ROTATE = (
    _LIVE
    + f"local v = {_HMGET}\n"
    + """
local now = tonumber(ARGV[1])
local ok, idle = live(v, now, ARGV)
if not ok then return false end
local ne = deadline(v, now, idle)
v[5] = ARGV[1]
v[6] = string.format('%.17g', ne)
if ARGV[7] ~= '' then v[4] = ARGV[7] end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[2], 't', v[5], 'e', v[6], 'a', v[4])
redis.call('PEXPIRE', KEYS[2], math.max(1, math.ceil((ne - now) * 1000)))
redis.call('HSET', ARGV[8] .. v[1], v[2], ARGV[9])
return v
"""
)

# KEYS[1] session. ARGV: spec (6), expected data JSON, new data JSON.
# Compare-and-set of the data field on a live session: returns the fields, 0 on conflict, false
# when the session is not live.
SET_DATA = (
    _LIVE
    + f"local v = {_HMGET}\n"
    + """
if not live(v, tonumber(ARGV[1]), ARGV) then return false end
if v[10] ~= ARGV[7] then return 0 end
redis.call('HSET', KEYS[1], 'd', ARGV[8])
v[10] = ARGV[8]
return v
"""
)

# KEYS[1] session. ARGV: index prefix. Returns 1 if a session was deleted.
REVOKE = """
local v = redis.call('HMGET', KEYS[1], 'u', 'i')
if not v[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HDEL', ARGV[1] .. v[1], v[2])
return 1
"""

# KEYS[1] user index. ARGV: public id, session key prefix.
REVOKE_ID = """
local h = redis.call('HGET', KEYS[1], ARGV[1])
if not h then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return redis.call('DEL', ARGV[2] .. h)
"""

# KEYS[1] user index. ARGV: session key prefix, hash hex to keep (or '').
REVOKE_USER = """
local all = redis.call('HGETALL', KEYS[1])
local n = 0
local batch = {}
for i = 1, #all, 2 do
  if all[i + 1] ~= ARGV[2] then
    batch[#batch + 1] = ARGV[1] .. all[i + 1]
    redis.call('HDEL', KEYS[1], all[i])
    if #batch == 500 then
      n = n + redis.call('DEL', unpack(batch))
      batch = {}
    end
  end
end
if #batch > 0 then n = n + redis.call('DEL', unpack(batch)) end
return n
"""

# KEYS[1] user index. ARGV: session key prefix. Returns a list of field lists; drops index
# entries whose session Redis has already expired.
LIST = """
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local v = redis.call('HMGET', ARGV[1] .. all[i + 1],
    'u','i','c','a','t','e','x','m','md','d')
  if v[1] then out[#out + 1] = v else redis.call('HDEL', KEYS[1], all[i]) end
end
return out
"""

# KEYS[1] user index. ARGV: session key prefix. Drops dangling entries; returns how many.
PRUNE = """
local all = redis.call('HGETALL', KEYS[1])
local n = 0
for i = 1, #all, 2 do
  if redis.call('EXISTS', ARGV[1] .. all[i + 1]) == 0 then
    redis.call('HDEL', KEYS[1], all[i])
    n = n + 1
  end
end
return n
"""
