"""The in-flight limit on Redis: exact across threads and workers, leases that expire and renew (issue 9)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from simulator.store.redis_limiter import RedisInflightLimiter

LEASE = 1.0


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll instead of sleeping a fixed time: true as soon as ``condition`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def make_limiter(redis_url: str) -> Iterator[Callable[..., RedisInflightLimiter]]:
    """Limiters on the test's Redis (50 in flight, 1 s leases unless told otherwise), closed afterwards."""
    made: list[RedisInflightLimiter] = []

    def make(**options: object) -> RedisInflightLimiter:
        options = {"limit": 50, "lease": LEASE, **options}
        limiter = RedisInflightLimiter(client=redis_url, **options)  # type: ignore[arg-type]
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        limiter.close()


def test_sixty_concurrent_acquires_on_a_limit_of_fifty_refuse_exactly_ten(make_limiter):
    # A long lease: this test counts, it does not expire.  With the 1 s default a granted lease
    # is not yet on the heartbeat's list while its thread waits for the GIL, and on a loaded
    # machine (two CI runs on two cores) it lapsed and its slot was granted again: (54, 6, 50).
    limiter = make_limiter(lease=60.0)
    start = threading.Barrier(60)
    results: list[bool] = []
    results_lock = threading.Lock()

    def hold() -> None:
        start.wait()
        granted = limiter.acquire("demo")
        with results_lock:
            results.append(granted)

    threads = [threading.Thread(target=hold) for _ in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (results.count(True), results.count(False), limiter.in_flight("demo")) == (50, 10, 50)


def test_release_frees_a_slot_for_the_next_request(make_limiter):
    limiter = make_limiter(limit=2)
    assert (limiter.acquire("demo"), limiter.acquire("demo"), limiter.acquire("demo")) == (True, True, False)

    limiter.release("demo")

    assert (limiter.in_flight("demo"), limiter.acquire("demo")) == (1, True)


def test_release_of_every_slot_leaves_no_key_behind(make_limiter, redis_url):
    limiter = make_limiter()
    for _ in range(3):
        limiter.acquire("demo")
    for _ in range(3):
        limiter.release("demo")

    assert redis.Redis.from_url(redis_url).keys("*") == []


def test_release_without_a_slot_held_does_nothing(make_limiter):
    limiter = make_limiter()
    other = make_limiter(worker_id="other")
    other.acquire("demo")

    limiter.release("demo")

    assert other.in_flight("demo") == 1


def test_two_workers_share_one_limit_per_agent(make_limiter):
    first = make_limiter(worker_id="worker-1")
    second = make_limiter(worker_id="worker-2")
    granted_first = sum(first.acquire("demo") for _ in range(30))
    granted_second = sum(second.acquire("demo") for _ in range(30))

    assert (granted_first, granted_second, first.in_flight("demo"), second.in_flight("demo")) == (
        30,
        20,
        50,
        50,
    )


def test_a_worker_releases_only_its_own_slots(make_limiter):
    first = make_limiter(worker_id="worker-1", limit=2)
    second = make_limiter(worker_id="worker-2", limit=2)
    first.acquire("demo")
    second.acquire("demo")

    first.release("demo")
    first.release("demo")

    assert (second.in_flight("demo"), first.acquire("demo"), second.acquire("demo")) == (1, True, False)


def test_limits_of_two_agents_are_counted_apart(make_limiter):
    limiter = make_limiter(limit=1)

    granted = (limiter.acquire("demo"), limiter.acquire("seamless"), limiter.acquire("demo"))

    assert granted == (True, True, False)


def test_slots_of_a_crashed_worker_come_back_when_its_leases_expire(make_limiter):
    crashed = make_limiter(worker_id="crashed", limit=3)
    survivor = make_limiter(worker_id="survivor", limit=3)
    for _ in range(3):
        crashed.acquire("demo")
    assert survivor.acquire("demo") is False

    crashed.close()  # the heartbeat stops; nothing is released, as when the process dies

    assert wait_until(lambda: survivor.in_flight("demo") == 0)
    assert [survivor.acquire("demo") for _ in range(4)] == [True, True, True, False]


def test_heartbeat_keeps_a_slot_held_longer_than_the_lease(make_limiter):
    # 1.5 s leases renewed every 0.5 s: a second of slack for a busy machine.
    holder = make_limiter(worker_id="holder", limit=1, lease=1.5)
    other = make_limiter(worker_id="other", limit=1, lease=1.5)
    holder.acquire("demo")

    time.sleep(4.0)  # more than two lease times: only renewal can keep the slot

    assert (other.in_flight("demo"), other.acquire("demo")) == (1, False)


def test_renew_does_not_revive_an_expired_lease(make_limiter):
    stalled = make_limiter(worker_id="stalled", limit=2)
    live = make_limiter(worker_id="live", limit=2)
    stalled.acquire("demo")
    live.acquire("demo")  # renewed, so the key outlives the stalled lease
    stalled.close()
    assert wait_until(lambda: live.in_flight("demo") == 1)

    assert (stalled.renew(), live.in_flight("demo")) == (0, 1)


def test_keys_of_two_prefixes_do_not_mix(make_limiter):
    blue = make_limiter(prefix="blue:", limit=1)
    green = make_limiter(prefix="green:", limit=1)

    assert (blue.acquire("demo"), green.acquire("demo"), blue.in_flight("demo"), green.in_flight("demo")) == (
        True,
        True,
        1,
        1,
    )


def test_slots_live_under_the_prefixed_inflight_key(make_limiter, redis_url):
    limiter = make_limiter(prefix="sim-a:", worker_id="w1")
    limiter.acquire("demo")

    members = redis.Redis.from_url(redis_url, decode_responses=True).zrange("sim-a:inflight:demo", 0, -1)

    assert members == ["w1:1"]


def test_the_key_of_a_crashed_worker_vanishes_with_its_last_lease(make_limiter, redis_url):
    crashed = make_limiter(worker_id="crashed")
    crashed.acquire("demo")
    crashed.close()
    client = redis.Redis.from_url(redis_url)

    assert wait_until(lambda: client.keys("*") == [])
