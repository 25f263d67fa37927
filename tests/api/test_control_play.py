"""``/control/outcomes`` and ``/control/play``: CI drives play without a browser (control-api.md)."""

from __future__ import annotations

from tests.conftest import DEMO_USER

PLAY = {"agent": "demo", "user_code": DEMO_USER, "provider_id": 1, "game_code": "vs20fruitsw", "bet": 100}


def test_play_answers_one_entry_per_round(client):
    answer = client.post("/control/play", json={**PLAY, "rounds": 3})
    assert answer.status_code == 200
    rows = answer.get_json()
    assert len(rows) == 3
    assert set(rows[0]) == {"round_id", "bet", "win", "balance", "status"}
    assert all(row["status"] == "settled" and row["bet"] == 100 for row in rows)


def test_forced_outcomes_settle_the_next_rounds(client):
    forced = client.post(
        "/control/outcomes",
        json={"agent": "demo", "account": "test1234", "next": [{"multiplier": 2}, {"multiplier": 0}]},
    )
    assert forced.get_json() == {"agent": "demo", "account": "test1234", "pending": 2}
    rows = client.post("/control/play", json={**PLAY, "rounds": 2}).get_json()
    assert [row["win"] for row in rows] == [200, 0]
    assert rows[1]["balance"] == rows[0]["balance"] - 100


def test_play_balance_is_what_user_info_reports(client, v4):
    rows = client.post("/control/play", json={**PLAY, "rounds": 5}).get_json()
    assert v4("user/info", {"user_code": DEMO_USER}).data["balance"] == rows[-1]["balance"]


def test_play_reuses_the_users_online_session(client, v4):
    client.post("/control/play", json=PLAY)
    client.post("/control/play", json=PLAY)
    assert len(v4("game/online-games").data) == 1


def test_play_stops_at_a_refused_round(client):
    rows = client.post("/control/play", json={**PLAY, "bet": 100000, "rounds": 3}).get_json()
    assert len(rows) == 1
    assert rows[0]["status"] == "refused"
    assert rows[0]["error"] == "BALANCE_NOT_ENOUGH"


def test_play_reports_a_refunded_round(client):
    client.post(
        "/control/faults",
        json={"agent": "demo", "target": "round:settle", "effect": {"fail": True}, "times": 1},
    )
    rows = client.post("/control/play", json={**PLAY, "rounds": 2}).get_json()
    assert [row["status"] for row in rows] == ["refunded", "settled"]
    assert rows[0]["win"] == 0


def test_play_runs_the_game_url_checks(client):
    answer = client.post("/control/play", json={**PLAY, "game_code": "no_such_game"})
    assert answer.status_code == 404
    assert "no_such_game" in answer.get_json()["error"]


def test_play_rejects_a_bad_body(client):
    answer = client.post("/control/play", json={**PLAY, "bet": -5})
    assert answer.status_code == 400
    assert "bet" in answer.get_json()["error"]


def test_outcomes_for_an_unknown_account_are_404(client):
    answer = client.post(
        "/control/outcomes", json={"agent": "demo", "account": "nobody_here", "next": [{"multiplier": 1}]}
    )
    assert answer.status_code == 404


def test_reset_clears_forced_outcomes(client):
    client.post(
        "/control/outcomes", json={"agent": "demo", "account": "test1234", "next": [{"multiplier": 50}]}
    )
    client.post("/control/reset")
    rows = client.post("/control/play", json=PLAY).get_json()
    assert rows[0]["win"] != 5000
