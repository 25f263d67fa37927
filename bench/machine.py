"""How much of the machine other work took while a scenario ran.

The bench shares 2 cores with whatever else runs (another test suite, a
build).  :class:`CpuMeter` reads the machine's busy time from ``/proc/stat``
and the CPU time of the bench's own process tree (the harness, its servers,
wrk, probes) from ``/proc/<pid>/stat``; the difference is other work, as a
share of all cores.  A scenario that ran beside much other work has lower
figures, and the run says so.  Linux only; elsewhere the meter reports nothing.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _machine_ticks() -> tuple[int, int] | None:
    """``(total, idle)`` jiffies of all cores since boot."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    return sum(fields), fields[3] + (fields[4] if len(fields) > 4 else 0)


def _proc_stat(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2 :].split()


def own_ticks(root: int | None = None) -> int:
    """CPU jiffies of ``root`` (default: this process) and every live descendant, reaped children included.

    ``utime + stime + cutime + cstime``: a child that exited and was waited for
    counts in its parent's ``cutime``/``cstime``.
    """
    root = os.getpid() if root is None else root
    parents: dict[int, int] = {}
    times: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _proc_stat(int(entry))
        if fields and len(fields) > 14:
            parents[int(entry)] = int(fields[1])
            times[int(entry)] = sum(int(v) for v in fields[11:15])
    total, stack = 0, [root]
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    while stack:
        pid = stack.pop()
        total += times.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


@dataclass
class CpuShare:
    """Shares of all cores over an interval: busy in total, by the bench's processes, by the rest."""

    busy: float
    bench: float

    @property
    def others(self) -> float:
        return max(0.0, self.busy - self.bench)


class CpuMeter:
    """``meter = CpuMeter(); ...; share = meter.stop()``."""

    def __init__(self) -> None:
        self._machine = _machine_ticks()
        self._own = own_ticks() if self._machine else 0
        self._started = time.monotonic()

    def stop(self) -> CpuShare | None:
        machine = _machine_ticks()
        if self._machine is None or machine is None:
            return None
        total = machine[0] - self._machine[0]
        if total <= 0:
            return None
        busy = total - (machine[1] - self._machine[1])
        own = own_ticks() - self._own
        return CpuShare(busy / total, min(own, busy) / total)
