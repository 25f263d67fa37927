"""The callback retry queue shared through Redis: retried, failed, replayed, and shared by workers (issue 9).

Each queue instance stands for one worker (its own origin, poller and thread
pool) on the test's real ``redis-server``.  A stub callback client answers as
told and counts deliveries; ``rebuild`` binds stored jobs to callbacks that
count settles and failures.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import redis

from simulator.seamless.client import Attempt
from simulator.seamless.redis_retry import RedisRetryQueue
from simulator.seamless.replies import Reply
from simulator.seamless.retry import RetryJob

DELAY = (0.01, 0.03)
LEASE = 5.0
AGENT = SimpleNamespace(name="demo", agent_id=7)


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll instead of sleeping a fixed time: true as soon as ``condition`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


class StubWallet:
    """A callback client: ``answer(body, attempt)`` gives the result code (None: no usable reply)."""

    def __init__(self, answer: Callable[[dict, int], int | None] = lambda body, number: 0) -> None:
        self.answer = answer
        self.sent: list[tuple[str, int]] = []
        self.entries = itertools.count(1)
        self.lock = threading.Lock()
        self.in_flight: Counter[str] = Counter()
        self.most_at_once = 0
        #: When set, a send waits until ``release`` is set (a worker stuck on the wire).
        self.hold = False
        self.holding = threading.Event()
        self.release = threading.Event()
        self.pause = 0.0

    def send(self, agent: Any, command: str, data: Any = None, *, body: dict, attempt: int = 1) -> Attempt:
        key = body["data"]["round_id"]
        with self.lock:
            self.sent.append((key, attempt))
            self.in_flight[key] += 1
            self.most_at_once = max(self.most_at_once, self.in_flight[key])
            entry_id = next(self.entries)
        try:
            if self.hold:
                self.holding.set()
                self.release.wait(30)
            time.sleep(self.pause)
            result = self.answer(body, attempt)
        finally:
            with self.lock:
                self.in_flight[key] -= 1
        reply = Reply(False, problem="timed out") if result is None else Reply(True, result=result)
        return Attempt(command, body, reply, 200 if result is not None else None, 1.0, entry_id=entry_id)


class Effects:
    """What settles and failures did, by round id, whichever worker ran them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.settled: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.settle_gate: threading.Event | None = None
        self.settling = threading.Event()

    def job(
        self, round_id: str, attempts: int = 1, max_attempts: int = 4, state: str = "pending"
    ) -> RetryJob:
        def settled(_: Attempt) -> None:
            self.settling.set()
            if self.settle_gate is not None:
                self.settle_gate.wait(30)
            with self.lock:
                self.settled[round_id] += 1

        def failed(_: Attempt) -> None:
            with self.lock:
                self.failed[round_id] += 1

        return RetryJob(
            agent=AGENT,  # type: ignore[arg-type]
            command="win",
            body={"command": "win", "check": "x", "data": {"round_id": round_id, "amount": 1.5}},
            settles=lambda attempt: attempt.reply.usable and attempt.reply.result in (0, 41),
            on_settled=settled,
            on_failed=failed,
            max_attempts=max_attempts,
            attempts=attempts,
            state=state,
            key=f"win:{round_id}",
        )

    def rebuild(self, data: dict[str, Any]) -> RetryJob | None:
        return self.job(data["round_id"], data["attempts"], data["max_attempts"], data["state"])


@pytest.fixture
def effects() -> Effects:
    return Effects()


@pytest.fixture
def make_queue(redis_url: str, effects: Effects) -> Iterator[Callable[..., RedisRetryQueue]]:
    """Queues ("workers") on the test's Redis, stopped afterwards."""
    made: list[tuple[RedisRetryQueue, StubWallet]] = []
    workers = itertools.count(1)

    def make(wallet: StubWallet, **options: Any) -> RedisRetryQueue:
        options = {
            "seed": 1,
            "delay": DELAY,
            "prefix": "test:",
            "origin": f"worker-{next(workers)}",
            "rebuild": effects.rebuild,
            "lease": LEASE,
            "poll": 0.02,
            **options,
        }
        queue = RedisRetryQueue(wallet, redis=redis.Redis.from_url(redis_url), **options)  # type: ignore[arg-type]
        made.append((queue, wallet))
        return queue

    yield make
    for queue, wallet in made:
        queue.stop()
        wallet.release.set()
    for queue, _ in made:
        assert queue.wait_attempts(10)


