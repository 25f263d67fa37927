-- wrk script for scorpio-sim writes: wallet/deposit then wallet/withdraw of the same amount, in turn.
--
--   wrk -t2 -c50 -d10s --latency -s bench/wrk/pair.lua http://127.0.0.1:8080 -- 1 25
--
-- Arguments after `--`: the amount (default 1) and how many users to spread the
-- pairs over (default 25: the demo agent's fixture players 400000001...).  Each
-- wrk thread sends deposit(u), withdraw(u), deposit(u+1), withdraw(u+1), ...
-- SCORPIO_TOKEN overrides the API token (default: agent demo).  The RESULT line
-- has the same fields as post.lua's; a pair is two code-0 answers.

local token = os.getenv("SCORPIO_TOKEN") or "ed45553e-1702-4342-a70d-09bf7ff7f568"
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  amount = tonumber(args[1] or "1")
  users = tonumber(args[2] or "25")
  headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
  }
  ok, busy, other, http_errors = 0, 0, 0, 0
end

function request()
  local user = 400000001 + (math.floor(counter / 2) + id * 7) % users
  local path = (counter % 2 == 0) and "/v4/wallet/deposit" or "/v4/wallet/withdraw"
  counter = counter + 1
  local body = string.format('{"user_code":%d,"amount":%s}', user, amount)
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status ~= 200 then
    http_errors = http_errors + 1
  elseif body:find('"code":0,', 1, true) then
    ok = ok + 1
  elseif body:find('"code":1018,', 1, true) then
    busy = busy + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local c = { ok = 0, busy = 0, other = 0, http_errors = 0 }
  for _, thread in ipairs(threads) do
    for key in pairs(c) do
      c[key] = c[key] + (thread:get(key) or 0)
    end
  end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d rps=%.1f ok_rps=%.1f code0=%d code1018=%d other=%d http_non200=%d " ..
    "socket_errors=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    summary.requests, summary.requests / seconds, c.ok / seconds, c.ok, c.busy, c.other, c.http_errors,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
