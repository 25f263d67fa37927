"""Shared by the hostile-input and security tests: one simulator per module, and a state fingerprint.

Hostile input must change nothing, so one simulator can take a whole catalogue of it;
each request is checked against a fingerprint of everything a request could change.
"""

from __future__ import annotations

from typing import Any

import pytest

from simulator import create_app

from ..conftest import DEMO_TOKEN, DEMO_USER, make_settings

JSON = "application/json"
#: Answers outside ``/v4`` that must never appear, whatever the input.
NEVER = ("Traceback", "<!doctype html", "<html", "Werkzeug")


def fingerprint(sim: Any) -> tuple:
    """Everything a request could change: balances, points, settings, tokens, records, switches, clock."""
    world = sim.world
    store = world.store
    every_agent = store.all_agents()
    every_user = [u for a in every_agent for u in store.users_of(a.agent_id)]
    agents = sorted((a.name, a.points, a.api_token, repr(a.settings)) for a in every_agent)
    users = sorted((u.user_code, u.name, u.balance, u.last_balance, u.active) for u in every_user)
    return (
        id(world),
        tuple(agents),
        tuple(users),
        store.transaction_count(),
        len(store.all_point_transactions()),
        len(store.export().launch_tokens),
        store.session_count(),
        store.round_count(),
        sum(len(store.bonus_calls_of(a.agent_id)) for a in every_agent),
        sum(len(store.grants_of(a.agent_id)) for a in every_agent),
        repr(world.catalogue.maintenance_state()),
        len(sim.faults.active()),
        repr(world.forced.export()),
        sim.clock.state()[1] is not None,
        round(sim.clock.state()[0]),
        sim.world.ledger.audit().conserved,
    )


@pytest.fixture(scope="module")
def shared_app():
    """One simulator for a module of hostile requests (none of them may change it)."""
    return create_app(make_settings())


@pytest.fixture(scope="module")
def shared_sim(shared_app):
    return shared_app.extensions["scorpio"]


@pytest.fixture(scope="module")
def shared_client(shared_app):
    return shared_app.test_client()


@pytest.fixture(scope="module")
def game_secret(shared_client) -> str:
    """The secret of an open game session of ``demo``'s first player (``/play/session/<secret>``)."""
    answer = shared_client.post(
        "/v4/game/game-url",
        json={"user_code": DEMO_USER, "provider_id": 1, "game_symbol": "vs20doghouse", "lang": 1},
        headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
    ).get_json()
    launch = answer["data"]["game_url"].rsplit("/", 1)[1]
    return shared_client.get(f"/play/{launch}").headers["Location"].rsplit("/", 1)[1]
