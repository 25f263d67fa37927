"""The Redis store's atomic steps, as Lua scripts (see :mod:`simulator.store.redis_store`).

Each script is one operation of the store interface: it checks, applies and
records in one server-side step, so no lock is held across round trips.
Every script takes the world's key prefix as ``ARGV[1]``.  Amounts are
integers in ten-thousandths of a unit (money has at most four decimals) and
times are integer microseconds since the epoch; Lua's doubles hold both
exactly (below 2^53), and ``%d`` prints them exactly.  Rows are written as
compact JSON arrays built by hand, never through ``cjson``'s number encoding
(which keeps only 14 significant digits).

The helpers in :data:`_LIB` are prepended to every script, so the row and
id logic is written once.
"""

from __future__ import annotations

_LIB = r"""
local W = ARGV[1]
local function num(v) return tonumber(v) or 0 end
local function fmt(v) return string.format('%d', v) end
local function next_id(name)
  return redis.call('HINCRBY', W .. 'seq', name, 1) - 1
end
local function row_time(agent, at)
  local t = math.max(num(at), num(redis.call('HGET', W .. 'lastt', agent)))
  redis.call('HSET', W .. 'lastt', agent, fmt(t))
  return t
end
local function add_row(id, agent, user, ttype, amount, pre, bal, t, round_id, provider, game)
  local row = '[' .. fmt(id) .. ',' .. agent .. ',' .. user .. ',' .. ttype .. ',' .. fmt(amount) ..
    ',' .. fmt(pre) .. ',' .. fmt(bal) .. ',' .. fmt(t) .. ',' .. cjson.encode(round_id) .. ',' ..
    provider .. ',' .. cjson.encode(game) .. ']'
  redis.call('ZADD', W .. 'tx:' .. agent, id, fmt(t) .. '|' .. row)
  redis.call('HINCRBY', W .. 'count', 'tx', 1)
end
local function point_row(kind, from, to, amount, at)
  local id = next_id('point_trans_ids')
  local from_points = 'null'
  local from_id = 'null'
  if from ~= '' then
    from_id = from
    from_points = fmt(num(redis.call('HGET', W .. 'agent:' .. from, 'points')))
  end
  local to_points = fmt(num(redis.call('HGET', W .. 'agent:' .. to, 'points')))
  local row = '[' .. fmt(id) .. ',' .. cjson.encode(kind) .. ',' .. from_id .. ',' ..
    to .. ',' .. fmt(amount) .. ',' .. from_points .. ',' .. to_points .. ',' .. at .. ']'
  redis.call('RPUSH', W .. 'ptx', row)
  return row
end
local function points_of(agent) return num(redis.call('HGET', W .. 'agent:' .. agent, 'points')) end
local function horizon(agent)
  local low = nil
  for _, id in ipairs(redis.call('HKEYS', W .. 'resv:' .. agent)) do
    local n = tonumber(id)
    if low == nil or n < low then low = n end
  end
  return low
end
local function visible(agent)
  local low = horizon(agent)
  if low == nil then return redis.call('ZCARD', W .. 'tx:' .. agent) end
  return redis.call('ZCOUNT', W .. 'tx:' .. agent, '-inf', '(' .. fmt(low))
end
local function time_at(key, rank)
  local member = redis.call('ZRANGE', key, rank, rank)[1]
  return tonumber(string.sub(member, 1, string.find(member, '|', 1, true) - 1))
end
-- The first rank in [0, hi) whose row time is >= t (rows' times never decrease along the ranks).
local function first_at(key, t, lo, hi)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if time_at(key, mid) < t then lo = mid + 1 else hi = mid end
  end
  return lo
end
local function end_call(id, status, at)
  local key = W .. 'call:' .. id
  local current = redis.call('HGET', key, 'status')
  if current ~= '0' and current ~= '1' then return 0 end
  local agent = redis.call('HGET', key, 'agent_id')
  local set_point = num(redis.call('HGET', key, 'set_point'))
  redis.call('HSET', key, 'status', status, 'ended_at', at)
  redis.call('HINCRBY', W .. 'held', agent, fmt(-set_point))
  redis.call('HINCRBY', W .. 'agent:' .. agent, 'points', fmt(set_point))
  point_row('call_return', agent, agent, set_point, at)
  return 1
end
"""

