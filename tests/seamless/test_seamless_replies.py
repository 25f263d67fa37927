"""How the platform reads each wallet reply, in both dialects (spec 6.6, 6.8), and ``status`` queries."""

from __future__ import annotations

import time
from decimal import Decimal
from fractions import Fraction

import pytest

from simulator.codes import SimError
from simulator.domain.rounds import RoundFailed
from simulator.domain.sessions import LaunchRequest
from tests.conftest import make_settings

from .conftest import json_reply


@pytest.fixture
def settings():
    return make_settings(retry_delay_min=0.01, retry_delay_max=0.02)


@pytest.fixture(params=["v4", "legacy"])
def dialect(request, sim, seamless_agent):
    sim.world.hierarchy.apply_settings(seamless_agent, {"callback_dialect": request.param})
    return request.param


def replies(wallet, **per_command):
    """Answer each command with a fixed (result, balance); others succeed with balance 1000."""

    def reply(body):
        result, balance = per_command.get(body["command"], (0, 1000))
        data = {"balance": balance} if balance is not None else None
        payload = {"result": result, "status": "OK" if result == 0 else "ERROR"}
        if data is not None:
            payload["data"] = data
        return json_reply(payload)

    wallet.reply = reply


@pytest.fixture
def session(sim, seamless_agent, wallet, dialect):
    user = sim.world.store.user_by_name(seamless_agent.agent_id, "seamless", "test1234")
    launch = sim.world.sessions.launch(seamless_agent, LaunchRequest(user.user_code, 1, "vs20fruitsw", 1))
    return sim.world.sessions.open(launch.token)


def history(sim, agent):
    return [(tx.trans_type, tx.trans_amount) for tx in sim.world.store.transactions_of(agent.agent_id)]


def commands(wallet):
    return [c.body["command"] for c in wallet.calls]


@pytest.mark.parametrize("result", [21, 22, 99, 100, 2002])
def test_a_bet_refused_with_a_check_failure_records_nothing(sim, seamless_agent, wallet, session, result):
    replies(wallet, bet=(result, 1000))
    points = sim.world.store.agent(seamless_agent.agent_id).points
    with pytest.raises(SimError) as refused:
        sim.world.rounds.play(session, Decimal(100))
    assert refused.value.code == 1015
    assert history(sim, seamless_agent) == []
    assert sim.world.store.agent(seamless_agent.agent_id).points == points
    assert "cancel" not in commands(wallet)


def test_a_bet_answered_41_is_unclear_and_cancelled_forward(sim, seamless_agent, wallet, session, dialect):
    replies(wallet, bet=(41, 1000))
    with pytest.raises(RoundFailed):
        sim.world.rounds.play(session, Decimal(100))
    assert history(sim, seamless_agent) == [(1, 100), (16, 100)]
    assert sim.retries.wait_idle(5)
    cancel = next(c.body for c in wallet.calls if c.body["command"] == "cancel")
    bet = next(c.body for c in wallet.calls if c.body["command"] == "bet")
    if dialect == "v4":
        assert cancel["check"] == "21,22,41,43"
        assert cancel["data"]["cancel_trans_guid"] == bet["data"]["trans_guid"]
        assert cancel["data"]["trans_guid"] != bet["data"]["trans_guid"]
    else:
        assert cancel["check"] == "21,22,42"
        assert cancel["data"]["trans_id"] == bet["data"]["trans_id"]
    assert cancel["data"]["type"] == 16
    assert cancel["data"]["amount"] == 100


def test_a_win_answered_41_counts_as_already_applied(sim, seamless_agent, wallet, session):
    replies(wallet, win=(41, 1200))
    sim.world.forced.push(session.agent_id, "test1234", [Fraction(2)])
    round_ = sim.world.rounds.play(session, Decimal(100))
    assert sim.world.store.round(round_.agent_id, round_.round_id).status == "settled"
    assert commands(wallet).count("win") == 1
    assert history(sim, seamless_agent) == [(1, 100), (2, 200)]


@pytest.mark.parametrize("result", [21, 22, 99])
def test_a_win_refused_is_retried(sim, seamless_agent, wallet, session, result):
    replies(wallet, win=(result, 1000))
    round_ = sim.world.rounds.play(session, Decimal(100))
    assert sim.retries.wait_idle(5)
    assert commands(wallet).count("win") == 4
    assert sim.world.store.round(round_.agent_id, round_.round_id).status == "win_error"


