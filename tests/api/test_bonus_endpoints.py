"""``/v4`` bonus calls and free rounds: success shapes and every error code (spec 5.13, 5.15-5.19)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.domain.sessions import LaunchRequest
from tests.conftest import DEMO_USER

OK = {"code": 0, "message": "OK"}
HALF_HOUR_MS = 30 * 60 * 1000


@pytest.fixture
def demo(sim):
    sim.clock.freeze(True)
    return sim.world.hierarchy.get("demo")


def open_session(sim, agent, game_code="vs20fruitsw", provider_id=1):
    launch = sim.world.sessions.launch(agent, LaunchRequest(DEMO_USER, provider_id, game_code, 1))
    return sim.world.sessions.open(launch.token)


@pytest.fixture
def session(sim, demo):
    return open_session(sim, demo)


def spin(sim, session, stake=100):
    return sim.world.rounds.play(session, Decimal(stake))


def online_call_fields(v4):
    (row,) = v4("game/online-games").data
    return row["call_id"], row["call_status"], row["callend_flag"], row["call_win"]


# -- call_config --------------------------------------------------------------------------
def test_call_config_answers_the_agents_call_min(v4):
    assert v4("game/call_config").body == {**OK, "data": {"call_min": 1000}}


# -- call_start ----------------------------------------------------------------------------
def test_call_start_answers_the_new_call_id(v4, session):
    answer = v4(
        "game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500, "type": 1, "memo": "vip"}
    )
    assert answer.body == {**OK, "data": {"call_id": 1}}


def test_call_start_takes_set_point_from_the_agents_points(v4, demo, session):
    v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500})
    assert v4("agent/info").data["balance"] == 1_000_000 - 2500


def test_call_start_is_1010_when_bonus_calls_are_disabled(sim, v4, demo, session):
    sim.world.hierarchy.apply_settings(demo, {"bonus_call_enabled": False})
    assert v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500}).code == 1010


def test_call_start_is_1010_for_a_session_of_another_agent(v4_seamless, session):
    assert v4_seamless("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500}).code == 1010


def test_call_start_is_1010_for_an_unknown_session(v4, session):
    assert v4("game/call_start", {"gplay_id": 999, "set_point": 2500}).code == 1010


def test_call_start_is_1010_for_a_session_idle_for_more_than_30_minutes(sim, v4, session):
    sim.clock.advance(30 * 60 + 1)
    assert v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500}).code == 1010


def test_call_start_is_1010_for_an_ended_session(sim, v4, session):
    sim.world.store.end_session(session.gplay_id)
    assert v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500}).code == 1010


def test_call_start_is_1010_for_a_live_game(sim, v4, demo):
    live = open_session(sim, demo, "sim_live_roulette")
    assert v4("game/call_start", {"gplay_id": live.gplay_id, "set_point": 2500}).code == 1010


def test_call_start_is_2011_while_a_call_is_init(v4, session):
    v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500})
    assert v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500}).body == {
        "code": 2011,
        "message": "BONUSCALL_DOUBLE",
    }


def test_call_start_is_2011_while_a_call_is_running(sim, v4, session):
    v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500})
    spin(sim, session)
    assert v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500}).code == 2011


def test_call_start_is_1012_below_call_min(v4, session):
    assert v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 999}).code == 1012


def test_call_start_is_2005_when_points_are_short(v4, demo, session):
    answer = v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 1_000_001})
    assert answer.code == 2005
    assert demo.points == 1_000_000


@pytest.mark.parametrize(
    "body, field",
    [
        ({"set_point": 2500}, "gplay_id"),
        ({"gplay_id": 1}, "set_point"),
        ({"gplay_id": 1, "set_point": 2500, "type": "x"}, "type"),
        ({"gplay_id": 1, "set_point": 2500, "memo": 5}, "memo"),
    ],
)
def test_call_start_validation_errors_name_the_field(v4, body, field):
    answer = v4("game/call_start", body)
    assert answer.code == 1002
    assert [item["field"] for item in answer.data] == [field]


@pytest.mark.parametrize("set_point", [0, -5])
def test_call_start_with_an_unknown_session_is_1010_before_the_amount_is_checked(v4, set_point):
    """As the live service answers (issue 15): the session first, then whether set_point is above 0."""
    answer = v4("game/call_start", {"gplay_id": 0, "set_point": set_point, "type": 0, "memo": "x"})
    assert answer.body == {"code": 1010, "message": "PERMISSION_ERROR"}


@pytest.mark.parametrize("set_point", [0, -5])
def test_call_start_with_a_set_point_of_at_most_0_on_a_live_session_is_1002(v4, demo, session, set_point):
    answer = v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": set_point})
    assert answer.code == 1002
    assert answer.data == [{"field": "set_point", "message": "[set_point] must be greater than 0"}]
    assert demo.points == 1_000_000


def test_a_new_call_can_start_after_the_previous_one_ended(sim, v4, session):
    v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 1000})
    spin(sim, session)
    assert v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 1000}).data == {"call_id": 2}


# -- call_cancel ---------------------------------------------------------------------------
def test_call_cancel_is_a_bare_success_and_returns_the_points(v4, demo, session):
    call_id = v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500}).data["call_id"]
    assert v4("game/call_cancel", {"call_id": call_id}).body == OK
    assert demo.points == 1_000_000


def test_call_cancel_is_1005_for_an_unknown_call(v4):
    assert v4("game/call_cancel", {"call_id": 77}).body == {"code": 1005, "message": "RESOURCE_NOT_FOUND"}


def test_call_cancel_is_1010_for_another_agents_call(v4, v4_seamless, session):
    call_id = v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500}).data["call_id"]
    assert v4_seamless("game/call_cancel", {"call_id": call_id}).code == 1010


def test_call_cancel_is_2012_after_a_cancel(v4, session):
    call_id = v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500}).data["call_id"]
    v4("game/call_cancel", {"call_id": call_id})
    assert v4("game/call_cancel", {"call_id": call_id}).body == {
        "code": 2012,
        "message": "BONUSCALL_ALEADY_ENDED",
    }


def test_call_cancel_is_2012_after_completion(sim, v4, session):
    call_id = v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 1000}).data["call_id"]
    spin(sim, session)
    assert v4("game/call_cancel", {"call_id": call_id}).code == 2012


def test_call_cancel_is_2012_after_the_30_minute_auto_cancel(sim, v4, session):
    call_id = v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 1000}).data["call_id"]
    sim.clock.advance(30 * 60 + 1)
    assert v4("game/call_cancel", {"call_id": call_id}).code == 2012


def test_call_cancel_without_call_id_is_1002(v4):
    assert v4("game/call_cancel", {}).data == [
        {"field": "call_id", "message": "The call_id field is required."}
    ]


# -- online-games bonus fields ----------------------------------------------------------------
def test_online_games_shows_no_call_as_zeroes(sim, v4, session):
    spin(sim, session)
    assert online_call_fields(v4) == (0, 0, False, 0)


def test_online_games_shows_an_init_call(v4, session):
    v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500})
    assert online_call_fields(v4) == (1, 0, False, 0)


def test_online_games_shows_a_running_call_and_what_it_paid(sim, v4, session):
    v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500})
    spin(sim, session)
    assert online_call_fields(v4) == (1, 1, False, 1000)


def test_online_games_shows_a_complete_call_with_call_win_equal_to_set_point(sim, v4, session):
    v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500})
    for _ in range(3):
        spin(sim, session)
    assert online_call_fields(v4) == (1, 2, True, 2500)
    (row,) = v4("game/online-games").data
    assert (row["spend"], row["win"]) == (300, 0)


def test_online_games_shows_a_cancelled_call(sim, v4, session):
    v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500})
    spin(sim, session)
    v4("game/call_cancel", {"call_id": 1})
    assert online_call_fields(v4) == (1, 3, True, 1000)


def test_online_games_read_cancels_a_call_idle_for_more_than_30_minutes(sim, v4, demo, session):
    v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500})
    sim.clock.advance(30 * 60 + 1)
    assert v4("game/online-games").data == []
    assert (sim.world.store.bonus_call(1).status, demo.points) == (3, 1_000_000)


def test_online_games_call_enable_is_false_when_the_feature_is_off(sim, v4, demo, session):
    spin(sim, session)
    sim.world.hierarchy.apply_settings(demo, {"bonus_call_enabled": False})
    (row,) = v4("game/online-games").data
    assert row["call_enable"] is False


# -- history and statistics -----------------------------------------------------------------
def test_bonus_call_wins_are_type_32_rows_in_the_transaction_history(sim, v4, session):
    v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 1000})
    round_ = spin(sim, session)
    rows = [r for r in v4("game/transaction-id", {"last_id": 0, "limit": 2000}).data if r["round_id"]]
    assert [(r["trans_type"], r["trans_amount"]) for r in rows if r["round_id"] == round_.round_id] == [
        (1, 100),
        (32, 1000),
    ]
    bonus = rows[-1]
    assert bonus["balance"] == bonus["prebalance"] + 1000


def test_statistics_count_bonus_call_wins_as_wins(sim, v4, session):
    v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 1000})
    spin(sim, session)
    now = sim.format_time(sim.clock.now())
    answer = v4("statistics/user", {"start_time": now, "end_time": now, "offset": 0, "limit": 10})
    (item,) = answer.data["list"]
    assert (item["slot_bet"], item["slot_win"]) == (100, 1000)


# -- freeround/start and freeround/create --------------------------------------------------------
def free_round_body(sim, **overrides):
    body = {
        "user_code": DEMO_USER,
        "provider_id": 1,
        "game_code": "vs20fruitsw",
        "bet": 200,
        "rounds": 5,
        "expirationDate": sim.clock.millis() + HALF_HOUR_MS,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def test_freeround_start_answers_the_fr_id(sim, v4, demo):
    assert v4("game/freeround/start", free_round_body(sim)).body == {
        **OK,
        "data": {"fr_id": "FR-400000001-000001"},
    }


def test_freeround_create_is_the_same_handler(sim, v4, demo):
    assert v4("game/freeround/create", free_round_body(sim)).data == {"fr_id": "FR-400000001-000001"}


def test_freeround_start_accepts_game_symbol_for_game_code(sim, v4, demo):
    body = free_round_body(sim, game_code=None, game_symbol="vs20fruitsw")
    assert v4("game/freeround/start", body).code == 0
    assert sim.world.store.grant("FR-400000001-000001").game_code == "vs20fruitsw"


def test_freeround_start_stores_the_win_cap(sim, v4, demo):
    v4("game/freeround/start", free_round_body(sim, win=1500))
    assert sim.world.store.grant("FR-400000001-000001").win_cap == 1500


def test_freeround_start_rejects_an_expiration_under_30_minutes(sim, v4, demo):
    answer = v4(
        "game/freeround/start", free_round_body(sim, expirationDate=sim.clock.millis() + HALF_HOUR_MS - 1)
    )
    assert answer.body == {
        "code": 1002,
        "message": "VALIDATION_ERROR",
        "data": [
            {"field": "expirationDate", "message": "[expirationDate] must be at least 30 minutes from now"}
        ],
    }


@pytest.mark.parametrize(
    "override, message",
    [
        ({"rounds": 0}, "[rounds] must be between 1 and 500"),
        ({"rounds": 501}, "[rounds] must be between 1 and 500"),
        ({"bet": 0}, "[bet] must be greater than 0"),
        ({"game_code": None}, "The game_code field is required."),
        ({"expirationDate": None}, "The expirationDate field is required."),
    ],
)
def test_freeround_start_validation_errors(sim, v4, demo, override, message):
    answer = v4("game/freeround/start", free_round_body(sim, **override))
    assert answer.code == 1002
    assert [item["message"] for item in answer.data] == [message]


def test_freeround_start_is_2002_for_an_unknown_user(sim, v4, demo):
    assert v4("game/freeround/start", free_round_body(sim, user_code=400999999)).code == 2002


def test_freeround_start_is_1010_for_a_user_of_another_agent(sim, v4, demo):
    seamless = sim.world.hierarchy.get("demo_seamless")
    other = sim.world.store.user_by_name(seamless.agent_id, "seamless", "test1234")
    assert v4("game/freeround/start", free_round_body(sim, user_code=other.user_code)).code == 1010


def test_freeround_start_is_2007_for_an_unknown_provider(sim, v4, demo):
    assert v4("game/freeround/start", free_round_body(sim, provider_id=999)).code == 2007


def test_freeround_start_is_2007_for_an_unassigned_provider(sim, v4, demo):
    sim.world.hierarchy.apply_settings(demo, {"providers": [2]})
    assert v4("game/freeround/start", free_round_body(sim)).code == 2007


def test_freeround_start_is_2003_for_an_unknown_game(sim, v4, demo):
    assert v4("game/freeround/start", free_round_body(sim, game_code="nope")).code == 2003


def test_freeround_start_is_1010_for_a_provider_without_free_rounds(sim, v4, demo):
    sim.world.catalogue.provider(1).free_rounds = False
    assert v4("game/freeround/start", free_round_body(sim)).code == 1010


# -- freeround/cancel ------------------------------------------------------------------------
def test_freeround_cancel_is_a_bare_success(sim, v4, demo):
    fr_id = v4("game/freeround/start", free_round_body(sim)).data["fr_id"]
    assert v4("game/freeround/cancel", {"fr_id": fr_id}).body == OK


def test_freeround_cancel_twice_is_2020(sim, v4, demo):
    fr_id = v4("game/freeround/start", free_round_body(sim)).data["fr_id"]
    v4("game/freeround/cancel", {"fr_id": fr_id})
    assert v4("game/freeround/cancel", {"fr_id": fr_id}).body == {
        "code": 2020,
        "message": "FREEROUND_NO_EXIST",
    }


def test_freeround_cancel_of_an_unknown_id_is_2020(v4):
    assert v4("game/freeround/cancel", {"fr_id": "FR-400000001-000042"}).code == 2020


def test_freeround_cancel_of_another_agents_grant_is_2020(sim, v4, v4_seamless, demo):
    fr_id = v4("game/freeround/start", free_round_body(sim)).data["fr_id"]
    assert v4_seamless("game/freeround/cancel", {"fr_id": fr_id}).code == 2020


def test_free_rounds_granted_through_the_api_are_played_first(sim, v4, demo, session):
    v4("game/freeround/start", free_round_body(sim, rounds=1))
    free, paid = spin(sim, session), spin(sim, session)
    assert [(r.free, r.bet) for r in (free, paid)] == [(True, 0), (False, 100)]
    assert sim.world.ledger.audit().conserved
