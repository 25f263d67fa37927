"""The bench harness's own arithmetic: wrk output, targets and ratios, the table, profiles (no network)."""

from __future__ import annotations

import pytest

from bench.machine import CpuShare
from bench.pyspy import parse_collapsed, short_frame
from bench.results import (
    Result,
    above,
    at_least,
    at_most,
    equals,
    format_number,
    ratio_at_least,
    ratio_at_most,
    ratio_of,
    render_table,
    summary_line,
    unavailable,
)
from bench.run import other_work_line, selected
from bench.scenarios.read import median_run, round_order
from bench.scenarios.rtp import parse_rate
from bench.scenarios.seamless import little_bound
from bench.scenarios.writes import pair_rate
from bench.stub_wallet import content_length, wants_close
from bench.wrk import WrkError, WrkRun, parse, time_to_ms

WRK_OUTPUT = """\
Running 10s test @ http://127.0.0.1:18601/v4/user/info
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    37.71ms   24.08ms 272.50ms   68.59%
    Req/Sec   683.47    222.71     1.18k    66.00%
  Latency Distribution
     50%  837.28us
     75%   53.28ms
     90%   65.01ms
     99%    1.04s
  13614 requests in 10.01s, 2.84MB read
  Socket errors: connect 0, read 2, write 1, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:   1360.04
Transfer/sec:    289.47KB
RESULT requests=13614 rps=1360.0 ok_rps=1300.0 code0=13013 code1018=590 other=1 http_non200=4 \
socket_errors=6 p50_ms=0.84 p90_ms=65.01 p99_ms=1040.00 max_ms=1272.50
"""


def test_wrk_summary_is_read():
    run = parse(WRK_OUTPUT)
    assert (run.requests, run.duration_s, run.rps) == (13614, 10.01, 1360.04)


def test_wrk_latency_distribution_is_read_in_milliseconds():
    run = parse(WRK_OUTPUT)
    assert run.latency_ms == {50.0: 0.83728, 75.0: 53.28, 90.0: 65.01, 99.0: 1040.0}
    assert run.p99_ms == 1040.0


def test_wrk_errors_and_result_codes_are_counted():
    run = parse(WRK_OUTPUT)
    assert (run.socket_errors, run.non_2xx, run.ok, run.busy) == (6, 4, 13013, 590)
    assert run.failures == 1 + 4 + 4 + 6


def test_wrk_output_without_lua_counts_has_no_codes():
    run = parse(WRK_OUTPUT.split("RESULT")[0])
    assert (run.ok, run.busy, run.ok_rps) == (None, None, None)


def test_wrk_output_without_summary_is_an_error():
    with pytest.raises(WrkError, match="no wrk summary"):
        parse("unable to connect to 127.0.0.1:1 Connection refused\n")


@pytest.mark.parametrize(
    ("text", "ms"), [("837.28us", 0.83728), ("37.94ms", 37.94), ("1.10s", 1100.0), ("2.00m", 120_000.0)]
)
def test_wrk_times_convert_to_milliseconds(text, ms):
    assert time_to_ms(text) == pytest.approx(ms)


def test_pairs_per_second_count_code_0_answers():
    assert pair_rate(parse(WRK_OUTPUT)) == pytest.approx(13013 / 2 / 10.01)


def test_ratio_is_value_over_reference():
    assert ratio_of(1400.0, 2000.0) == 0.7
    assert ratio_of(1.0, 0.0) is None
    assert ratio_of(None, 2.0) is None


def test_ratio_target_is_judged_on_the_ratio():
    assert Result("1 read", "c=50", 1400.0, "req/s", "bare", 2000.0, ratio_at_least(0.7)).met is True
    assert Result("1 read", "c=50", 1399.0, "req/s", "bare", 2000.0, ratio_at_least(0.7)).met is False
    assert Result("6 memory", "RSS", 55.0, "MiB", "before", 50.0, ratio_at_most(1.1)).met is True


def test_value_targets_are_judged_on_the_value():
    assert Result("5 cold", "start", 0.4, "s", target=at_most(1.0, "s")).met is True
    assert Result("7 rtp", "spins", 999_999.0, "spins/s", target=at_least(1_000_000)).met is False
    assert Result("4 limit", "1018", 10, "answers", target=above(0)).met is True
    assert Result("4 limit", "1018", 1, "answers", target=equals(0)).met is False


def test_a_missing_reference_leaves_a_ratio_target_unjudged():
    row = Result("1 read", "c=50", 1400.0, "req/s", "Prism", None, ratio_at_least(1.0))
    assert (row.ratio, row.met) == (None, None)


def test_an_unavailable_figure_says_why():
    row = unavailable("1 read", "Prism", "req/s", "npm not found")
    assert (row.value, row.note) == (None, "not available: npm not found")


