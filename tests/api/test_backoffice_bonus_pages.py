"""Bonus calls from the back office's "Game connections" page (spec 5.13, 5.16, 5.17, 8)."""

from __future__ import annotations

import re
from decimal import Decimal

from tests.api.test_backoffice_pages import XSS, html, play, post
from tests.conftest import DEMO_USER

SESSIONS = "/backoffice/agents/demo/sessions"


def online_game(v4) -> dict:
    (row,) = v4("game/online-games", {}).data
    return row


def start(client, gplay_id: int, set_point: str = "2500", memo: str = "") -> str:
    data = {"set_point": set_point, "memo": memo}
    return html(
        post(client, f"/backoffice/agents/demo/sessions/{gplay_id}/bonus-call", data, follow_redirects=True)
    )


def test_a_bonus_call_started_on_the_page_is_init_in_online_games(client, v4, sim):
    play(client, rounds=1)
    row = online_game(v4)
    assert row["call_enable"] is True and row["user_code"] == DEMO_USER
    page = html(client.get(SESSIONS))
    assert "Start bonus call" in page and "Cancel bonus call" not in page

    page = start(client, row["gplay_id"], memo="spring promo")
    row = online_game(v4)
    assert row["call_id"] >= 1 and row["call_status"] == 0 and row["callend_flag"] is False
    assert f"Bonus call #{row['call_id']} started" in page
    assert f"#{row['call_id']} Init" in page and "spring promo" in page
    assert "Cancel bonus call" in page
    assert sim.world.store.bonus_call(row["call_id"]).set_point == Decimal(2500)


def test_a_second_start_is_refused_in_words_with_the_code_name(client, v4, sim):
    play(client, rounds=1)
    gplay_id = online_game(v4)["gplay_id"]
    start(client, gplay_id)
    page = start(client, gplay_id)
    assert "BONUSCALL_DOUBLE: a call is already running on this session" in page
    store = sim.world.store
    calls = sum(len(store.bonus_calls_of(a.agent_id)) for a in store.all_agents())
    assert online_game(v4)["call_status"] == 0 and calls == 1


def test_refusals_below_call_min_and_bad_amounts_are_shown(client, v4):
    play(client, rounds=1)
    gplay_id = online_game(v4)["gplay_id"]
    assert "PARAMETERS_INVALID: set_point 10 is below call_min 1000" in start(client, gplay_id, "10")
    assert "set_point: The set_point field must be a number." in start(client, gplay_id, "lots")
    assert "PERMISSION_ERROR" in start(client, 987654321)
    assert online_game(v4)["call_id"] == 0


def test_cancel_from_the_page_ends_the_call_and_returns_the_points(client, v4, sim):
    play(client, rounds=1)

    def points():  # the agent as it stands now (records are values)
        return sim.world.hierarchy.get("demo").points

    before = points()
    gplay_id = online_game(v4)["gplay_id"]
    start(client, gplay_id)
    assert points() == before - 2500
    call_id = online_game(v4)["call_id"]

    page = html(post(client, f"/backoffice/agents/demo/bonus-calls/{call_id}/cancel", follow_redirects=True))
    assert f"Bonus call #{call_id} cancelled" in page and f"#{call_id} Cancel" in page
    assert "Cancel bonus call" not in page
    row = online_game(v4)
    assert row["call_status"] == 3 and row["callend_flag"] is True
    assert points() == before

    page = html(post(client, f"/backoffice/agents/demo/bonus-calls/{call_id}/cancel", follow_redirects=True))
    assert "BONUSCALL_ALEADY_ENDED: the call has already completed or was cancelled" in page
    page = html(post(client, "/backoffice/agents/demo/bonus-calls/999999/cancel", follow_redirects=True))
    assert "RESOURCE_NOT_FOUND: there is no such bonus call" in page


def test_the_page_shows_call_win_over_set_point_until_complete(client, v4):
    play(client, rounds=1)
    start(client, online_game(v4)["gplay_id"], "2500")
    play(client, rounds=3)  # 10 x 100 per spin: 1000 + 1000 + 500
    assert online_game(v4)["call_status"] == 2
    page = html(client.get(SESSIONS))
    assert re.search(r"#\d+ Complete", page)
    assert "2,500 / 2,500" in page


def test_a_memo_with_markup_is_escaped(client, v4):
    play(client, rounds=1)
    page = start(client, online_game(v4)["gplay_id"], memo=XSS)
    assert XSS not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_start_without_the_csrf_token_changes_nothing(client, v4):
    play(client, rounds=1)
    gplay_id = online_game(v4)["gplay_id"]
    response = client.post(
        f"/backoffice/agents/demo/sessions/{gplay_id}/bonus-call", data={"set_point": "2500"}
    )
    assert response.status_code == 400
    assert online_game(v4)["call_id"] == 0
