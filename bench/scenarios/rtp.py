"""Scenario 7, RTP simulation: spins per second of ``python -m simulator rtp-report``.

The figure is the rate the report prints on its ``Elapsed`` line (the
simulation loop, 2,000,000 spins; 500,000 with ``--quick``).  Reference:
the same game, RTP and stream drawn one round at a time through
``RtpEngine.draw`` plus the round's settlement arithmetic
(``bench/probes/rtp_draw.py``), i.e. how fast the engine deals outcomes on a
played round's path, without the ledger or HTTP.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

from ..context import Context
from ..results import Result, at_least
from ..servers import REPO_ROOT

NAME = "rtp"
TITLE = "7 rtp-report"
TARGET_SPINS_PER_S = 1_000_000
_ELAPSED = re.compile(r"Elapsed\s+([\d.]+) s \(([\d,]+) spins/s\)")


def parse_rate(report: str) -> float:
    """The spins/s of rtp-report's ``Elapsed  1.38 s (1,449,749 spins/s)`` line."""
    match = _ELAPSED.search(report)
    if not match:
        raise ValueError(f"no 'Elapsed ... spins/s' line in the report:\n{report[-800:]}")
    return float(match.group(2).replace(",", ""))


def _python(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr[-500:]}")
    return done.stdout


def run(ctx: Context) -> list[Result]:
    spins = 500_000 if ctx.quick else 2_000_000
    report = _python("-m", "simulator", "rtp-report", "--spins", str(spins), "--quiet", "--no-chart")
    rate = parse_rate(report)
    probe = json.loads(_python("-m", "bench.probes.rtp_draw", "--spins", str(spins // 10)))
    per_round = probe["spins"] / probe["seconds"]
    ctx.log(f"rtp-report {rate:,.0f} spins/s; one round at a time {per_round:,.0f} spins/s")
    return [
        Result(
            TITLE,
            f"rtp-report --spins {spins:,}",
            rate,
            "spins/s",
            "RtpEngine.draw one round at a time",
            per_round,
            at_least(TARGET_SPINS_PER_S, "spins/s"),
        )
    ]
