"""The background retry queue for ``win`` and ``cancel`` (spec 6.9, OP-2).

A job keeps its request body - same transaction id, same check string - across
attempts, spaced 2-4 s apart (random in range, seeded).  After the last failed
attempt the job is left failed ("Win Error" in the back office) and can be
replayed through the control API.  Attempts run in a small thread pool, so a
hanging wallet holds one worker for at most its timeout and never a lock.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..domain.models import Agent
from .client import Attempt, CallbackClient

log = logging.getLogger("simulator.seamless")

#: Attempts in all (first + retries) per command and profile (OP-2).
PROFILES = {
    "default": {"win": 4, "cancel": 4, "balance": 3},
    "extended": {"win": 51, "cancel": 51, "balance": 4},
}


@dataclass
class RetryJob:
    """One transaction to deliver: ``settles(reply)`` says whether an attempt ended it."""

    agent: Agent
    command: str
    body: dict[str, Any]
    settles: Callable[[Attempt], bool]
    on_settled: Callable[[Attempt], None]
    on_failed: Callable[[Attempt], None]
    max_attempts: int
    attempts: int = 1
    state: str = "pending"
    key: str = ""
    last: Attempt | None = None
    job_id: int = 0
    history: list[int] = field(default_factory=list)


class RetryQueue:
    def __init__(
        self,
        client: CallbackClient,
        seed: int,
        delay: tuple[float, float] = (2.0, 4.0),
        workers: int = 8,
    ) -> None:
        self._client = client
        self._rng = random.Random(seed)
        self.delay = delay
        self._heap: list[tuple[float, int, RetryJob]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scorpio-retry")
        self._stopped = False
        self.jobs: dict[int, RetryJob] = {}
        #: Failed jobs a replay is sending right now (job ids): one replay of a job at a time.
        self._replaying: set[int] = set()
        self._thread = threading.Thread(target=self._run, name="scorpio-retry-queue", daemon=True)
        self._thread.start()

    def _due_in(self) -> float:
        low, high = self.delay
        return self._rng.uniform(low, high)

    def submit(self, job: RetryJob) -> RetryJob:
        """Queue a job: its next attempt (``attempts + 1``) runs after the retry delay."""
        with self._lock:
            job.job_id = next(self._ids)
            self.jobs[job.job_id] = job
            heapq.heappush(self._heap, (time.monotonic() + self._due_in(), job.job_id, job))
            self._lock.notify()
        return job

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._lock.wait(timeout)
                if self._stopped:
                    return
                _, _, job = heapq.heappop(self._heap)
            self._pool.submit(self._attempt, job)

    def _attempt(self, job: RetryJob) -> None:
        job.attempts += 1
        try:
            attempt = self._client.send(job.agent, job.command, body=job.body, attempt=job.attempts)
        except Exception:  # a broken job must not kill the queue
            log.exception("retry of %s failed unexpectedly", job.command)
            return
        job.last = attempt
        if job.state != "pending":
            # Dropped while on the wire (a reset or a restore replaced the world): the job
            # belongs to a world that is gone, so it neither settles there nor comes back.
            return
        # The state changes once the job's effect is recorded, so a job that is no
        # longer pending has settled (or failed) for whoever waits on it (wait_idle).
        if job.settles(attempt):
            try:
                job.on_settled(attempt)
            finally:
                job.state = "settled"
        elif job.attempts >= job.max_attempts:
            try:
                job.on_failed(attempt)
            finally:
                job.state = "failed"
        else:
            with self._lock:
                if job.state == "pending":  # not dropped meanwhile
                    heapq.heappush(self._heap, (time.monotonic() + self._due_in(), job.job_id, job))
                    self._lock.notify()

    def pending(self) -> list[RetryJob]:
        with self._lock:
            return [job for job in self.jobs.values() if job.state == "pending"]

    def failed(self) -> list[RetryJob]:
        return [job for job in list(self.jobs.values()) if job.state == "failed"]

    def replay(self, job: RetryJob) -> Attempt:
        """Send a failed job once more (same body); settle it if the wallet now accepts it.

        One replay of a job runs at a time: a replay that finds the job already being
        replayed, or no longer failed, only resends the body.  Otherwise two replays at
        once (two clicks, two test runners) would both settle it - a ``win`` credited
        twice, with two Win rows - since the wallet answers the second one 41.
        """
        with self._lock:
            mine = job.state == "failed" and job.job_id not in self._replaying
            if mine:
                self._replaying.add(job.job_id)
                job.attempts += 1
            number = job.attempts if mine else job.attempts + 1
        if not mine:
            return self._client.send(job.agent, job.command, body=job.body, attempt=number)
        try:
            attempt = self._client.send(job.agent, job.command, body=job.body, attempt=number)
            job.last = attempt
            if job.settles(attempt):
                job.state = "settled"
                job.on_settled(attempt)
            return attempt
        finally:
            with self._lock:
                self._replaying.discard(job.job_id)

    def outstanding(self) -> list[RetryJob]:
        """Pending and failed jobs, oldest first: what a snapshot keeps."""
        with self._lock:
            jobs = [job for job in self.jobs.values() if job.state in ("pending", "failed")]
        return sorted(jobs, key=lambda job: job.job_id)

    def adopt(self, jobs: list[RetryJob]) -> None:
        """Take jobs restored from a snapshot: pending ones are attempted after the retry delay,
        failed ones wait for a replay ("Win Error")."""
        for job in jobs:
            if job.state == "failed":
                with self._lock:
                    job.job_id = next(self._ids)
                    self.jobs[job.job_id] = job
            else:
                self.submit(job)

    def clear(self) -> None:
        """Forget every job (reset, restore); one still on the wire is not rescheduled."""
        with self._lock:
            self._heap.clear()
            for job in self.jobs.values():
                if job.state in ("pending", "failed"):
                    job.state = "dropped"
            self.jobs.clear()

    def wait_idle(self, timeout: float) -> bool:
        """For tests and shutdown: wait until no job is pending."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.pending():
                return True
            time.sleep(0.01)
        return not self.pending()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify_all()
        self._pool.shutdown(wait=False, cancel_futures=True)
