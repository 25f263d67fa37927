#!/usr/bin/env bash
# Serving-model measurement for bench/serving-notes.md (not part of the test suite).
#
#   bench/wrk/run.sh gthread|gevent [duration] [port]
#
# Starts the simulator exactly as `make run` does (own process group, loopback
# port), runs wrk against user/info and agent/info at 1, 50 and 200 connections,
# prints one RESULT line per run, then stops the whole process group.
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${1:?usage: bench/wrk/run.sh gthread|gevent [duration] [port]}
duration=${2:-10s}
port=${3:-18555}
log=$(mktemp /tmp/scorpio-bench-$model.XXXXXX.log)

SCORPIO_SIM_WORKER_CLASS=$model SCORPIO_SIM_THREADS=${SCORPIO_SIM_THREADS:-256} \
  SCORPIO_SIM_BIND=127.0.0.1:$port setsid make -s run >"$log" 2>&1 &
pgid=$!
trap 'kill -TERM -- -$pgid 2>/dev/null || true; sleep 2; kill -KILL -- -$pgid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$port/control/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/control/health" >/dev/null || { tail -20 "$log"; exit 1; }
grep -m1 'Using worker' "$log" || echo "worker: $model (log level ${SCORPIO_SIM_LOG_LEVEL:-info})"

run() {  # run <endpoint> <connections> <label>
  local endpoint=$1 conns=$2 label=$3 threads=2 body='{"user_code":400000001}' line
  [ "$endpoint" = agent/info ] && body='{}'
  [ "$conns" = 1 ] && threads=1
  line=$(wrk -t$threads -c"$conns" -d"$duration" --timeout 10s -s bench/wrk/post.lua \
    "http://127.0.0.1:$port/v4/$endpoint" -- "$body" | grep '^RESULT')
  echo "$model $label $endpoint c=$conns t=$threads $line"
}
control() {  # control <path> <json>
  curl -fsS -X POST "http://127.0.0.1:$port/control/$1" -H 'Content-Type: application/json' -d "$2" >/dev/null
}

# 1. Plain calls: CPU-bound, nothing waits inside a request.
for endpoint in user/info agent/info; do
  for conns in 1 50 200; do
    control reset '{}'
    run "$endpoint" "$conns" plain
  done
done
# 2. Every call of agent demo sleeps 100 ms inside its in-flight slot (a latency
#    fault): waiting-bound, like a slow seamless callback; at 200 connections the
#    excess answers 1018 at once.
for conns in 50 200; do
  control reset '{}'
  control faults '{"agent":"demo","target":"api","effect":{"latency_ms":100}}'
  run agent/info "$conns" latency100
done
control reset '{}'
echo "server log: $log"
