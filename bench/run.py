"""``python -m bench`` (or ``bench/run.py``): run the scenarios, print the table, write results.json.

Targets are reported, not asserted: the exit code is 0 whenever the run
completed, whatever the figures; 2 when the tools are missing or an unknown
scenario is named.  See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # run as a script: bench/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.context import Context
from bench.machine import CpuMeter, CpuShare
from bench.pyspy import pyspy_path
from bench.results import Result, render_table, summary_line, unavailable, write_json
from bench.scenarios import SCENARIOS
from bench.servers import REPO_ROOT, npm_tool, npm_versions, tool_version
from bench.wrk import wrk_path

NEEDS_WRK = {"read", "writes", "limit", "redis"}
#: Other processes taking more than this share of all cores: the figures carry a warning.
BUSY_WARNING = 0.10
DEFAULT_OUT = REPO_ROOT / "bench" / "results.json"
WORK_DIR = REPO_ROOT / "bench" / ".out"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="scorpio-sim benchmarks: each figure against a reference measured in the same run.",
    )
    parser.add_argument(
        "--only",
        default="",
        metavar="NAMES",
        help=f"comma-separated scenarios to run (default all): {','.join(SCENARIOS)}",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 s per load cell, fewer repeats")
    parser.add_argument("--duration", type=float, help="seconds per load cell (default 10, 2 with --quick)")
    parser.add_argument(
        "--no-profile", action="store_true", help="skip the py-spy profiles (also skipped by --quick)"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="results file (default bench/results.json)"
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    return parser.parse_args(argv)


def selected(only: str) -> list[str]:
    """Scenario names from ``--only`` (``SCENARIOS=read,cold``), in the run order; all when empty."""
    names = [name.strip() for name in only.replace(" ", ",").split(",") if name.strip()]
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    return [name for name in SCENARIOS if not names or name in names]


def _git_revision() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except OSError:
        return "?"
    return done.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def meta(args: argparse.Namespace, ctx: Context, names: list[str]) -> dict[str, object]:
    import gunicorn

    sim_env = {k: v for k, v in sorted(os.environ.items()) if k.startswith("SCORPIO_SIM_")}
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git": _git_revision(),
        "scenarios": names,
        "quick": ctx.quick,
        "seconds_per_cell": ctx.duration,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "gunicorn": gunicorn.__version__,
        "wrk": tool_version([wrk_path() or "wrk", "--version"]) if wrk_path() else None,
        "node": tool_version(["node", "--version"]) if npm_tool("prism") or npm_tool("mockoon-cli") else None,
        "npm_references": npm_versions(),
        "py_spy": tool_version([pyspy_path() or "py-spy", "--version"]) if pyspy_path() else None,
        "simulator_env": sim_env,
        # Without bytecode caches every start compiles the simulator's modules (scenario 5).
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE"),
        "note": "the load generator (wrk or client threads) and the servers share the cores; nothing pinned",
    }


def quiet_check(seconds: float = 1.0) -> CpuShare | None:
    """The CPU other processes use before the run starts anything."""
    meter = CpuMeter()
    time.sleep(seconds)
    return meter.stop()


def other_work_line(shares: dict[str, CpuShare]) -> str:
    """What other processes took of the cores during each scenario; flagged when over the threshold."""
    if not shares:
        return "other work on the machine: not measured"
    parts = [f"{name} {share.others:.0%}" for name, share in shares.items()]
    text = "CPU taken by other processes during each scenario (share of all cores): " + ", ".join(parts)
    busy = [name for name, share in shares.items() if share.others > BUSY_WARNING]
    if busy:
        text += f"\nWARNING: other work lowered the figures of: {', '.join(busy)} (rerun on a quiet machine)"
    return text


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for name, module in SCENARIOS.items():
            print(f"{name:10} {module.TITLE}: {(module.__doc__ or '').strip().splitlines()[0]}")
        return 0
    names = selected(args.only)
    if NEEDS_WRK & set(names) and wrk_path() is None:
        print("wrk is not installed: run `make bench-tools` (apt-get install wrk)", file=sys.stderr)
        return 2
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    for stale in WORK_DIR.iterdir():
        if stale.is_file():
            stale.unlink()
    duration = args.duration or (2.0 if args.quick else 10.0)
    ctx = Context(WORK_DIR, quick=args.quick, duration=duration, profile=not (args.no_profile or args.quick))
    if ctx.profile and pyspy_path() is None:
        ctx.log("py-spy not found: no profiles (make bench-tools installs it)")
        ctx.profile = False
    before = quiet_check()
    if before is not None and before.others > BUSY_WARNING:
        ctx.log(f"WARNING: other processes use {before.others:.0%} of the CPU: every figure will be lower")
    shares: dict[str, CpuShare] = {}
    results: list[Result] = []
    try:
        for name in names:
            module = SCENARIOS[name]
            ctx.log(f"scenario {module.TITLE}")
            meter = CpuMeter()
            try:
                results += module.run(ctx)
            except Exception as exc:  # one broken scenario must not lose the others' figures
                traceback.print_exc(file=sys.stderr)
                results.append(
                    unavailable(module.TITLE, "scenario failed", "", f"{type(exc).__name__}: {exc}")
                )
            share = meter.stop()
            if share is not None:
                shares[name] = share
    finally:
        ctx.close()
    print(render_table(results))
    print(summary_line(results))
    print(other_work_line(shares))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    run_meta = {
        **meta(args, ctx, names),
        "cpu_others_before_run": None if before is None else round(before.others, 3),
        "cpu_share_during_scenario": {
            name: {"busy": round(s.busy, 3), "bench": round(s.bench, 3), "others": round(s.others, 3)}
            for name, s in shares.items()
        },
    }
    write_json(args.out, results, run_meta, {"profiles": ctx.profiles})
    print(f"results: {args.out}; logs, raw wrk output and profiles: {WORK_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
