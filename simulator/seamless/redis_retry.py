"""The callback retry queue shared by every worker and host through Redis (spec 6.9, OP-2, issue 9).

Any worker may deliver a pending ``win`` or ``cancel``; a transaction is on the
wire from one worker at a time; nothing pending is lost when a worker dies.
Drop-in for :class:`simulator.seamless.retry.RetryQueue` (same methods, ``jobs``
and ``delay``); attempts still run in a small thread pool, spaced by the same
seeded 2-4 s delay.

Keys under the prefix (all hashes are keyed by job id):

* ``retry:seq`` - the job id counter (``INCR``): ids are unique across workers
  and never reused, since ``clear`` keeps it;
* ``retry:jobs`` - what does not change: agent, command, round, body (JSON);
* ``retry:state``, ``retry:attempts``, ``retry:last`` (callback log entry of
  the last attempt), ``retry:token``, ``retry:misses`` - what does, in fields
  of their own so the scripts never re-encode a body (Lua's cjson would round
  big numbers and mix up ``{}`` and ``[]``);
* ``retry:due`` - pending jobs, scored by due time in ms on the Redis
  server's clock (``TIME``), so hosts whose clocks disagree still agree;
* ``retry:claimed`` - jobs a worker holds, scored by lease expiry.

A worker's poller claims due jobs with one script (``CLAIM``, in
``redis_retry_scripts`` with the others), which first reaps expired claims: a
job whose worker died mid-attempt is due again at once.  A worker claims only
as many jobs as its pool can start now, so a busy worker leaves the rest to
the others.  Each claim carries a
random *token*; while the attempt runs, the poller renews the leases of the
tokens it holds.  Everything a worker does with a job afterwards (reschedule,
fail, settle, replay) is a compare-and-set on that token, so a worker that lost
its claim - lease expired, or the queue cleared - changes nothing.  This
replaces a generation number: ``clear`` deletes every job with its token, ids
are never reused and tokens are random, so a stale token matches nothing.

Settling is at most once: before ``on_settled`` runs, ``BEGIN`` moves the job
to ``settling`` under its token; only one worker can win that step, and a
``settling`` job is never attempted again.  If its worker dies before it
finishes, the reaper forgets the job with a warning rather than deliver it
again (the Win row may then be missing; it is never recorded twice).  The job
stays visible as pending until ``on_settled`` (or ``on_failed``) has run, so
``wait_idle`` returning means the effect is there.

Jobs are bound to a worker's world by ``rebuild(data)``, supplied by the
simulator; ``data`` has ``job_id``, ``agent`` (name), ``command``, ``round_id``,
``key``, ``body``, ``attempts``, ``max_attempts``, ``state`` (``pending`` or
``failed``), ``history`` and ``last_entry_id``.  It returns None when this
worker's world does not know the job; the claim is then handed back, and a job
no worker could bind ``MAX_MISSES`` times in a row (its world was reset away)
is dropped.  An exception from ``rebuild`` (it cannot tell now: the world is
still being built) hands the claim back without counting a miss.  Threads do
not survive ``fork``: build the queue in the worker.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from redis import Redis, RedisError

from ..money import json_default
from . import redis_retry_scripts as lua
from .client import Attempt, CallbackClient
from .replies import Reply
from .retry import RetryJob

log = logging.getLogger("simulator.seamless")

#: Consecutive claims no worker could bind before a job is dropped.
MAX_MISSES = 5
#: Redis states of a job and what ``RetryJob.state`` shows for them.
PUBLIC_STATE = {
    "pending": "pending",
    "attempting": "pending",
    "settling": "pending",
    "failing": "pending",
    "failed": "failed",
    "replaying": "failed",
}
#: The keys every script gets, in this order (``retry:seq`` follows for ``SUBMIT``).
_FIELDS = ("jobs", "state", "attempts", "last", "token", "misses", "due", "claimed")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisRetryQueue:
    """Retry queue whose jobs live in Redis; any worker's poller may claim and deliver them."""

    def __init__(
        self,
        client: CallbackClient,
        seed: int,
        delay: tuple[float, float],
        redis: Redis | str,
        prefix: str,
        origin: str,
        rebuild: Callable[[dict[str, Any]], RetryJob | None],
        workers: int = 8,
        lease: float = 10.0,
        poll: float = 0.25,
    ) -> None:
        if lease <= 0 or poll <= 0:
            raise ValueError("lease and poll must be positive numbers of seconds")
        self._client = client
        self._rng = random.Random(seed)
        self.delay = delay
        self._redis = Redis.from_url(redis) if isinstance(redis, str) else redis
        self._keys = [f"{prefix}retry:{name}" for name in _FIELDS]
        self._seq = f"{prefix}retry:seq"
        self.origin = origin
        self._rebuild = rebuild
        self._workers = workers
        self._lease_ms = max(1, round(lease * 1000))
        self._poll = poll
        self._scripts = {
            name: self._redis.register_script(lua.PRELUDE + getattr(lua, name.upper()))
            for name in ("submit", "claim", "renew", "begin", "finish", "replay")
        }
        self._lock = threading.Condition()
        #: Claims this worker holds (job id -> token): their leases are renewed.
        self._held: dict[int, str] = {}
        self._running = 0
        self._kicked = False
        self._stopped = False
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scorpio-retry")
        self._thread = threading.Thread(target=self._run, name=f"scorpio-retry-{origin}", daemon=True)
        self._thread.start()

    # -- Redis steps -------------------------------------------------------------------------
    def _call(self, name: str, *args: Any, extra_keys: Iterable[str] = ()) -> Any:
        return self._scripts[name](keys=[*self._keys, *extra_keys], args=list(args))

    def _finish(self, job_id: int, token: str, outcome: str, delay_ms: int = 0, last: Any = "") -> int:
        return int(self._call("finish", job_id, token, outcome, delay_ms, last or "", MAX_MISSES))

    def _due_in_ms(self) -> int:
        low, high = self.delay
        with self._lock:
            return round(self._rng.uniform(low, high) * 1000)

    def _token(self) -> str:
        return f"{self.origin}:{secrets.token_hex(6)}"

    # -- submitting --------------------------------------------------------------------------
    def submit(self, job: RetryJob) -> RetryJob:
        """Queue a job: its next attempt (``attempts + 1``) runs after the retry delay, on any worker."""
        return self._store(job, "pending")

    def adopt(self, jobs: list[RetryJob]) -> None:
        """Take jobs restored from a snapshot: pending ones are attempted after the retry delay,
        failed ones wait for a replay ("Win Error")."""
        for job in jobs:
            self._store(job, "failed" if job.state == "failed" else "pending")

    def _store(self, job: RetryJob, state: str) -> RetryJob:
        round_id = job.key.partition(":")[2]
        data = {
            "agent": job.agent.name,
            "command": job.command,
            "round_id": round_id,
            "key": job.key,
            "body": job.body,
            "max_attempts": job.max_attempts,
            "history": job.history,
        }
        encoded = json.dumps(data, default=json_default, separators=(",", ":"))
        last = job.last.entry_id if job.last is not None and job.last.entry_id else ""
        job.job_id = int(
            self._call(
                "submit", encoded, job.attempts, state, self._due_in_ms(), last, extra_keys=[self._seq]
            )
        )
        job.state = state
        with self._lock:
            self._kicked = True
            self._lock.notify_all()
        return job

    # -- the poller --------------------------------------------------------------------------
    def _run(self) -> None:
        renew_every = self._lease_ms / 3000
        next_renew = time.monotonic() + renew_every
        while True:
            with self._lock:
                if self._stopped:
                    return
                capacity = self._workers - self._running
            wait = self._poll
            try:
                if time.monotonic() >= next_renew:
                    self._renew()
                    next_renew = time.monotonic() + renew_every
                due_in = self._claim(capacity)
                if due_in >= 0 and capacity > 0:
                    wait = min(wait, due_in / 1000)
            except RedisError as exc:
                log.warning("retry queue: Redis unavailable (%s); trying again in %.2f s", exc, self._poll)
            with self._lock:
                if not self._stopped and not self._kicked:
                    self._lock.wait(max(0.0, min(wait, next_renew - time.monotonic())))
                self._kicked = False

    def _renew(self) -> None:
        with self._lock:
            pairs = [value for item in self._held.items() for value in item]
        if pairs:
            self._call("renew", self._lease_ms, *pairs)

    def _claim(self, capacity: int) -> int:
        """Claim what is due (up to ``capacity``) and start its attempts; ms until the next due job."""
        claimed, lost, due_in = self._call("claim", self._lease_ms, max(0, capacity), self._token())
        for job_id in lost:
            log.warning(
                "retry job %s: its worker died while settling it; dropped (never settled twice)",
                _text(job_id),
            )
        for raw_id, token, data, attempts, last in claimed:
            job_id, token = int(raw_id), _text(token)
            with self._lock:
                self._held[job_id] = token
                self._running += 1
            try:
                future = self._pool.submit(
                    self._deliver, job_id, token, _text(data), int(attempts), _text(last)
                )
            except RuntimeError:  # stopped meanwhile: hand the claim back
                self._release(job_id, token)
                continue
            future.add_done_callback(
                lambda done, job_id=job_id, token=token: self._cancelled(done, job_id, token)
            )
        return int(due_in)

    def _cancelled(self, future: Future, job_id: int, token: str) -> None:
        """A claim whose attempt never started (the queue stopped) goes back at once, not after its lease."""
        if future.cancelled():
            self._release(job_id, token)

    def _release(self, job_id: int, token: str) -> None:
        try:
            self._finish(job_id, token, "release")
        except RedisError as exc:
            log.warning("retry job %s not handed back (%s); its lease expires", job_id, exc)
        self._done(job_id)

    def _done(self, job_id: int) -> None:
        with self._lock:
            self._held.pop(job_id, None)
            self._running -= 1
            self._kicked = True
            self._lock.notify_all()

    # -- attempts ----------------------------------------------------------------------------
    def _deliver(self, job_id: int, token: str, data: str, attempts: int, last: str) -> None:
        try:
            try:
                job = self._bind(job_id, data, attempts, "pending", last)
            except Exception as exc:  # not now (say, the world is being built): not a miss
                log.warning("retry job %s not bound (%r); tried again after the delay", job_id, exc)
                self._finish(job_id, token, "release", self._due_in_ms())
                return
            if job is None:
                if self._finish(job_id, token, "unbound", self._due_in_ms()) == 2:
                    log.warning("retry job %s dropped: no worker's world knows it", job_id)
                return
            attempt = self._send(job, attempts)
            if job.settles(attempt):
                self._conclude(job, token, attempt, "settled")
            elif attempts >= job.max_attempts:
                self._conclude(job, token, attempt, "failed")
            else:
                self._finish(job_id, token, "pending", self._due_in_ms(), attempt.entry_id)
        except RedisError as exc:
            log.warning("retry job %s: Redis unavailable (%s); its lease expires", job_id, exc)
        except Exception:  # a broken job must not kill the queue
            log.exception("retry job %s failed unexpectedly", job_id)
        finally:
            self._done(job_id)

    def _send(self, job: RetryJob, number: int) -> Attempt:
        """One attempt; a send that raises counts as an unclear one (no usable answer)."""
        job.attempts = number
        try:
            attempt = self._client.send(job.agent, job.command, body=job.body, attempt=number)
        except Exception as exc:
            log.exception("retry of %s failed unexpectedly", job.command)
            reply = Reply(False, problem=f"not sent: {exc.__class__.__name__}")
            attempt = Attempt(job.command, job.body, reply, None, 0.0, reply.problem)
        job.last = attempt
        return attempt

    def _conclude(self, job: RetryJob, token: str, attempt: Attempt, outcome: str) -> bool:
        """Run ``on_settled`` (``outcome`` "settled") or ``on_failed`` ("failed") if this claim still
        holds the job; at most once across all workers."""
        settled = outcome == "settled"
        begin = "settling" if settled else "failing"
        if not self._call("begin", job.job_id, token, begin, self._lease_ms, attempt.entry_id or ""):
            log.info("retry job %s: claim lost while on the wire; taken elsewhere or cleared", job.job_id)
            return False
        try:
            (job.on_settled if settled else job.on_failed)(attempt)
        finally:
            self._finish(job.job_id, token, outcome)
            job.state = outcome
        return True

    def replay(self, job: RetryJob) -> Attempt:
        """Send a failed job once more (same body); settle it if the wallet now accepts it.

        One replay of a job runs at a time across all workers: a replay that finds
        the job already being replayed, or no longer failed, only resends the body.
        Otherwise two replays at once would both settle it - a ``win`` credited
        twice - since the wallet answers the second one 41.
        """
        token = self._token()
        mine, number = self._call("replay", job.job_id, token, self._lease_ms)
        if not mine:
            number = (int(number) if int(number) >= 0 else job.attempts) + 1
            return self._client.send(job.agent, job.command, body=job.body, attempt=number)
        with self._lock:
            self._held[job.job_id] = token
            self._running += 1
        settled = False
        try:
            attempt = self._send(job, int(number))
            if job.settles(attempt):
                settled = self._conclude(job, token, attempt, "settled")
            return attempt
        finally:
            if not settled:
                last = job.last.entry_id if job.last is not None else ""
                self._finish(job.job_id, token, "failed", last=last)
            self._done(job.job_id)

    # -- reading -----------------------------------------------------------------------------
    def _bind(self, job_id: int, encoded: str, attempts: int, state: str, last: str) -> RetryJob | None:
        """The job bound to this worker's world through ``rebuild``; None when the world does not
        know it, an exception (from ``rebuild``) when it cannot tell now."""
        data = json.loads(encoded, parse_float=Decimal)
        data.update(
            job_id=job_id,
            attempts=attempts,
            state=state,
            last_entry_id=int(last) if last else None,
        )
        job = self._rebuild(data)
        if job is None:
            return None
        job.job_id, job.attempts, job.state = job_id, attempts, state
        job.max_attempts, job.key, job.history = data["max_attempts"], data["key"], list(data["history"])
        if job.last is None and data["last_entry_id"] is not None:
            reply = Reply(False, problem="attempted earlier or by another worker; see the callback log")
            job.last = Attempt(job.command, job.body, reply, None, 0.0, entry_id=data["last_entry_id"])
        return job

    def outstanding(self) -> list[RetryJob]:
        """Pending and failed jobs of every worker, oldest first, bound to this worker's world:
        what a snapshot keeps."""
        pipe = self._redis.pipeline(transaction=True)
        for key in self._keys[:4]:
            pipe.hgetall(key)
        jobs, states, attempts, lasts = (
            {int(k): _text(v) for k, v in table.items()} for table in pipe.execute()
        )
        listed = []
        for job_id in sorted(jobs):
            state = PUBLIC_STATE.get(states.get(job_id, ""))
            if state is None:
                continue
            try:
                job = self._bind(
                    job_id, jobs[job_id], int(attempts.get(job_id, 0)), state, lasts.get(job_id, "")
                )
            except Exception as exc:
                log.warning("retry job %s not listed: not bound to this worker's world (%r)", job_id, exc)
                continue
            if job is not None:
                listed.append(job)
        return listed

    @property
    def jobs(self) -> dict[int, RetryJob]:
        """Pending and failed jobs of all workers by id (what the back office lists)."""
        return {job.job_id: job for job in self.outstanding()}

    def pending(self) -> list[RetryJob]:
        return [job for job in self.outstanding() if job.state == "pending"]

    def failed(self) -> list[RetryJob]:
        return [job for job in self.outstanding() if job.state == "failed"]

    def _any_pending(self) -> bool:
        states = self._redis.hvals(self._keys[1])
        return any(PUBLIC_STATE.get(_text(state)) == "pending" for state in states)

    def wait_idle(self, timeout: float) -> bool:
        """For tests and shutdown: wait until no job is pending on any worker."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._any_pending():
                return True
            time.sleep(0.02)
        return not self._any_pending()

    def wait_attempts(self, timeout: float) -> bool:
        """Wait until no attempt or replay runs on this worker (a graceful stop, tests)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._running > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True

    # -- the end -----------------------------------------------------------------------------
    def clear(self) -> None:
        """Forget every job of every worker (reset, restore); one on the wire neither settles nor
        comes back, since its token is gone with it."""
        self._redis.delete(*self._keys)

    def stop(self) -> None:
        """Stop claiming and renewing: attempts running here finish, but a claim whose lease runs
        out meanwhile is delivered by another worker, and this one's late settle is refused."""
        with self._lock:
            self._stopped = True
            self._lock.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)
