"""Bonus calls in the domain: funding, steering, status and the 30-minute auto-cancel (spec 8)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from simulator.domain.enums import CallStatus
from simulator.domain.history import History
from simulator.domain.rounds import RoundFailed
from simulator.domain.sessions import LaunchRequest
from tests.conftest import DEMO_USER

POINTS = Decimal(1_000_000)  # demo's fixture points


@pytest.fixture
def agent(sim):
    sim.clock.freeze(True)
    return sim.world.hierarchy.get("demo")


@pytest.fixture
def session(sim, agent):
    launch = sim.world.sessions.launch(agent, LaunchRequest(DEMO_USER, 1, "vs20fruitsw", 1))
    return sim.world.sessions.open(launch.token)


def start(sim, agent, session, set_point=2500, **kwargs):
    return sim.world.bonus.start(agent, session.gplay_id, Decimal(set_point), **kwargs)


def spin(sim, session, stake=100):
    return sim.world.rounds.play(session, Decimal(stake))


def points(sim, agent):
    """The agent's points as the store holds them now (records are values, not live objects)."""
    return sim.world.store.agent(agent.agent_id).points


def now_of(sim, call):
    """The bonus call as the store holds it now."""
    return sim.world.store.bonus_call(call.call_id)


def rows_of(sim, agent, round_id):
    return [
        (tx.trans_type, tx.trans_amount)
        for tx in sim.world.store.transactions_of(agent.agent_id)
        if tx.round_id == round_id
    ]


def test_start_holds_set_point_from_the_agents_points(sim, agent, session):
    start(sim, agent, session, 2500)
    audit = sim.world.ledger.audit()
    assert (points(sim, agent), audit.held) == (POINTS - 2500, 2500)
    assert audit.conserved


def test_call_ids_count_up_from_one(sim, agent, session):
    first = start(sim, agent, session, 1000)
    sim.world.bonus.cancel(agent, first.call_id)
    assert (first.call_id, start(sim, agent, session, 1000).call_id) == (1, 2)


def test_a_new_call_is_init_until_the_first_spin(sim, agent, session):
    call = start(sim, agent, session)
    summary = sim.world.bonus.summary(session)
    assert (summary.call_id, summary.call_status, summary.callend_flag, summary.call_win) == (
        call.call_id,
        CallStatus.INIT,
        False,
        0,
    )


def test_the_first_spin_under_a_call_makes_it_running(sim, agent, session):
    call = start(sim, agent, session, 2500)
    spin(sim, session)
    call = now_of(sim, call)
    assert (call.status, call.paid) == (CallStatus.RUNNING, 1000)


def test_each_spin_pays_ten_stakes_and_the_last_is_cut_to_set_point(sim, agent, session):
    call = start(sim, agent, session, 2500)
    wins = [spin(sim, session).win for _ in range(3)]
    assert wins == [1000, 1000, 500]
    call = now_of(sim, call)
    assert (call.status, call.paid) == (CallStatus.COMPLETE, Decimal(2500))


def test_a_completed_call_gives_the_whole_set_point_back(sim, agent, session):
    start(sim, agent, session, 2500)
    for _ in range(3):
        spin(sim, session)
    audit = sim.world.ledger.audit()
    assert (points(sim, agent), audit.held) == (POINTS, 0)
    assert audit.conserved


def test_a_bonus_spin_records_bet_then_bonus_call_32(sim, agent, session):
    start(sim, agent, session, 2500)
    round_ = spin(sim, session)
    assert rows_of(sim, agent, round_.round_id) == [(1, 100), (32, 1000)]
    assert round_.call_id == 1


def test_the_player_keeps_the_bonus_winnings_and_pays_the_stakes(sim, agent, session):
    before = sim.world.store.user(DEMO_USER).balance
    start(sim, agent, session, 2500)
    for _ in range(3):
        spin(sim, session)
    assert sim.world.store.user(DEMO_USER).balance == before - 300 + 2500


def test_bonus_wins_show_as_call_win_not_as_session_win(sim, agent, session):
    start(sim, agent, session, 2500)
    for _ in range(3):
        spin(sim, session)
    session = sim.world.store.session(session.gplay_id)
    assert (session.spend, session.win, sim.world.bonus.summary(session).call_win) == (300, 0, 2500)


