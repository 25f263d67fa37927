"""Runs of the "Callback API testing" page: the conformance scenarios in a background thread.

A run against a slow or dead wallet takes as long as its callback timeouts,
so the page starts it in a thread and shows it while it runs: each finished
scenario appears at once (the page reloads itself while the run is going), and
the full report when it ends.  Runs are kept in memory, the latest few per app.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from ..domain.models import Agent
from ..runtime import Simulator
from ..seamless.conformance import ConformanceRunner, Report, ScenarioResult

KEEP_RUNS = 20
log = logging.getLogger("simulator.backoffice")


@dataclass
class ConformanceRun:
    run_id: int
    agent_name: str
    account: str
    callback_url: str
    dialect: str
    started: datetime
    #: Scenarios finished so far, in order (the live progress).
    scenarios: list[ScenarioResult] = field(default_factory=list)
    planned: int | None = None
    report: Report | None = None
    error: str = ""
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> bool:
        return not self.finished.is_set()

    @property
    def counts(self) -> dict[str, int]:
        statuses = [s.status for s in self.scenarios]
        return {status: statuses.count(status) for status in ("PASS", "WARN", "FAIL")}


class _ReportingRunner(ConformanceRunner):
    """The ordinary runner, telling the page about each scenario as it finishes."""

    def __init__(self, run: ConformanceRun, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self._progress = run
        plan = getattr(self, "_plan", None)
        run.planned = len(plan()) if callable(plan) else None

    def _run(self, *args: object) -> ScenarioResult:  # type: ignore[override]
        result = super()._run(*args)  # type: ignore[arg-type]
        self._progress.scenarios.append(result)
        return result


class ConformanceRuns:
    def __init__(self, keep: int = KEEP_RUNS) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._runs: OrderedDict[int, ConformanceRun] = OrderedDict()

    def start(self, sim: Simulator, agent: Agent, account: str) -> ConformanceRun:
        settings = agent.settings
        run = ConformanceRun(
            next(self._ids),
            agent.name,
            account,
            settings.callback_url,
            settings.callback_dialect,
            sim.clock.now(),
        )
        runner = _ReportingRunner(run, sim.callbacks, agent, account, sim.clock, sim.stamps)
        with self._lock:
            self._runs[run.run_id] = run
            while len(self._runs) > self._keep:
                self._runs.popitem(last=False)

        def work() -> None:
            try:
                run.report = runner.run()
                run.scenarios = list(run.report.scenarios)
            except Exception as exc:  # the page must show the run as ended, whatever happened
                log.exception("conformance run %d failed", run.run_id)
                run.error = f"{exc.__class__.__name__}: {exc}"
            finally:
                run.finished.set()

        threading.Thread(target=work, name=f"bo-conformance-{run.run_id}", daemon=True).start()
        return run

    def get(self, run_id: int) -> ConformanceRun | None:
        with self._lock:
            return self._runs.get(run_id)

    def of_agent(self, agent_name: str) -> list[ConformanceRun]:
        """Newest first."""
        with self._lock:
            runs = list(self._runs.values())
        return [r for r in reversed(runs) if r.agent_name.lower() == agent_name.lower()]
