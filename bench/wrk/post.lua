-- wrk script for scorpio-sim /v4 calls: POST with the agent's bearer token.
--
--   wrk -t2 -c50 -d10s --latency -s bench/wrk/post.lua http://127.0.0.1:8080/v4/user/info
--   wrk ... -s bench/wrk/post.lua http://127.0.0.1:8080/v4/agent/info -- '{}'
--
-- The optional argument after `--` is the JSON body (default: user 400000001 of
-- agent demo); SCORPIO_TOKEN overrides the API token (default: agent demo).
-- At the end it prints the result codes seen (0, 1018 = in-flight limit, other)
-- and the latency percentiles on one machine-readable line.

local token = os.getenv("SCORPIO_TOKEN") or "ed45553e-1702-4342-a70d-09bf7ff7f568"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.body = args[1] or '{"user_code":400000001}'
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  ok, busy, other, http_errors = 0, 0, 0, 0
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
