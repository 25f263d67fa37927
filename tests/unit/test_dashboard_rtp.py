"""The dashboard's reading of a realised RTP: its 95 % range and verdict (issue 16, item 10)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from simulator.backoffice.dashboard import Z95, PayTables, RtpTotals
from simulator.domain.models import Agent, AgentSettings, Round
from simulator.domain.rtp import DECK_SIZE, RtpEngine

NOW = datetime(2026, 1, 13, 12, tzinfo=UTC)
STREAM = ("agent", 1, "vs20fruitsw")
ZERO_WIN = Decimal(0)


def totals(rounds: int, variance: float, stake: str = "1", rtp: str = "95") -> RtpTotals:
    """``rounds`` equal stakes of one stream, paying ``rtp`` % in all."""
    result = RtpTotals()
    bet = Decimal(stake)
    for _ in range(rounds):
        result.add_round(bet, ZERO_WIN, STREAM, variance)
    result.win = bet * rounds * Decimal(rtp) / 100
    return result


def test_the_range_of_a_few_rounds_is_that_of_independent_rounds() -> None:
    assert totals(100, 4.0).half_width() == pytest.approx(Z95 * math.sqrt(4.0 * 100) / 100 * 100)


def test_the_range_does_not_depend_on_the_stake_size() -> None:
    assert totals(100, 4.0, stake="250").half_width() == pytest.approx(totals(100, 4.0).half_width())


def test_a_stream_longer_than_half_a_deck_varies_as_half_a_deck() -> None:
    rounds = 3 * DECK_SIZE
    expected = Z95 * math.sqrt(4.0 * DECK_SIZE / 2) / rounds * 100
    assert totals(rounds, 4.0).half_width() == pytest.approx(expected)


def test_streams_add_their_variances() -> None:
    both = RtpTotals()
    for _ in range(100):
        both.add_round(Decimal(1), ZERO_WIN, ("a",), 4.0)
        both.add_round(Decimal(1), ZERO_WIN, ("b",), 12.0)
    assert both.half_width() == pytest.approx(Z95 * math.sqrt(4.0 * 100 + 12.0 * 100) / 200 * 100)


def test_no_stake_has_no_range() -> None:
    assert RtpTotals().half_width() is None
    assert RtpTotals().band(95.0) is None
    assert RtpTotals().verdict(95.0) == ""


def test_the_range_never_goes_below_zero() -> None:
    low, high = totals(5, 158.8).band(95.0)
    assert low == 0.0
    assert high == pytest.approx(95.0 + Z95 * math.sqrt(158.8 * 5) / 5 * 100)


def test_61_percent_after_265_slot_rounds_reads_as_too_few_rounds() -> None:
    variance = float(RtpEngine(1).table(1, "vs20fruitsw", "Slots", Decimal(95)).variance())
    reading = totals(265, variance, rtp="61")
    assert reading.rounds == 265
    assert reading.rtp == pytest.approx(61.0)
    assert reading.verdict(95.0) == "too few rounds"


def test_a_realised_rtp_inside_a_narrow_range_is_on_target() -> None:
    assert totals(20_000, 1.0, rtp="95.5").verdict(95.0) == "on target"


def test_a_realised_rtp_outside_the_range_says_so() -> None:
    assert totals(20_000, 1.0, rtp="90").verdict(95.0) == "outside the range"


def test_pay_tables_give_the_variance_of_the_table_the_round_was_dealt_from() -> None:
    engine = RtpEngine(7)
    agent = Agent(3, "demo", "agent", None, "", Decimal(0), AgentSettings(rtp=Decimal(90)), NOW)
    round_ = Round("r1", 3, 400000001, 1, 1, "sim_live_baccarat", "Live", Decimal(100), NOW)
    key, variance = PayTables(engine)(agent, round_)
    assert key == (3, 1, "sim_live_baccarat", "Live", Decimal(90), None)
    assert variance == float(engine.table(1, "sim_live_baccarat", "Live", Decimal(90)).variance())


def test_pay_tables_follow_the_max_win_cap_relative_to_the_stake() -> None:
    engine = RtpEngine(7)
    settings = AgentSettings(rtp=Decimal(95), max_win=Decimal(500))
    agent = Agent(3, "demo", "agent", None, "", Decimal(0), settings, NOW)
    round_ = Round("r1", 3, 400000001, 1, 1, "vs20fruitsw", "Slots", Decimal(100), NOW)
    key, variance = PayTables(engine)(agent, round_)
    assert key[-1] == Fraction(5)
    assert variance == float(engine.table(1, "vs20fruitsw", "Slots", Decimal(95), Fraction(5)).variance())
