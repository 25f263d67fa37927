"""A player in headless Chromium: launch, spin, see the balance move, open the round page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.conftest import DEMO_USER
from tests.e2e.conftest import LiveSimulator, Tab

pytestmark = pytest.mark.e2e

LOBBY = "https://casino.example/lobby"


def game_url(live: LiveSimulator, **changes) -> str:
    body = {"user_code": DEMO_USER, "provider_id": 1, "game_symbol": "vswaysdogs", "lang": 1, **changes}
    return live.v4("game/game-url", body)["game_url"]


def shown_balance(page) -> Decimal:
    return Decimal(page.get_attribute("#balance", "data-balance"))


def test_a_player_spins_and_finds_the_round_page(live: LiveSimulator, tab: Tab, results_dir) -> None:
    page = tab.page
    page.goto(game_url(live, return_url=LOBBY))
    assert "/play/session/" in page.url
    assert page.inner_text("#game-name") == "The Dog House Megaways"
    assert page.inner_text("#provider-name") == "Pragmatic Play"
    assert page.get_attribute("#return", "href") == LOBBY
    before = shown_balance(page)
    assert before == live.sim.world.store.user(DEMO_USER).balance

    page.click('.chip[data-stake="500"]')
    assert page.input_value("#stake") == "500"
    page.click("#spin")
    page.wait_for_selector("#result[data-round-id]")

    round_id = page.get_attribute("#result", "data-round-id")
    bet = Decimal(page.get_attribute("#result", "data-bet"))
    win = Decimal(page.get_attribute("#result", "data-win"))
    assert bet == 500
    assert shown_balance(page) == before - bet + win
    assert page.locator(".reels .tile").count() == 15
    assert page.locator(f'#recent tr[data-round-id="{round_id}"]').count() == 1
    page.screenshot(path=str(results_dir / "play-game-page.png"), full_page=True)

    rows = live.v4("game/transaction-id", {"last_id": 0, "limit": 2000})
    mine = [r for r in rows if r["round_id"] == round_id]
    assert [(r["trans_type"], Decimal(str(r["trans_amount"]))) for r in mine] == [(1, bet), (2, win)]

    url = live.v4("game/round-details", {"user_code": DEMO_USER, "round_id": round_id})["url"]
    page.goto(url)
    assert page.inner_text("#round-id") == round_id
    assert Decimal(page.get_attribute("#bet", "data-bet")) == bet
    assert page.inner_text("#bet") == f"{bet:,.0f} KRW"
    assert page.locator("#transactions tbody tr").count() == 2
    page.screenshot(path=str(results_dir / "play-round-page.png"), full_page=True)

    assert tab.console_errors == []
    assert tab.foreign_requests == []


def test_a_refused_stake_is_explained_and_kept_on_the_page(
    live: LiveSimulator, tab: Tab, results_dir
) -> None:
    page = tab.page
    page.goto(game_url(live))
    before = shown_balance(page)
    page.fill("#stake", "50")
    page.click("#spin")
    expect(page.locator("#message")).to_have_text(
        "A stake of 50 KRW is not possible here. The stake must be between 100 KRW and 100,000 KRW."
    )
    assert page.input_value("#stake") == "50"
    assert shown_balance(page) == before
    too_much = before + 100
    page.fill("#stake", str(too_much))
    page.click("#spin")
    expect(page.locator("#message")).to_have_text(
        f"Your balance of {before:,.0f} KRW is too low for a stake of {too_much:,.0f} KRW. "
        "Choose a smaller stake."
    )
    assert page.input_value("#stake") == str(too_much)
    assert shown_balance(page) == before
    page.screenshot(path=str(results_dir / "play-refused-stake.png"), full_page=True)
    assert tab.foreign_requests == []


def test_stakes_above_the_balance_cannot_be_chosen(live: LiveSimulator, tab: Tab) -> None:
    user_code = live.v4("user/create", {"name": "low_balance"})["user_code"]
    live.v4("wallet/deposit", {"user_code": user_code, "amount": 1000})
    page = tab.page
    page.goto(game_url(live, user_code=user_code))
    assert page.is_enabled('.chip[data-stake="500"]')
    assert page.is_disabled('.chip[data-stake="2000"]')
    page.click('.chip[data-stake="2000"]', force=True)  # a click on a disabled chip changes nothing
    assert page.input_value("#stake") == "100"
    assert page.get_attribute('.chip[data-stake="2000"]', "title") == "More than your balance of 1,000 KRW"


def test_the_launch_url_does_not_open_twice_but_the_game_page_reloads(live: LiveSimulator, tab: Tab) -> None:
    page = tab.page
    url = game_url(live)
    page.goto(url)
    game_page = page.url
    page.reload()
    assert page.inner_text("#game-name") == "The Dog House Megaways"
    response = page.goto(url)
    assert response.status == 410
    assert "This game link was already opened" in page.inner_text("#error")
    assert page.goto(game_page).status == 200
