"""The hot path's Redis connection (``simulator.store.redis_wire.Wire``): it survives what
redis-py's own client survives, so a worker never answers from a broken connection."""

from __future__ import annotations

import os

import pytest
import redis
from redis.exceptions import ResponseError

from simulator.store.redis_wire import Script, Wire

_ECHO = Script("return ARGV[1]")


@pytest.fixture
def client(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_a_script_runs_again_after_the_server_forgot_it(client):
    wire = Wire.of(client)
    assert wire.script(_ECHO, "first") == b"first"

    client.script_flush()

    assert wire.script(_ECHO, "second") == b"second"


def test_a_killed_connection_is_replaced_at_the_next_command(client):
    wire = Wire.of(client)
    wire.call("SET", "wire:key", "1")
    client.client_kill_filter(_id=int(wire.call("CLIENT", "ID")))

    assert wire.call("GET", "wire:key") == b"1"


def test_an_error_reply_in_a_pipeline_takes_its_place_and_the_rest_still_run(client):
    wire = Wire.of(client)
    client.set("wire:text", "not a number")

    replies = wire.pipeline([("INCR", "wire:text"), ("SET", "wire:after", "2"), ("GET", "wire:after")])

    assert (type(replies[0]), replies[1:]) == (ResponseError, [b"OK", b"2"])
    assert wire.call("GET", "wire:after") == b"2"


def test_an_error_reply_raises_and_leaves_the_connection_usable(client):
    wire = Wire.of(client)
    client.set("wire:text", "not a number")

    with pytest.raises(ResponseError):
        wire.call("INCR", "wire:text")

    assert wire.call("GET", "wire:text") == b"not a number"


def test_one_client_has_one_wire(client):
    assert Wire.of(client) is Wire.of(client)


def test_a_forked_child_opens_its_own_connection(client):
    wire = Wire.of(client)
    parent_id = wire.call("CLIENT", "ID")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the id of the connection it uses, then leave at once
        try:
            os.write(write, str(int(wire.call("CLIENT", "ID"))).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child_id = int(os.read(read, 64) or b"0")
    os.close(read)

    assert child_id not in (0, int(parent_id))
    assert wire.call("CLIENT", "ID") == parent_id
