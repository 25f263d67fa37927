"""Freed memory goes back to the OS after a large purge (glibc ``malloc_trim``)."""

from __future__ import annotations

import sys

import pytest

from simulator.memtrim import release_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim is Linux-only")
def test_release_freed_memory_trims_the_heap_on_linux():
    assert release_freed_memory() is True


def test_a_large_retention_pass_trims_the_heap(monkeypatch):
    from decimal import Decimal

    import simulator.runtime as runtime
    from simulator.config import Settings

    sim = runtime.Simulator(Settings())
    agent = sim.world.hierarchy.get("demo")
    user = sim.world.store.user(400000001)
    for _ in range(6):
        sim.world.ledger.deposit(agent, user, Decimal(1))
    trims: list[bool] = []
    monkeypatch.setattr(runtime, "TRIM_AFTER_ROWS", 5)
    monkeypatch.setattr(runtime, "release_freed_memory", lambda: trims.append(True) or True)
    sim.clock.advance(3 * 86400)
    purged = sim.purge_history()
    assert purged.transactions >= 6
    assert trims == [True]
    assert sim.purge_history().transactions == 0 and trims == [True]
