"""Bonus calls and free rounds in seamless mode against the reference wallet, both dialects (spec 6.4, 8, 9).

A bonus-call win is a ``win`` callback with ``type`` 32 and the ``call_id``,
recorded as BonusCall (32), and it leaves the agent's points alone (OP-3); a
free spin is a ``bet`` of amount 0 followed by an ordinary ``win``.
"""

from __future__ import annotations

import io
import json
import threading
from decimal import Decimal
from fractions import Fraction

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request

from examples.wallet.wallet import create_app as create_wallet
from simulator.domain.freerounds import FreeRoundRequest
from simulator.domain.sessions import LaunchRequest
from tests.conftest import CALLBACK_TOKEN

START = Decimal(100000)
POINTS = Decimal(1_000_000)  # demo_seamless's fixture points


class Recorder:
    """The reference wallet, recording every callback body it receives."""

    def __init__(self, wallet_app) -> None:
        self.wallet_app = wallet_app
        self.calls: list[dict] = []

    def __call__(self, environ, start_response):
        raw = Request(environ).get_data()
        environ["wsgi.input"] = io.BytesIO(raw)
        self.calls.append(json.loads(raw or b"{}"))
        return self.wallet_app(environ, start_response)

    def money(self) -> list[dict]:
        """The ``bet`` and ``win`` callbacks, oldest first."""
        return [c for c in self.calls if c["command"] in ("bet", "win")]

    def balance(self) -> Decimal:
        return self.wallet_app.extensions["wallet_ledger"].accounts["test1234"].balance


@pytest.fixture(params=["v4", "legacy"])
def dialect(request) -> str:
    return request.param


@pytest.fixture
def agent(sim):
    sim.clock.freeze(True)
    return sim.world.hierarchy.get("demo_seamless")


@pytest.fixture
def wallet(sim, agent, dialect):
    recorder = Recorder(create_wallet(token=CALLBACK_TOKEN, dialect="auto", accounts={"test1234": START}))
    server = make_server("127.0.0.1", 0, recorder, threaded=True)
    # A short poll interval keeps shutdown (once per test) quick.
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/callback"
    sim.world.hierarchy.apply_settings(agent, {"callback_url": url, "callback_dialect": dialect})
    yield recorder
    server.shutdown()


@pytest.fixture
def user(sim, agent):
    return sim.world.store.user_by_name(agent.agent_id, "seamless", "test1234")


@pytest.fixture
def session(sim, agent, user, wallet):
    launch = sim.world.sessions.launch(agent, LaunchRequest(user.user_code, 1, "vs20fruitsw", 1))
    return sim.world.sessions.open(launch.token)


def points_of(sim, agent):
    """The agent's points as the store holds them now (records are values, not live objects)."""
    return sim.world.store.agent(agent.agent_id).points


def rows_of(sim, agent, round_id):
    return [
        (tx.trans_type, tx.trans_amount, tx.balance)
        for tx in sim.world.store.transactions_of(agent.agent_id)
        if tx.round_id == round_id
    ]


def test_a_bonus_spin_sends_a_type_32_win_with_the_call_id(sim, agent, wallet, session):
    call = sim.world.bonus.start(agent, session.gplay_id, Decimal(2500))
    sim.world.rounds.play(session, Decimal(100))
    bet, win = wallet.money()
    assert (bet["data"]["type"], bet["data"]["amount"], bet["data"]["call_id"]) == (1, 100, call.call_id)
    assert (win["data"]["type"], win["data"]["amount"], win["data"]["call_id"]) == (32, 1000, call.call_id)
    assert win["check"] == "21,22,41"


def test_a_bonus_spin_is_recorded_as_bonus_call_32_with_the_wallets_balance(sim, agent, wallet, session):
    sim.world.bonus.start(agent, session.gplay_id, Decimal(2500))
    round_ = sim.world.rounds.play(session, Decimal(100))
    assert rows_of(sim, agent, round_.round_id) == [(1, 100, START - 100), (32, 1000, START + 900)]
    assert wallet.balance() == START + 900


def test_a_completed_call_pays_set_point_exactly_into_the_wallet(sim, agent, wallet, session):
    call = sim.world.bonus.start(agent, session.gplay_id, Decimal(2500))
    for _ in range(3):
        sim.world.rounds.play(session, Decimal(100))
    assert [w["data"]["amount"] for w in wallet.money() if w["command"] == "win"] == [1000, 1000, 500]
    call = sim.world.store.bonus_call(call.call_id)  # as it stands now (records are values)
    assert (call.status, call.paid, wallet.balance()) == (2, 2500, START - 300 + 2500)


def test_bonus_call_wins_do_not_touch_the_points(sim, agent, wallet, session):
    sim.world.bonus.start(agent, session.gplay_id, Decimal(2500))
    for _ in range(3):
        sim.world.rounds.play(session, Decimal(100))
    assert points_of(sim, agent) == POINTS - 300  # the stakes only; the held set_point came back
    assert sim.world.ledger.audit().conserved


def test_points_are_held_while_the_call_runs(sim, agent, wallet, session):
    sim.world.bonus.start(agent, session.gplay_id, Decimal(2500))
    sim.world.rounds.play(session, Decimal(100))
    assert points_of(sim, agent) == POINTS - 2500 - 100
    assert sim.world.ledger.audit().conserved


def test_a_legacy_bonus_win_carries_the_history_trans_id(sim, agent, wallet, session, dialect):
    sim.world.bonus.start(agent, session.gplay_id, Decimal(1000))
    round_ = sim.world.rounds.play(session, Decimal(100))
    win = wallet.money()[-1]
    history_ids = [
        tx.trans_id for tx in sim.world.store.transactions_of(agent.agent_id) if tx.trans_type == 32
    ]
    assert history_ids == round_.trans_ids[-1:]
    if dialect == "legacy":
        assert win["data"]["trans_id"] == history_ids[0]
    else:
        assert win["data"]["trans_guid"].startswith(f"{round_.user_code}-1-vs20fruitsw-{round_.round_id}-")


def test_a_free_spin_sends_a_zero_bet_then_an_ordinary_win(sim, agent, user, wallet, session):
    request = FreeRoundRequest(
        user.user_code, 1, "vs20fruitsw", Decimal(200), 1, sim.clock.millis() + 30 * 60 * 1000
    )
    sim.world.free_rounds.grant(agent, request)
    sim.world.forced.push(agent.agent_id, "test1234", [Fraction(3)])
    round_ = sim.world.rounds.play(session, Decimal(100))
    bet, win = wallet.money()
    assert (bet["data"]["type"], bet["data"]["amount"], bet["data"]["call_id"]) == (1, 0, 0)
    assert (win["data"]["type"], win["data"]["amount"], win["data"]["call_id"]) == (2, 600, 0)
    assert rows_of(sim, agent, round_.round_id) == [(1, 0, START), (2, 600, START + 600)]
    assert sim.world.ledger.audit().conserved
