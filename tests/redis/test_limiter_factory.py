"""``make_limiter``: the in-flight limiter that ``SCORPIO_SIM_STORE`` selects."""

from __future__ import annotations

from simulator.config import Settings
from simulator.limits import InflightLimiter
from simulator.store.factory import make_limiter
from simulator.store.redis_limiter import RedisInflightLimiter


def test_the_memory_store_gets_the_in_process_limiter():
    limiter = make_limiter(Settings(inflight_limit=7))

    assert (type(limiter), limiter.limit) == (InflightLimiter, 7)


def test_a_redis_store_gets_the_shared_limiter_on_that_server(redis_url):
    limiter = make_limiter(Settings(store=redis_url, inflight_limit=1))
    try:
        granted = (limiter.acquire("demo"), limiter.acquire("demo"))
        assert (type(limiter), granted) == (RedisInflightLimiter, (True, False))
    finally:
        limiter.close()
