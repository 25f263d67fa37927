"""The back office's free-rounds page (spec 5.18-5.19, 9) through Flask's test client."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from simulator.domain.sessions import LaunchRequest
from tests.api.test_backoffice_pages import XSS, html, post
from tests.conftest import DEMO_USER

PAGE = "/backoffice/agents/demo/free-rounds"
FR_ID = "FR-400000001-000001"


def grant_form(**changes: str) -> dict:
    form = {
        "user_code": str(DEMO_USER),
        "provider_id": "1",
        "game_code": "vs20fruitsw",
        "bet": "200",
        "rounds": "3",
        "expires_minutes": "60",
        "win": "",
    }
    form.update(changes)
    return form


def row(page: str, fr_id: str) -> str:
    match = re.search(rf'<tr data-fr-id="{re.escape(fr_id)}".*?</tr>', page, re.S)
    assert match, f"no row for {fr_id}"
    return match.group(0)


@pytest.fixture
def demo(sim):
    sim.clock.freeze(True)
    return sim.world.hierarchy.get("demo")


def test_page_renders_and_is_in_the_agent_nav(client, demo):
    response = client.get(PAGE)
    assert response.status_code == 200
    page = html(response)
    assert 'id="grant-form"' in page and "No free rounds yet" in page
    assert 'href="/backoffice/agents/demo/free-rounds"' in html(client.get("/backoffice/agents/demo"))


def test_granting_shows_the_grant_and_stores_it(client, sim, demo):
    response = post(client, PAGE, grant_form(win="1500"))
    assert response.status_code == 303
    page = html(client.get(PAGE))
    assert f"Free rounds {FR_ID} granted" in page
    line = row(page, FR_ID)
    assert 'data-status="active"' in line and "0 / 3" in line and "vs20fruitsw" in line
    grant = sim.world.store.grant(FR_ID)
    assert (grant.user_code, grant.game_code, grant.bet, grant.rounds, grant.win_cap) == (
        DEMO_USER,
        "vs20fruitsw",
        Decimal(200),
        3,
        Decimal(1500),
    )
    assert grant.expires_at.timestamp() * 1000 == sim.clock.millis() + 3_600_000


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"expires_minutes": "29"}, "VALIDATION_ERROR (1002): [expirationDate] must be at least 30 minutes"),
        ({"game_code": "no_such_game"}, "GAME_NOT_FOUND (2003): the provider has no such game"),
        ({"user_code": "999999999"}, "USER_NOT_FOUND (2002)"),
        ({"provider_id": "999"}, "PROVIDER_NOT_FOUND (2007)"),
        ({"rounds": "501"}, "VALIDATION_ERROR (1002): rounds:"),
        ({"bet": "0"}, "VALIDATION_ERROR (1002): bet:"),
    ],
)
def test_an_invalid_grant_shows_the_error_and_grants_nothing(client, sim, demo, changes, words):
    response = post(client, PAGE, grant_form(**changes))
    assert response.status_code in (400, 409)
    page = html(response)
    assert 'id="grant-error"' in page and words in page
    store = sim.world.store
    assert not any(store.grants_of(a.agent_id) for a in store.all_agents())


def test_submitted_text_is_escaped(client, sim, demo):
    page = html(post(client, PAGE, grant_form(game_code=XSS)))
    assert XSS not in page and "&lt;script&gt;" in page
    assert "GAME_NOT_FOUND (2003)" in page


def test_cancel_marks_the_grant_cancelled(client, sim, demo):
    post(client, PAGE, grant_form())
    response = post(client, f"{PAGE}/{FR_ID}/cancel")
    assert response.status_code == 303
    page = html(client.get(PAGE))
    assert f"Free rounds {FR_ID} cancelled" in page
    line = row(page, FR_ID)
    assert 'data-status="cancelled"' in line and "Cancel</button>" not in line
    assert sim.world.store.grant(FR_ID).cancelled
    again = html(post(client, f"{PAGE}/{FR_ID}/cancel", follow_redirects=True))
    assert "FREEROUND_NO_EXIST (2020)" in again


def test_playing_a_free_round_updates_rounds_played(client, sim, demo):
    post(client, PAGE, grant_form(rounds="2"))
    launch = sim.world.sessions.launch(demo, LaunchRequest(DEMO_USER, 1, "vs20fruitsw", 1))
    session = sim.world.sessions.open(launch.token)
    sim.world.rounds.play(session, Decimal(100))
    assert "1 / 2" in row(html(client.get(PAGE)), FR_ID)
    sim.world.rounds.play(session, Decimal(100))
    line = row(html(client.get(PAGE)), FR_ID)
    assert "2 / 2" in line and 'data-status="used up"' in line


def test_an_expired_grant_shows_expired(client, sim, demo):
    post(client, PAGE, grant_form(expires_minutes="30"))
    sim.clock.advance(31 * 60)
    assert 'data-status="expired"' in row(html(client.get(PAGE)), FR_ID)
