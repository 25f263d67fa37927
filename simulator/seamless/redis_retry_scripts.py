"""The Lua scripts of the Redis retry queue (``redis_retry``): each step on a job is one atomic script.

Every script gets the queue's keys in the order of ``redis_retry._FIELDS`` and
starts with ``PRELUDE``: the key names, ``now`` in ms on the Redis server's
clock (``TIME``), and ``forget(id)``, which removes a job from every key.
A job's ``state`` is one of ``pending`` (in ``due``), ``attempting``,
``settling``, ``failing``, ``replaying`` (in ``claimed``, under a token) and
``failed``; a settled job is forgotten.
"""

PRELUDE = """
local JOBS, STATE, ATTEMPTS, LAST, TOKEN, MISSES, DUE, CLAIMED =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function forget(id)
  for _, key in ipairs({JOBS, STATE, ATTEMPTS, LAST, TOKEN, MISSES}) do redis.call('HDEL', key, id) end
  redis.call('ZREM', DUE, id)
  redis.call('ZREM', CLAIMED, id)
end
"""

#: ARGV: data, attempts, state, delay ms, last entry id.  Returns the new job id.
SUBMIT = """
local id = redis.call('INCR', KEYS[9])
redis.call('HSET', JOBS, id, ARGV[1])
redis.call('HSET', STATE, id, ARGV[3])
redis.call('HSET', ATTEMPTS, id, ARGV[2])
if ARGV[5] ~= '' then redis.call('HSET', LAST, id, ARGV[5]) end
if ARGV[3] == 'pending' then redis.call('ZADD', DUE, now + tonumber(ARGV[4]), id) end
return id
"""

#: Reap expired claims, then claim up to ARGV[2] due jobs with leases of ARGV[1] ms and tokens
#: ARGV[3]:id.  Returns {claimed jobs, ids forgotten while settling, ms until the next due job or -1}.
CLAIM = """
local lost = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', CLAIMED, '-inf', now)) do
  local state = redis.call('HGET', STATE, id)
  redis.call('ZREM', CLAIMED, id)
  redis.call('HDEL', TOKEN, id)
  if state == 'attempting' then
    redis.call('HSET', STATE, id, 'pending')
    redis.call('ZADD', DUE, now, id)
  elseif state == 'failing' or state == 'replaying' then
    redis.call('HSET', STATE, id, 'failed')
  elseif state == 'settling' then
    forget(id)
    table.insert(lost, id)
  end
end
local claimed = {}
if tonumber(ARGV[2]) > 0 then
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', DUE, '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))) do
    redis.call('ZREM', DUE, id)
    local data = redis.call('HGET', JOBS, id)
    if data then
      local token = ARGV[3] .. ':' .. id
      redis.call('ZADD', CLAIMED, now + tonumber(ARGV[1]), id)
      redis.call('HSET', STATE, id, 'attempting')
      redis.call('HSET', TOKEN, id, token)
      local attempts = redis.call('HINCRBY', ATTEMPTS, id, 1)
      table.insert(claimed, {id, token, data, attempts, redis.call('HGET', LAST, id) or ''})
    end
  end
end
local wait = -1
local first = redis.call('ZRANGE', DUE, 0, 0, 'WITHSCORES')
if #first > 0 then wait = math.max(0, tonumber(first[2]) - now) end
return {claimed, lost, wait}
"""

#: ARGV: lease ms, then id/token pairs.  Extends the leases still held under those tokens.
RENEW = """
local renewed = 0
for i = 2, #ARGV, 2 do
  if redis.call('HGET', TOKEN, ARGV[i]) == ARGV[i + 1] then
    redis.call('ZADD', CLAIMED, 'XX', now + tonumber(ARGV[1]), ARGV[i])
    renewed = renewed + 1
  end
end
return renewed
"""

#: ARGV: id, token, new state (settling/failing), lease ms, last entry id.  1 when the claim is ours.
BEGIN = """
if redis.call('HGET', TOKEN, ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', STATE, ARGV[1], ARGV[3])
redis.call('ZADD', CLAIMED, now + tonumber(ARGV[4]), ARGV[1])
if ARGV[5] ~= '' then redis.call('HSET', LAST, ARGV[1], ARGV[5]) end
return 1
"""

#: ARGV: id, token, outcome, delay ms, last entry id, max misses.  Ends a claim: settled (the job
#: is gone), failed, pending (due after the delay), release (due now, the attempt not made) or
#: unbound (likewise, counted as a miss).  0 when the claim was lost, 2 when a miss dropped the job.
FINISH = """
local id = ARGV[1]
if redis.call('HGET', TOKEN, id) ~= ARGV[2] then return 0 end
redis.call('ZREM', CLAIMED, id)
redis.call('HDEL', TOKEN, id)
if ARGV[5] ~= '' then redis.call('HSET', LAST, id, ARGV[5]) end
local outcome = ARGV[3]
if outcome == 'settled' then
  forget(id)
  return 1
elseif outcome == 'failed' then
  redis.call('HSET', STATE, id, 'failed')
  return 1
elseif outcome == 'pending' then
  redis.call('HDEL', MISSES, id)
else
  redis.call('HINCRBY', ATTEMPTS, id, -1)
  if outcome == 'unbound' and redis.call('HINCRBY', MISSES, id, 1) >= tonumber(ARGV[6]) then
    forget(id)
    return 2
  end
end
redis.call('HSET', STATE, id, 'pending')
redis.call('ZADD', DUE, now + tonumber(ARGV[4]), id)
return 1
"""

#: ARGV: id, token, lease ms.  {1, attempt number} when this replay took the failed job, else
#: {0, attempts so far or -1}: the job is being replayed elsewhere, or no longer failed.
REPLAY = """
local id = ARGV[1]
if redis.call('HGET', STATE, id) ~= 'failed' then
  return {0, tonumber(redis.call('HGET', ATTEMPTS, id) or '-1')}
end
redis.call('HSET', STATE, id, 'replaying')
redis.call('HSET', TOKEN, id, ARGV[2])
redis.call('ZADD', CLAIMED, now + tonumber(ARGV[3]), id)
return {1, redis.call('HINCRBY', ATTEMPTS, id, 1)}
"""
