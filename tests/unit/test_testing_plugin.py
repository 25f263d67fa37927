"""The pytest plugin (``simulator.testing.plugin``): fast start-up, fresh state per test, and its client."""

from __future__ import annotations

import pytest

from simulator.testing import SimClientError


def test_the_plugin_is_registered_through_its_entry_point(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("scorpio_sim")


def test_the_session_server_starts_quickly(scorpio_sim):
    # Printed, not asserted: timing assertions are flaky on loaded CI machines.
    print(f"\nscorpio_sim fixture start-up: {scorpio_sim.startup_seconds * 1000:.0f} ms")
    assert scorpio_sim.base_url.startswith("http://127.0.0.1:")


def test_changes_made_by_one_test(scorpio):
    scorpio.client.patch_agent("demo", max_bet=5)
    scorpio.client.add_fault(target="api", effect={"code": 1})
    scorpio.client.create_agent("plugin_agent")
    scorpio.client.clock(advance=3600)
    assert scorpio.client.v4("agent/info", token=scorpio.demo_token)["code"] == 1


def test_are_gone_in_the_next(scorpio):
    assert scorpio.client.agent("demo")["max_bet"] != 5
    assert scorpio.client.faults() == []
    assert scorpio.client.journal() == []
    assert scorpio.client.clock()["frozen"] is False
    with pytest.raises(SimClientError) as missing:
        scorpio.client.agent("plugin_agent")
    assert missing.value.status == 404
    assert scorpio.client.v4("agent/info", token=scorpio.demo_token)["code"] == 0


def test_the_client_raises_with_the_error_text(scorpio):
    with pytest.raises(SimClientError, match="HTTP 400") as failure:
        scorpio.client.patch_agent("demo", no_such_setting=1)
    assert "no_such_setting" in failure.value.error


def test_the_client_plays_rounds_and_reads_the_journal(scorpio):
    player = scorpio.client.v4("user/create", {"name": "plugin_player"}, token=scorpio.demo_token)
    user_code = player["data"]["user_code"]
    scorpio.client.v4("wallet/deposit", {"user_code": user_code, "amount": 500}, token=scorpio.demo_token)
    scorpio.client.force_outcomes("demo", "plugin_player", [2])
    [played] = scorpio.client.play("demo", user_code, bet=100)
    assert (played["status"], played["balance"]) == ("settled", 600)
    assert [e["path"] for e in scorpio.client.journal(agent="demo", path="/v4/wallet/deposit")] == [
        "/v4/wallet/deposit"
    ]
    assert scorpio.client.callbacks("demo_seamless") == []


def test_the_client_plays_through_a_game_url_your_code_obtained(scorpio):
    launch = {"user_code": 400000001, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 1}
    url = scorpio.client.v4("game/game-url", launch, token=scorpio.demo_token)["data"]["game_url"]
    scorpio.client.force_outcomes("demo", "test1234", [5])
    [played] = scorpio.client.play_launch(url, bet=100)
    assert (played["bet"], played["win"], played["status"]) == (100, 500, "settled")


def test_the_client_takes_and_restores_snapshots(scorpio):
    client, token = scorpio.client, scorpio.demo_token
    before = client.v4("user/info", {"user_code": 400000001}, token=token)["data"]["balance"]
    saved = client.snapshot()
    client.play("demo", 400000001, bet=100, rounds=3)
    assert client.restore(saved)["restored"] is True
    assert client.v4("user/info", {"user_code": 400000001}, token=token)["data"]["balance"] == before
