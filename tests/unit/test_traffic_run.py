"""Traffic runs on the domain, without HTTP: setup, paced play, refunds, stop, reset (simulator.traffic)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.codes import ResultCode, SimError
from simulator.config import Settings
from simulator.runtime import Simulator
from simulator.traffic.plan import MAX_PLAYERS, TrafficPlan, prepare, rounds_per_player
from simulator.traffic.report import report_of
from simulator.traffic.runs import MAX_RUNNING, TrafficRuns


@pytest.fixture
def sim():
    simulator = Simulator(Settings())
    yield simulator
    simulator.retries.stop()


@pytest.fixture
def runs(sim):
    registry = TrafficRuns(sim)
    yield registry
    registry.stop_all(timeout=10)


def plan(**changes) -> TrafficPlan:
    values = dict(agent="demo", players=3, rounds_per_second=40.0, duration_s=0.5, bet=Decimal(100))
    values.update(changes)
    return TrafficPlan(**values)


def finished(run) -> dict:
    assert run.wait(15), "the run did not end"
    return report_of(run)


def test_a_transfer_run_reconciles_and_gives_the_deposits_back(sim, runs):
    agent = sim.world.hierarchy.get("demo")
    points_before = agent.points
    report = finished(runs.start(plan()))
    assert report["state"] == "done" and report["stop_reason"] == "duration"
    assert report["reconciliation"]["ok"] is True, report["reconciliation"]["problems"]
    attempted = report["rounds"]["attempted"]
    assert 18 <= attempted <= 20  # 40/s for 0.5 s, the first at 0; never more
    assert report["rounds"]["settled"] == attempted
    money = report["money"]
    assert money["deposited"] == 3 * Decimal(100) * (rounds_per_player(plan()) + 1)
    # every user ends at 0: what is left of the deposits goes back to the agent
    assert agent.points == points_before - money["bets"] + money["wins"]


def test_players_are_new_users_with_a_deposit_row(sim, runs):
    run = runs.start(plan(players=2))
    finished(run)
    agent = sim.world.hierarchy.get("demo")
    user = sim.world.store.user_by_name(agent.agent_id, "transfer", f"traffic_{run.run_id}_2")
    rows = [tx for tx in sim.world.store.transactions_of(agent.agent_id) if tx.user_code == user.user_code]
    assert [rows[0].trans_type, rows[-1].trans_type] == [4, 8]  # Deposit first, Withdraw last
    assert user.balance == 0


def test_refunded_rounds_still_reconcile(sim, runs):
    sim.faults.add({"agent": "demo", "target": "round:settle", "effect": {"fail": True}, "times": 4})
    report = finished(runs.start(plan()))
    assert report["rounds"]["refunded"] == 4
    assert report["money"]["refunds"] == 400
    assert report["reconciliation"]["ok"] is True, report["reconciliation"]["problems"]


def test_players_without_balance_retire_and_end_the_run(runs):
    report = finished(runs.start(plan(deposit=Decimal(0), duration_s=30)))
    assert report["stop_reason"] == "no players left to play"
    assert report["rounds"]["refused"] == {"BALANCE_NOT_ENOUGH": 3}
    assert report["players_retired"] == 3
    assert report["reconciliation"]["ok"] is True


def test_stop_ends_play_early_and_still_reconciles(runs):
    run = runs.start(plan(duration_s=60))
    assert not run.wait(0.3)
    run.stop()
    report = finished(run)
    assert report["state"] == "done" and report["stop_reason"] == "stopped"
    assert report["elapsed_s"] < 5
    assert report["reconciliation"]["ok"] is True


def test_a_reset_stops_the_run(sim, runs):
    run = runs.start(plan(duration_s=60))
    assert not run.wait(0.3)
    sim.reset()
    report = finished(run)
    assert report["state"] == "failed" and report["stop_reason"] == "reset"
    assert report["reconciliation"]["ok"] is False


def test_unknown_agent_is_refused_before_anything_starts(sim):
    with pytest.raises(SimError) as refused:
        prepare(sim.world, plan(agent="nobody"), 1)
    assert refused.value.code == ResultCode.AGENT_NOT_FOUND


@pytest.mark.parametrize(
    "changes",
    [
        {"players": MAX_PLAYERS + 1},
        {"rounds_per_second": 0.0},
        {"duration_s": 3601.0},
        {"accounts": ("ok_name", "bad name!")},
        {"provider_id": 1},
        {"bet": Decimal(5)},  # below demo's min_bet 100
    ],
)
def test_plans_outside_the_limits_are_invalid(sim, changes):
    with pytest.raises(SimError) as refused:
        prepare(sim.world, plan(**changes), 1)
    assert refused.value.code == ResultCode.PARAMETERS_INVALID


def test_deposits_the_agent_cannot_cover_are_refused(sim):
    with pytest.raises(SimError) as refused:
        prepare(sim.world, plan(players=1000, rounds_per_second=1000.0, duration_s=3600.0), 1)
    assert refused.value.code == ResultCode.POINT_NOT_ENOUGH
    assert "give a smaller 'deposit'" in refused.value.detail


def test_the_default_game_is_a_slots_game_the_agent_may_launch(sim):
    prepared = prepare(sim.world, plan(), 1)
    assert prepared.game.category == "Slots"
    assert prepared.names == ["traffic_1_1", "traffic_1_2", "traffic_1_3"]


def test_players_share_the_given_accounts_in_turn(sim):
    prepared = prepare(sim.world, plan(players=5, accounts=("alice_1", "bob_2")), 1)
    assert prepared.names == ["alice_1", "bob_2", "alice_1", "bob_2", "alice_1"]


def test_only_a_few_runs_play_at_once(runs):
    started = [runs.start(plan(players=1, rounds_per_second=1.0, duration_s=60)) for _ in range(MAX_RUNNING)]
    with pytest.raises(SimError) as refused:
        runs.start(plan(players=1))
    assert refused.value.code == ResultCode.SERVER_IS_BUSY
    assert len(started) == MAX_RUNNING
