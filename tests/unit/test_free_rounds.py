"""Free rounds in the domain: grant, play first at no cost, win cap, expiry, cancel (spec 9, OP-17)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from simulator.codes import SimError
from simulator.domain.freerounds import FreeRoundRequest
from simulator.domain.rounds import RoundFailed
from simulator.domain.sessions import LaunchRequest
from tests.conftest import DEMO_USER

HALF_HOUR_MS = 30 * 60 * 1000


@pytest.fixture
def agent(sim):
    sim.clock.freeze(True)
    return sim.world.hierarchy.get("demo")


def open_session(sim, agent, game_code="vs20fruitsw"):
    launch = sim.world.sessions.launch(agent, LaunchRequest(DEMO_USER, 1, game_code, 1))
    return sim.world.sessions.open(launch.token)


@pytest.fixture
def session(sim, agent):
    return open_session(sim, agent)


def grant(sim, agent, rounds=3, bet=200, win=0, lifetime_ms=HALF_HOUR_MS, game_code="vs20fruitsw"):
    request = FreeRoundRequest(
        DEMO_USER, 1, game_code, Decimal(bet), rounds, sim.clock.millis() + lifetime_ms, Decimal(win)
    )
    return sim.world.free_rounds.grant(agent, request)


def force(sim, agent, *multipliers):
    sim.world.forced.push(agent.agent_id, "test1234", [Fraction(m) for m in multipliers])


def rows_of(sim, agent, round_id):
    return [
        (tx.trans_type, tx.trans_amount, tx.balance - tx.prebalance)
        for tx in sim.world.store.transactions_of(agent.agent_id)
        if tx.round_id == round_id
    ]


def test_fr_ids_carry_the_user_code_and_a_six_digit_sequence(sim, agent):
    assert [grant(sim, agent).fr_id for _ in range(2)] == ["FR-400000001-000001", "FR-400000001-000002"]


def test_an_expiration_exactly_30_minutes_ahead_is_accepted(sim, agent):
    assert grant(sim, agent, lifetime_ms=HALF_HOUR_MS).rounds == 3


def test_an_expiration_under_30_minutes_ahead_is_a_validation_error(sim, agent):
    with pytest.raises(SimError) as refused:
        grant(sim, agent, lifetime_ms=HALF_HOUR_MS - 1)
    assert refused.value.code == 1002
    assert refused.value.field_errors == [
        {"field": "expirationDate", "message": "[expirationDate] must be at least 30 minutes from now"}
    ]


def test_a_free_round_is_played_first_with_a_bet_of_zero(sim, agent, session):
    grant(sim, agent, bet=200)
    force(sim, agent, 3)
    round_ = sim.world.rounds.play(session, Decimal(100))
    assert (round_.free, round_.fr_id, round_.bet, round_.win) == (True, "FR-400000001-000001", 0, 600)
    assert rows_of(sim, agent, round_.round_id) == [(1, 0, 0), (2, 600, 600)]


def test_a_free_round_costs_the_player_nothing(sim, agent, session):
    before = sim.world.store.user(DEMO_USER).balance
    grant(sim, agent)
    force(sim, agent, 0)
    sim.world.rounds.play(session, Decimal(100))
    assert sim.world.store.user(DEMO_USER).balance == before


def test_paid_rounds_resume_when_the_free_rounds_are_used_up(sim, agent, session):
    fr = grant(sim, agent, rounds=2)
    rounds = [sim.world.rounds.play(session, Decimal(100)) for _ in range(3)]
    assert [(r.free, r.bet) for r in rounds] == [(True, 0), (True, 0), (False, 100)]
    assert sim.world.store.grant(fr.fr_id).played == 2


def test_the_win_cap_limits_the_grants_total_winnings(sim, agent, session):
    grant(sim, agent, rounds=3, bet=200, win=500)
    force(sim, agent, 2, 2, 2)
    assert [sim.world.rounds.play(session, Decimal(100)).win for _ in range(3)] == [400, 100, 0]


def test_an_expired_grant_is_not_played(sim, agent, session):
    grant(sim, agent)
    sim.clock.advance(30 * 60)
    assert sim.world.rounds.play(session, Decimal(100)).free is False


def test_a_cancelled_grant_is_not_played(sim, agent, session):
    fr = grant(sim, agent)
    sim.world.free_rounds.cancel(agent, fr.fr_id)
    assert sim.world.rounds.play(session, Decimal(100)).free is False


def test_rounds_played_before_a_cancel_stay_played(sim, agent, session):
    fr = grant(sim, agent, rounds=3)
    force(sim, agent, 3)
    played = sim.world.rounds.play(session, Decimal(100))
    sim.world.free_rounds.cancel(agent, fr.fr_id)
    fr = sim.world.store.grant(fr.fr_id)
    assert (played.win, fr.played, fr.won) == (600, 1, 600)


@pytest.mark.parametrize("how", ["cancelled", "used_up", "expired", "unknown"])
def test_cancelling_an_ended_or_unknown_grant_is_2020(sim, agent, session, how):
    fr = grant(sim, agent, rounds=1)
    fr_id = fr.fr_id
    if how == "cancelled":
        sim.world.free_rounds.cancel(agent, fr_id)
    elif how == "used_up":
        sim.world.rounds.play(session, Decimal(100))
    elif how == "expired":
        sim.clock.advance(30 * 60)
    else:
        fr_id = "FR-400000001-999999"
    with pytest.raises(SimError) as refused:
        sim.world.free_rounds.cancel(agent, fr_id)
    assert refused.value.code == 2020


def test_a_grant_applies_only_to_its_own_game(sim, agent):
    grant(sim, agent, game_code="vs20fruitsw")
    other = open_session(sim, agent, "vswaysdogs")
    assert sim.world.rounds.play(other, Decimal(100)).free is False


def test_a_grant_made_while_the_game_is_open_applies_to_the_next_spin(sim, agent, session):
    sim.world.rounds.play(session, Decimal(100))
    grant(sim, agent)
    assert sim.world.rounds.play(session, Decimal(100)).free is True


def test_a_free_spin_that_fails_gives_its_round_back(sim, agent, session):
    fr = grant(sim, agent, rounds=1)
    sim.faults.add({"agent": "demo", "target": "round:settle", "effect": {"fail": True}, "times": 1})
    with pytest.raises(RoundFailed) as failed:
        sim.world.rounds.play(session, Decimal(100))
    assert rows_of(sim, agent, failed.value.round.round_id) == [(1, 0, 0), (16, 0, 0)]
    assert sim.world.store.grant(fr.fr_id).played == 0
    assert sim.world.rounds.play(session, Decimal(100)).free is True


def test_free_spins_do_not_steer_under_a_bonus_call(sim, agent, session):
    call = sim.world.bonus.start(agent, session.gplay_id, Decimal(1000))
    grant(sim, agent, rounds=1)
    force(sim, agent, 0)
    free = sim.world.rounds.play(session, Decimal(100))
    paid = sim.world.rounds.play(session, Decimal(100))
    call = sim.world.store.bonus_call(call.call_id)
    assert (free.call_id, free.win, paid.call_id, paid.win, call.paid) == (0, 0, 1, 1000, 1000)


def test_the_ledger_is_conserved_after_free_rounds(sim, agent, session):
    grant(sim, agent, rounds=5, win=700)
    force(sim, agent, 2, 0, 5, 1, 3)
    for _ in range(6):
        sim.world.rounds.play(session, Decimal(100))
    assert sim.world.ledger.audit().conserved