def test_spins_after_completion_are_ordinary_rounds(sim, agent, session):
    start(sim, agent, session, 1000)
    sim.world.forced.push(agent.agent_id, "test1234", [Fraction(5)])
    bonus_round = spin(sim, session)  # the forced outcome waits: the call steers this spin
    ordinary = spin(sim, session)
    assert rows_of(sim, agent, bonus_round.round_id) == [(1, 100), (32, 1000)]
    assert rows_of(sim, agent, ordinary.round_id) == [(1, 100), (2, 500)]
    assert ordinary.call_id == 0


def test_max_win_caps_each_bonus_payout(sim, agent, session):
    sim.world.hierarchy.apply_settings(agent, {"max_win": Decimal(300)})
    start(sim, agent, session, 1000)
    assert [spin(sim, session).win for _ in range(4)] == [300, 300, 300, 100]


def test_cancel_gives_the_points_back_and_what_was_paid_stays_paid(sim, agent, session):
    call = start(sim, agent, session, 2500)
    spin(sim, session)
    balance = sim.world.store.user(DEMO_USER).balance
    sim.world.bonus.cancel(agent, call.call_id)
    call, user = now_of(sim, call), sim.world.store.user(DEMO_USER)
    assert (call.status, call.paid, points(sim, agent), user.balance) == (
        CallStatus.CANCEL,
        1000,
        POINTS,
        balance,
    )
    assert sim.world.bonus.summary(session).callend_flag is True
    assert sim.world.ledger.audit().conserved


def test_a_cancelled_call_no_longer_steers_spins(sim, agent, session):
    call = start(sim, agent, session, 2500)
    sim.world.bonus.cancel(agent, call.call_id)
    sim.world.forced.push(agent.agent_id, "test1234", [Fraction(0)])
    round_ = spin(sim, session)
    assert rows_of(sim, agent, round_.round_id) == [(1, 100), (2, 0)]


def test_a_call_resumes_after_30_minutes_idle(sim, agent, session):
    call = start(sim, agent, session, 2500)
    sim.clock.advance(30 * 60)
    assert sim.world.bonus.expire_idle(agent) == 0
    assert spin(sim, session).win == 1000
    assert now_of(sim, call).status == CallStatus.RUNNING


def test_a_call_idle_for_more_than_30_minutes_is_cancelled_on_read(sim, agent, session):
    call = start(sim, agent, session, 2500)
    sim.clock.advance(30 * 60 + 1)
    assert sim.world.bonus.expire_idle(agent) == 1
    assert (now_of(sim, call).status, points(sim, agent)) == (CallStatus.CANCEL, POINTS)


def test_a_call_idle_for_more_than_30_minutes_is_cancelled_before_the_next_spin(sim, agent, session):
    call = start(sim, agent, session, 2500)
    sim.clock.advance(30 * 60 + 1)
    sim.world.forced.push(agent.agent_id, "test1234", [Fraction(0)])
    round_ = spin(sim, session)
    assert (round_.call_id, round_.win, now_of(sim, call).status, points(sim, agent)) == (
        0,
        0,
        CallStatus.CANCEL,
        POINTS,
    )


def test_a_failed_settlement_pays_nothing_from_the_call(sim, agent, session):
    call = start(sim, agent, session, 2500)
    sim.faults.add({"agent": "demo", "target": "round:settle", "effect": {"fail": True}, "times": 1})
    with pytest.raises(RoundFailed):
        spin(sim, session)
    call = now_of(sim, call)
    assert (call.status, call.paid) == (CallStatus.INIT, 0)
    assert spin(sim, session).win == 1000


def test_bonus_call_wins_count_as_wins_in_the_statistics(sim, agent, session):
    start(sim, agent, session, 2500)
    for _ in range(3):
        spin(sim, session)
    now = sim.clock.now().replace(microsecond=0)
    page = History(sim.world.store, sim.clock).user_totals(
        agent.agent_id, now - timedelta(minutes=1), now + timedelta(minutes=1), 0, 100
    )
    (totals,) = page.items
    assert (totals.slot_bet, totals.slot_win) == (300, 2500)


def test_memo_is_capped_at_200_characters_and_type_is_stored(sim, agent, session):
    call = start(sim, agent, session, 1000, call_type=7, memo="m" * 250)
    assert (len(call.memo), call.type) == (200, 7)


def test_hold_and_return_are_recorded_as_point_movements(sim, agent, session):
    call = start(sim, agent, session, 2500)
    sim.world.bonus.cancel(agent, call.call_id)
    kinds = [(p.kind, p.amount) for p in sim.world.store.all_point_transactions()[-2:]]
    assert kinds == [("call_hold", 2500), ("call_return", 2500)]
