"""The backend ``SCORPIO_SIM_STORE`` selects, and the in-flight limiter it gives."""

from __future__ import annotations

from simulator.backend_factory import open_backend
from simulator.backends import LocalBackend
from simulator.config import Settings
from simulator.limits import InflightLimiter
from simulator.redis_backend import RedisServices
from simulator.store.redis_limiter import RedisInflightLimiter


def test_the_memory_store_gets_the_in_process_limiter():
    backend = open_backend(Settings(inflight_limit=7))
    limiter = backend.limiter(Settings(inflight_limit=7))

    assert (type(backend), type(limiter), limiter.limit) == (LocalBackend, InflightLimiter, 7)


def test_a_redis_store_gets_the_shared_limiter_on_that_server(redis_url):
    settings = Settings(store=redis_url, inflight_limit=1)
    backend = open_backend(settings)
    limiter = backend.limiter(settings)
    try:
        granted = (limiter.acquire("demo"), limiter.acquire("demo"))
        assert (type(backend), type(limiter), granted) == (RedisServices, RedisInflightLimiter, (True, False))
    finally:
        limiter.close()
        backend.close()
