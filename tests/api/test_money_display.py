"""Money on every page in its currency's own precision (issue 16, item 9): KRW whole, USD in cents."""

from __future__ import annotations

import re

import pytest

from tests.conftest import DEMO_USER, V4

USD = 2


def html(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def usd(client) -> V4:
    """A USD tree of its own (broker, operator, agent ``usd_casino``), stakes from 0.50 USD."""
    for body in (
        {"name": "usd_broker", "kind": "broker", "currency": USD, "points": 100000},
        {"name": "usd_operator", "kind": "operator", "parent": "usd_broker", "points": 50000},
        {"name": "usd_casino", "kind": "agent", "parent": "usd_operator", "points": 10000},
    ):
        created = client.post("/admin/api/agents", json=body)
        assert created.status_code == 201, created.get_json()
    token = created.get_json()["api_token"]
    patched = client.patch("/admin/api/agents/usd_casino", json={"min_bet": 0.5, "max_bet": 100})
    assert patched.status_code == 200
    return V4(client, token)


@pytest.fixture
def usd_player(usd) -> int:
    user_code = usd("user/create", {"name": "dollar_01"}).data["user_code"]
    assert usd("wallet/deposit", {"user_code": user_code, "amount": 20}).code == 0
    return user_code


def play(client, agent: str, user_code: int, bet, rounds: int = 2) -> None:
    body = {"agent": agent, "user_code": user_code, "provider_id": 1, "game_code": "vs20fruitsw"}
    response = client.post("/control/play", json={**body, "bet": bet, "rounds": rounds})
    assert response.status_code == 200, response.get_json()


def test_the_krw_dashboard_totals_show_no_decimals(client):
    client.post(
        "/control/outcomes", json={"agent": "demo", "account": "test1234", "next": [{"multiplier": 2}]}
    )
    play(client, "demo", DEMO_USER, 100)
    page = html(client.get("/backoffice/?agent=demo"))
    assert re.search(r'id="total-bets">200 KRW<', page)
    assert re.search(r'id="total-wins">200 KRW<', page)
    assert re.search(r'id="total-ggr">0 KRW<', page)
    assert set(re.findall(r" - (?:Bets|Wins|GGR): ([^<]+)</title>", page)) == {"0", "200"}
    assert not re.search(r"\d\.\d+ KRW", page)  # the points history neither


def test_the_usd_dashboard_totals_show_cents(client, usd_player):
    client.post(
        "/control/outcomes", json={"agent": "usd_casino", "account": "dollar_01", "next": [{"multiplier": 2}]}
    )
    play(client, "usd_casino", usd_player, "1.5")
    page = html(client.get("/backoffice/?agent=usd_casino"))
    assert re.search(r'id="total-bets">3.00 USD<', page)
    assert re.search(r'id="total-wins">3.00 USD<', page)
    assert re.search(r'id="total-ggr">0.00 USD<', page)
    assert " - Bets: 3.00</title>" in page
    assert "grant +10,000.00 usd_operator: 10,000.00 USD" in page


def test_a_dashboard_over_several_currencies_says_they_are_mixed(client, usd_player):
    play(client, "usd_casino", usd_player, "1.5", rounds=1)
    play(client, "demo", DEMO_USER, 100, rounds=1)
    page = html(client.get("/backoffice/"))
    assert re.search(r'id="total-bets">101.50<', page)
    assert "(mixed currencies: the scope spans agents of several)" in page


def test_the_usd_back_office_tables_show_cents(client, usd_player):
    client.post(
        "/control/outcomes", json={"agent": "usd_casino", "account": "dollar_01", "next": [{"multiplier": 0}]}
    )
    play(client, "usd_casino", usd_player, "1.5", rounds=1)
    users = html(client.get("/backoffice/agents/usd_casino/users"))
    assert re.search(rf'data-user-code="{usd_player}".*?<td class="num">18.50</td>', users, re.S)
    transactions = html(client.get("/backoffice/agents/usd_casino/transactions?type=1"))
    assert re.findall(r'<td class="num">([\d,.]+)</td>', transactions) == ["20.00", "1.50", "18.50"]
    agent = html(client.get("/backoffice/agents/usd_casino"))
    assert re.search(r'id="agent-points" data-points="[\d.]+">9,980.00 USD<', agent)


def test_the_krw_back_office_tables_show_no_decimals(client):
    play(client, "demo", DEMO_USER, 100, rounds=1)
    transactions = html(client.get("/backoffice/agents/demo/transactions?type=1"))
    assert re.findall(r'<td class="num">([\d,.]+)</td>', transactions) == ["10,100", "100", "10,000"]
    agents = html(client.get("/backoffice/agents"))
    assert re.findall(r'<tr data-agent="demo".*?<td class="num">([\d,.]+)</td>', agents, re.S) == [
        "1,000,000"
    ]


def test_the_usd_game_page_shows_cents(client, usd, usd_player):
    url = usd(
        "game/game-url", {"user_code": usd_player, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 1}
    ).data["game_url"]
    opened = client.get(url.removeprefix("http://localhost"))
    page = html(client.get(opened.headers["Location"]))
    assert re.search(r'<output id="balance" data-balance="20">20.00 USD</output>', page)
    assert re.search(r'<span id="min-bet">0.50 USD</span> to <span id="max-bet">100.00 USD</span>', page)


def test_the_krw_game_page_shows_no_decimals(client, v4):
    url = v4(
        "game/game-url", {"user_code": DEMO_USER, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 1}
    ).data["game_url"]
    opened = client.get(url.removeprefix("http://localhost"))
    page = html(client.get(opened.headers["Location"]))
    assert re.search(r'<output id="balance" data-balance="10100">10,100 KRW</output>', page)
    assert re.search(r'<span id="min-bet">100 KRW</span> to <span id="max-bet">100,000 KRW</span>', page)
