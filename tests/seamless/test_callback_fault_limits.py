"""Fault rules on ``callback:<command>`` targets with ``times`` and ``after`` (control-api.md).

Rounds are played through ``/control/play`` on ``demo_seamless``, whose callback
URL points at the reference wallet (``examples/wallet``) served on loopback;
what happened is read back through the callback log and the history, as an
integrator's test would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from werkzeug.serving import make_server

from examples.wallet.wallet import create_app as create_wallet
from tests.conftest import CALLBACK_TOKEN, make_settings

START = Decimal(100000)
#: ``test1234`` of ``demo_seamless`` in the default fixtures.
SEAMLESS_USER = 400000026
PLAY = {
    "agent": "demo_seamless",
    "user_code": SEAMLESS_USER,
    "provider_id": 1,
    "game_code": "vs20fruitsw",
    "bet": 100,
}
BET, WIN, BET_CANCEL = 1, 2, 16


@pytest.fixture
def settings():
    return make_settings(retry_delay_min=0.01, retry_delay_max=0.02)


@pytest.fixture
def wallet(sim) -> Iterator:
    """The reference wallet on a free loopback port, ``demo_seamless`` pointed at it."""
    app = create_wallet(token=CALLBACK_TOKEN, accounts={"test1234": START})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    agent = sim.world.hierarchy.get("demo_seamless")
    url = f"http://127.0.0.1:{server.server_address[1]}/callback"
    sim.world.hierarchy.apply_settings(agent, {"callback_url": url})
    try:
        yield app
    finally:
        server.shutdown()
        server.server_close()


def _balance(wallet) -> Decimal:
    return wallet.extensions["wallet_ledger"].accounts["test1234"].balance


def _fault(client, rule: dict) -> None:
    response = client.post("/control/faults", json={"agent": "demo_seamless", **rule})
    assert response.status_code == 201, response.get_json()


def _play(client, multipliers: list[int]) -> list[dict]:
    """Plays one round per multiplier (forced outcomes); retries may still be pending after it."""
    forced = {
        "agent": "demo_seamless",
        "account": "test1234",
        "next": [{"multiplier": m} for m in multipliers],
    }
    assert client.post("/control/outcomes", json=forced).status_code == 200
    response = client.post("/control/play", json={**PLAY, "rounds": len(multipliers)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _callbacks(client, command: str) -> list[tuple[int, str]]:
    """``(attempt, outcome)`` of each ``command`` callback, oldest first."""
    rows = client.get(f"/admin/api/agents/demo_seamless/callbacks?command={command}").get_json()
    return [(row["attempt"], row["outcome"]) for row in reversed(rows)]


def _history(client) -> list[tuple[int, int]]:
    """``(trans_type, trans_amount)`` of the player's history, oldest first."""
    page = client.get(f"/admin/api/agents/demo_seamless/transactions?user_code={SEAMLESS_USER}").get_json()
    return [(row["trans_type"], row["trans_amount"]) for row in page["list"]]


def _idle(sim) -> None:
    assert sim.retries.wait_idle(10)


def test_skip_on_win_with_times_1_retries_the_win_then_settles(client, sim, wallet):
    _fault(client, {"target": "callback:win", "effect": {"skip": True}, "times": 1})
    [row] = _play(client, [2])
    assert row["status"] == "win_pending"
    _idle(sim)
    assert _callbacks(client, "win") == [(1, "skipped"), (2, "ok")]
    assert _history(client) == [(BET, 100), (WIN, 200)]
    assert _balance(wallet) == START + 100
    assert client.get("/control/faults").get_json() == []


def test_skip_on_win_with_after_1_leaves_the_first_win_alone(client, sim, wallet):
    _fault(client, {"target": "callback:win", "effect": {"skip": True}, "after": 1, "times": 1})
    rows = _play(client, [2, 3])
    assert [row["status"] for row in rows] == ["settled", "win_pending"]
    _idle(sim)
    assert _callbacks(client, "win") == [(1, "ok"), (1, "skipped"), (2, "ok")]
    assert _history(client) == [(BET, 100), (WIN, 200), (BET, 100), (WIN, 300)]
    assert _balance(wallet) == START + 300


def test_skip_on_win_without_times_uses_up_every_attempt(client, sim, wallet):
    _fault(client, {"target": "callback:win", "effect": {"skip": True}})
    _play(client, [2])
    _idle(sim)
    assert _callbacks(client, "win") == [(n, "skipped") for n in (1, 2, 3, 4)]
    assert _history(client) == [(BET, 100)]
    [rule] = client.get("/control/faults").get_json()
    assert (rule["matched"], rule["fired"]) == (4, 4)


def test_skip_on_bet_with_after_1_refunds_only_the_second_round(client, sim, wallet):
    _fault(client, {"target": "callback:bet", "effect": {"skip": True}, "after": 1, "times": 1})
    rows = _play(client, [0, 0, 0])
    assert [row["status"] for row in rows] == ["settled", "refunded", "settled"]
    _idle(sim)
    assert _callbacks(client, "bet") == [(1, "ok"), (1, "skipped"), (1, "ok")]
    assert _balance(wallet) == START - 200


def test_delay_ms_on_bet_with_times_1_delays_only_the_first_bet(client, sim, wallet):
    _fault(client, {"target": "callback:bet", "effect": {"delay_ms": 150}, "times": 1})
    started = time.perf_counter()
    _play(client, [0])
    assert time.perf_counter() - started >= 0.15
    assert client.get("/control/faults").get_json() == []
    _play(client, [0])
    assert _callbacks(client, "bet") == [(1, "ok"), (1, "ok")]
    assert _balance(wallet) == START - 200


def test_a_callback_rule_for_another_agent_leaves_demo_seamless_alone(client, sim, wallet):
    response = client.post(
        "/control/faults", json={"agent": "demo", "target": "callback:win", "effect": {"skip": True}}
    )
    assert response.status_code == 201
    assert [row["status"] for row in _play(client, [2])] == ["settled"]
    assert client.get("/control/faults").get_json()[0]["matched"] == 0
