"""What every scenario gets: the run's settings, its output directory and the shared simulator."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .pyspy import profile_under_load
from .servers import Server, SimApi, start_simulator


@dataclass
class Context:
    #: Logs, generated reference files, raw wrk output and profiles of this run.
    out: Path
    quick: bool = False
    #: Seconds of load per measured cell (wrk runs, seamless runs).
    duration: float = 10.0
    profile: bool = True
    profiles: dict[str, Any] = field(default_factory=dict)
    _sim: Server | None = None
    _started: float = field(default_factory=time.monotonic)

    def log(self, message: str) -> None:
        print(f"[bench {time.monotonic() - self._started:6.1f}s] {message}", file=sys.stderr, flush=True)

    @property
    def wrk_log(self) -> Path:
        return self.out / "wrk.txt"

    def simulator(self) -> Server:
        """The simulator under test, started once per run (and reset by each scenario)."""
        if self._sim is None or not self._sim.proc.alive():
            self.log("starting the simulator (gunicorn --config gunicorn.conf.py)")
            self._sim = start_simulator(self.out)
        return self._sim

    @property
    def profile_seconds(self) -> float:
        """Seconds per profile view: at least 10, so each has some hundreds of samples."""
        return max(10.0, self.duration)

    def record_profile(self, key: str, stem: str, load: Callable[[float], object]) -> None:
        """py-spy (both views) on the simulator's worker while ``load(seconds)`` runs; kept in the results."""
        views = profile_under_load(self.simulator().worker_pid(), self.profile_seconds, self.out, stem, load)
        self.profiles[key] = views
        self.log(f"profile of {key}: see {self.out / (stem + '-summary.txt')}")

    def api(self) -> SimApi:
        return SimApi(self.simulator().base_url)

    def close(self) -> None:
        if self._sim is not None:
            self._sim.stop()
            self._sim = None