#: ARGV: W, user, trans_type, change, points, house, at, round_id, provider_id, game_code,
#: all ('1': the whole balance), owner agent ('' any), owner mode.
MOVE_BALANCE = r"""
local user, change, points, house = ARGV[2], num(ARGV[4]), num(ARGV[5]), num(ARGV[6])
local ukey = W .. 'user:' .. user
local found = redis.call('HMGET', ukey, 'agent_id', 'mode', 'balance')
local agent = found[1]
if not agent or (ARGV[12] ~= '' and (agent ~= ARGV[12] or found[2] ~= ARGV[13])) then return {-3} end
local bal = num(found[3])
if ARGV[11] == '1' then
  if bal <= 0 then return {0} end
  change, points = -bal, bal
end
if change < 0 and bal < -change then return {-1, fmt(bal)} end
local pts = points_of(agent)
if points < 0 and pts < -points then return {-2, fmt(pts)} end
if points ~= 0 then redis.call('HINCRBY', W .. 'agent:' .. agent, 'points', fmt(points)) end
if house ~= 0 then redis.call('HINCRBY', W .. 'house', agent, fmt(house)) end
redis.call('HSET', ukey, 'balance', fmt(bal + change))
local id = next_id('trans_ids')
local t = row_time(agent, ARGV[7])
local amount = change
if amount < 0 then amount = -amount end
add_row(id, agent, user, ARGV[3], amount, bal, bal + change, t, ARGV[8], ARGV[9], ARGV[10])
return {1, fmt(id), fmt(bal), fmt(bal + change), fmt(t), fmt(amount), agent}
"""

#: ARGV: W, kind, source ('' none: an issue), target, amount, at.
POINTS = r"""
local kind, source, target, amount, at = ARGV[2], ARGV[3], ARGV[4], num(ARGV[5]), ARGV[6]
if source ~= '' then
  local have = points_of(source)
  if have < amount then return {-2, fmt(have)} end
  redis.call('HINCRBY', W .. 'agent:' .. source, 'points', fmt(-amount))
end
redis.call('HINCRBY', W .. 'agent:' .. target, 'points', fmt(amount))
return {1, point_row(kind, source, target, amount, at)}
"""

#: ARGV: W, agent, points.
MOVE_HOUSE = r"""
local agent, points = ARGV[2], num(ARGV[3])
local have = points_of(agent)
if points < 0 and have < -points then return {-2, fmt(have)} end
redis.call('HINCRBY', W .. 'agent:' .. agent, 'points', fmt(points))
redis.call('HINCRBY', W .. 'house', agent, fmt(-points))
return {1}
"""

#: ARGV: W, agent, at.
RESERVE = r"""
local id = next_id('trans_ids')
local t = row_time(ARGV[2], ARGV[3])
redis.call('HSET', W .. 'resv:' .. ARGV[2], fmt(id), fmt(t))
return fmt(id)
"""

#: ARGV: W, agent, trans_id (0: a new one), user, type, amount, pre, bal, at, round_id, provider, game,
#: last balance ('' none).
RECORD_ROW = r"""
local agent, id = ARGV[2], num(ARGV[3])
local t = nil
if id ~= 0 then
  t = redis.call('HGET', W .. 'resv:' .. agent, ARGV[3])
  redis.call('HDEL', W .. 'resv:' .. agent, ARGV[3])
else
  id = next_id('trans_ids')
end
if t then t = num(t) else t = row_time(agent, ARGV[9]) end
add_row(id, agent, ARGV[4], ARGV[5], num(ARGV[6]), num(ARGV[7]), num(ARGV[8]), t,
  ARGV[10], ARGV[11], ARGV[12])
if ARGV[13] ~= '' then redis.call('HSET', W .. 'user:' .. ARGV[4], 'last_balance', ARGV[13]) end
return {fmt(id), fmt(t)}
"""

#: ARGV: W, agent, start (s), end (s), offset, limit.  Returns {total, rows...}.
WINDOW = r"""
local key = W .. 'tx:' .. ARGV[2]
local n = visible(ARGV[2])
local first = first_at(key, num(ARGV[3]) * 1000000, 0, n)
local stop = first_at(key, num(ARGV[4]) * 1000000, first, n)
local begin = math.min(first + num(ARGV[5]), stop)
local last = math.min(begin + num(ARGV[6]), stop) - 1
local out = {stop - first}
if last >= begin then
  for _, member in ipairs(redis.call('ZRANGE', key, begin, last)) do table.insert(out, member) end
end
return out
"""

