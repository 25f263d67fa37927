"""``game/game-url``, ``kick_games`` and ``online-games`` (spec 5.12-5.14)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.domain.sessions import LaunchError
from tests.conftest import DEMO_USER

GOOD = {"user_code": DEMO_USER, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 1}


def launch(v4, **changes):
    return v4("game/game-url", {**GOOD, **changes})


def token_of(answer) -> str:
    return answer.data["game_url"].rsplit("/", 1)[1]


def launch_of(sim, token: str):
    """The stored launch of a one-time URL (read without consuming it)."""
    (found,) = [launch for launch in sim.world.store.export().launch_tokens if launch.token == token]
    return found


def test_game_url_answers_a_play_url_under_the_public_base(v4):
    answer = launch(v4)
    assert answer.code == 0
    assert answer.data["game_url"].startswith("http://127.0.0.1:8080/play/")


def test_game_url_uses_the_configured_public_url(sim, v4):
    import dataclasses

    sim.settings = dataclasses.replace(sim.settings, public_url="https://sim.example")
    assert launch(v4).data["game_url"].startswith("https://sim.example/play/")


def test_unknown_user_is_2002(v4):
    assert launch(v4, user_code=400999999).code == 2002


def test_another_agents_user_is_1010(v4, client):
    other = client.post(
        "/admin/api/agents", json={"name": "other", "kind": "agent", "parent": "demo_operator", "points": 10}
    ).get_json()
    created = v4("user/create", {"name": "someone"}, token=other["api_token"])
    assert launch(v4, user_code=created.data["user_code"]).code == 1010


def test_missing_provider_id_is_2007_like_the_real_service(v4):
    body = dict(GOOD)
    del body["provider_id"]
    assert v4("game/game-url", body).code == 2007


def test_unknown_provider_is_2007(v4):
    assert launch(v4, provider_id=999).code == 2007


def test_unassigned_provider_is_2007(sim, v4):
    sim.world.hierarchy.apply_settings(sim.world.hierarchy.get("demo"), {"providers": [2]})
    assert launch(v4).code == 2007


def test_unknown_game_is_2003(v4):
    assert launch(v4, game_symbol="vs_no_such_game").code == 2003


def test_game_codes_are_unique_only_within_a_provider(v4):
    assert launch(v4, provider_id=15, game_symbol="vs20fruitsw").code == 2003


def test_provider_in_maintenance_is_1(sim, v4):
    sim.world.catalogue.set_maintenance("provider:1", True)
    assert launch(v4).code == 1


def test_game_in_maintenance_is_1(sim, v4):
    sim.world.catalogue.set_maintenance("game:1:vs20fruitsw", True)
    assert launch(v4).code == 1
    assert launch(v4, game_symbol="vswaysdogs").code == 0


def test_unknown_game_is_checked_before_maintenance(sim, v4):
    sim.world.catalogue.set_maintenance("provider:1", True)
    assert launch(v4, game_symbol="vs_no_such_game").code == 2003


def test_launch_disabled_game_is_2003(sim, v4):
    sim.world.catalogue.game(1, "vs20fruitsw").launch_enable = False
    assert launch(v4).code == 2003


def test_unsupported_currency_is_2014(sim, v4):
    sim.world.catalogue.provider(1).currencies = [2]
    assert launch(v4).code == 2014


def test_rtp_above_the_agents_is_1012(v4):
    assert launch(v4, rtp=95.5).code == 1012


def test_negative_rtp_is_1012(v4):
    assert launch(v4, rtp=-1).code == 1012


def test_lower_rtp_and_win_ratio_alias_are_accepted(sim, v4):
    answer = launch(v4, win_ratio=80)
    assert answer.code == 0
    assert launch_of(sim, token_of(answer)).rtp == Decimal(80)


def test_rtp_zero_means_the_agents_rtp(sim, v4):
    answer = launch(v4, rtp=0)
    assert launch_of(sim, token_of(answer)).rtp is None


def test_lang_accepts_1_to_13(v4):
    assert launch(v4, lang=13).code == 0
    assert launch(v4, lang=14).code == 1002
    assert launch(v4, lang=0).code == 1002


def test_missing_game_symbol_is_1002_naming_the_field(v4):
    body = dict(GOOD)
    del body["game_symbol"]
    answer = v4("game/game-url", body)
    assert answer.code == 1002
    assert answer.data == [{"field": "game_symbol", "message": "The game_symbol field is required."}]


def test_unapproved_agent_gets_1010(sim, v4):
    sim.world.hierarchy.apply_settings(sim.world.hierarchy.get("demo"), {"approved": False})
    assert launch(v4).code == 1010


def test_a_launch_url_opens_once(sim, v4):
    token = token_of(launch(v4))
    session = sim.world.sessions.open(token)
    assert session.gplay_id > 0
    with pytest.raises(LaunchError) as reused:
        sim.world.sessions.open(token)
    assert reused.value.reason == "used"


def test_a_launch_url_expires_after_10_minutes(sim, v4):
    sim.clock.freeze(True)
    token = token_of(launch(v4))
    sim.clock.advance(600)
    with pytest.raises(LaunchError) as expired:
        sim.world.sessions.open(token)
    assert expired.value.reason == "expired"
    assert sim.world.store.session_count() == 0


def test_a_launch_url_still_opens_just_before_10_minutes(sim, v4):
    sim.clock.freeze(True)
    token = token_of(launch(v4))
    sim.clock.advance(599)
    assert sim.world.sessions.open(token).user_code == DEMO_USER


def test_each_opening_starts_a_session_with_a_new_gplay_id(sim, v4):
    first = sim.world.sessions.open(token_of(launch(v4)))
    second = sim.world.sessions.open(token_of(launch(v4)))
    assert second.gplay_id == first.gplay_id + 1


def _play(sim, v4, rounds=1, bet=100):
    """Plays ``rounds`` rounds; returns the session as it stands after them (records are values)."""
    session = sim.world.sessions.open(token_of(launch(v4)))
    for _ in range(rounds):
        sim.world.rounds.play(session, Decimal(bet))
    return sim.world.store.session(session.gplay_id)


def test_online_games_lists_an_active_session_with_its_figures(sim, v4):
    session = _play(sim, v4, rounds=3)
    (row,) = v4("game/online-games").data
    assert row["gplay_id"] == session.gplay_id
    assert row["user_code"] == DEMO_USER
    assert row["user_name"] == "test1234"
    assert row["provider_name"] == "Pragmatic Play"
    assert row["game_name"] == "Sweet Bonanza"
    assert row["category"] == 1
    assert row["last_round_bet"] == 100
    assert row["spend"] == 300
    assert row["win"] == float(session.win) or row["win"] == int(session.win)
    assert (row["call_id"], row["call_status"], row["callend_flag"], row["call_win"]) == (0, 0, False, 0)
    assert row["call_enable"] is True


def test_online_games_is_an_empty_array_without_sessions(v4):
    answer = v4("game/online-games")
    assert answer.body == {"code": 0, "message": "OK", "data": []}


def test_online_games_drops_sessions_idle_for_30_minutes(sim, v4):
    sim.clock.freeze(True)
    _play(sim, v4)
    sim.clock.advance(30 * 60)
    assert len(v4("game/online-games").data) == 1
    sim.clock.advance(1)
    assert v4("game/online-games").data == []


def test_live_sessions_do_not_accept_bonus_calls(sim, v4):
    session = sim.world.sessions.open(token_of(launch(v4, game_symbol="sim_live_roulette")))
    sim.world.rounds.play(session, Decimal(100))
    (row,) = v4("game/online-games").data
    assert (row["category"], row["call_enable"]) == (2, False)


def test_kick_games_ends_the_session_at_the_next_round(sim, v4):
    session = _play(sim, v4)
    assert v4("game/kick_games", {"user_code": DEMO_USER}).body == {"code": 0, "message": "OK"}
    assert len(v4("game/online-games").data) == 1  # still listed until the player tries again
    from simulator.codes import SimError

    with pytest.raises(SimError) as refused:
        sim.world.rounds.play(session, Decimal(100))
    assert refused.value.code == 1010
    assert v4("game/online-games").data == []


def test_kick_games_errors_for_unknown_and_foreign_users(v4):
    assert v4("game/kick_games", {"user_code": 400999999}).code == 2002
