"""Scenario 2, writes: ``wallet/deposit`` + ``wallet/withdraw`` pairs per second.

``bench/wrk/pair.lua`` sends a deposit of 1 then a withdrawal of 1 for the
same player, spread over agent demo's 25 fixture players; a pair is two
code-0 answers.  Reference: the same server's ``user/info`` rate at the same
connections, halved (two reads per pair), measured right after - what the
ledger, its lock and the history row cost over a read through the same guards.
"""

from __future__ import annotations

from ..context import Context
from ..results import Result
from ..servers import READ_BODIES
from ..wrk import PAIR_SCRIPT, WrkRun
from ..wrk import run as run_wrk

NAME = "writes"
TITLE = "2 writes"
CONNECTIONS = (1, 50)


def run(ctx: Context) -> list[Result]:
    sim = ctx.simulator()
    api = ctx.api()
    api.reset()
    run_wrk(sim.base_url + "/", 50, 1, PAIR_SCRIPT, ("1", "25"), log=ctx.wrk_log)  # warm-up
    rows: list[Result] = []
    for connections in CONNECTIONS:
        api.reset()
        pairs = run_wrk(
            sim.base_url + "/", connections, ctx.duration, PAIR_SCRIPT, ("1", "25"), log=ctx.wrk_log
        )
        api.reset()
        reads = run_wrk(
            sim.base_url + "/v4/user/info",
            connections,
            ctx.duration,
            args=(READ_BODIES["/v4/user/info"],),
            log=ctx.wrk_log,
        )
        ctx.log(f"writes c={connections}: {pair_rate(pairs):,.0f} pairs/s, user/info {reads.rps:,.0f} req/s")
        note = f"{pairs.failures + (pairs.busy or 0)} answers were not code 0" if pairs.failures else ""
        rows.append(
            Result(
                TITLE,
                f"deposit+withdraw c={connections}",
                pair_rate(pairs),
                "pairs/s",
                "user/info req/s / 2",
                reads.rps / 2,
                note=note,
            )
        )
        rows.append(
            Result(
                TITLE,
                f"deposit+withdraw c={connections} p99",
                pairs.p99_ms,
                "ms",
                "user/info p99",
                reads.p99_ms,
            )
        )
    return rows


def pair_rate(run: WrkRun) -> float:
    """Completed pairs per second: code-0 answers / 2 (all answers / 2 without the Lua counts)."""
    answers = run.ok if run.ok is not None else run.requests
    return answers / 2 / run.duration_s