#: ARGV: W, agent, last_id, limit.
AFTER = r"""
local low = horizon(ARGV[2])
local top = '+inf'
if low ~= nil then top = '(' .. fmt(low) end
return redis.call('ZRANGEBYSCORE', W .. 'tx:' .. ARGV[2], '(' .. ARGV[3], top, 'LIMIT', 0, num(ARGV[4]))
"""

#: ARGV: W, agent, rows before (us), rounds before, stats before, kept round statuses...
PURGE = r"""
local agent = ARGV[2]
local key = W .. 'tx:' .. agent
local rows = first_at(key, num(ARGV[3]), 0, redis.call('ZCARD', key))
if rows > 0 then
  for _, member in ipairs(redis.call('ZRANGE', key, 0, rows - 1)) do
    local row = cjson.decode(string.sub(member, string.find(member, '|', 1, true) + 1))
    redis.call('HINCRBY', W .. 'purged', fmt(row[3]), fmt(row[7] - row[6]))
  end
  redis.call('ZREMRANGEBYRANK', key, 0, rows - 1)
  redis.call('HINCRBY', W .. 'count', 'tx', -rows)
end
local kept = {}
for i = 6, #ARGV do kept[ARGV[i]] = true end
local rounds = 0
local order = W .. 'rounds:' .. agent
for _, rid in ipairs(redis.call('ZRANGEBYSCORE', order, '-inf', '(' .. ARGV[4])) do
  local rkey = W .. 'round:' .. agent .. ':' .. rid
  if not kept[redis.call('HGET', rkey, 'status') or ''] then
    redis.call('DEL', rkey)
    redis.call('ZREM', order, rid)
    rounds = rounds + 1
  end
end
if rounds > 0 then redis.call('HINCRBY', W .. 'count', 'rounds', -rounds) end
local stats = 0
local skey = W .. 'stats:' .. agent
while true do
  local member = redis.call('LINDEX', skey, 0)
  if not member then break end
  if tonumber(string.sub(member, 1, string.find(member, '|', 1, true) - 1)) >= num(ARGV[5]) then break end
  redis.call('LPOP', skey)
  stats = stats + 1
end
return {rows, rounds, stats}
"""

#: ARGV: W, agent, key, now, interval.  Returns false, or the seconds to wait (a string).
ADMIT_POLL = r"""
local marks = W .. 'poll:' .. ARGV[2]
local now, interval = tonumber(ARGV[4]), tonumber(ARGV[5])
local last = redis.call('HGET', marks, ARGV[3])
if last then
  local since = now - tonumber(last)
  if since >= 0 and since < interval then return tostring(interval - since) end
end
local all = redis.call('HGETALL', marks)
for i = 1, #all, 2 do
  local since = now - tonumber(all[i + 1])
  if not (since >= 0 and since < interval) then redis.call('HDEL', marks, all[i]) end
end
redis.call('HSET', marks, ARGV[3], ARGV[4])
return false
"""

#: ARGV: W, launch digest, now (us).  Returns {refusal, fields...}.
USE_LAUNCH = r"""
local key = W .. 'launch:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 then return {'unknown'} end
local refusal = ''
if redis.call('HEXISTS', key, 'used_at') == 1 then
  refusal = 'used'
elseif num(ARGV[3]) >= num(redis.call('HGET', key, 'expires_at')) then
  refusal = 'expired'
else
  redis.call('HSET', key, 'used_at', ARGV[3])
end
local out = {refusal}
for _, v in ipairs(redis.call('HGETALL', key)) do table.insert(out, v) end
return out
"""

#: ARGV: W, agent, user.
KICK = r"""
local marked = 0
for _, gid in ipairs(redis.call('ZRANGE', W .. 'sessions:' .. ARGV[2], 0, -1)) do
  local key = W .. 'session:' .. gid
  local found = redis.call('HMGET', key, 'user_code', 'ended')
  if found[1] == ARGV[3] and found[2] ~= '1' then
    redis.call('HSET', key, 'kicked', '1')
    marked = marked + 1
  end
end
return marked
"""

