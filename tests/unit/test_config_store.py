"""``SCORPIO_SIM_STORE``: ``memory`` by default, or a Redis URL checked at start (issue 9)."""

from __future__ import annotations

import pytest

from simulator.config import Settings

NOT_A_STORE = "must be 'memory' or a redis://host:port/db URL (or rediss://, unix:///path)"


def store_from_env(value: str) -> str:
    return Settings.from_env({"SCORPIO_SIM_STORE": value}).store


def test_the_store_is_memory_by_default():
    assert Settings.from_env({}).store == "memory"


@pytest.mark.parametrize(
    "url",
    [
        "memory",
        "redis://127.0.0.1:6379/0",
        "redis://redis",
        "redis://:secret@redis.internal:6380/3",
        "rediss://user:secret@redis.example:6380/1",
        "unix:///run/redis/redis.sock",
        "unix:///run/redis/redis.sock?db=2",
    ],
)
def test_memory_and_redis_urls_are_accepted_as_given(url):
    assert store_from_env(url) == url


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Memory", f"{NOT_A_STORE}, got 'Memory'"),
        ("", f"{NOT_A_STORE}, got ''"),
        ("localhost:6379", NOT_A_STORE),
        ("redis://h:port/0", "has a port that is not a number from 0 to 65535, got 'redis://h:port/0'"),
        ("redis://h:70000/0", "has a port that is not a number from 0 to 65535"),
        ("redis:///0", "names no host (redis://host:port/db), got 'redis:///0'"),
        ("redis://h:6379/zero", "has a database that is not a number"),
        ("unix://", "names no socket path (unix:///path/to/redis.sock), got 'unix://'"),
        ("unix:///s.sock?db=x", "has a database that is not a number"),
    ],
)
def test_anything_else_is_refused_at_start_naming_the_setting(value, message):
    with pytest.raises(ValueError) as refused:
        store_from_env(value)

    assert str(refused.value).startswith(f"SCORPIO_SIM_STORE {message}")


def test_a_password_in_a_refused_url_is_not_shown():
    with pytest.raises(ValueError) as refused:
        store_from_env("redis://admin:hunter2@redis:port/0")

    message = str(refused.value)
    assert (message.endswith("got 'redis://***@redis:port/0'"), "hunter2" in message) == (True, False)
