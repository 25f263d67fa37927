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


def _game_url(v4, **launch) -> str:
    body = {"user_code": DEMO_USER, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 1, **launch}
    return v4("game/game-url", body).data["game_url"]


def test_play_through_a_game_url_plays_in_the_launched_session(client, v4):
    rows = client.post("/control/play", json={"game_url": _game_url(v4), "bet": 100, "rounds": 3}).get_json()
    assert [(row["bet"], row["status"]) for row in rows] == [(100, "settled")] * 3
    assert v4("user/info", {"user_code": DEMO_USER}).data["balance"] == rows[-1]["balance"]
    assert [game["gplay_id"] > 0 for game in v4("game/online-games").data] == [True]


def test_play_through_a_game_url_consumes_the_one_time_url(client, v4):
    url = _game_url(v4)
    client.post("/control/play", json={"game_url": url, "bet": 100})
    again = client.post("/control/play", json={"game_url": url, "bet": 100})
    assert (again.status_code, again.get_json()) == (
        409,
        {"error": "This game link was already opened. Game links work once."},
    )


def test_play_through_a_game_url_plays_the_launched_game(client, v4):
    rows = client.post(
        "/control/play", json={"game_url": _game_url(v4, game_symbol="vswaysdogs"), "bet": 100}
    )
    history = v4("game/transaction-id", {"last_id": 0, "limit": 100}).data
    played = {(row["round_id"], row["game_code"]) for row in history if row["round_id"]}
    assert played == {(rows.get_json()[0]["round_id"], "vswaysdogs")}


def test_play_through_an_unknown_game_url_is_404(client):
    answer = client.post(
        "/control/play", json={"game_url": "http://127.0.0.1:8080/play/nosuchtoken", "bet": 100}
    )
    assert (answer.status_code, answer.get_json()) == (404, {"error": "This game link is not valid."})


def test_play_through_a_url_that_is_no_game_url_is_400(client):
    answer = client.post("/control/play", json={"game_url": "http://127.0.0.1:8080/backoffice/", "bet": 100})
    assert answer.status_code == 400
    assert answer.get_json()["error"].startswith("game_url must be a game URL from game/game-url")


def test_play_takes_a_game_url_or_the_agent_fields_not_both(client, v4):
    answer = client.post("/control/play", json={**PLAY, "game_url": _game_url(v4)})
    assert (answer.status_code, answer.get_json()) == (
        400,
        {"error": "give game_url or agent, user_code, provider_id and game_code, not both (agent)"},
    )


def test_play_through_an_expired_game_url_is_409(client, v4):
    url = _game_url(v4)
    client.post("/control/clock", json={"advance": 601})
    answer = client.post("/control/play", json={"game_url": url, "bet": 100})
    assert (answer.status_code, answer.get_json()) == (
        409,
        {"error": "This game link has expired. Game links are valid for 10 minutes."},
    )
