"""Scenario 6, memory: bytes per retained transaction at 1,000,000, and RSS across a 2-day purge.

Runs ``bench/probes/memory.py`` in a fresh interpreter (no HTTP): the
transactions go through ``Ledger.deposit``/``Ledger.withdraw``, the clock
moves past the 48 h retention and ``History.purge()`` runs, twice.  Bytes
per transaction are the RSS growth divided by the count; the reference is
what one row owns by ``sys.getsizeof`` (the row, its Decimals, datetime,
id, deque slot), so the ratio is the allocator's overhead.  RSS after a
purge is compared with RSS before the fill.  ``--quick`` uses 100,000.
"""

from __future__ import annotations

import json
import subprocess
import sys

from ..context import Context
from ..results import Result, at_most, ratio_at_most
from ..servers import REPO_ROOT

NAME = "memory"
TITLE = "6 memory"
TARGET_BYTES = 1024
TARGET_RSS_RATIO = 1.10
MIB = 1024 * 1024


def run(ctx: Context) -> list[Result]:
    count = 100_000 if ctx.quick else 1_000_000
    done = subprocess.run(
        [sys.executable, "-m", "bench.probes.memory", "--transactions", str(count)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory probe failed ({done.returncode}): {done.stderr[-800:]}")
    m = json.loads(done.stdout)
    (ctx.out / "memory.json").write_text(json.dumps(m, indent=1))
    ctx.log(f"memory: {m}")
    n = m["transactions"]
    t = m["traced"]
    base = m["rss_base"] / MIB
    trim = "" if m["malloc_trim"] else " (no glibc: not trimmed)"
    return [
        Result(
            TITLE,
            f"bytes per retained transaction ({n:,})",
            (m["rss_filled"] - m["rss_base"]) / n,
            "B",
            "bytes one row owns (getsizeof)",
            m["row_own_bytes"],
            at_most(TARGET_BYTES, "B"),
            note=f"RSS {base:.0f} MiB before, {m['rss_filled'] / MIB:.0f} MiB with {n:,} transactions",
        ),
        Result(TITLE, "transactions inserted per second (ledger)", n / m["fill_seconds"], "tx/s"),
        Result(TITLE, f"purge of {m['purged']:,} rows", m["purge_seconds"], "s"),
        Result(
            TITLE,
            "RSS after the 2-day purge",
            m["rss_purged"] / MIB,
            "MiB",
            "RSS before the fill",
            base,
            ratio_at_most(TARGET_RSS_RATIO),
        ),
        Result(
            TITLE,
            "RSS after the purge + malloc_trim" + trim,
            m["rss_purged_trimmed"] / MIB,
            "MiB",
            "RSS before the fill",
            base,
        ),
        Result(
            TITLE,
            "RSS with a 2nd fill (memory reused?)",
            m["rss_filled_again"] / MIB,
            "MiB",
            "RSS with the 1st fill",
            m["rss_filled"] / MIB,
        ),
        Result(
            TITLE,
            f"Python bytes per transaction (tracemalloc, {t['transactions']:,})",
            (t["filled"] - t["before"]) / t["transactions"],
            "B",
            "bytes one row owns (getsizeof)",
            m["row_own_bytes"],
        ),
        Result(
            TITLE,
            "Python bytes left after the purge (tracemalloc)",
            t["purged"] - t["before"],
            "B",
            note="bytes still allocated by Python objects after the purge, against before the fill",
        ),
        Result(
            TITLE,
            "RSS after the 2nd purge",
            m["rss_purged_again"] / MIB,
            "MiB",
            "RSS before the fill",
            base,
            ratio_at_most(TARGET_RSS_RATIO),
        ),
    ]
