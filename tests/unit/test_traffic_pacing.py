"""Pacing of traffic runs: steady, never early, no burst after a stall (simulator.traffic.pacing)."""

from __future__ import annotations

import pytest

from simulator.traffic.pacing import Pacer


def test_rounds_are_due_one_interval_apart():
    pacer = Pacer(rate=4, start=100.0)
    starts = []
    for _ in range(5):
        now = 100.0 + pacer.wait_for(100.0) if not starts else pacer.due
        pacer.take(now)
        starts.append(now)
    assert starts == [100.0, 100.25, 100.5, 100.75, 101.0]
    assert pacer.issued == 5


def test_the_next_round_waits_for_its_due_time():
    pacer = Pacer(rate=10, start=5.0)
    pacer.take(5.0)
    assert pacer.wait_for(5.04) == pytest.approx(0.06)
    assert pacer.wait_for(5.2) == 0


def test_a_round_cannot_start_before_it_is_due():
    pacer = Pacer(rate=1, start=0.0)
    pacer.take(0.0)
    with pytest.raises(ValueError):
        pacer.take(0.5)


def test_a_slightly_late_round_keeps_the_schedule():
    pacer = Pacer(rate=10, start=0.0)
    pacer.take(0.05)  # 50 ms late, within one interval of slack
    assert pacer.due == pytest.approx(0.1)
    assert pacer.reanchored == 0


def test_a_stall_reanchors_the_schedule_instead_of_bursting():
    pacer = Pacer(rate=10, start=0.0)
    pacer.take(0.0)
    pacer.take(2.0)  # the players were busy for two seconds
    assert pacer.reanchored == 1
    assert pacer.wait_for(2.0) == pytest.approx(0.1)


def test_a_steady_run_issues_exactly_rate_times_duration():
    pacer, now, end = Pacer(rate=20, start=0.0), 0.0, 10.0
    while True:
        now += pacer.wait_for(now)
        if now >= end:
            break
        pacer.take(now)
    assert pacer.issued == 200


def test_the_rate_must_be_positive():
    with pytest.raises(ValueError):
        Pacer(rate=0, start=0.0)
