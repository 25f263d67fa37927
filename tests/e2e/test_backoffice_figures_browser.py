"""The dashboard's reading of the RTP and money in each currency's precision, in Chromium
(issue 16, items 9 and 10), with screenshots."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.conftest import DEMO_USER
from tests.e2e.conftest import LiveSimulator, Tab

pytestmark = pytest.mark.e2e
SLOT = {"agent": "demo", "user_code": DEMO_USER, "provider_id": 1, "game_code": "vs20fruitsw", "bet": 100}


def _post(live: LiveSimulator, path: str, body: Any) -> Any:
    response = requests.post(f"{live.base_url}{path}", json=body, timeout=30)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_61_percent_after_265_rounds_reads_as_too_few_rounds(
    live: LiveSimulator, tab: Tab, results_dir
) -> None:
    live.v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 30000})
    forced = [{"multiplier": "161.65"}] + [{"multiplier": 0}] * 264
    _post(live, "/control/outcomes", {"agent": "demo", "account": "test1234", "next": forced})
    assert len(_post(live, "/control/play", {**SLOT, "rounds": 265})) == 265
    page = tab.page
    page.goto(f"{live.base_url}/backoffice/?agent=demo")
    row = page.locator('#rtp-agents tr[data-agent="demo"]')
    assert row.locator("td").nth(1).inner_text() == "265"
    assert row.locator("td").nth(3).inner_text() == "61.00%"
    assert row.locator(".verdict .band").inner_text().startswith("95%: 0.0–")
    assert row.locator(".verdict-too-few-rounds").inner_text() == "too few rounds"
    assert page.locator("#rtp-agent-chart rect.band").first.is_visible()
    assert page.inner_text("#total-bets") == "26,500 KRW"
    page.screenshot(path=str(results_dir / "bo-dashboard-rtp-range.png"), full_page=True)
    assert tab.console_errors == []
    assert tab.foreign_requests == []


def test_a_usd_agent_shows_cents_in_the_back_office_and_the_game(
    live: LiveSimulator, tab: Tab, results_dir
) -> None:
    for body in (
        {"name": "usd_broker", "kind": "broker", "currency": 2, "points": 100000},
        {"name": "usd_operator", "kind": "operator", "parent": "usd_broker", "points": 50000},
        {"name": "usd_casino", "kind": "agent", "parent": "usd_operator", "points": 10000},
    ):
        token = _post(live, "/admin/api/agents", body)["api_token"]
    requests.patch(f"{live.base_url}/admin/api/agents/usd_casino", json={"min_bet": 0.5}, timeout=10)
    headers = {"Authorization": f"Bearer {token}"}

    def v4(path: str, body: dict) -> Any:
        envelope = requests.post(f"{live.base_url}/v4/{path}", json=body, headers=headers, timeout=10).json()
        assert envelope["code"] == 0, envelope
        return envelope["data"]

    user_code = v4("user/create", {"name": "dollar_01"})["user_code"]
    v4("wallet/deposit", {"user_code": user_code, "amount": 20})
    page = tab.page
    page.goto(
        v4(
            "game/game-url",
            {"user_code": user_code, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 1},
        )["game_url"]
    )
    assert page.inner_text("#balance") == "20.00 USD"
    assert page.inner_text("#min-bet") == "0.50 USD"
    page.screenshot(path=str(results_dir / "play-usd-game-page.png"), full_page=True)

    page.goto(f"{live.base_url}/backoffice/agents/usd_casino/users")
    assert page.locator(f'#users tr[data-user-code="{user_code}"] td.num').first.inner_text() == "20.00"
    assert page.inner_text("#agent-points") == "9,980.00 USD"
    page.goto(f"{live.base_url}/backoffice/agents/demo")
    assert page.inner_text("#agent-points") == "1,000,000 KRW"
    page.goto(f"{live.base_url}/backoffice/agents/usd_casino/users")
    page.screenshot(path=str(results_dir / "bo-usd-users.png"), full_page=True)
    assert tab.console_errors == []
