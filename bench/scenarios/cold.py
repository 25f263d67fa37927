"""Scenario 5, cold start: process start to the first successful ``agent/info``, and the pytest fixture.

- Server: from ``Popen`` of ``gunicorn --config gunicorn.conf.py`` to the first
  code-0 answer of ``POST /v4/agent/info`` (polled every 5 ms), median of
  several starts.  Reference: the bare Flask app under the same command.
- In-process: a fresh ``pytest`` run of a one-test file that asks for the
  plugin's ``scorpio_sim`` fixture; the figure is the fixture's own
  ``startup_seconds`` (app built and serving).  Reference: building the bare
  Flask app and serving it with werkzeug the same way, in a fresh interpreter
  (``bench/probes/bare_start.py``; Flask already imported, as the plugin has it).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..context import Context
from ..procs import free_port, spawn, wait_ready
from ..results import Result, at_most
from ..servers import REPO_ROOT, _post_ok, gunicorn_argv

NAME = "cold"
TITLE = "5 cold start"
COLD_TARGET_S = 1.0
FIXTURE_TARGET_S = 0.2
FIXTURE_TEST = """\
import json
import os


def test_fixture_start(scorpio_sim):
    with open(os.environ["SCORPIO_BENCH_FIXTURE_OUT"], "w") as out:
        json.dump({"startup_seconds": scorpio_sim.startup_seconds}, out)
"""


def first_answer_seconds(ctx: Context, app: str | None, label: str) -> float:
    """Seconds from Popen of gunicorn to the first code-0 ``agent/info``."""
    port = free_port()
    env = {**os.environ, "SCORPIO_SIM_BIND": f"127.0.0.1:{port}"}
    bodies = ctx.out / "read-bodies.json"  # written by the read scenario, when it ran
    if app and bodies.exists():
        env["SCORPIO_BENCH_BODIES"] = str(bodies)
    started = time.perf_counter()
    proc = spawn(label, gunicorn_argv(app), ctx.out / f"cold-{label}.log", REPO_ROOT, env)
    try:
        wait_ready(proc, lambda: _post_ok(f"http://127.0.0.1:{port}/v4/agent/info"), 60, poll=0.005)
        return time.perf_counter() - started
    finally:
        proc.stop()


def fixture_start_seconds() -> tuple[float, float]:
    """``(startup_seconds of the scorpio_sim fixture, wall time of the whole pytest run)``."""
    with tempfile.TemporaryDirectory(prefix="scorpio-bench-fixture-") as tmp:
        folder = Path(tmp)
        (folder / "test_fixture_start.py").write_text(FIXTURE_TEST)
        out = folder / "out.json"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_fixture_start.py"],
            cwd=folder,
            env={**os.environ, "SCORPIO_BENCH_FIXTURE_OUT": str(out)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        wall = time.perf_counter() - started
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"pytest failed ({done.returncode}): {done.stdout[-500:]}{done.stderr[-500:]}")
        return json.loads(out.read_text())["startup_seconds"], wall


def bare_start_seconds() -> float:
    done = subprocess.run(
        [sys.executable, "-m", "bench.probes.bare_start"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bare_start probe failed: {done.stderr[-500:]}")
    return json.loads(done.stdout)["seconds"]


def run(ctx: Context) -> list[Result]:
    repeats = 2 if ctx.quick else 5
    sim_times, bare_times = [], []
    for _ in range(repeats):  # alternate, so drift hits both alike
        sim_times.append(first_answer_seconds(ctx, None, "simulator"))
        bare_times.append(first_answer_seconds(ctx, "bench.bare:app", "bare-flask"))
    ctx.log(f"cold start simulator {sim_times}, bare {bare_times}")
    fixture_times, walls, bare_fixture = [], [], []
    for _ in range(max(3, repeats)):
        startup, wall = fixture_start_seconds()
        fixture_times.append(startup)
        walls.append(wall)
        bare_fixture.append(bare_start_seconds())
    ctx.log(f"fixture start {fixture_times}, pytest wall {walls}, bare {bare_fixture}")
    return [
        Result(
            TITLE,
            f"gunicorn Popen -> first agent/info (median of {repeats})",
            statistics.median(sim_times),
            "s",
            "bare Flask, same command",
            statistics.median(bare_times),
            at_most(COLD_TARGET_S, "s"),
            note=f"simulator runs: {', '.join(f'{t:.3f}' for t in sim_times)} s",
        ),
        Result(
            TITLE,
            f"pytest scorpio_sim fixture start (median of {len(fixture_times)})",
            statistics.median(fixture_times),
            "s",
            "bare Flask + werkzeug server",
            statistics.median(bare_fixture),
            at_most(FIXTURE_TARGET_S, "s"),
            note=f"whole pytest run of one test: median {statistics.median(walls):.2f} s",
        ),
    ]
