"""The stake selector (issue 16, item 8): stakes above the balance are disabled, and a refused stake
stays where the player put it, with the reason."""

from __future__ import annotations

import re

import pytest

from tests.conftest import V4


@pytest.fixture
def player(v4: V4) -> int:
    """A fresh player of ``demo`` with 1,000 KRW (demo's stakes: 100 to 100,000)."""
    user_code = v4("user/create", {"name": "stake_01"}).data["user_code"]
    assert v4("wallet/deposit", {"user_code": user_code, "amount": 1000}).code == 0
    return user_code


def open_game(client, v4: V4, user_code: int) -> str:
    body = {"user_code": user_code, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 1}
    url = v4("game/game-url", body).data["game_url"]
    opened = client.get("/play/" + url.rsplit("/play/", 1)[1])
    assert opened.status_code == 303
    return opened.headers["Location"].rsplit("/", 1)[1]


def page(client, secret: str, query: str = "") -> str:
    response = client.get(f"/play/session/{secret}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def chips(html: str) -> dict[str, bool]:
    """``data-stake`` of each preset chip -> whether it is disabled."""
    found = re.findall(r'<button type="button" class="chip[^"]*" data-stake="([^"]+)"([^>]*)>', html)
    return {stake: "disabled" in rest for stake, rest in found}


def test_preset_stakes_above_the_balance_are_disabled(client, v4, player):
    html = page(client, open_game(client, v4, player))
    assert chips(html) == {
        "100": False,
        "500": False,
        "2000": True,
        "5000": True,
        "20000": True,
        "100000": True,
    }
    assert 'title="More than your balance of 1,000 KRW"' in html


def test_a_balance_below_the_smallest_stake_says_so(client, v4):
    user_code = v4("user/create", {"name": "stake_02"}).data["user_code"]
    assert v4("wallet/deposit", {"user_code": user_code, "amount": 50}).code == 0
    html = page(client, open_game(client, v4, user_code))
    assert set(chips(html).values()) == {True}
    assert '<span id="below-min">your balance is below the smallest stake</span>' in html


def test_a_stake_above_the_balance_keeps_the_choice_and_says_why(client, v4, player):
    secret = open_game(client, v4, player)
    response = client.post(f"/play/session/{secret}/spin", data={"bet": "5000"})
    assert response.headers["Location"] == f"/play/session/{secret}?error=BALANCE_NOT_ENOUGH&bet=5000"
    html = page(client, secret, "?error=BALANCE_NOT_ENOUGH&bet=5000")
    assert re.search(r'<input id="stake" name="bet"[^>]*value="5000">', html, re.S)
    assert (
        '<p id="message" class="message" role="alert">Your balance of 1,000 KRW is too low for a stake of '
        "5,000 KRW. Choose a smaller stake.</p>"
    ) in html


def test_a_stake_below_the_minimum_keeps_the_choice_and_says_why(client, v4, player):
    html = page(client, open_game(client, v4, player), "?error=PARAMETERS_INVALID&bet=60")
    assert re.search(r'<input id="stake" name="bet"[^>]*value="60">', html, re.S)
    assert (
        "A stake of 60 KRW is not possible here. The stake must be between 100 KRW and 100,000 KRW." in html
    )


def test_an_unreadable_stake_is_kept_as_typed_and_escaped(client, v4, player):
    secret = open_game(client, v4, player)
    response = client.post(f"/play/session/{secret}/spin", data={"bet": '12"><b>'})
    assert response.headers["Location"].endswith("?error=VALIDATION_ERROR&bet=12%22%3E%3Cb%3E")
    html = page(client, secret, "?error=VALIDATION_ERROR&bet=12%22%3E%3Cb%3E")
    assert 'value="12&#34;&gt;&lt;b&gt;">' in html
    assert "Enter the stake as a positive number with at most 4 decimals." in html


def test_a_huge_stake_in_the_query_is_kept_but_not_formatted(client, v4, player):
    html = page(client, open_game(client, v4, player), "?error=PARAMETERS_INVALID&bet=1e999999")
    assert 'value="1e999999">' in html
    assert '<p id="message" class="message" role="alert">The stake must be between 100 KRW' in html


def test_without_a_refusal_the_stake_is_the_last_one_played(client, v4, player):
    html = page(client, open_game(client, v4, player), "?bet=700")
    assert re.search(r'<input id="stake" name="bet"[^>]*value="100">', html, re.S)


def test_the_spin_api_names_the_refused_stake_and_the_balance(client, v4, player):
    secret = open_game(client, v4, player)
    response = client.post(f"/play/api/session/{secret}/spin", json={"bet": 2000})
    assert response.status_code == 409
    assert response.get_json()["message"] == (
        "Your balance of 1,000 KRW is too low for a stake of 2,000 KRW. Choose a smaller stake."
    )