@pytest.mark.parametrize("result", [41, 42, 43])
def test_a_cancel_answered_41_42_or_43_is_final(sim, seamless_agent, wallet, session, result):
    replies(wallet, bet=(41, 1000), cancel=(result, 1000))
    with pytest.raises(RoundFailed):
        sim.world.rounds.play(session, Decimal(100))
    assert sim.retries.wait_idle(5)
    assert commands(wallet).count("cancel") == 1


def test_a_cancel_refused_otherwise_is_retried(sim, seamless_agent, wallet, session):
    replies(wallet, bet=(41, 1000), cancel=(99, 1000))
    with pytest.raises(RoundFailed):
        sim.world.rounds.play(session, Decimal(100))
    assert sim.retries.wait_idle(5)
    assert commands(wallet).count("cancel") == 4


def test_a_balance_refused_leaves_the_last_balance(sim, seamless_agent, wallet, session):
    replies(wallet, balance=(22, None))
    sim.world.rounds.play(session, Decimal(100))
    user = sim.world.store.user(session.user_code)
    assert user.last_balance == 1000  # from the win reply; the refused balance changed nothing
    assert commands(wallet).count("balance") == 1  # a usable refusal is final: no retry


def test_each_command_carries_its_check_string(sim, seamless_agent, wallet, session):
    sim.world.rounds.play(session, Decimal(100))
    checks = {c.body["command"]: c.body["check"] for c in wallet.calls}
    assert checks == {"authenticate": "21", "balance": "21,22", "bet": "21,22,41,31", "win": "21,22,41"}


def test_a_delay_fault_holds_the_callback(sim, seamless_agent, wallet, session):
    sim.faults.add(
        {"agent": "demo_seamless", "target": "callback:bet", "effect": {"delay_ms": 300}, "times": 1}
    )
    started = time.perf_counter()
    sim.world.rounds.play(session, Decimal(100))
    assert time.perf_counter() - started >= 0.3


def test_status_reports_the_wallets_answer(client, sim, seamless_agent, wallet, session, dialect):
    round_ = sim.world.rounds.play(session, Decimal(100))

    def reply(body):
        key = "trans_guid" if dialect == "v4" else "trans_id"
        return json_reply(
            {"result": 0, "status": "OK", "data": {key: body["data"][key], "trans_status": "CANCELED"}}
        )

    wallet.reply = reply
    answer = client.post(
        "/control/callbacks/status", json={"agent": "demo_seamless", "round_id": round_.round_id}
    )
    assert answer.get_json()["status"] == "CANCELED"
    sent = wallet.calls[-1].body
    assert (sent["command"], sent["check"]) == ("status", "21,42")
    assert set(sent["data"]) == ({"account", "trans_guid"} if dialect == "v4" else {"account", "trans_id"})


def test_status_of_an_unknown_transaction_is_not_found(client, sim, seamless_agent, wallet, session):
    round_ = sim.world.rounds.play(session, Decimal(100))
    replies(wallet, status=(42, None))
    answer = client.post(
        "/control/callbacks/status",
        json={"agent": "demo_seamless", "round_id": round_.round_id, "transaction": "win"},
    )
    assert answer.get_json()["status"] == "not_found"


def test_game_url_in_seamless_mode_without_points_is_2006(v4_seamless, sim, seamless_agent, wallet, dialect):
    sim.world.ledger.move_points(
        seamless_agent, sim.world.hierarchy.get("demo_operator"), seamless_agent.points, "recall"
    )
    user = sim.world.store.user_by_name(seamless_agent.agent_id, "seamless", "test1234")
    answer = v4_seamless(
        "game/game-url",
        {"user_code": user.user_code, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 1},
    )
    assert answer.code == 2006
    assert wallet.calls == []  # refused before the authenticate callback


def test_points_model_off_leaves_points_alone(sim, seamless_agent, wallet, session):
    import dataclasses

    sim.settings = dataclasses.replace(sim.settings, seamless_points=False)
    sim.world = sim._build_world(sim.settings.fixtures_dir, sim.settings.seed)
    agent = sim.world.hierarchy.get("demo_seamless")
    sim.world.hierarchy.apply_settings(agent, {"callback_url": wallet.url})
    user = sim.world.store.user_by_name(agent.agent_id, "seamless", "test1234")
    launch = sim.world.sessions.launch(agent, LaunchRequest(user.user_code, 1, "vs20fruitsw", 1))
    fresh = sim.world.sessions.open(launch.token)
    points = sim.world.store.agent(agent.agent_id).points
    sim.world.rounds.play(fresh, Decimal(100))
    assert sim.world.store.agent(agent.agent_id).points == points