def test_table_shows_ratio_target_and_verdict_with_numbered_notes():
    rows = [
        Result("1 read", "user/info c=50 req/s", 1400.0, "req/s", "bare Flask", 2800.0, ratio_at_least(0.7)),
        Result("5 cold", "start", 0.5, "s", target=at_most(1.0, "s"), note="median of 5"),
    ]
    lines = render_table(rows).splitlines()
    assert lines[0].split() == [
        "scenario",
        "figure",
        "value",
        "reference",
        "ref",
        "value",
        "ratio",
        "target",
        "met",
    ]
    assert lines[2].split()[-7:] == ["2,800", "0.50", ">=", "0.7", "x", "ref", "NO"]
    assert lines[3].endswith("yes  [1]")
    assert lines[4] == "[1] median of 5"
    assert summary_line(rows) == "targets: 1 of 2 met, 1 missed"


@pytest.mark.parametrize(
    ("value", "text"), [(1359.72, "1,360"), (104.07, "104"), (37.94, "37.9"), (0.412, "0.412"), (None, "n/a")]
)
def test_numbers_are_formatted_for_the_table(value, text):
    assert format_number(value) == text


def test_rtp_report_rate_is_read_from_the_elapsed_line():
    report = "  Spins                 2,000,000\n  Elapsed               1.38 s (1,449,749 spins/s)\n"
    assert parse_rate(report) == 1_449_749


def test_littles_law_bound_counts_three_callbacks_per_round():
    assert little_bound(10, 0.020, 0.003) == pytest.approx(10 / 0.063)


def test_collapsed_stacks_give_self_and_total_percentages():
    profile = parse_collapsed(
        "Thread.run (threading.py:982);dispatch (simulator/api/dispatch.py:96);"
        "Logger.info (/usr/lib/python3.11/logging/__init__.py:1489) 3\n"
        "Thread.run (threading.py:982);dispatch (simulator/api/dispatch.py:120) 1\n"
    )
    assert profile.samples == 4
    assert profile.top(profile.own, 1) == [("Logger.info (logging/__init__.py)", 75.0)]
    assert profile.top(profile.total, 5) == [
        ("dispatch (simulator/api/dispatch.py)", 100.0),
        ("Logger.info (logging/__init__.py)", 75.0),
    ]


def test_frames_lose_line_numbers_and_site_packages_prefix():
    frame = "Flask.wsgi_app (/work/.venv/lib/python3.11/site-packages/flask/app.py:1511)"
    assert short_frame(frame) == "Flask.wsgi_app (flask/app.py)"


def test_stub_wallet_reads_content_length_and_connection_close():
    head = b"POST /callback HTTP/1.1\r\nHost: x\r\nContent-Length: 42\r\nConnection: close\r\n\r\n"
    assert content_length(head) == 42
    assert wants_close(head)
    assert content_length(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == 0


def test_scenarios_run_in_issue_order_whatever_order_they_are_named_in():
    assert selected("cold,read") == ["read", "cold"]
    assert selected("") == ["read", "writes", "seamless", "limit", "cold", "memory", "rtp", "redis"]


def test_an_unknown_scenario_is_refused():
    with pytest.raises(SystemExit, match="unknown scenario"):
        selected("read,nope")


def test_other_work_is_the_busy_share_the_bench_did_not_use():
    assert CpuShare(busy=0.9, bench=0.6).others == pytest.approx(0.3)
    assert CpuShare(busy=0.5, bench=0.6).others == 0.0


def test_scenarios_run_beside_other_work_are_named_in_a_warning():
    line = other_work_line({"read": CpuShare(0.95, 0.9), "cold": CpuShare(0.9, 0.5)})
    assert line.splitlines() == [
        "CPU taken by other processes during each scenario (share of all cores): read 5%, cold 40%",
        "WARNING: other work lowered the figures of: cold (rerun on a quiet machine)",
    ]


def _wrk_run(rps: float, p99: float, code0: float = 100.0) -> WrkRun:
    return WrkRun(1000, 10.0, rps, {50.0: p99 / 2, 99.0: p99}, result={"code0": code0})


def test_rounds_of_a_read_cell_give_the_median_of_each_figure():
    rounds: list[WrkRun | str] = [_wrk_run(1900, 40.0), _wrk_run(2100, 60.0), _wrk_run(1500, 50.0)]

    run = median_run(rounds)

    assert isinstance(run, WrkRun)
    assert (run.rps, run.p99_ms, run.latency_ms[50.0]) == (1900, 50.0, 25.0)


def test_rounds_of_a_read_cell_sum_their_counts():
    run = median_run([_wrk_run(1900, 40.0, code0=7), _wrk_run(2100, 60.0, code0=5)])

    assert isinstance(run, WrkRun)
    assert (run.requests, run.duration_s, run.ok) == (2000, 20.0, 12)


def test_a_failed_round_fails_the_read_cell_with_its_reason():
    assert median_run([_wrk_run(1900, 40.0), "wrk exited 1"]) == "wrk exited 1"


def test_read_rounds_take_the_servers_in_order_then_in_reverse():
    labels = ["simulator", "bare Flask", "Prism", "Mockoon"]
    assert [round_order(labels, number) for number in (1, 2, 3)] == [labels, labels[::-1], labels]


def test_the_simulator_and_bare_flask_are_measured_one_after_the_other_in_every_round():
    labels = ["simulator", "bare Flask", "Prism", "Mockoon"]
    for number in range(1, 6):
        order = round_order(labels, number)
        assert abs(order.index("simulator") - order.index("bare Flask")) == 1