#: ARGV: W, agent, round_id, gplay_id, at, recent, refunded, bet, win, call_id, created, stat, fields...
RECORD_ROUND = r"""
local agent, rid, gid = ARGV[2], ARGV[3], ARGV[4]
local rkey = W .. 'round:' .. agent .. ':' .. rid
if redis.call('EXISTS', rkey) == 0 then redis.call('HINCRBY', W .. 'count', 'rounds', 1) end
redis.call('HSET', rkey, unpack(ARGV, 13))
redis.call('ZADD', W .. 'rounds:' .. agent, ARGV[11], rid)
redis.call('RPUSH', W .. 'stats:' .. agent, ARGV[11] .. '|' .. ARGV[12])
local skey = W .. 'session:' .. gid
redis.call('HSET', skey, 'last_update', ARGV[5], 'last_round_bet', ARGV[8])
if ARGV[7] ~= '1' then
  redis.call('HINCRBY', skey, 'spend', ARGV[8])
  if ARGV[10] == '0' then redis.call('HINCRBY', skey, 'win', ARGV[9]) end
end
local ids = cjson.decode(redis.call('HGET', skey, 'round_ids') or '[]')
table.insert(ids, rid)
local keep = {}
for i = math.max(1, #ids - num(ARGV[6]) + 1), #ids do table.insert(keep, ids[i]) end
local text = '['
for i, v in ipairs(keep) do
  if i > 1 then text = text .. ',' end
  text = text .. cjson.encode(v)
end
redis.call('HSET', skey, 'round_ids', text .. ']')
return 1
"""

#: ARGV: W, key, expected status ('' any), deleted fields (JSON list), fields...
UPDATE_RECORD = r"""
local key = W .. ARGV[2]
if redis.call('EXISTS', key) == 0 then return 0 end
if ARGV[3] ~= '' and redis.call('HGET', key, 'status') ~= ARGV[3] then return 0 end
for _, name in ipairs(cjson.decode(ARGV[4])) do redis.call('HDEL', key, name) end
if #ARGV >= 5 then redis.call('HSET', key, unpack(ARGV, 5)) end
return 1
"""

#: ARGV: W, agent, gplay_id, call_id, set_point, at, fields...
OPEN_CALL = r"""
local agent, gid, cid, set_point = ARGV[2], ARGV[3], ARGV[4], num(ARGV[5])
for _, other in ipairs(redis.call('SMEMBERS', W .. 'scalls:' .. gid)) do
  local status = redis.call('HGET', W .. 'call:' .. other, 'status')
  if status == '0' or status == '1' then return {-3, other} end
end
local have = points_of(agent)
if have < set_point then return {-2, fmt(have)} end
redis.call('HINCRBY', W .. 'agent:' .. agent, 'points', fmt(-set_point))
redis.call('HINCRBY', W .. 'held', agent, fmt(set_point))
point_row('call_hold', agent, agent, set_point, ARGV[6])
redis.call('HSET', W .. 'call:' .. cid, unpack(ARGV, 7))
redis.call('SADD', W .. 'scalls:' .. gid, cid)
redis.call('ZADD', W .. 'calls:' .. agent, cid, cid)
return {1}
"""

#: ARGV: W, call_id, status, at.
END_CALL = r"""
return end_call(ARGV[2], ARGV[3], ARGV[4])
"""

#: ARGV: W, call_id, stake cap, max win (0: none).
PAY_CALL = r"""
local key = W .. 'call:' .. ARGV[2]
local status = redis.call('HGET', key, 'status')
if status ~= '0' and status ~= '1' then return false end
local left = num(redis.call('HGET', key, 'set_point')) - num(redis.call('HGET', key, 'paid'))
local payout = math.min(left, num(ARGV[3]))
if num(ARGV[4]) > 0 then payout = math.min(payout, num(ARGV[4])) end
redis.call('HINCRBY', key, 'paid', fmt(payout))
redis.call('HSET', key, 'status', '1')
return fmt(payout)
"""

#: ARGV: W, call_id, at.
COMPLETE_CALL = r"""
local key = W .. 'call:' .. ARGV[2]
if redis.call('HGET', key, 'status') ~= '1' then return 0 end
if num(redis.call('HGET', key, 'paid')) < num(redis.call('HGET', key, 'set_point')) then return 0 end
return end_call(ARGV[2], '2', ARGV[3])
"""

#: ARGV: W, user, provider_id, game_code, now (us).
CLAIM_GRANT = r"""
for _, fr in ipairs(redis.call('LRANGE', W .. 'ugrants:' .. ARGV[2], 0, -1)) do
  local key = W .. 'grant:' .. fr
  local g = redis.call('HMGET', key, 'provider_id', 'game_code', 'cancelled', 'played', 'rounds',
    'expires_at')
  if g[1] == ARGV[3] and g[2] == ARGV[4] and g[3] ~= '1' and num(g[4]) < num(g[5])
      and num(ARGV[5]) < num(g[6]) then
    redis.call('HINCRBY', key, 'played', 1)
    return fr
  end
end
return false
"""

