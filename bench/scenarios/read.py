"""Scenario 1, reads: ``user/info`` and ``agent/info`` at 1, 50 and 200 connections.

References, all answering the very bytes the simulator answers: a bare Flask
route under the same gunicorn config (the framework ceiling), Prism and
Mockoon serving them as static mocks (what a user might pick instead).  The
four servers run side by side and each cell is measured on all four in turn,
so drift over the run hits them alike.  The simulator is reset before each cell
(not between its rounds: the reads change no state, and a reset is work of the
simulator's alone, done just before its own round).

The target cell (``user/info`` at 50 connections) is measured in
:data:`TARGET_ROUNDS` rounds, the four servers in turn in each (in reverse
order every other round: :func:`round_order`), and each
server's figures are the medians of its rounds: on a shared machine one 10 s
run of a server swings by 10-20 % (neighbours, CPU frequency), more than the
margins the targets judge.
"""

from __future__ import annotations

import contextlib
import json
import statistics
from collections.abc import Callable

from ..context import Context
from ..results import Result, Target, ratio_at_least, ratio_at_most
from ..servers import READ_BODIES, READ_PATHS, Server, start_bare, start_mockoon, start_prism
from ..wrk import WrkError, WrkRun
from ..wrk import run as run_wrk

NAME = "read"
TITLE = "1 read"
CONNECTIONS = (1, 50, 200)
#: The targets of the issue (17, item 7): user/info at 50 connections, as ratios to the
#: references measured in the same run - req/s at least these shares of theirs ...
TARGET_ROUTE, TARGET_CONNECTIONS = "/v4/user/info", 50
RATIO_TARGETS = {"bare Flask": 0.9, "Prism": 1.0, "Mockoon": 1.0}
#: ... and a p99 at most this multiple of bare Flask's p99.
P99_RATIO_TARGET = 1.1
#: Rounds of the target cell (one with ``--quick``): each figure is the median of a server's rounds.
#: Five, not three: one round's ratio to bare Flask swings by about 8 % (measured), and the median
#: of three rounds judged a 0.98 ratio below 0.9 in one run of three.
TARGET_ROUNDS = 5


def _short(route: str) -> str:
    return route.removeprefix("/v4/")


def _start_references(ctx: Context, bodies: dict[str, str]) -> tuple[dict[str, Server], dict[str, str]]:
    bodies_file = ctx.out / "read-bodies.json"
    bodies_file.write_text(json.dumps(bodies, indent=1))
    starters: dict[str, Callable[[], Server]] = {
        "bare Flask": lambda: start_bare(ctx.out, bodies_file),
        "Prism": lambda: start_prism(ctx.out, bodies),
        "Mockoon": lambda: start_mockoon(ctx.out, bodies),
    }
    servers: dict[str, Server] = {}
    missing: dict[str, str] = {}
    for label, start in starters.items():
        try:
            servers[label] = start()
            ctx.log(f"{label} ready at {servers[label].base_url}")
        except Exception as exc:  # a reference that cannot start is a 'not available' row
            missing[label] = str(exc).splitlines()[0]
            ctx.log(f"{label} not available: {missing[label]}")
    return servers, missing


def _measure(ctx: Context, server: Server, route: str, connections: int) -> WrkRun | str:
    try:
        return run_wrk(
            f"{server.base_url}{route}",
            connections,
            ctx.duration,
            args=(READ_BODIES[route],),
            log=ctx.wrk_log,
        )
    except WrkError as exc:
        return str(exc).splitlines()[0]


def run(ctx: Context) -> list[Result]:
    sim = ctx.simulator()
    api = ctx.api()
    api.reset()
    bodies = api.read_bodies()
    references, missing = _start_references(ctx, bodies)
    servers = {"simulator": sim, **references}
    runs: dict[tuple[str, str, int], WrkRun | str] = {}
    try:
        for server in servers.values():  # warm-up, not recorded
            _measure_quiet(ctx, server)
        for route in READ_PATHS:
            for connections in CONNECTIONS:
                at_target = (route, connections) == (TARGET_ROUTE, TARGET_CONNECTIONS)
                rounds = TARGET_ROUNDS if at_target and not ctx.quick else 1
                measured: dict[str, list[WrkRun | str]] = {label: [] for label in servers}
                api.reset()
                for number in range(1, rounds + 1):
                    for label in round_order(list(servers), number):
                        run = _measure(ctx, servers[label], route, connections)
                        measured[label].append(run)
                        of = f" (round {number} of {rounds})" if rounds > 1 else ""
                        ctx.log(f"read {label} {_short(route)} c={connections}{of}: {_describe(run)}")
                for label, made in measured.items():
                    runs[(label, route, connections)] = median_run(made)
        if ctx.profile:
            _profile(ctx, sim)
    finally:
        for server in references.values():
            server.stop()
    return _rows(runs, missing)


