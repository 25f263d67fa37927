"""``agent/callback-test``, the callback log, Win Error and replay (spec 5.3, 6.8, 6.9, OP-19)."""

from __future__ import annotations

import socket
from decimal import Decimal

import pytest

from tests.conftest import make_settings

from .conftest import json_reply


@pytest.fixture
def settings():
    return make_settings(retry_delay_min=0.01, retry_delay_max=0.02)


def test_callback_test_reports_the_url_and_round_trip(v4_seamless, seamless_agent, wallet):
    answer = v4_seamless("agent/callback-test")
    assert answer.code == 0
    assert answer.data["callback_url"] == wallet.url
    assert answer.data["time"].endswith("ms")
    (call,) = wallet.calls
    assert call.body["command"] == "authenticate"
    assert call.body["check"] == "21"
    assert call.body["data"] == {"account": "test1234"}


def test_callback_test_passes_whatever_the_reply_says(v4_seamless, seamless_agent, wallet):
    wallet.reply = lambda body: (500, b"<html>oops</html>")
    assert v4_seamless("agent/callback-test").code == 0


def test_callback_test_in_transfer_mode_is_1015(v4):
    assert v4("agent/callback-test").body == {"code": 1015, "message": "CALLBACK_ERROR"}


def test_callback_test_to_an_unreachable_url_is_1015(v4_seamless, sim):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    agent = sim.world.hierarchy.get("demo_seamless")
    sim.world.hierarchy.apply_settings(agent, {"callback_url": f"http://127.0.0.1:{port}/cb"})
    assert v4_seamless("agent/callback-test").code == 1015


def test_the_callback_log_lists_attempts_newest_first(client, v4_seamless, seamless_agent, wallet):
    v4_seamless("user/create", {"name": "first_player"})
    wallet.reply = lambda body: json_reply({"result": 21, "status": "ERROR"})
    v4_seamless("user/create", {"name": "second_player"})
    entries = client.get("/admin/api/agents/demo_seamless/callbacks").get_json()
    assert [e["request"]["data"]["account"] for e in entries] == ["second_player", "first_player"]
    assert [e["outcome"] for e in entries] == ["refused", "ok"]
    assert entries[0]["result"] == 21
    assert set(entries[0]) >= {"id", "time", "command", "url", "request", "reply", "duration_ms", "attempt"}


def test_the_callback_log_filters_by_outcome_and_command(client, v4_seamless, seamless_agent, wallet):
    v4_seamless("user/create", {"name": "first_player"})
    wallet.reply = lambda body: (500, b"down")
    v4_seamless("user/create", {"name": "second_player"})
    unclear = client.get("/admin/api/agents/demo_seamless/callbacks?outcome=unclear").get_json()
    assert [e["http_status"] for e in unclear] == [500]
    assert client.get("/admin/api/agents/demo_seamless/callbacks?command=win").get_json() == []


def _seamless_session(sim):
    from simulator.domain.sessions import LaunchRequest

    agent = sim.world.hierarchy.get("demo_seamless")
    user = sim.world.store.user_by_name(agent.agent_id, "seamless", "test1234")
    launch = sim.world.sessions.launch(agent, LaunchRequest(user.user_code, 15, "aviator", 1))
    return sim.world.sessions.open(launch.token)


def _wallet_that_fails_wins(wallet, failing: dict) -> None:
    def reply(body):
        if body["command"] == "win" and failing["on"]:
            return 500, b"win store down"
        return json_reply({"result": 0, "status": "OK", "data": {"balance": 1000}})

    wallet.reply = reply


def test_a_win_that_exhausts_its_retries_is_listed_as_win_error(client, sim, seamless_agent, wallet):
    failing = {"on": True}
    _wallet_that_fails_wins(wallet, failing)
    session = _seamless_session(sim)
    round_ = sim.world.rounds.play(session, Decimal(100))
    assert sim.retries.wait_idle(10)
    assert sim.world.store.round(round_.agent_id, round_.round_id).status == "win_error"
    (pending,) = client.get("/admin/api/agents/demo_seamless/pending-callbacks").get_json()
    assert (pending["command"], pending["state"], pending["attempts"]) == ("win", "win_error", 4)


def test_replaying_a_failed_win_settles_it_with_the_same_transaction_id(client, sim, seamless_agent, wallet):
    failing = {"on": True}
    _wallet_that_fails_wins(wallet, failing)
    session = _seamless_session(sim)
    round_ = sim.world.rounds.play(session, Decimal(100))
    assert sim.retries.wait_idle(10)
    (pending,) = client.get("/admin/api/agents/demo_seamless/pending-callbacks").get_json()
    failing["on"] = False
    replay = client.post(f"/control/callbacks/{pending['last_entry_id']}/replay").get_json()
    assert replay["settled"] is True
    assert replay["entry"]["request"] == pending["request"]
    assert sim.world.store.round(round_.agent_id, round_.round_id).status == "settled"
    agent = sim.world.hierarchy.get("demo_seamless")
    types = [
        tx.trans_type
        for tx in sim.world.store.transactions_of(agent.agent_id)
        if tx.round_id == round_.round_id
    ]
    assert types == [1, 2]
    assert client.get("/admin/api/agents/demo_seamless/pending-callbacks").get_json() == []


def test_replaying_an_unknown_entry_is_404(client):
    assert client.post("/control/callbacks/999999/replay").status_code == 404