def test_a_job_is_retried_until_it_settles(make_queue, effects):
    wallet = StubWallet(lambda body, number: 0 if number == 3 else None)
    queue = make_queue(wallet)

    queue.submit(effects.job("r1", attempts=1, max_attempts=4))

    assert queue.wait_idle(10)
    assert (wallet.sent, effects.settled["r1"], queue.outstanding()) == ([("r1", 2), ("r1", 3)], 1, [])


def test_a_job_fails_after_max_attempts_and_stays_replayable(make_queue, effects):
    wallet = StubWallet(lambda body, number: None)
    queue = make_queue(wallet)
    queue.submit(effects.job("r1", attempts=1, max_attempts=3))
    assert queue.wait_idle(10)
    (job,) = queue.failed()
    assert (job.attempts, job.state, effects.failed["r1"], effects.settled["r1"]) == (3, "failed", 1, 0)

    wallet.answer = lambda body, number: 0
    attempt = queue.replay(job)

    assert (attempt.reply.result, job.state, job.attempts, effects.settled["r1"]) == (0, "settled", 4, 1)
    assert wallet.sent == [("r1", 2), ("r1", 3), ("r1", 4)]
    assert queue.outstanding() == []


def test_wait_idle_returns_only_after_the_settle_effect_ran(make_queue, effects):
    effects.settle_gate = threading.Event()
    queue = make_queue(StubWallet())
    queue.submit(effects.job("r1"))
    assert effects.settling.wait(10)

    idle_while_settling = queue.wait_idle(0.2)
    effects.settle_gate.set()

    assert (idle_while_settling, queue.wait_idle(10), effects.settled["r1"]) == (False, True, 1)


def test_a_job_submitted_on_one_worker_is_delivered_by_another_when_the_first_stops(make_queue, effects):
    first_wallet, second_wallet = StubWallet(), StubWallet()
    first = make_queue(first_wallet, delay=(0.3, 0.3))
    second = make_queue(second_wallet)

    first.submit(effects.job("r1"))
    first.stop()

    assert second.wait_idle(10)
    assert (first_wallet.sent, second_wallet.sent, effects.settled["r1"]) == ([], [("r1", 2)], 1)


def test_job_ids_are_unique_across_workers(make_queue, effects):
    first = make_queue(StubWallet(), delay=(30, 30))
    second = make_queue(StubWallet(), delay=(30, 30))

    ids = [queue.submit(effects.job(f"r{n}")).job_id for n in range(3) for queue in (first, second)]

    assert sorted(ids) == [1, 2, 3, 4, 5, 6]


def test_each_job_is_delivered_by_one_worker_at_a_time_and_settled_once(make_queue, effects):
    wallet = StubWallet(lambda body, number: 0 if number >= 3 else None)
    wallet.pause = 0.002
    queues = [make_queue(wallet) for _ in range(3)]

    for n in range(50):
        queues[n % 3].submit(effects.job(f"r{n}", attempts=1, max_attempts=5))

    assert queues[0].wait_idle(30)
    deliveries = Counter(key for key, _ in wallet.sent)
    assert wallet.most_at_once == 1
    assert set(deliveries.values()) == {2}
    assert (len(deliveries), set(effects.settled.values()), len(effects.settled)) == (50, {1}, 50)
    assert sorted(wallet.sent) == sorted((f"r{n}", number) for n in range(50) for number in (2, 3))


