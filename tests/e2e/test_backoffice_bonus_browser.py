"""A bonus call started from the back office's Game connections page, in headless Chromium (spec 8)."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import DEMO_USER
from tests.e2e import test_backoffice_browser as backoffice_browser
from tests.e2e.conftest import LiveSimulator, Tab

pytestmark = pytest.mark.e2e

# The signed-in back office of the other browser test: a simulator with an admin token, and a tab on it.
ADMIN_TOKEN = backoffice_browser.ADMIN_TOKEN
guarded = backoffice_browser.guarded
bo_tab = backoffice_browser.bo_tab

PLAY = {"agent": "demo", "user_code": DEMO_USER, "provider_id": 1, "game_code": "vs20fruitsw", "bet": 100}


def _play(live: LiveSimulator, rounds: int) -> None:
    response = requests.post(
        f"{live.base_url}/control/play",
        json={**PLAY, "rounds": rounds},
        headers={"X-Admin-Token": ADMIN_TOKEN},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def test_an_operator_starts_a_bonus_call_that_completes(
    guarded: LiveSimulator, bo_tab: Tab, results_dir
) -> None:
    page = bo_tab.page
    _play(guarded, 1)
    (session,) = guarded.v4("game/online-games", {})
    gplay_id = session["gplay_id"]
    points = guarded.sim.world.hierarchy.get("demo").points

    page.goto(f"{guarded.base_url}/backoffice/agents/demo/sessions")
    page.fill("#token", ADMIN_TOKEN)
    page.click("#sign-in")
    row = page.locator(f'#sessions tr[data-gplay-id="{gplay_id}"]')
    row.locator("input[name=set_point]").fill("2500")
    row.locator("input[name=memo]").fill("browser promo")
    row.locator("form.call-start button").click()
    page.wait_for_selector("#flashes .flash.ok")
    assert page.get_attribute(f'tr[data-gplay-id="{gplay_id}"] td.bonus-call', "data-call-status") == "0"
    assert row.locator("form.call-cancel button").inner_text() == "Cancel bonus call"

    status, spins = None, 0
    while status != 2 and spins < 10:
        _play(guarded, 1)
        spins += 1
        (session,) = guarded.v4("game/online-games", {})
        status = session["call_status"]
    assert status == 2 and session["call_win"] == 2500 and session["callend_flag"] is True

    page.reload()
    assert row.locator(".call-state").inner_text().endswith("Complete")
    assert row.locator(".call-amounts").inner_text() == "2,500 / 2,500"
    assert row.locator("form.call-cancel").count() == 0
    assert guarded.sim.world.hierarchy.get("demo").points == points
    page.screenshot(path=str(results_dir / "bo-bonus-call.png"), full_page=True)
    assert bo_tab.console_errors == []
    assert bo_tab.foreign_requests == []
