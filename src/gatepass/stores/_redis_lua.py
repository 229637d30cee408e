"""The Lua scripts of the Redis session store: atomic compare-and-set writes, one EVALSHA each.

A session is one STRING key holding the JSON array of its :class:`SessionRecord` fields (``id``,
``user_id``, created, authenticated, last seen, idle deadline, absolute deadline, remember,
metadata, data), with a native TTL at its idle deadline. Reads are a plain ``GET``; every decision
(expired? touch due? new deadline?) is made in Python by :mod:`gatepass.stores.records`, and the
resulting write is applied only if the stored value is still exactly the one the decision was based
on (compare-and-set). So a revoked (deleted) or concurrently changed session is never written back.

Every key a script touches is passed in ``KEYS`` (Redis's scripting contract). No script builds a
key name from ``ARGV`` or from stored data: Redis Cluster routes and checks only declared keys, so
during a slot migration an undeclared key that already moved would silently read as missing (a
``revoke_all`` would report success while sessions survive on the target node), and proxies and
some Redis-compatible servers reject undeclared keys outright. With every key declared, a command
whose keys a migration has split gets ``TRYAGAIN`` / ``ASK`` from the server instead.

Operations over a user's sessions therefore read the user index first (one ``HGETALL`` /
``HGET``) and then run the script with every affected key declared, plus a compare-and-set guard
on the index: the script re-checks the entries it was given and returns a retry signal when the
index changed in between, so a concurrent create or rotate is never missed. All keys of a user
share the hash tag ``{T}``, so each script still runs in one Cluster slot.

Snapshot layout shared by REVOKE_USER, LIST and PRUNE: ``KEYS[1]`` is the user index and
``KEYS[i]`` (``i >= 2``) a session; ``ARGV[2*i-1]`` / ``ARGV[2*i]`` are the public id and the hash
hex of ``KEYS[i]`` as the index held them; ``ARGV[1]`` / ``ARGV[2]`` are per-script (REVOKE_USER:
the hash hex to keep and its public id; empty otherwise).
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

# KEYS[1] old session, KEYS[2] new session, KEYS[3] user index (built by the caller from the
# user id in the expected value, which the compare-and-set pins).
# ARGV: expected old value, new value, ttl_ms, public id, new hash hex. 1 if rotated.
ROTATE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
return 1
"""

# KEYS[1] session. Deletes it and returns the value it held (false if there was none): the
# revocation itself, atomic on the one key that makes a token valid. The caller then drops the
# index entry with UNINDEX (the user index is named by the user id inside the value).
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

# Snapshot layout (see above); ARGV[1] hash hex to keep (or ''), ARGV[2] its public id (or '').
# Deletes every given session and drops each entry that still points at it. Returns {deleted,
# left}: left counts the entries other than the kept one still in the index (created or
# re-pointed since the snapshot); the caller reads the index again until it is 0.
REVOKE_USER = """
local idx = KEYS[1]
local n = 0
for i = 2, #KEYS do
  local id = ARGV[2 * i - 1]
  n = n + redis.call('DEL', KEYS[i])
  if redis.call('HGET', idx, id) == ARGV[2 * i] then redis.call('HDEL', idx, id) end
end
local left = redis.call('HLEN', idx)
if ARGV[2] ~= '' and redis.call('HGET', idx, ARGV[2]) == ARGV[1] then left = left - 1 end
return {n, left}
"""

# Snapshot layout (see above). false if the index is no longer exactly the snapshot (read it
# again); else the values of the sessions, after dropping the entries whose session Redis has
# already expired.
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

# Snapshot layout (see above). Drops the entries whose session is gone and that still point at
# it; returns how many.
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
