"""The traffic runs of one simulator: start, look up, list, stop.

Kept beside the simulator (the control API stores one in ``app.extensions``),
not inside its world: a run outlives nothing, though - it stops by itself
when ``/control/reset`` replaces the world it was started on.
"""

from __future__ import annotations

import threading
from typing import Any

from ..codes import ResultCode, SimError
from .plan import TrafficPlan, prepare
from .run import TrafficRun

#: Runs playing at once; more would only measure the simulator against itself.
MAX_RUNNING = 4
#: Finished runs kept for ``GET`` (oldest forgotten first).
KEEP_FINISHED = 20


class TrafficRuns:
    def __init__(self, sim: Any) -> None:
        self._sim = sim
        self._lock = threading.Lock()
        self._runs: dict[int, TrafficRun] = {}
        self._next_id = 1

    def start(self, plan: TrafficPlan) -> TrafficRun:
        with self._lock:
            running = [run for run in self._runs.values() if not run.finished]
            if len(running) >= MAX_RUNNING:
                raise SimError(
                    ResultCode.SERVER_IS_BUSY,
                    f"{len(running)} traffic runs are running already (at most {MAX_RUNNING}); "
                    "stop one with DELETE /control/traffic/<id>",
                )
            prepared = prepare(self._sim.world, plan, self._next_id)
            run = TrafficRun(self._next_id, self._sim, prepared)
            self._next_id += 1
            self._runs[run.run_id] = run
            self._forget_old()
        run.start()
        return run

    def _forget_old(self) -> None:
        finished = [run_id for run_id, run in self._runs.items() if run.finished]
        for run_id in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._runs[run_id]

    def get(self, run_id: int) -> TrafficRun | None:
        return self._runs.get(run_id)

    def all(self) -> list[TrafficRun]:
        with self._lock:
            return list(self._runs.values())

    def stop_all(self, timeout: float = 0) -> None:
        for run in self.all():
            run.stop()
        for run in self.all():
            run.wait(timeout)
