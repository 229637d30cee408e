"""The Lua scripts of the Redis session store: atomic compare-and-set writes, one EVALSHA each.

A session is one STRING key holding the JSON array of its :class:`SessionRecord` fields (``id``,
``user_id``, created, authenticated, last seen, idle deadline, absolute deadline, remember,
metadata, data), with a native TTL at its idle deadline. Reads are a plain ``GET``; every decision
(expired? touch due? new deadline?) is made in Python by :mod:`gatepass.stores.records`, and the
resulting write is applied only if the stored value is still exactly the one the decision was based
on (compare-and-set). So a revoked (deleted) or concurrently changed session is never written back.

Every key a script touches shares the user's hash tag, so each script runs in one Cluster slot.
Keys built inside a script (from an ``ARGV`` prefix) are in that slot by construction.
"""

from __future__ import annotations

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
# ARGV: expected old value, new value, ttl_ms, public id, new hash hex. 1 if rotated.
ROTATE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
return 1
"""

# KEYS[1] session. ARGV: index prefix. 1 if a session was deleted.
REVOKE = """
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local r = cjson.decode(v)
redis.call('DEL', KEYS[1])
redis.call('HDEL', ARGV[1] .. r[2], r[1])
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

# KEYS[1] user index. ARGV: session key prefix. The values of the user's sessions; drops index
# entries whose session Redis has already expired.
LIST = """
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local v = redis.call('GET', ARGV[1] .. all[i + 1])
  if v then out[#out + 1] = v else redis.call('HDEL', KEYS[1], all[i]) end
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
