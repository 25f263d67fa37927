"""The player's pages: opening a launch URL, the game page, its spin API, round pages (5.12-5.14, 5.22)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.domain.models import TransType
from simulator.domain.round_links import round_token
from tests.conftest import DEMO_USER

GOOD = {"user_code": DEMO_USER, "provider_id": 1, "game_symbol": "vswaysdogs", "lang": 1}
LOBBY = "https://casino.example/lobby?from=game&x=1"


# -- helpers -----------------------------------------------------------------------
def launch_path(v4, **changes) -> str:
    """``/play/<token>`` of a fresh launch URL."""
    answer = v4("game/game-url", {**GOOD, **changes})
    assert answer.code == 0, answer.body
    return "/play/" + answer.data["game_url"].rsplit("/play/", 1)[1]


def open_game(client, v4, **changes) -> str:
    """Open a launch URL like a browser; returns the session secret."""
    response = client.get(launch_path(v4, **changes))
    assert response.status_code == 303
    return response.headers["Location"].rsplit("/", 1)[1]


def page(client, secret: str, query: str = "") -> str:
    response = client.get(f"/play/session/{secret}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def spin(client, secret: str, bet) -> tuple[int, dict]:
    response = client.post(f"/play/api/session/{secret}/spin", json={"bet": bet})
    return response.status_code, response.get_json()


def demo(sim):
    return sim.world.hierarchy.get("demo")


def history(sim) -> list:
    return list(sim.world.store.transactions_of(demo(sim).agent_id))


def balance(sim) -> Decimal:
    return sim.world.store.user(DEMO_USER).balance


def force(client, *multipliers) -> None:
    body = {"agent": "demo", "account": "test1234", "next": [{"multiplier": m} for m in multipliers]}
    assert client.post("/control/outcomes", json=body).status_code in (200, 201)


# -- opening the one-time URL ---------------------------------------------------------
def test_opening_a_launch_url_redirects_to_the_game_page(sim, client, v4):
    response = client.get(launch_path(v4))
    assert response.status_code == 303
    secret = response.headers["Location"].rsplit("/", 1)[1]
    assert response.headers["Location"] == f"/play/session/{secret}"
    assert sim.world.sessions.session(secret).user_code == DEMO_USER


def test_the_game_page_survives_a_reload(client, v4):
    secret = open_game(client, v4)
    assert page(client, secret) == page(client, secret)


def test_a_launch_url_opens_once_and_the_second_opening_starts_nothing(sim, client, v4):
    path = launch_path(v4)
    assert client.get(path).status_code == 303
    sessions = sim.world.store.session_count()
    again = client.get(path)
    assert again.status_code == 410
    assert "This game link was already opened" in again.get_data(as_text=True)
    assert again.mimetype == "text/html"
    assert sim.world.store.session_count() == sessions


def test_a_launch_url_expires_after_10_minutes(sim, client, v4):
    sim.clock.freeze(True)
    path = launch_path(v4)
    sim.clock.advance(601)
    response = client.get(path)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    assert sim.world.store.session_count() == 0


def test_a_launch_url_still_opens_just_before_10_minutes(sim, client, v4):
    sim.clock.freeze(True)
    path = launch_path(v4)
    sim.clock.advance(599)
    assert client.get(path).status_code == 303


def test_an_unknown_launch_url_is_404(sim, client):
    response = client.get("/play/not-a-real-token")
    assert response.status_code == 404
    assert "not valid" in response.get_data(as_text=True)
    assert sim.world.store.session_count() == 0


def test_an_unknown_session_page_is_404(client):
    response = client.get("/play/session/nope")
    assert response.status_code == 404
    assert "does not exist" in response.get_data(as_text=True)


# -- the game page -----------------------------------------------------------------
def test_the_game_page_shows_game_provider_balance_and_stake_bounds(sim, client, v4):
    html = page(client, open_game(client, v4))
    assert "The Dog House Megaways" in html
    assert "Pragmatic Play" in html
    assert f'data-balance="{balance(sim)}"' in html
    assert f"{balance(sim):,} KRW" in html  # KRW: 0 decimals, thousands separated
    assert 'min="100" max="100000"' in html
    assert '<span id="min-bet">100 KRW</span>' in html
    assert '<span id="max-bet">100,000 KRW</span>' in html
    assert 'data-stake="100"' in html and 'data-stake="100000"' in html
    assert '<button id="spin" type="submit"' in html


def test_the_return_button_leads_to_the_return_url(client, v4):
    html = page(client, open_game(client, v4, return_url=LOBBY))
    assert 'id="return" class="button ghost" href="https://casino.example/lobby?from=game&amp;x=1"' in html


def test_the_return_button_is_hidden_without_a_return_url(client, v4):
    assert 'id="return"' not in page(client, open_game(client, v4))


def test_a_javascript_return_url_gets_no_button(client, v4):
    html = page(client, open_game(client, v4, return_url="javascript:alert(1)"))
    assert 'id="return"' not in html
    assert "javascript:" not in html


def test_return_url_and_names_are_escaped(sim, client, v4):
    game = sim.world.catalogue.game(1, "vswaysdogs")
    game.game_name, game.locale_names = "<b>Dogs</b> & Co", {}
    evil = 'https://casino.example/"><script>alert(1)</script>'
    html = page(client, open_game(client, v4, return_url=evil))
    assert "<script>alert(1)</script>" not in html
    assert "https://casino.example/&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>Dogs</b>" not in html
    assert "&lt;b&gt;Dogs&lt;/b&gt; &amp; Co" in html


def test_pages_load_nothing_from_the_network(client, v4):
    response = client.get(f"/play/session/{open_game(client, v4)}")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    html = response.get_data(as_text=True)
    assert 'src="http' not in html and 'href="//' not in html
    assert client.get("/play/static/play.css").status_code == 200
    assert client.get("/play/static/play.js").status_code == 200


# -- spinning ------------------------------------------------------------------------
def test_a_spin_changes_the_balance_by_win_minus_bet(sim, client, v4):
    secret = open_game(client, v4)
    before = balance(sim)
    status, body = spin(client, secret, 300)
    assert status == 200
    assert body["status"] == "settled"
    assert Decimal(str(body["balance"])) == before - Decimal(300) + Decimal(str(body["win"]))
    assert balance(sim) == Decimal(str(body["balance"]))
    assert body["bet"] == 300
    assert body["view"]["kind"] == "slot"


def test_a_spin_records_one_bet_and_one_win_of_its_round(sim, client, v4):
    secret = open_game(client, v4)
    count = len(history(sim))
    _, body = spin(client, secret, 100)
    rows = history(sim)[count:]
    assert [(r.trans_type, r.round_id) for r in rows] == [
        (TransType.BET, body["round_id"]),
        (TransType.WIN, body["round_id"]),
    ]


def test_a_forced_win_pays_the_multiplier_and_lights_the_paying_symbols(sim, client, v4):
    secret = open_game(client, v4)
    force(client, 10)  # 3 diamonds on the payline
    before = balance(sim)
    status, body = spin(client, secret, 200)
    assert (status, body["win"], body["multiplier"]) == (200, 2000, 10)
    assert balance(sim) == before + 1800
    html = page(client, secret)
    assert html.count("tile sym-diamond paying") == 3
    assert html.count(" paying") == 3
    assert "3 × diamond on the payline" in html
    assert f'data-round-id="{body["round_id"]}"' in html


def test_a_stake_above_the_balance_is_409_and_records_nothing(sim, client, v4):
    secret = open_game(client, v4)
    count, before = len(history(sim)), balance(sim)
    status, body = spin(client, secret, int(before) + 100)
    assert status == 409
    assert body["error"] == "BALANCE_NOT_ENOUGH"
    assert body["message"] == (
        f"Your balance of {int(before):,} KRW is too low for a stake of {int(before) + 100:,} KRW. "
        "Choose a smaller stake."
    )
    assert len(history(sim)) == count
    assert balance(sim) == before
    assert sim.world.store.rounds_of(demo(sim).agent_id) == []


def test_a_stake_below_min_bet_is_400(sim, client, v4):
    secret = open_game(client, v4)
    count = len(history(sim))
    status, body = spin(client, secret, 99)
    assert status == 400
    assert body["error"] == "PARAMETERS_INVALID"
    assert body["message"] == (
        "A stake of 99 KRW is not possible here. The stake must be between 100 KRW and 100,000 KRW."
    )
    assert len(history(sim)) == count


def test_a_stake_above_max_bet_is_400(client, v4):
    status, body = spin(client, open_game(client, v4), 100001)
    assert (status, body["error"]) == (400, "PARAMETERS_INVALID")


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        '{"bet": "lots"}',
        '{"bet": 100.12345}',
        '{"bet": -100}',
        "{}",
        '{"bet": 100, "x": 1}',
        "[100]",
    ],
)
def test_a_malformed_spin_body_is_400(sim, client, v4, raw):
    secret = open_game(client, v4)
    count = len(history(sim))
    response = client.post(f"/play/api/session/{secret}/spin", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "VALIDATION_ERROR"
    assert len(history(sim)) == count


def test_a_kicked_session_refuses_the_next_spin_and_leaves_online_games(sim, client, v4):
    secret = open_game(client, v4)
    assert spin(client, secret, 100)[0] == 200
    gplay_id = sim.world.sessions.session(secret).gplay_id
    assert gplay_id in [s["gplay_id"] for s in v4("game/online-games", {}).data]
    assert v4("game/kick_games", {"user_code": DEMO_USER}).code == 0
    count = len(history(sim))
    status, body = spin(client, secret, 100)
    assert (status, body["error"]) == (410, "PERMISSION_ERROR")
    assert "ended by the casino" in body["message"]
    assert len(history(sim)) == count
    assert gplay_id not in [s["gplay_id"] for s in v4("game/online-games", {}).data]
    html = page(client, secret)
    assert "This game session has ended" in html
    assert 'id="spin"' not in html


def test_maintenance_refuses_a_spin_with_503(sim, client, v4):
    secret = open_game(client, v4)
    sim.world.catalogue.set_maintenance("game:1:vswaysdogs", True)
    status, body = spin(client, secret, 100)
    assert (status, body["error"]) == (503, "UNDER_MAINTENANCE")
    assert "maintenance" in body["message"]


def test_a_round_failing_before_settlement_is_refunded_and_answers_500(sim, client, v4):
    secret = open_game(client, v4)
    rule = {"agent": "demo", "target": "round:settle", "effect": {"fail": True}, "times": 1}
    assert client.post("/control/faults", json=rule).status_code == 201
    before = balance(sim)
    status, body = spin(client, secret, 500)
    assert status == 500
    assert body["error"] == "INTERNAL_SERVER_ERROR"
    assert body["refunded"] is True
    assert "refunded" in body["message"]
    assert balance(sim) == before
    round_ = sim.world.store.round(demo(sim).agent_id, body["round_id"])
    assert round_.status == "refunded"
    html = page(client, secret, f"?error=INTERNAL_SERVER_ERROR&round={body['round_id']}")
    assert "Your stake was refunded" in html
    assert "stake refunded" in html


def test_the_spin_api_of_an_unknown_session_is_404(client):
    response = client.post("/play/api/session/nope/spin", json={"bet": 100})
    assert response.status_code == 404
    assert response.get_json()["error"] == "RESOURCE_NOT_FOUND"


def test_state_reports_game_balance_limits_and_recent_rounds(sim, client, v4):
    secret = open_game(client, v4, return_url=LOBBY)
    _, first = spin(client, secret, 100)
    _, second = spin(client, secret, 200)
    state = client.get(f"/play/api/session/{secret}/state").get_json()
    assert state["game"] == "The Dog House Megaways"
    assert state["provider"] == "Pragmatic Play"
    assert state["category"] == "Slots"
    assert state["currency"] == "KRW"
    assert (state["min_bet"], state["max_bet"]) == (100, 100000)
    assert Decimal(str(state["balance"])) == balance(sim)
    assert state["return_url"] == LOBBY
    assert [r["round_id"] for r in state["recent"]] == [second["round_id"], first["round_id"]]
    assert (state["recent"][0]["bet"], state["recent"][0]["win"]) == (200, second["win"])


# -- the page without JavaScript: a form POST, then the page again -----------------------
def test_the_spin_form_plays_and_shows_the_round(sim, client, v4):
    secret = open_game(client, v4)
    before = balance(sim)
    response = client.post(f"/play/session/{secret}/spin", data={"bet": "300"})
    assert response.status_code == 303
    round_id = response.headers["Location"].rsplit("round=", 1)[1]
    round_ = sim.world.store.round(demo(sim).agent_id, round_id)
    assert balance(sim) == before - 300 + round_.win
    html = page(client, secret, f"?round={round_id}")
    assert f'id="result" class="result status-settled" data-round-id="{round_id}"' in html
    assert html.count('class="tile sym-') == 15
    assert f'<tr data-round-id="{round_id}"' in html
    assert 'value="300"' in html  # the stake stays where the player left it


def test_a_refused_form_spin_is_explained_in_words(client, v4):
    secret = open_game(client, v4)
    response = client.post(f"/play/session/{secret}/spin", data={"bet": "50"})
    assert response.headers["Location"].endswith("?error=PARAMETERS_INVALID&bet=50")
    html = page(client, secret, "?error=PARAMETERS_INVALID&bet=50")
    assert (
        "A stake of 50 KRW is not possible here. The stake must be between 100 KRW and 100,000 KRW." in html
    )
    assert 'value="50">' in html  # the player's choice stays in the input


def test_an_unknown_error_name_in_the_query_shows_no_message(client, v4):
    html = page(client, open_game(client, v4), "?error=<script>")
    assert 'id="message"' not in html


# -- other categories ------------------------------------------------------------------
def test_a_live_roulette_shows_the_winning_number_in_the_players_bet(client, v4):
    secret = open_game(client, v4, game_symbol="sim_live_roulette")
    force(client, 2)
    status, body = spin(client, secret, 100)
    view = body["view"]
    assert (status, view["kind"], view["bet"]["pays"]) == (200, "roulette", "2")
    assert view["number"] in view["bet"]["numbers"] and len(view["bet"]["numbers"]) == 18
    html = page(client, secret)
    assert f'<div class="ball {view["colour"]}" id="number" data-number="{view["number"]}">' in html
    assert f'<strong id="bet-on" data-bet="{view["bet"]["on"]}">{view["bet"]["label"]}</strong>' in html
    assert '<button id="spin" type="submit" class="spin">Spin</button>' in html


def test_a_baccarat_table_deals_both_hands_and_shows_the_side_bet_on(client, v4):
    secret = open_game(client, v4, game_symbol="sim_live_baccarat")
    force(client, 9)
    _, body = spin(client, secret, 100)
    view = body["view"]
    assert (view["kind"], view["bet"]["on"], view["winner"]) == ("baccarat", "tie", "tie")
    assert body["win"] == 900
    html = page(client, secret)
    assert 'data-hand="player"' in html and 'data-hand="banker"' in html
    assert f'<p class="verdict" id="winner" data-winner="tie">Tie at {view["player_total"]}</p>' in html
    assert '<button id="spin" type="submit" class="spin">Deal</button>' in html


def test_the_state_api_names_the_games_kind_and_action(client, v4):
    secret = open_game(client, v4, provider_id=20, game_symbol="bg25plinko")
    state = client.get(f"/play/api/session/{secret}/state").get_json()
    assert (state["category"], state["kind"], state["action"]) == ("Mini", "plinko", "Drop")


def test_a_round_drawn_before_kinds_existed_still_shows(client, v4, sim):
    secret = open_game(client, v4, game_symbol="sim_live_roulette")
    _, body = spin(client, secret, 100)
    snapshot = client.get("/control/snapshot").get_json()
    for round_ in snapshot["store"]["rounds"]:
        if round_["round_id"] == body["round_id"]:
            round_["view"] = {"kind": "live", "table": "sim_live_roulette", "result": "lose", "number": 17}
    assert client.post("/control/restore", json=snapshot).status_code == 200
    html = page(client, secret)
    assert '<div class="ball black">17</div>' in html
    assert "No win this time" in html


def test_a_crash_game_shows_the_crash_point_and_the_cash_out(client, v4):
    secret = open_game(client, v4, provider_id=15, game_symbol="aviator")
    force(client, 2, 0)
    _, won = spin(client, secret, 100)
    html = page(client, secret, f"?round={won['round_id']}")
    assert f"×{won['view']['crash_point']}" in html
    assert "×2.00" in html
    _, lost = spin(client, secret, 100)
    html = page(client, secret, f"?round={lost['round_id']}")
    assert lost["view"]["cashout"] is None
    assert "none: it crashed first" in html


# -- the round page (round-details) --------------------------------------------------------
def round_page(client, sim, round_id: str):
    return client.get(f"/round/{round_token(sim.link_secret, demo(sim).agent_id, round_id)}")


def test_the_round_page_shows_the_round_and_its_transactions(sim, client, v4):
    secret = open_game(client, v4)
    force(client, 5)
    _, body = spin(client, secret, 300)
    response = round_page(client, sim, body["round_id"])
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    round_ = sim.world.store.round(demo(sim).agent_id, body["round_id"])
    assert f'<span id="round-id">{body["round_id"]}</span>' in html
    assert "test1234" in html and str(DEMO_USER) in html
    assert "The Dog House Megaways" in html and "Pragmatic Play" in html
    assert sim.format_time(round_.created_at) in html
    assert '<dd id="bet" data-bet="300">300 KRW</dd>' in html
    assert '<dd id="win" data-win="1500">1,500 KRW</dd>' in html
    assert '<span id="round-status" class="badge status-settled">settled</span>' in html
    assert html.count('class="tile sym-') == 15
    bet, win = (t for t in history(sim) if t.round_id == body["round_id"])
    assert f'<tr data-trans-id="{bet.trans_id}" data-type="1">' in html
    assert f'<tr data-trans-id="{win.trans_id}" data-type="2">' in html
    assert "Bet <span" in html and "Win <span" in html


def test_the_round_page_of_a_refunded_round_shows_the_bet_cancel(sim, client, v4):
    secret = open_game(client, v4)
    client.post("/control/faults", json={"target": "round:settle", "effect": {"fail": True}, "times": 1})
    _, body = spin(client, secret, 100)
    html = round_page(client, sim, body["round_id"]).get_data(as_text=True)
    assert "status-refunded" in html
    assert "BetCancel <span" in html
    assert 'data-type="16"' in html


def test_a_forged_round_token_is_404(sim, client, v4):
    secret = open_game(client, v4)
    _, body = spin(client, secret, 100)
    token = round_token(sim.link_secret, demo(sim).agent_id, body["round_id"])
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    for bad in (forged, f"{demo(sim).agent_id}-{body['round_id']}-deadbeef", "garbage"):
        response = client.get(f"/round/{bad}")
        assert response.status_code == 404
        assert "Round not found" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "token", ["3-336097135001-%C3%A9", "3-336097135001-abc\u00e9", "\u00b2-1-ab", "3-\u0663-ab"]
)
def test_a_round_token_with_non_ascii_characters_is_404(client, token):
    """Issue 15: ``hmac.compare_digest`` raised on non-ASCII text (500); ``"²".isdigit()`` is True."""
    response = client.get(f"/round/{token}")
    assert response.status_code == 404
    assert "Round not found" in response.get_data(as_text=True)


def test_the_round_page_of_an_unknown_round_is_404(sim, client):
    assert round_page(client, sim, "999").status_code == 404


def test_the_round_page_is_gone_after_30_days(sim, client, v4):
    sim.clock.freeze(True)
    _, body = spin(client, open_game(client, v4), 100)
    sim.clock.advance(30 * 86400 + 1)
    assert round_page(client, sim, body["round_id"]).status_code == 404