def test_a_dead_workers_job_is_delivered_by_another_once_its_lease_expires(make_queue, effects):
    stuck = StubWallet()
    stuck.hold = True
    dead = make_queue(stuck, lease=0.5)
    dead.submit(effects.job("r1"))
    assert stuck.holding.wait(10)
    dead.stop()  # its poller stops renewing the lease; the attempt stays on the wire

    alive_wallet = StubWallet()
    alive = make_queue(alive_wallet, lease=0.5)

    assert alive.wait_idle(10)
    assert (alive_wallet.sent, effects.settled["r1"]) == ([("r1", 3)], 1)  # attempt 2 was the dead one's


def test_a_dead_workers_late_settle_is_refused(make_queue, effects):
    stuck = StubWallet()
    stuck.hold = True
    dead = make_queue(stuck, lease=0.5)
    dead.submit(effects.job("r1"))
    assert stuck.holding.wait(10)
    dead.stop()
    alive = make_queue(StubWallet(), lease=0.5)
    assert alive.wait_idle(10)

    stuck.release.set()  # the wallet accepts the dead worker's attempt too, after all

    assert dead.wait_attempts(10)
    assert (stuck.sent, effects.settled["r1"], alive.outstanding()) == ([("r1", 2)], 1, [])


def test_a_worker_that_dies_while_settling_never_gets_the_job_settled_twice(make_queue, effects):
    effects.settle_gate = threading.Event()
    dead = make_queue(StubWallet(), lease=0.5)
    dead.submit(effects.job("r1"))
    assert effects.settling.wait(10)
    dead.stop()  # stuck in on_settled: its lease runs out

    alive_wallet = StubWallet()
    alive = make_queue(alive_wallet, lease=0.5)

    assert alive.wait_idle(10)
    effects.settle_gate.set()
    assert dead.wait_attempts(10)
    assert (alive_wallet.sent, effects.settled["r1"], alive.outstanding()) == ([], 1, [])


def test_clear_drops_the_jobs_of_every_worker(make_queue, effects):
    first = make_queue(StubWallet(), delay=(30, 30))
    second = make_queue(StubWallet(), delay=(30, 30))
    first.submit(effects.job("r1"))
    second.submit(effects.job("r2"))
    second.adopt([effects.job("r3", attempts=4, state="failed")])

    first.clear()

    assert (first.outstanding(), second.outstanding(), second.jobs, first.wait_idle(0)) == ([], [], {}, True)


def test_a_job_on_the_wire_during_clear_neither_settles_nor_comes_back(make_queue, effects):
    wallet = StubWallet(lambda body, number: 0 if body["data"]["round_id"] == "accepted" else None)
    wallet.hold = True
    queue = make_queue(wallet)
    queue.submit(effects.job("accepted"))
    queue.submit(effects.job("unclear"))
    assert wait_until(lambda: len(wallet.sent) == 2)

    make_queue(StubWallet()).clear()
    wallet.release.set()
    assert queue.wait_attempts(10)
    time.sleep(0.2)  # ten retry delays: a job that came back would be sent again by now

    assert (sorted(wallet.sent), sum(effects.settled.values()), queue.outstanding()) == (
        [("accepted", 2), ("unclear", 2)],
        0,
        [],
    )


def test_outstanding_lists_the_pending_and_failed_jobs_of_all_workers(make_queue, effects):
    first = make_queue(StubWallet(), delay=(30, 30))
    second = make_queue(StubWallet(), delay=(30, 30))
    first.submit(effects.job("r1"))
    second.adopt([effects.job("r2", attempts=4, state="failed")])

    for queue in (first, second):
        listed = [(job.job_id, job.key, job.state, job.attempts) for job in queue.outstanding()]
        assert listed == [(1, "win:r1", "pending", 1), (2, "win:r2", "failed", 4)]
        assert ([job.key for job in queue.pending()], [job.key for job in queue.failed()]) == (
            ["win:r1"],
            ["win:r2"],
        )
        assert sorted(queue.jobs) == [1, 2]


