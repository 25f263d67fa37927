"""Scenario 8, several workers on Redis: 1, 2 and 4 workers sharing one Redis, against one in-memory worker.

A ``redis-server`` (Debian's, started on a free loopback port by
``simulator.testing.redis_server.RedisServer``) holds the state; for each
worker count the simulator is started as a user would
(``gunicorn --config gunicorn.conf.py`` with ``SCORPIO_SIM_STORE=<url>`` and
``SCORPIO_SIM_WORKERS=<n>``) and measured with wrk at 50 connections, as the
``read`` and ``writes`` scenarios measure one worker: ``user/info`` req/s and
p99 (``post.lua``), deposit+withdraw pairs/s (``pair.lua``).

Reference: one in-memory worker (``SCORPIO_SIM_STORE=memory``,
``SCORPIO_SIM_WORKERS=1``, the default), started once and measured again next
to each worker count, cell by cell, so drift over the run hits both alike.
Each server is reset (``/control/reset``), warmed up and left to go idle
before each cell; Redis is emptied between worker counts.  No target: the
issue gives none.

Everything shares the machine's cores: wrk, every worker, and redis-server.
Each Redis row's note gives the cores the workers and redis-server used during
the cell (1.0 = one core busy all the time), and the reference's.  With
profiles on, py-spy records the one-worker Redis server under each load.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

from ..context import Context
from ..machine import TICKS, own_ticks
from ..pyspy import profile_under_load
from ..results import Result, unavailable
from ..servers import READ_BODIES, Server, SimApi, start_simulator
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
    try:
        memory = start_simulator(
            ctx.out, "memory-1", {"SCORPIO_SIM_STORE": "memory", "SCORPIO_SIM_WORKERS": "1"}
        )
        ctx.log(f"reference (1 in-memory worker) ready at {memory.base_url}")
        for workers in WORKER_COUNTS:
            rows += _worker_count(ctx, memory, redis_server.url, client, workers)
            client.flushall()  # the next worker count starts on an empty Redis
    finally:
        if memory is not None:
            memory.stop()
        client.close()
        redis_server.stop()
    return rows


def _worker_count(ctx: Context, memory: Server, url: str, client: redis.Redis, workers: int) -> list[Result]:
    label = f"redis {workers}w"
    env = {"SCORPIO_SIM_STORE": url, "SCORPIO_SIM_STORE_PREFIX": PREFIX, "SCORPIO_SIM_WORKERS": str(workers)}
    try:
        server = start_simulator(ctx.out, f"redis-{workers}w", env)
    except Exception as exc:
        why = str(exc).splitlines()[0]
        ctx.log(f"{label} did not start: {why}")
        return [unavailable(TITLE, f"{workers} worker(s) on Redis", "", f"did not start: {why}")]
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
    return _rows(workers, cells)


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


def _rows(workers: int, cells: dict[tuple[str, str], Cell | str]) -> list[Result]:
    who = f"{workers} worker{'s' if workers > 1 else ''} on Redis"
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
        rows.append(Result(TITLE, figure, value, unit, reference, ref_value, note="; ".join(notes)))
    return rows
