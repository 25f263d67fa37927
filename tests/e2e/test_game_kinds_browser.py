"""Each kind of Live and Mini game in Chromium (issue 16, item 7): the page draws the game's own
result, agreeing with the win, under a button named for the game; a screenshot of each."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from tests.conftest import DEMO_USER
from tests.e2e.conftest import LiveSimulator, Tab

pytestmark = pytest.mark.e2e

#: (provider_id, game_code, button, multiplier forced, what must be visible)
KINDS = [
    (
        1,
        "sim_live_baccarat",
        "Deal",
        2,
        ["[data-hand='player'] .card", "[data-hand='banker'] .card", "#bet-on"],
    ),
    (1, "sim_live_speed_baccarat", "Deal", 9, ["[data-hand='player'] .card", "#winner[data-winner='tie']"]),
    (1, "sim_live_blackjack", "Deal", 2, ["[data-hand='dealer'] .card", "[data-hand='player-1'] .card"]),
    (20, "bg25blackjackpro2", "Deal", "1.5", ["[data-hand='player-3'] .card", ".hand-result"]),
    (1, "sim_live_roulette", "Spin", 36, ["#number", "#colour", "#bet-on"]),
    (12, "101", "Spin", 2, ["#number", "#colour", "#bet-on"]),
    (1, "sim_live_sicbo", "Roll", 3, [".die", "#dice-total", "#bet-on"]),
    (20, "bg25dice", "Roll", 2, [".die", "#dice-total"]),
    (1, "sim_live_dragon_tiger", "Deal", 2, ["[data-hand='dragon'] .card", "[data-hand='tiger'] .card"]),
    (20, "bg25plinko", "Drop", 5, [".plinko-board .slot.hit", "#slot"]),
    (15, "aviator", "Bet", 3, [".crash-point", "#target", ".cashout"]),
    (20, "bg25balloonmania", "Bet", 0, [".crash-point", "#target", ".cashout.none"]),
]


def _force(live: LiveSimulator, multiplier) -> None:
    body = {"agent": "demo", "account": "test1234", "next": [{"multiplier": multiplier}]}
    assert requests.post(f"{live.base_url}/control/outcomes", json=body, timeout=10).status_code == 200


@pytest.mark.parametrize(
    ("provider_id", "code", "button", "multiplier", "visible"), KINDS, ids=[k[1] for k in KINDS]
)
def test_a_live_or_mini_game_is_drawn_as_its_kind(
    live: LiveSimulator, tab: Tab, results_dir, provider_id, code, button, multiplier, visible
) -> None:
    body = {"user_code": DEMO_USER, "provider_id": provider_id, "game_symbol": code, "lang": 1}
    page = tab.page
    page.goto(live.v4("game/game-url", body)["game_url"])
    assert page.inner_text("#spin") == button
    assert page.inner_text("#result") == f"Choose a stake and press {button}."
    _force(live, multiplier)
    page.fill("#stake", "1000")
    page.click("#spin")
    page.wait_for_selector("#result[data-round-id]")
    win = Decimal(page.get_attribute("#result", "data-win"))
    assert win == Decimal(1000) * Decimal(str(multiplier))
    for selector in visible:
        assert page.locator(selector).first.is_visible(), selector
    assert page.inner_text("#spin") == button
    page.screenshot(path=str(results_dir / f"play-kind-{code}.png"), full_page=True)
    assert tab.console_errors == []
    assert tab.foreign_requests == []