def round_order(labels: list[str], number: int) -> list[str]:
    """The servers in round ``number`` (from 1): in order in odd rounds, in reverse in even ones.

    Each pair of rounds measures every server once before and once after each other one
    (A B C D, D C B A), so a machine that drifts steadily over the rounds favours no
    server; and the simulator and bare Flask, whose ratio has the smallest margin, are
    always measured one right after the other."""
    return list(labels) if number % 2 else list(reversed(labels))


def median_run(runs: list[WrkRun | str]) -> WrkRun | str:
    """One server's rounds of a cell as one run: the median of each figure (req/s, every
    percentile), the counts (requests, seconds, failures) summed.  A failed round fails the cell:
    its reason is returned."""
    failed = [run for run in runs if isinstance(run, str)]
    if failed:
        return failed[0]
    done = [run for run in runs if isinstance(run, WrkRun)]
    if len(done) == 1:
        return done[0]
    percentiles = set.intersection(*(set(run.latency_ms) for run in done))
    fields = set.intersection(*(set(run.result) for run in done))
    return WrkRun(
        requests=sum(run.requests for run in done),
        duration_s=sum(run.duration_s for run in done),
        rps=statistics.median(run.rps for run in done),
        latency_ms={p: statistics.median(run.latency_ms[p] for run in done) for p in sorted(percentiles)},
        socket_errors=sum(run.socket_errors for run in done),
        non_2xx=sum(run.non_2xx for run in done),
        result={name: sum(run.result[name] for run in done) for name in sorted(fields)},
    )


def _measure_quiet(ctx: Context, server: Server) -> None:
    route = TARGET_ROUTE
    with contextlib.suppress(WrkError):
        run_wrk(
            f"{server.base_url}{route}", TARGET_CONNECTIONS, 1, args=(READ_BODIES[route],), log=ctx.wrk_log
        )


def _describe(run: WrkRun | str) -> str:
    if isinstance(run, str):
        return f"failed: {run}"
    p99 = f"{run.p99_ms:.1f} ms" if run.p99_ms is not None else "n/a"
    return f"{run.rps:,.0f} req/s, p99 {p99}, failures {run.failures}"


def _profile(ctx: Context, sim: Server) -> None:
    """py-spy on the worker during extra (unmeasured) user/info load at 50 connections."""
    route = TARGET_ROUTE
    ctx.api().reset()
    ctx.record_profile(
        f"{_short(route)} at {TARGET_CONNECTIONS} connections",
        "profile-read",
        lambda seconds: run_wrk(
            f"{sim.base_url}{route}", TARGET_CONNECTIONS, seconds, args=(READ_BODIES[route],)
        ),
    )


def _rows(runs: dict[tuple[str, str, int], WrkRun | str], missing: dict[str, str]) -> list[Result]:
    rows: list[Result] = []
    for route in READ_PATHS:
        for connections in CONNECTIONS:
            sim = runs.get(("simulator", route, connections))
            name = f"{_short(route)} c={connections}"
            if not isinstance(sim, WrkRun):
                rows.append(Result(TITLE, f"{name} req/s", None, "req/s", note=f"not measured: {sim}"))
                continue
            at_target = (route, connections) == (TARGET_ROUTE, TARGET_CONNECTIONS)
            sim_note = f"{sim.failures} answers were not code 0" if sim.failures or sim.busy else ""
            for label in RATIO_TARGETS:
                target: Target | None = ratio_at_least(RATIO_TARGETS[label]) if at_target else None
                ref = runs.get((label, route, connections))
                if isinstance(ref, WrkRun):
                    rows.append(
                        Result(TITLE, f"{name} req/s", sim.rps, "req/s", label, ref.rps, target, sim_note)
                    )
                else:
                    why = missing.get(label) or ref or "not measured"
                    note = f"{label} not available: {why}"
                    rows.append(Result(TITLE, f"{name} req/s", sim.rps, "req/s", label, None, target, note))
            bare = runs.get(("bare Flask", route, connections))
            rows.append(
                Result(
                    TITLE,
                    f"{name} p99",
                    sim.p99_ms,
                    "ms",
                    "bare Flask p99",
                    bare.p99_ms if isinstance(bare, WrkRun) else None,
                    ratio_at_most(P99_RATIO_TARGET) if at_target else None,
                )
            )
    return rows
