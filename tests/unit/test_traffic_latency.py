"""Wallet latency percentiles in bounded memory (simulator.traffic.latency)."""

from __future__ import annotations

import pytest

from simulator.traffic.latency import LatencyHistogram


def test_an_empty_histogram_has_no_percentiles():
    assert LatencyHistogram().summary() == {
        "count": 0,
        "mean": None,
        "p50": None,
        "p90": None,
        "p99": None,
        "max": None,
    }


def test_percentiles_are_within_one_percent_of_the_nearest_rank():
    histogram = LatencyHistogram()
    for ms in range(1, 101):  # 1, 2, ... 100 ms, in any order
        histogram.add(101 - ms)
    assert histogram.percentile(50) == pytest.approx(50, rel=0.01)
    assert histogram.percentile(90) == pytest.approx(90, rel=0.01)
    assert histogram.percentile(99) == pytest.approx(99, rel=0.01)
    assert histogram.percentile(50) >= 50


def test_the_maximum_and_count_are_exact():
    histogram = LatencyHistogram()
    for ms in (3.0, 7.25, 1.5):
        histogram.add(ms)
    summary = histogram.summary()
    assert summary["count"] == 3
    assert summary["max"] == 7.2  # 7.25 rounded to 0.1 ms (half to even)
    assert summary["mean"] == 3.9


def test_a_single_value_is_every_percentile():
    histogram = LatencyHistogram()
    histogram.add(12.5)
    assert [histogram.percentile(p) for p in (1, 50, 99, 100)] == [12.5, 12.5, 12.5, 12.5]


def test_durations_below_the_floor_share_the_first_bucket():
    histogram = LatencyHistogram()
    histogram.add(-1)  # a clock step backwards counts as 0
    histogram.add(0.001)
    assert histogram.count == 2
    assert histogram.min_ms == 0.0
    assert histogram.percentile(50) == histogram.percentile(100) == 0.001


def test_percentiles_never_exceed_the_maximum_seen():
    histogram = LatencyHistogram()
    for _ in range(99):
        histogram.add(1.0)
    histogram.add(1000.0)
    assert histogram.percentile(99) == pytest.approx(1.0, rel=0.01)
    assert histogram.percentile(100) == 1000.0
