"""Rounds in transfer mode: Bet then Win, refusals, limits, forced outcomes, automatic refund."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from simulator.codes import SimError
from simulator.domain.rounds import RoundFailed
from simulator.domain.sessions import LaunchRequest
from tests.conftest import DEMO_USER


@pytest.fixture
def session(sim):
    agent = sim.world.hierarchy.get("demo")
    launch = sim.world.sessions.launch(agent, LaunchRequest(DEMO_USER, 1, "vs20fruitsw", 1))
    return sim.world.sessions.open(launch.token)


def rows_of_round(sim, round_id):
    agent = sim.world.hierarchy.get("demo")
    return [tx for tx in sim.world.store.transactions_of(agent.agent_id) if tx.round_id == round_id]


def user(sim):
    return sim.world.store.user(DEMO_USER)


def test_a_round_records_bet_then_win_with_the_same_round_id(sim, session):
    round_ = sim.world.rounds.play(session, Decimal(100))
    bet, win = rows_of_round(sim, round_.round_id)
    assert (bet.trans_type, win.trans_type) == (1, 2)
    assert bet.trans_id < win.trans_id
    assert (bet.provider_id, bet.game_code) == (1, "vs20fruitsw")


def test_balances_follow_the_bet_and_the_win(sim, session):
    before = user(sim).balance
    round_ = sim.world.rounds.play(session, Decimal(100))
    bet, win = rows_of_round(sim, round_.round_id)
    assert (bet.prebalance, bet.trans_amount, bet.balance) == (before, Decimal(100), before - 100)
    assert (win.prebalance, win.trans_amount) == (before - 100, round_.win)
    assert user(sim).balance == before - 100 + round_.win


def test_a_losing_round_still_records_a_win_of_zero(sim, session):
    sim.world.forced.push(session.agent_id, "test1234", [Fraction(0)])
    round_ = sim.world.rounds.play(session, Decimal(100))
    _, win = rows_of_round(sim, round_.round_id)
    assert (win.trans_type, win.trans_amount, win.balance) == (2, 0, win.prebalance)


def test_forced_outcomes_pay_their_multiplier_of_the_stake(sim, session):
    sim.world.forced.push(session.agent_id, "TEST1234", [Fraction(5), Fraction(3, 2)])
    assert sim.world.rounds.play(session, Decimal(100)).win == 500
    assert sim.world.rounds.play(session, Decimal(100)).win == 150


def test_a_stake_above_the_balance_is_refused_and_records_nothing(sim, session):
    agent = sim.world.hierarchy.get("demo")
    rows_before = len(sim.world.store.transactions_of(agent.agent_id))
    with pytest.raises(SimError) as refused:
        sim.world.rounds.play(session, user(sim).balance + 100)
    assert refused.value.code == 2006
    assert len(sim.world.store.transactions_of(agent.agent_id)) == rows_before
    assert sim.world.store.rounds_of(agent.agent_id) == []


def test_stakes_outside_the_agents_bet_limits_are_refused(sim, session):
    for stake in (Decimal(99), Decimal(100001), Decimal("100.00001")):
        with pytest.raises(SimError) as refused:
            sim.world.rounds.play(session, stake)
        assert refused.value.code == 1012


def test_an_injected_settlement_fault_refunds_the_stake_with_bet_cancel(sim, session):
    before = user(sim).balance
    sim.faults.add({"agent": "demo", "target": "round:settle", "effect": {"fail": True}, "times": 1})
    with pytest.raises(RoundFailed) as failed:
        sim.world.rounds.play(session, Decimal(100))
    bet, cancel = rows_of_round(sim, failed.value.round.round_id)
    assert (bet.trans_type, cancel.trans_type) == (1, 16)
    assert cancel.trans_amount == 100
    assert user(sim).balance == before
    assert failed.value.round.status == "refunded"
    assert sim.world.ledger.audit().conserved


def test_the_round_after_a_refund_plays_normally(sim, session):
    sim.faults.add({"agent": "demo", "target": "round:settle", "effect": {"fail": True}, "times": 1})
    with pytest.raises(RoundFailed):
        sim.world.rounds.play(session, Decimal(100))
    assert sim.world.rounds.play(session, Decimal(100)).status == "settled"


def test_max_win_caps_a_win(sim, session):
    agent = sim.world.hierarchy.get("demo")
    sim.world.hierarchy.apply_settings(agent, {"max_win": Decimal(250)})
    sim.world.forced.push(agent.agent_id, "test1234", [Fraction(10)])
    assert sim.world.rounds.play(session, Decimal(100)).win == 250


def test_max_win_keeps_engine_outcomes_under_the_cap(sim, session):
    agent = sim.world.hierarchy.get("demo")
    sim.world.hierarchy.apply_settings(agent, {"max_win": Decimal(300)})
    wins = [sim.world.rounds.play(session, Decimal(100)).win for _ in range(200)]
    assert max(wins) <= 300


def test_a_launch_rtp_drives_the_engine_for_that_session(sim):
    agent = sim.world.hierarchy.get("demo")
    launch = sim.world.sessions.launch(agent, LaunchRequest(DEMO_USER, 15, "aviator", 1, rtp=Decimal(80)))
    session = sim.world.sessions.open(launch.token)
    sim.world.ledger.deposit(agent, user(sim), Decimal(900_000))
    staked = won = Decimal(0)
    for _ in range(10_000):
        round_ = sim.world.rounds.play(session, Decimal(100))
        staked += round_.bet
        won += round_.win
    assert abs(won / staked - Decimal("0.80")) < Decimal("0.005")


def test_slot_reels_agree_with_the_win(sim, session):
    from simulator.domain.reels import slot_combination

    sim.world.ledger.deposit(sim.world.hierarchy.get("demo"), user(sim), Decimal(100_000))
    for _ in range(300):
        round_ = sim.world.rounds.play(session, Decimal(100))
        view = round_.view
        assert view["kind"] == "slot"
        line = view["grid"][view["payline"]]
        if round_.win == 0:
            assert not (line[0] == line[1] == line[2])
        else:
            symbol, count = view["paying"]["symbol"], view["paying"]["count"]
            assert line[:count] == [symbol] * count
            assert slot_combination(Fraction(round_.multiplier)) == (symbol, count)


def test_the_same_seed_gives_the_same_rounds():
    from simulator.runtime import Simulator
    from tests.conftest import make_settings

    def play(seed):
        sim = Simulator(make_settings(seed=seed))
        agent = sim.world.hierarchy.get("demo")
        launch = sim.world.sessions.launch(agent, LaunchRequest(DEMO_USER, 1, "vs20fruitsw", 1))
        session = sim.world.sessions.open(launch.token)
        sim.world.ledger.deposit(agent, sim.world.store.user(DEMO_USER), Decimal(100_000))
        return [
            (r.multiplier, str(r.view))
            for r in (sim.world.rounds.play(session, Decimal(100)) for _ in range(50))
        ]

    assert play(7) == play(7)
    assert play(7) != play(8)


def test_ledger_is_conserved_after_many_rounds(sim, session):
    for _ in range(500):
        try:
            sim.world.rounds.play(session, Decimal(100))
        except SimError:
            break
    audit = sim.world.ledger.audit()
    assert audit.conserved
    assert audit.house != 0