def test_a_job_keeps_its_body_and_last_callback_entry_across_workers(make_queue, effects):
    queue = make_queue(StubWallet(), delay=(30, 30))
    job = effects.job("r1")
    job.last = Attempt("win", job.body, Reply(False, problem="timed out"), None, 1.0, entry_id=41)
    queue.submit(job)

    (listed,) = make_queue(StubWallet()).outstanding()

    assert (listed.body, listed.last.entry_id, listed.max_attempts) == (job.body, 41, 4)


def test_replays_of_a_failed_job_on_two_workers_at_once_settle_it_once(make_queue, effects):
    wallet = StubWallet()
    wallet.pause = 0.05
    first, second = make_queue(wallet), make_queue(wallet)
    first.adopt([effects.job("r1", attempts=4, state="failed")])
    jobs = [first.failed()[0], second.failed()[0], first.failed()[0], second.failed()[0]]
    start = threading.Barrier(4)

    def replay(queue: RedisRetryQueue, job: RetryJob) -> None:
        start.wait()
        queue.replay(job)

    threads = [
        threading.Thread(target=replay, args=(queue, job))
        for queue, job in zip((first, second, first, second), jobs, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert (len(wallet.sent), effects.settled["r1"], first.outstanding()) == (4, 1, [])
    assert [job.state for job in jobs].count("settled") == 1


def test_a_failed_replay_leaves_the_job_failed_for_the_next_one(make_queue, effects):
    wallet = StubWallet(lambda body, number: None)
    queue = make_queue(wallet)
    queue.adopt([effects.job("r1", attempts=4, state="failed")])

    queue.replay(queue.failed()[0])

    (job,) = queue.failed()
    assert (job.attempts, wallet.sent, effects.settled["r1"]) == (5, [("r1", 5)], 0)


def test_a_job_no_worker_can_rebuild_is_dropped_after_repeated_misses(make_queue, effects, redis_url):
    wallet = StubWallet()
    queue = make_queue(wallet, rebuild=lambda data: None)

    queue.submit(effects.job("r1"))

    assert queue.wait_idle(10)
    assert (wallet.sent, redis.Redis.from_url(redis_url).hlen("test:retry:jobs")) == ([], 0)


def test_concurrent_replays_on_two_workers_take_the_failed_job_once(make_queue, effects):
    wallet = StubWallet(lambda body, number: None)
    wallet.pause = 0.05
    first, second = make_queue(wallet), make_queue(wallet)
    first.adopt([effects.job("r1", attempts=4, state="failed")])
    jobs = [first.failed()[0], second.failed()[0], first.failed()[0], second.failed()[0]]
    start = threading.Barrier(4)

    def replay(queue: RedisRetryQueue, job: RetryJob) -> None:
        start.wait()
        queue.replay(job)

    threads = [
        threading.Thread(target=replay, args=(queue, job))
        for queue, job in zip((first, second, first, second), jobs, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    (job,) = second.failed()
    assert (len(wallet.sent), job.attempts, effects.failed["r1"]) == (4, 5, 0)


def test_a_long_attempt_keeps_its_claim_while_its_worker_lives(make_queue, effects):
    slow = StubWallet()
    slow.pause = 1.5
    first = make_queue(slow, lease=0.6)
    first.submit(effects.job("r1"))
    assert wait_until(lambda: len(slow.sent) == 1)
    other_wallet = StubWallet()
    make_queue(other_wallet, lease=0.6)

    assert first.wait_idle(10)
    assert (slow.sent, other_wallet.sent, effects.settled["r1"]) == ([("r1", 2)], [], 1)


def test_a_job_whose_rebuild_raises_is_tried_again_later_without_losing_an_attempt(make_queue, effects):
    failures = iter([RuntimeError("world not built yet")] * 2)

    def rebuild(data: dict[str, Any]) -> RetryJob | None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return effects.rebuild(data)

    wallet = StubWallet()
    queue = make_queue(wallet, rebuild=rebuild)

    queue.submit(effects.job("r1"))

    assert queue.wait_idle(10)
    assert (wallet.sent, effects.settled["r1"]) == ([("r1", 2)], 1)
