"""A real ``redis-server`` for the Redis backend's tests (issue 9).

One server per session on a free loopback port (``simulator.testing.redis_server``);
each test gets it empty.  A missing ``redis-server`` fails the tests with the
command that installs it: a skip would let CI pass without testing Redis at all.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulator.testing.redis_server import RedisServer, RedisServerMissing


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    missing = ""
    try:
        server.start()
    except RedisServerMissing as exc:
        missing = str(exc)
    if missing:
        pytest.fail(missing, pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The server's URL, its data flushed before the test."""
    redis_server.flush()
    return redis_server.url
