"""Memory of retained transactions, and RSS across a 2-day retention purge (scenario 6).

``python -m bench.probes.memory --transactions 1000000`` builds a
:class:`simulator.runtime.Simulator` (no HTTP), inserts the transactions
through the ledger's normal path (``Ledger.deposit`` / ``Ledger.withdraw`` of
1 for agent demo's first player, as ``wallet/deposit`` and ``wallet/withdraw``
do), moves the controlled clock past the 48 h retention, runs
``Simulator.purge_history()`` (the housekeeper's pass, which trims the heap
after a large purge), and does it all a second time to see whether the freed
memory is reused.  RSS is read from ``/proc/self/status`` after a
``gc.collect()``; ``malloc_trim(0)`` (glibc) then asks malloc to hand free
pages back to the OS, which CPython's allocator does not always do by itself.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import json
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

from simulator.config import Settings
from simulator.domain.history import TRANSACTION_RETENTION
from simulator.domain.models import Transaction
from simulator.runtime import Simulator

DEMO_PLAYER = 400000001


def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def settled_rss() -> int:
    gc.collect()
    return rss()


def malloc_trim() -> bool:
    """glibc's ``malloc_trim(0)``: False where there is no glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        return False
    return True


def fill(sim: Simulator, transactions: int) -> float:
    """Insert ``transactions`` rows (deposit/withdraw pairs of 1); returns the seconds it took."""
    world = sim.world
    agent = world.hierarchy.get("demo")
    user = world.store.users[DEMO_PLAYER]
    deposit, withdraw = world.ledger.deposit, world.ledger.withdraw
    amount = Decimal(1)
    started = time.perf_counter()
    for _ in range(transactions // 2):
        deposit(agent, user, amount)
        withdraw(agent, user, amount)
    return time.perf_counter() - started


def own_bytes(row: Transaction, previous: Transaction) -> int:
    """Bytes of the objects one row owns: itself, its deque slot, and field values no other row shares."""
    shared = {id(getattr(previous, name)) for name in Transaction.__slots__}
    size = sys.getsizeof(row) + 8
    for name in Transaction.__slots__:
        value = getattr(row, name)
        if id(value) in shared or (isinstance(value, int) and -5 <= value <= 256) or value == "":
            continue
        size += sys.getsizeof(value)
    return size


def purge(sim: Simulator) -> tuple[int, float]:
    sim.clock.advance(TRANSACTION_RETENTION.total_seconds() + 1)
    started = time.perf_counter()
    purged = sim.purge_history()  # the housekeeper's pass: purge, then malloc_trim when large
    return purged.transactions, time.perf_counter() - started


def traced(transactions: int) -> dict[str, int]:
    """Python-allocated bytes (tracemalloc) of a second simulator: before, filled, after the purge.

    Tells what RSS cannot: whether any Python object outlives the purge, or
    the RSS left over is memory the allocator keeps for reuse.
    """
    sim = Simulator(Settings())
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    fill(sim, transactions)
    gc.collect()
    filled = tracemalloc.get_traced_memory()[0]
    purge(sim)
    gc.collect()
    purged = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return {"transactions": transactions, "before": before, "filled": filled, "purged": purged}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.probes.memory")
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--traced", type=int, default=100_000, help="transactions of the tracemalloc pass")
    args = parser.parse_args(argv)
    n = args.transactions - args.transactions % 2

    sim = Simulator(Settings())
    figures: dict[str, object] = {"transactions": n}
    figures["rss_base"] = settled_rss()
    figures["fill_seconds"] = fill(sim, n)
    figures["rss_filled"] = settled_rss()
    rows = sim.world.store.transactions[sim.world.hierarchy.get("demo").agent_id]
    figures["row_own_bytes"] = own_bytes(rows[-1], rows[-2])
    figures["purged"], figures["purge_seconds"] = purge(sim)
    figures["rss_purged"] = settled_rss()
    figures["malloc_trim"] = malloc_trim()
    figures["rss_purged_trimmed"] = rss()
    # A second cycle: is the memory the purge freed used again?
    fill(sim, n)
    figures["rss_filled_again"] = settled_rss()
    figures["purged_again"], _ = purge(sim)
    figures["rss_purged_again"] = settled_rss()
    malloc_trim()
    figures["rss_purged_again_trimmed"] = rss()
    del sim
    figures["traced"] = traced(args.traced - args.traced % 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
