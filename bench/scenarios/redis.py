"""Scenario 8, several workers on Redis: 1, 2 and 4 workers sharing one Redis, against one in-memory worker.

A ``redis-server`` (Debian's, started on a free loopback port by
``simulator.testing.redis_server.RedisServer``) holds the state.  First, on
it, two short probes:

- ``redis-benchmark`` (``bench/probes/redis_ops.py``): the operations per
  second a single-threaded redis-server sustains on this machine, for plain
  commands and a 5-command script, and its CPU per operation;
- the round-trip counter (``bench/probes/round_trips.py``, a fresh
  interpreter): the simulator built in-process on that Redis, and for
  ``user/info``, ``agent/info``, ``wallet/deposit`` and ``wallet/withdraw``
  the Redis round trips on the request's path (counted in the client; a
  pipeline or a script counts once), the commands redis-server executed
  (``INFO commandstats``, commands inside scripts included) and the CPU per
  call.  Target (issue 14): at most 3 round trips for ``user/info`` and for a
  deposit, journal and in-flight slot included.

Then, for each worker count, the simulator is started as a user would
(``gunicorn --config gunicorn.conf.py`` with ``SCORPIO_SIM_STORE=<url>`` and
``SCORPIO_SIM_WORKERS=<n>``) and measured with wrk at 50 connections, as the
``read`` and ``writes`` scenarios measure one worker: ``user/info`` req/s and
p99 (``post.lua``), deposit+withdraw pairs/s (``pair.lua``), and the CPU the
workers and redis-server spent per request.

Reference: one in-memory worker (``SCORPIO_SIM_STORE=memory``,
``SCORPIO_SIM_WORKERS=1``, the default), started once and measured again next
to each worker count, cell by cell, so drift over the run hits both alike.
Each server is reset (``/control/reset``), warmed up and left to go idle
before each cell; Redis is emptied between worker counts.  Targets (issue 14):
1 Redis worker ``user/info`` >= 0.6 x and pairs >= 0.5 x the memory worker;
2 Redis workers pairs >= 0.8 x the memory worker and >= 1.4 x 1 Redis worker
(measured in the same run).

Everything shares the machine's cores: wrk, every worker, and redis-server.
Each Redis row's note gives the cores the workers and redis-server used during
the cell (1.0 = one core busy all the time), and the reference's.  With
profiles on, py-spy records the one-worker Redis server under each load.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from ..context import Context
from ..machine import TICKS, own_ticks
from ..probes import redis_ops
from ..probes.round_trips import render as render_round_trips
from ..pyspy import profile_under_load
from ..results import Result, Target, at_most, ratio_at_least, unavailable
from ..servers import READ_BODIES, REPO_ROOT, Server, SimApi, start_simulator
from ..wrk import PAIR_SCRIPT, WrkRun
from ..wrk import run as run_wrk
from .writes import pair_rate

NAME = "redis"
TITLE = "8 redis"
WORKER_COUNTS = (1, 2, 4)
CONNECTIONS = 50
PREFIX = "bench:"
REFERENCE = "1 memory worker"
READ_ROUTE = "/v4/user/info"
IDLE_WINDOW_S = 0.25
#: The worker count whose worker py-spy records (one process: one worker to look at).
PROFILED_WORKERS = 1
#: Issue 14: Redis round trips on the request's path, per call.
ROUND_TRIP_TARGETS = {"user/info": 3.0, "wallet/deposit": 3.0}
#: Issue 14: (workers, kind) -> ratio to the memory worker.
MEMORY_RATIO_TARGETS = {(1, "read"): 0.6, (1, "pairs"): 0.5, (2, "pairs"): 0.8}
#: Issue 14: 2 Redis workers' pairs/s against 1 Redis worker's, same run.
SCALE_OUT_TARGET = 1.4
#: Calls of each kind the round-trip probe averages over.
PROBE_CALLS, PROBE_CALLS_QUICK = 50, 20
#: Requests per redis-benchmark test.
BENCHMARK_REQUESTS, BENCHMARK_REQUESTS_QUICK = 50_000, 10_000


@dataclass
class Cell:
    """One measured wrk run and the CPU the server (and redis-server) used meanwhile."""

    run: WrkRun
    seconds: float
    server_cpu_s: float
    redis_cpu_s: float | None

    def cpu(self) -> str:
        """CPU used during the cell, in cores (1.0 = one core busy all the time)."""
        text = f"server {self.server_cpu_s / self.seconds:.2f}"
        if self.redis_cpu_s is not None:
            text += f" + redis-server {self.redis_cpu_s / self.seconds:.2f}"
        return text

    def per_request_ms(self, cpu_s: float | None) -> float | None:
        """CPU seconds spent during the cell per request wrk completed, in ms (a pair is 2 requests)."""
        if cpu_s is None or not self.run.requests:
            return None
        return cpu_s / self.run.requests * 1000


def _redis_cpu_seconds(client: redis.Redis | None) -> float | None:
    """redis-server's own user + system CPU seconds (``INFO cpu``)."""
    if client is None:
        return None
    try:
        info = client.info("cpu")
    except redis.RedisError:
        return None
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _measure(ctx: Context, server: Server, kind: str, seconds: float) -> WrkRun:
    if kind == "read":
        return run_wrk(
            server.base_url + READ_ROUTE,
            CONNECTIONS,
            seconds,
            args=(READ_BODIES[READ_ROUTE],),
            log=ctx.wrk_log,
        )
    return run_wrk(server.base_url + "/", CONNECTIONS, seconds, PAIR_SCRIPT, ("1", "25"), log=ctx.wrk_log)


