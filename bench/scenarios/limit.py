"""Scenario 4, the 1018 limit under load: 50 requests of one agent in flight, the 51st answers 1018.

Two views, each with a ``latency_ms`` fault on agent demo so requests stay in flight:

- a burst: N ``agent/info`` calls, each on its own open connection, released
  together by a barrier, with a 500 ms fault.  Reference: the exact count the
  limit allows, ``N - 50`` answers 1018 (so 10 at 60, 0 at 50);
- sustained load: wrk at 50, 60 and 200 connections with a 100 ms fault.
  1018 answers must appear above 50 connections and never at 50; the code-0
  rate is compared with the ideal slot turnover, 50 slots / 0.1 s = 500/s.
"""

from __future__ import annotations

import http.client
import json
import threading
from urllib.parse import urlsplit

from ..context import Context
from ..results import Result, above, equals
from ..servers import DEMO_TOKEN, SimApi
from ..wrk import run as run_wrk

NAME = "limit"
TITLE = "4 limit"
LIMIT = 50
BURSTS = (60, 50)
BURST_LATENCY_MS = 500
LOAD_CONNECTIONS = (50, 60, 200)
LOAD_LATENCY_MS = 100


def burst(base_url: str, calls: int) -> dict[int, int]:
    """``calls`` concurrent ``agent/info`` requests on their own connections: result code -> count."""
    address = urlsplit(base_url)
    connections = [
        http.client.HTTPConnection(address.hostname, address.port, timeout=30) for _ in range(calls)
    ]
    for connection in connections:
        connection.connect()
    barrier = threading.Barrier(calls)
    codes: dict[int, int] = {}
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}", "Content-Type": "application/json"}

    def call(connection: http.client.HTTPConnection) -> None:
        barrier.wait()
        try:
            connection.request("POST", "/v4/agent/info", body=b"{}", headers=headers)
            code = json.loads(connection.getresponse().read())["code"]
        except Exception:  # a dropped connection counts as -1
            code = -1
        finally:
            connection.close()
        with lock:
            codes[code] = codes.get(code, 0) + 1

    threads = [threading.Thread(target=call, args=(c,), daemon=True) for c in connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return codes


def _fault(api: SimApi, latency_ms: int) -> None:
    api.reset()
    api.control(
        "POST",
        "faults",
        {"agent": "demo", "target": "api:/v4/agent/info", "effect": {"latency_ms": latency_ms}},
    )


def run(ctx: Context) -> list[Result]:
    sim = ctx.simulator()
    api = ctx.api()
    rows: list[Result] = []
    repeats = 1 if ctx.quick else 3
    for calls in BURSTS:
        busy_counts = []
        for _ in range(repeats):
            _fault(api, BURST_LATENCY_MS)
            codes = burst(sim.base_url, calls)
            busy_counts.append(codes.get(1018, 0))
            ctx.log(f"limit burst of {calls}: codes {codes}")
        expected = max(0, calls - LIMIT)
        worst = min(busy_counts) if expected else max(busy_counts)
        rows.append(
            Result(
                TITLE,
                f"1018 answers, burst of {calls} (fewest of {repeats})"
                if expected
                else f"1018 answers, burst of {calls} (most of {repeats})",
                worst,
                "answers",
                "N - 50",
                expected,
                above(0) if expected else equals(0),
                note=f"1018 counts per burst: {busy_counts}",
            )
        )
    for connections in LOAD_CONNECTIONS:
        _fault(api, LOAD_LATENCY_MS)
        run = run_wrk(
            f"{sim.base_url}/v4/agent/info", connections, ctx.duration, args=("{}",), log=ctx.wrk_log
        )
        ctx.log(
            f"limit load c={connections}: ok {run.ok_rps:,.0f}/s, 1018 x {run.busy}, failures {run.failures}"
        )
        rows.append(
            Result(
                TITLE,
                f"1018 answers, {connections} conns, {LOAD_LATENCY_MS} ms fault, {run.duration_s:.0f} s",
                run.busy,
                "answers",
                target=above(0) if connections > LIMIT else equals(0),
            )
        )
        rows.append(
            Result(
                TITLE,
                f"code-0 answers/s, {connections} conns, {LOAD_LATENCY_MS} ms fault",
                run.ok_rps,
                "/s",
                "min(conns, 50) / 0.1 s",
                min(connections, LIMIT) / (LOAD_LATENCY_MS / 1000),
            )
        )
    api.reset()
    return rows
