"""The back office in headless Chromium: sign in, create and fund a sub-agent, change its settings.

The simulator runs with an admin token and trusts loopback as a proxy, so the test can
send a ``/v4`` call "from another address" with ``X-Forwarded-For`` and see the
allowed-IP setting made on the page take effect.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from examples.wallet.wallet import create_app as reference_wallet
from simulator import create_app
from tests.conftest import CALLBACK_TOKEN, DEMO_USER, make_settings
from tests.e2e.conftest import LiveSimulator, Tab, free_port

pytestmark = pytest.mark.e2e

ADMIN_TOKEN = "e2e-admin-token-7f3a"
ALLOWED_IP = "203.0.113.7"
OTHER_IP = "198.51.100.9"
PLAY = {
    "agent": "demo",
    "user_code": DEMO_USER,
    "provider_id": 1,
    "game_code": "vswaysdogs",
    "bet": 100,
    "rounds": 40,
}


def _serve(app: Any) -> tuple[Any, threading.Thread, int]:
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread, port


@pytest.fixture
def guarded() -> Iterator[LiveSimulator]:
    """A simulator with an admin token, behind a (pretend) trusted proxy."""
    port = free_port()
    app = create_app(
        make_settings(bind=f"127.0.0.1:{port}", trusted_proxies="127.0.0.1", admin_token=ADMIN_TOKEN)
    )
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield LiveSimulator(f"http://127.0.0.1:{port}", app)
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def wallet_url() -> Iterator[str]:
    server, thread, port = _serve(reference_wallet(token=CALLBACK_TOKEN))
    try:
        yield f"http://127.0.0.1:{port}/callback"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def bo_tab(browser: Any, guarded: LiveSimulator) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    tab = Tab(page, [], [])
    page.on("console", lambda m: tab.console_errors.append(m.text) if m.type == "error" else None)
    local = (guarded.base_url, "data:")
    page.on("request", lambda r: None if r.url.startswith(local) else tab.foreign_requests.append(r.url))
    try:
        yield tab
    finally:
        context.close()


def _admin(live: LiveSimulator, method: str, path: str, body: Any = None) -> Any:
    response = requests.request(
        method, f"{live.base_url}{path}", json=body, headers={"X-Admin-Token": ADMIN_TOKEN}, timeout=10
    )
    assert response.status_code < 300, response.text
    return response.json()


def _agent_info(live: LiveSimulator, token: str, forwarded_for: str) -> dict[str, Any]:
    response = requests.post(
        f"{live.base_url}/v4/agent/info",
        json={},
        headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": forwarded_for},
        timeout=10,
    )
    return response.json()


def _save_settings(page: Any) -> None:
    page.click("#save-settings")
    page.wait_for_selector("#flashes .flash.ok")


def test_an_operator_signs_in_creates_funds_and_configures_a_sub_agent(
    guarded: LiveSimulator, bo_tab: Tab, results_dir
) -> None:
    page = bo_tab.page
    _admin(guarded, "POST", "/control/play", PLAY)

    page.goto(f"{guarded.base_url}/backoffice/")
    assert "/backoffice/login" in page.url
    page.screenshot(path=str(results_dir / "bo-login.png"))
    page.fill("#token", "not-the-token")
    page.click("#sign-in")
    assert page.inner_text("#login-error") == "That is not the admin token."
    bo_tab.console_errors.clear()  # Chromium logs the refused sign-in's 401 as a console error
    page.fill("#token", ADMIN_TOKEN)
    page.click("#sign-in")
    page.wait_for_selector("#play-chart")
    assert page.url == f"{guarded.base_url}/backoffice/"
    assert page.locator("#play-chart rect.bets").count() >= 1
    page.screenshot(path=str(results_dir / "bo-dashboard.png"), full_page=True)

    page.click("#nav-agents")
    page.select_option("#new-parent", "demo_operator")
    page.fill("#new-name", "bo_casino")
    page.select_option("#new-kind", "agent")
    page.click("#create-agent")
    page.wait_for_selector("#agent-name")
    assert page.inner_text("#agent-name") == "bo_casino"
    assert page.inner_text("#agent-mode") == "transfer"
    assert page.get_attribute("#agent-points", "data-points") == "0"

    page.select_option("#direction", "grant")
    page.fill("#amount", "5000")
    page.click("#move-points")
    page.wait_for_selector("#flashes .flash.ok")
    assert page.inner_text("#agent-points") == "5,000 KRW"
    assert page.locator("#point-transactions tbody tr").count() == 1

    page.fill("#allowed_ips", ALLOWED_IP)
    _save_settings(page)
    token = page.inner_text("#api-token")
    refused = _agent_info(guarded, token, OTHER_IP)
    assert refused["code"] == 1020
    allowed = _agent_info(guarded, token, ALLOWED_IP)
    assert allowed["code"] == 0
    assert allowed["data"]["balance"] == 5000

    page.click("text=API error log")
    assert page.get_attribute("#api-errors tbody tr", "data-code") == "1020"
    page.click("#api-errors tbody tr details summary")
    page.screenshot(path=str(results_dir / "bo-api-errors.png"), full_page=True)
    page.click("text=Settings & points")

    page.fill("#callback_url", "http://127.0.0.1:9/callback")
    _save_settings(page)
    assert page.inner_text("#agent-mode") == "seamless"
    assert "now in seamless mode" in page.inner_text("#flashes")
    page.screenshot(path=str(results_dir / "bo-agent.png"), full_page=True)

    page.click("#nav-agents")
    assert page.locator('#tree tr[data-agent="bo_casino"] .badge.mode-seamless').count() == 1
    page.screenshot(path=str(results_dir / "bo-agents.png"), full_page=True)

    page.goto(f"{guarded.base_url}/backoffice/agents/demo/transactions?type=1")
    assert page.locator("#transactions tbody tr[data-type='1']").count() == 40
    page.screenshot(path=str(results_dir / "bo-transactions.png"), full_page=True)
    page.goto(f"{guarded.base_url}/backoffice/agents/demo/users")
    page.click(f'#users tr[data-user-code="{DEMO_USER}"] button')
    page.wait_for_selector(f'#users tr[data-user-code="{DEMO_USER}"][data-active="false"]')
    assert guarded.sim.world.store.user(DEMO_USER).active is False
    page.screenshot(path=str(results_dir / "bo-users.png"), full_page=True)

    assert bo_tab.console_errors == []
    assert bo_tab.foreign_requests == []


def test_the_callback_tester_shows_every_scenario_of_a_good_wallet(
    guarded: LiveSimulator, bo_tab: Tab, wallet_url: str, results_dir
) -> None:
    page = bo_tab.page
    _admin(guarded, "PATCH", "/admin/api/agents/demo_seamless", {"callback_url": wallet_url})
    page.goto(f"{guarded.base_url}/backoffice/agents/demo_seamless/conformance")
    page.fill("#token", ADMIN_TOKEN)
    page.click("#sign-in")
    page.click("#run-conformance")
    page.wait_for_selector("#run[data-state='finished']", timeout=30_000)
    assert page.inner_text("#run-state") == "PASS"
    assert page.locator("#scenarios tbody tr[data-status='PASS']").count() == 15
    page.screenshot(path=str(results_dir / "bo-conformance.png"), full_page=True)

    page.goto(f"{guarded.base_url}/backoffice/agents/demo_seamless/callbacks")
    assert page.locator("#callbacks tbody tr[data-entry-id]").count() > 14
    page.click("#callbacks tbody tr:first-child td.request summary")
    page.click("#callbacks tbody tr:first-child td.reply summary")
    page.screenshot(path=str(results_dir / "bo-callbacks.png"), full_page=True)
    assert bo_tab.console_errors == []
    assert bo_tab.foreign_requests == []
