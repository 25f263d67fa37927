"""The simulator's one clock: freeze, advance, set, reset (``/control/clock``)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from simulator.clock import Clock

NOON = datetime(2026, 1, 13, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_new_clock_runs_and_follows_the_wall_clock(clock):
    assert clock.frozen is False
    assert abs(clock.timestamp() - time.time()) < 5


def test_a_frozen_clock_stands_still(clock):
    clock.freeze(True)
    first = clock.timestamp()
    time.sleep(0.01)
    assert (clock.frozen, clock.timestamp()) == (True, first)


def test_set_on_a_frozen_clock_gives_exactly_that_time(clock):
    clock.freeze(True)
    clock.set(NOON)
    assert clock.now() == NOON
    assert clock.millis() == int(NOON.timestamp() * 1000)


def test_advance_on_a_frozen_clock_moves_it_exactly(clock):
    clock.freeze(True)
    clock.set(NOON)
    clock.advance(600)
    assert clock.now() == datetime(2026, 1, 13, 12, 10, tzinfo=UTC)


def test_advance_on_a_running_clock_moves_it_forward(clock):
    before = clock.timestamp()
    clock.advance(3600)
    assert 3600 <= clock.timestamp() - before < 3605


def test_set_on_a_running_clock_keeps_it_running_from_that_time(clock):
    clock.set(NOON)
    assert clock.frozen is False
    assert 0 <= clock.timestamp() - NOON.timestamp() < 5


def test_unfreezing_keeps_the_frozen_time_as_the_new_start(clock):
    clock.freeze(True)
    clock.set(NOON)
    clock.freeze(False)
    assert clock.frozen is False
    assert 0 <= clock.timestamp() - NOON.timestamp() < 5


def test_freezing_twice_keeps_the_first_frozen_time(clock):
    clock.freeze(True)
    clock.set(NOON)
    clock.freeze(True)
    assert clock.now() == NOON


def test_reset_returns_to_the_wall_clock_and_unfreezes(clock):
    clock.freeze(True)
    clock.set(datetime(2030, 1, 1, tzinfo=UTC))
    clock.reset()
    assert clock.frozen is False
    assert abs(clock.timestamp() - time.time()) < 5


def test_now_is_in_utc(clock):
    assert clock.now().tzinfo == UTC