#: ARGV: W, fr_id, win.
CAP_GRANT = r"""
local key = W .. 'grant:' .. ARGV[2]
local win, cap = num(ARGV[3]), num(redis.call('HGET', key, 'win_cap'))
if cap > 0 then win = math.min(win, math.max(cap - num(redis.call('HGET', key, 'won')), 0)) end
redis.call('HINCRBY', key, 'won', fmt(win))
return fmt(win)
"""

#: ARGV: W, fr_id, now (us).
CANCEL_GRANT = r"""
local key = W .. 'grant:' .. ARGV[2]
local g = redis.call('HMGET', key, 'cancelled', 'played', 'rounds', 'expires_at')
if g[1] == '1' or num(g[2]) >= num(g[3]) or num(ARGV[3]) >= num(g[4]) then return 0 end
redis.call('HSET', key, 'cancelled', '1')
return 1
"""

#: ARGV: W, agent, user_code, name key, fields...  Returns the stored user's code.
ADD_USER = r"""
local existing = redis.call('HGET', W .. 'username', ARGV[4])
if existing then return existing end
redis.call('HSET', W .. 'user:' .. ARGV[3], unpack(ARGV, 5))
redis.call('HSET', W .. 'username', ARGV[4], ARGV[3])
redis.call('ZADD', W .. 'users:' .. ARGV[2], ARGV[3], ARGV[3])
redis.call('HINCRBY', W .. 'count', 'users', 1)
return ARGV[3]
"""

#: ARGV: W, agent, version expected, settings JSON.
CHANGE_SETTINGS = r"""
local key = W .. 'agent:' .. ARGV[2]
if redis.call('HGET', key, 'ver') ~= ARGV[3] then return 0 end
redis.call('HSET', key, 'settings', ARGV[4])
redis.call('HINCRBY', key, 'ver', 1)
return 1
"""

#: ARGV: W, agent, old token digest, new token digest, old token, new token.
REPLACE_TOKEN = r"""
local key = W .. 'agent:' .. ARGV[2]
if redis.call('HGET', key, 'api_token') ~= ARGV[5] then return 0 end
redis.call('HDEL', W .. 'token', ARGV[3])
redis.call('HSET', W .. 'token', ARGV[4], ARGV[2])
redis.call('HSET', key, 'api_token', ARGV[6])
redis.call('HINCRBY', key, 'ver', 1)
return 1
"""

#: ARGV: W, token digest.  The agent's fields, or false.
AGENT_BY_TOKEN = r"""
local id = redis.call('HGET', W .. 'token', ARGV[2])
if not id then return false end
return redis.call('HGETALL', W .. 'agent:' .. id)
"""

#: ARGV: W.  Every key of the world with its type and contents, read in one atomic step (a snapshot).
DUMP = r"""
local out = {}
for _, key in ipairs(redis.call('KEYS', W .. '*')) do
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'hash' then
    table.insert(out, {key, kind, redis.call('HGETALL', key)})
  elseif kind == 'zset' then
    table.insert(out, {key, kind, redis.call('ZRANGE', key, 0, -1)})
  elseif kind == 'list' then
    table.insert(out, {key, kind, redis.call('LRANGE', key, 0, -1)})
  elseif kind == 'set' then
    table.insert(out, {key, kind, redis.call('SMEMBERS', key)})
  elseif kind == 'string' then
    table.insert(out, {key, kind, {redis.call('GET', key)}})
  end
end
return out
"""

SCRIPTS = {
    name: _LIB + source
    for name, source in {
        "move_balance": MOVE_BALANCE,
        "points": POINTS,
        "move_house": MOVE_HOUSE,
        "reserve": RESERVE,
        "record_row": RECORD_ROW,
        "window": WINDOW,
        "after": AFTER,
        "purge": PURGE,
        "admit_poll": ADMIT_POLL,
        "use_launch": USE_LAUNCH,
        "kick": KICK,
        "record_round": RECORD_ROUND,
        "update_record": UPDATE_RECORD,
        "open_call": OPEN_CALL,
        "end_call": END_CALL,
        "pay_call": PAY_CALL,
        "complete_call": COMPLETE_CALL,
        "claim_grant": CLAIM_GRANT,
        "cap_grant": CAP_GRANT,
        "cancel_grant": CANCEL_GRANT,
        "add_user": ADD_USER,
        "change_settings": CHANGE_SETTINGS,
        "replace_token": REPLACE_TOKEN,
        "agent_by_token": AGENT_BY_TOKEN,
        "dump": DUMP,
    }.items()
}
