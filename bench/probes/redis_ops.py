"""Redis operations per second on this machine, with Debian's ``redis-benchmark`` (scenario 8).

``python -m bench.probes.redis_ops`` starts a ``redis-server`` on a free
loopback port (``simulator.testing.redis_server.RedisServer``; ``--port`` uses
a running one on 127.0.0.1 instead: its keys ``rb:*`` are written) and runs

    redis-benchmark -h 127.0.0.1 -p <port> -c 50 -n <N> -r 100000 --csv -t get,set,incr,hset,lpush

then the same for one ``EVAL`` of a 5-command script (``HINCRBY``, ``HGET``,
``RPUSH``, ``LTRIM``, ``HGETALL``: the shape of a money movement, smaller), so
a script's cost is seen beside a plain command's.  Each test is one round trip
per operation, 50 clients, no pipelining: the rate a single-threaded
``redis-server`` sustains here, with ``redis-benchmark`` itself on the same
cores.  ``redis-server``'s own CPU (``INFO cpu``) per operation is given too.

It prints a table, or one JSON object with ``--json``.  The ``redis``
scenario calls :func:`run` on its own server (default ``N``: 50,000; 10,000
with ``--quick``), each test bounded by a timeout.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

import redis

EXECUTABLE = "redis-benchmark"
SIMPLE_TESTS = "get,set,incr,hset,lpush"
#: The script test: 5 commands on two keys, like (a little smaller than) a money movement.
SCRIPT_COMMANDS = 5
SCRIPT_LABEL = f"EVAL ({SCRIPT_COMMANDS} commands)"
SCRIPT = (
    "redis.call('HINCRBY', KEYS[1], 'a', 1) redis.call('HGET', KEYS[1], 'a') "
    "redis.call('RPUSH', KEYS[2], 'x') redis.call('LTRIM', KEYS[2], -100, -1) "
    "return redis.call('HGETALL', KEYS[1])"
)
SCRIPT_ARGS = ("eval", SCRIPT, "2", "rb:h:__rand_int__", "rb:l:__rand_int__")
CLIENTS = 50
KEYSPACE = 100_000
TIMEOUT_S = 60.0


class BenchmarkMissing(RuntimeError):
    """``redis-benchmark`` is not on PATH (Debian ships it in redis-tools, which redis-server pulls in)."""


@dataclass
class Op:
    """One redis-benchmark test: operations per second, and redis-server's CPU per operation."""

    test: str
    ops_per_s: float
    p50_ms: float | None
    redis_cpu_us: float | None


def _redis_cpu(client: redis.Redis) -> float | None:
    try:
        info = client.info("cpu")
    except redis.RedisError:
        return None
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _one(executable: str, port: int, requests: int, args: tuple[str, ...], client: redis.Redis) -> list[Op]:
    argv = [executable, "-h", "127.0.0.1", "-p", str(port), "-c", str(CLIENTS), "-n", str(requests)]
    argv += ["-r", str(KEYSPACE), "--csv", *args]
    before = _redis_cpu(client)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    after = _redis_cpu(client)
    if done.returncode != 0:
        raise RuntimeError(f"{EXECUTABLE} exited {done.returncode}: {done.stderr.strip()[-300:]}")
    rows = [row for row in csv.DictReader(io.StringIO(done.stdout)) if row.get("rps")]
    total_ops = requests * len(rows)
    cpu_us = None if before is None or after is None or not total_ops else (after - before) / total_ops * 1e6
    ops = []
    for row in rows:
        test = row["test"] if not row["test"].lower().startswith("eval") else SCRIPT_LABEL
        p50 = row.get("p50_latency_ms")
        # One redis-server CPU figure per invocation: the simple tests share their average.
        ops.append(Op(test, float(row["rps"]), float(p50) if p50 else None, cpu_us))
    return ops


def run(port: int, requests: int = 50_000, executable: str = EXECUTABLE) -> list[Op]:
    """The tests against ``127.0.0.1:<port>``; raises :class:`BenchmarkMissing` without the binary."""
    path = shutil.which(executable)
    if path is None:
        raise BenchmarkMissing(f"{executable} not found on PATH (Debian: apt-get install redis-tools)")
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    try:
        ops = _one(path, port, requests, ("-t", SIMPLE_TESTS), client)
        ops += _one(path, port, requests, SCRIPT_ARGS, client)
    finally:
        client.close()
    return ops


def render(ops: list[Op], requests: int, seconds: float) -> str:
    lines = [f"{'test':<18}  {'ops/s':>9}  {'p50':>8}  {'redis CPU/op':>12}"]
    for op in ops:
        p50 = "n/a" if op.p50_ms is None else f"{op.p50_ms:.2f} ms"
        cpu = "n/a" if op.redis_cpu_us is None else f"{op.redis_cpu_us:.1f} us"
        lines.append(f"{op.test:<18}  {op.ops_per_s:>9,.0f}  {p50:>8}  {cpu:>12}")
    lines.append(
        f"{EXECUTABLE}: {CLIENTS} clients, {requests:,} requests per test, no pipelining, {seconds:.1f} s "
        "(redis CPU/op of the simple tests is their average)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, help="a running redis-server on 127.0.0.1 (default: start one)")
    parser.add_argument("--requests", type=int, default=50_000, help="requests per test (default 50,000)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    server = None
    port = args.port
    if port is None:
        from simulator.testing.redis_server import RedisServer

        server = RedisServer().start()
        port = server.port
    try:
        started = time.monotonic()
        ops = run(port, args.requests)
        seconds = time.monotonic() - started
    finally:
        if server is not None:
            server.stop()
    if args.json:
        print(json.dumps({"requests": args.requests, "ops": [asdict(op) for op in ops]}))
    else:
        print(render(ops, args.requests, seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
