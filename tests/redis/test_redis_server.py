"""The test helper that runs a throw-away redis-server (``simulator.testing.redis_server``)."""

from __future__ import annotations

import os

import pytest
import redis

from simulator.testing.redis_server import RedisServer, RedisServerMissing


def test_a_missing_redis_server_says_to_run_make_redis_server():
    with pytest.raises(RedisServerMissing, match="make redis-server"):
        RedisServer(executable="no-such-redis-server-binary").start()


def test_the_server_listens_on_loopback_without_persistence(redis_server):
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)

    assert (
        redis_server.url.startswith("redis://127.0.0.1:"),
        client.config_get("save"),
        client.config_get("appendonly"),
    ) == (True, {"save": ""}, {"appendonly": "no"})


def test_flush_empties_every_database_of_the_server(redis_server):
    db0 = redis.Redis.from_url(redis_server.url)
    db1 = redis.Redis.from_url(redis_server.url.removesuffix("/0") + "/1")
    db0.set("left-over", 1)
    db1.set("left-over", 1)

    redis_server.flush()

    assert (db0.dbsize(), db1.dbsize()) == (0, 0)


def test_stop_ends_the_server_process():
    server = RedisServer().start()
    pid = server._process.pid
    url = server.url

    server.stop()

    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