def _wait_idle(server: Server, timeout: float = 20.0) -> None:
    """Until the server is idle: requests of closed wrk connections are still served after wrk stops.

    With slow writes (hundreds of ms each on Redis) those leftovers would still
    hold in-flight slots when the measured run starts, and the agent's 51st
    concurrent request answers 1018.  Idle: at most one clock tick of CPU in
    a quarter of a second (the workers' heartbeats).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = own_ticks(server.proc.pid)
        time.sleep(IDLE_WINDOW_S)
        if own_ticks(server.proc.pid) - before <= 1:
            return


def _cell(ctx: Context, server: Server, kind: str, client: redis.Redis | None) -> Cell | str:
    """Reset, warm up (every worker loads the new world), then one measured wrk run."""
    try:
        SimApi(server.base_url).reset()
        _measure(ctx, server, kind, 2)  # warm-up, not recorded
        _wait_idle(server)
        ticks, redis_cpu, started = own_ticks(server.proc.pid), _redis_cpu_seconds(client), time.monotonic()
        run = _measure(ctx, server, kind, ctx.duration)
        seconds = time.monotonic() - started
        server_cpu = (own_ticks(server.proc.pid) - ticks) / TICKS
        redis_after = _redis_cpu_seconds(client)
    except Exception as exc:  # wrk, the reset call: a failed cell is a 'not measured' row
        return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
    used = None if redis_cpu is None or redis_after is None else redis_after - redis_cpu
    return Cell(run, seconds, server_cpu, used)


def _describe(cell: Cell | str, kind: str) -> str:
    if isinstance(cell, str):
        return f"failed: {cell}"
    run = cell.run
    rate = f"{run.rps:,.0f} req/s" if kind == "read" else f"{pair_rate(run):,.0f} pairs/s"
    p99 = f"{run.p99_ms:.1f} ms" if run.p99_ms is not None else "n/a"
    return f"{rate}, p99 {p99}, failures {run.failures}"


# --- redis-benchmark and the round-trip probe, on the scenario's redis-server -------------------


def _redis_benchmark(ctx: Context, port: int) -> list[redis_ops.Op] | str:
    requests = BENCHMARK_REQUESTS_QUICK if ctx.quick else BENCHMARK_REQUESTS
    started = time.monotonic()
    try:
        ops = redis_ops.run(port, requests)
    except Exception as exc:  # no binary, a timeout: a 'not available' row
        return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
    text = redis_ops.render(ops, requests, time.monotonic() - started)
    (ctx.out / "redis-benchmark.txt").write_text(text + "\n")
    for line in text.splitlines():
        ctx.log(f"{NAME}: {line}")
    return ops


def _round_trips(ctx: Context, url: str) -> dict[str, Any] | str:
    """The probe in a fresh interpreter (its simulator's threads and imports stay out of the bench)."""
    calls = PROBE_CALLS_QUICK if ctx.quick else PROBE_CALLS
    argv = [sys.executable, "-m", "bench.probes.round_trips", "--url", url, "--calls", str(calls), "--json"]
    try:
        done = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        return "the round-trip probe did not finish within 300 s"
    if done.returncode != 0:
        tail = [line for line in done.stderr.strip().splitlines() if line.strip()]
        (ctx.out / "round-trips.err").write_text(done.stderr)
        return f"round-trip probe failed ({done.returncode}): {tail[-1] if tail else 'no output'}"
    probe: dict[str, Any] = json.loads(done.stdout)
    (ctx.out / "round-trips.json").write_text(json.dumps(probe, indent=1))
    text = render_round_trips(probe, show=True)
    (ctx.out / "round-trips.txt").write_text(text + "\n")
    for line in text.splitlines():
        ctx.log(f"{NAME} round trips: {line}")
    return probe


def _probe_rows(bench: list[redis_ops.Op] | str, probe: dict[str, Any] | str) -> list[Result]:
    rows: list[Result] = []
    if isinstance(probe, str):
        for call, bound in ROUND_TRIP_TARGETS.items():
            rows.append(unavailable(TITLE, f"round trips per {call}", "round trips", probe, at_most(bound)))
    else:
        for f in probe["figures"]:
            bound = ROUND_TRIP_TARGETS.get(f["call"])
            note = (
                f"{f['commands']:.1f} Redis commands ({f['script_commands']:.1f} of them in scripts); "
                f"in-process CPU per call: worker {f['worker_cpu_us'] / 1000:.2f} ms, "
                f"redis-server {f['redis_cpu_us'] / 1000:.2f} ms; the round trips: "
                + " / ".join(f["last_call"])
            )
            if f["failures"]:
                note = f"{f['failures']} of {f['calls']} answers were not code 0; " + note
            target = at_most(bound) if bound is not None else None
            rows.append(
                Result(
                    TITLE,
                    f"round trips per {f['call']}",
                    f["round_trips"],
                    "round trips",
                    target=target,
                    note=note,
                )
            )
            if bound is not None:
                rows.append(Result(TITLE, f"Redis commands per {f['call']}", f["commands"], "commands"))
    if isinstance(bench, str):
        rows.append(unavailable(TITLE, "redis-benchmark, plain commands", "ops/s", bench))
        return rows
    simple = [op for op in bench if op.test != redis_ops.SCRIPT_LABEL]
    script = next((op for op in bench if op.test == redis_ops.SCRIPT_LABEL), None)
    plain_us = simple[0].redis_cpu_us if simple else None
    if simple:
        rows.append(
            Result(
                TITLE,
                "redis-benchmark, plain commands (median)",
                statistics.median(op.ops_per_s for op in simple),
                "ops/s",
                note=", ".join(f"{op.test} {op.ops_per_s:,.0f}" for op in simple)
                + f" ops/s; {redis_ops.CLIENTS} clients, no pipelining; redis-server CPU "
                + ("n/a" if plain_us is None else f"{plain_us:.1f} us per operation"),
            )
        )
    if script is not None:
        cpu = "n/a" if script.redis_cpu_us is None else f"{script.redis_cpu_us:.1f} us"
        rows.append(
            Result(
                TITLE,
                f"redis-benchmark, {script.test}",
                script.ops_per_s,
                "ops/s",
                note=f"redis-server CPU {cpu} per script",
            )
        )
    if isinstance(probe, dict) and plain_us and script is not None and script.redis_cpu_us:
        inner_us = max(0.0, (script.redis_cpu_us - plain_us) / redis_ops.SCRIPT_COMMANDS)
        for f in probe["figures"]:
            if f["call"] in ROUND_TRIP_TARGETS:
                rows.append(_redis_bound(f, plain_us, inner_us))
    return rows


def _redis_bound(figures: dict[str, Any], plain_us: float, inner_us: float) -> Result:
    """On paper: the calls per second one redis-server core could serve, from redis-benchmark's CPU costs.

    A round trip costs what a plain command costs (``plain_us``: reading the
    request, running it, writing the answer); every further command - in a
    script, a pipeline, ``MULTI``/``EXEC`` - what a script's command adds
    (``inner_us``).  Saturated costs: a busier redis-server batches more
    replies per wake-up, so at the light load of a cell it spends more per
    request (the ``server CPU`` rows' notes) than this.
    """
    trips, commands = figures["round_trips"], figures["commands"]
    extra = max(0.0, commands - trips)
    per_call_us = trips * plain_us + extra * inner_us
    note = (
        f"1 / ({trips:g} round trips x {plain_us:.1f} us + {extra:g} more commands x {inner_us:.1f} us)"
        f" = 1 / {per_call_us:.0f} us of redis-server CPU (redis-benchmark's costs, one core)"
    )
    return Result(
        TITLE,
        f"paper: {figures['call']} calls/s on one redis-server core",
        1e6 / per_call_us,
        "calls/s",
        note=note,
    )


# --- the worker counts -------------------------------------------------------------------------


def run(ctx: Context) -> list[Result]:
    try:
        from simulator.testing.redis_server import RedisServer, RedisServerMissing
    except ImportError as exc:  # the redis client is a dependency; this only guards a broken install
        return [unavailable(TITLE, "Redis workers", "", f"{exc} (make install)")]
    redis_server = RedisServer()
    try:
        redis_server.start()
    except (RedisServerMissing, RuntimeError) as exc:
        return [unavailable(TITLE, "Redis workers", "", f"{exc} (make bench-tools installs redis-server)")]
    ctx.log(f"redis-server ready at {redis_server.url}")
    client = redis.Redis.from_url(redis_server.url, socket_timeout=5)
    memory: Server | None = None
    rows: list[Result] = []
    cells: dict[int, dict[tuple[str, str], Cell | str] | str] = {}
    try:
        bench = _redis_benchmark(ctx, redis_server.port)
        client.flushall()
        probe = _round_trips(ctx, redis_server.url)
        client.flushall()
        rows += _probe_rows(bench, probe)
        memory = start_simulator(
            ctx.out, "memory-1", {"SCORPIO_SIM_STORE": "memory", "SCORPIO_SIM_WORKERS": "1"}
        )
        ctx.log(f"reference (1 in-memory worker) ready at {memory.base_url}")
        for workers in WORKER_COUNTS:
            cells[workers] = _worker_count(ctx, memory, redis_server.url, client, workers)
            client.flushall()  # the next worker count starts on an empty Redis
    finally:
        if memory is not None:
            memory.stop()
        client.close()
        redis_server.stop()
    for workers, measured in cells.items():
        if isinstance(measured, str):
            rows.append(unavailable(TITLE, _who(workers), "", f"did not start: {measured}"))
        else:
            rows += _rows(workers, measured, cells.get(1))
    return rows


def _worker_count(
    ctx: Context, memory: Server, url: str, client: redis.Redis, workers: int
) -> dict[tuple[str, str], Cell | str] | str:
    """The cells of one worker count, (who, kind) -> Cell; why it did not start otherwise."""
    label = f"redis {workers}w"
    env = {"SCORPIO_SIM_STORE": url, "SCORPIO_SIM_STORE_PREFIX": PREFIX, "SCORPIO_SIM_WORKERS": str(workers)}
    try:
        server = start_simulator(ctx.out, f"redis-{workers}w", env)
    except Exception as exc:
        why = str(exc).splitlines()[0]
        ctx.log(f"{label} did not start: {why}")
        return why
    try:
        running = len(server.worker_pids())
        ctx.log(
            f"{label} ready at {server.base_url}: {running} worker processes, {server.start_seconds:.1f} s"
        )
        cells: dict[tuple[str, str], Cell | str] = {}
        for kind in ("read", "pairs"):
            # The reference right before the subject, cell by cell: drift hits both alike.
            for who, target, redis_client in (("memory", memory, None), ("redis", server, client)):
                cell = cells[(who, kind)] = _cell(ctx, target, kind, redis_client)
                name = REFERENCE if who == "memory" else label
                ctx.log(f"{NAME} {name} {kind} c={CONNECTIONS}: {_describe(cell, kind)}")
        if ctx.profile and workers == PROFILED_WORKERS:
            _profile(ctx, server)
    finally:
        server.stop()
    return cells


def _profile(ctx: Context, server: Server) -> None:
    """py-spy on the one Redis worker during extra (unmeasured) load: where a request's time goes."""
    for kind, figure in (("read", "user/info"), ("pairs", "deposit+withdraw")):
        SimApi(server.base_url).reset()
        key = f"redis, 1 worker: {figure} at {CONNECTIONS} connections"
        stem = f"profile-redis-{kind}"
        views = profile_under_load(
            server.worker_pid(),
            ctx.profile_seconds,
            ctx.out,
            stem,
            lambda s, k=kind: _measure(ctx, server, k, s),
        )
        ctx.profiles[key] = views
        ctx.log(f"profile of {key}: see {ctx.out / (stem + '-summary.txt')}")
        _wait_idle(server)


def _value(cell: Cell | str | None, get: Callable[[WrkRun], float | None]) -> float | None:
    return get(cell.run) if isinstance(cell, Cell) else None


def _who(workers: int) -> str:
    return f"{workers} worker{'s' if workers > 1 else ''} on Redis"


def _rows(
    workers: int,
    cells: dict[tuple[str, str], Cell | str],
    one_worker: dict[tuple[str, str], Cell | str] | str | None,
) -> list[Result]:
    who = _who(workers)
    p99_ref = f"{REFERENCE} p99"
    rows: list[Result] = []
    figures: tuple[tuple[str, str, str, str, Callable[[WrkRun], float | None]], ...] = (
        ("read", f"{who}: user/info c={CONNECTIONS}", "req/s", REFERENCE, lambda r: r.rps),
        ("read", f"{who}: user/info c={CONNECTIONS} p99", "ms", p99_ref, lambda r: r.p99_ms),
        ("pairs", f"{who}: deposit+withdraw c={CONNECTIONS}", "pairs/s", REFERENCE, pair_rate),
        ("pairs", f"{who}: deposit+withdraw c={CONNECTIONS} p99", "ms", p99_ref, lambda r: r.p99_ms),
    )
    for kind, figure, unit, reference, get in figures:
        subject, ref = cells.get(("redis", kind)), cells.get(("memory", kind))
        notes = []
        if isinstance(subject, str):
            notes.append(f"not measured: {subject}")
        elif isinstance(subject, Cell) and unit != "ms":
            if subject.run.failures or subject.run.busy:
                notes.append(f"{subject.run.failures + (subject.run.busy or 0)} answers were not code 0")
            cpu = f"cores used: {subject.cpu()}"
            if isinstance(ref, Cell):
                cpu += f"; reference {ref.cpu()}"
            notes.append(f"{cpu} (of {os.cpu_count()}, shared with wrk)")
        if isinstance(ref, str) and unit != "ms":
            notes.append(f"reference not measured: {ref}")
        value, ref_value = _value(subject, get), _value(ref, get)
        bound = MEMORY_RATIO_TARGETS.get((workers, kind)) if unit != "ms" else None
        target: Target | None = ratio_at_least(bound) if bound is not None else None
        rows.append(Result(TITLE, figure, value, unit, reference, ref_value, target, note="; ".join(notes)))
        if unit == "pairs/s" and workers == 2:
            rows.append(_scale_out_row(figure, value, one_worker))
        if unit != "ms":
            rows.append(_cpu_row(who, kind, subject, ref))
    return rows


def _scale_out_row(
    figure: str, value: float | None, one_worker: dict[tuple[str, str], Cell | str] | str | None
) -> Result:
    """2 Redis workers' pairs/s against 1 Redis worker's, both from this run."""
    reference = _who(1)
    one = one_worker.get(("redis", "pairs")) if isinstance(one_worker, dict) else one_worker
    note = ""
    if not isinstance(one, Cell):
        note = f"{reference} not measured: {one or 'did not run'}"
    return Result(
        TITLE,
        figure,
        value,
        "pairs/s",
        reference,
        _value(one, pair_rate),
        ratio_at_least(SCALE_OUT_TARGET),
        note=note,
    )


def _cpu_row(who: str, kind: str, subject: Cell | str | None, ref: Cell | str | None) -> Result:
    """The workers' CPU per request (gunicorn master included), against the memory worker's."""
    call = "user/info" if kind == "read" else "deposit or withdraw"
    value = subject.per_request_ms(subject.server_cpu_s) if isinstance(subject, Cell) else None
    ref_value = ref.per_request_ms(ref.server_cpu_s) if isinstance(ref, Cell) else None
    note = ""
    if isinstance(subject, Cell):
        redis_ms = subject.per_request_ms(subject.redis_cpu_s)
        shown = "n/a" if redis_ms is None else f"{redis_ms:.3f} ms"
        note = f"redis-server CPU per request: {shown} (CPU during the cell / requests wrk completed)"
    return Result(
        TITLE, f"{who}: server CPU per {call}", value, "ms", f"{REFERENCE} CPU", ref_value, note=note
    )
