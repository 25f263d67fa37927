"""Seamless rounds against a real wallet on loopback: bet, win, forward cancel, retries (spec 6.8-6.11).

The partner is the reference wallet (``examples/wallet``), served by werkzeug
in a thread; a small proxy in front of it lets a test break replies on purpose.
"""

from __future__ import annotations

import io
import json
import threading
import time
from decimal import Decimal
from fractions import Fraction

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from examples.wallet.wallet import create_app as create_wallet
from simulator.domain.rounds import RoundFailed
from simulator.domain.sessions import LaunchRequest
from tests.conftest import CALLBACK_TOKEN, make_settings

START = Decimal(100000)


class Faulty:
    """Per-command behaviour in front of the wallet: ``pass``, ``hang``, ``500``, ``garbage``, ``[]``."""

    def __init__(self, wallet_app) -> None:
        self.wallet_app = wallet_app
        self.mode: dict[str, str] = {}
        self.calls: list[dict] = []

    def __call__(self, environ, start_response):
        raw = Request(environ).get_data()
        environ["wsgi.input"] = io.BytesIO(raw)  # the wallet reads the body again
        body = json.loads(raw or b"{}")
        self.calls.append(body)
        mode = self.mode.get(body.get("command"), "pass")
        if mode == "hang":
            time.sleep(2.5)
        elif mode == "500":
            return Response("<html>boom</html>", 500)(environ, start_response)
        elif mode == "garbage":
            return Response("not json at all", 200)(environ, start_response)
        elif mode == "[]":
            return Response("[]", 200, mimetype="application/json")(environ, start_response)
        return self.wallet_app(environ, start_response)

    def count(self, command: str) -> int:
        return sum(1 for c in self.calls if c.get("command") == command)


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(params=["v4", "legacy"])
def dialect(request) -> str:
    return request.param


@pytest.fixture
def settings():
    return make_settings(retry_delay_min=0.01, retry_delay_max=0.02)


@pytest.fixture
def wallet(sim, dialect):
    app = create_wallet(token=CALLBACK_TOKEN, dialect="auto", accounts={"test1234": START})
    faulty = Faulty(app)
    server = serve(faulty)
    agent = sim.world.hierarchy.get("demo_seamless")
    url = f"http://127.0.0.1:{server.server_address[1]}/callback"
    sim.world.hierarchy.apply_settings(agent, {"callback_url": url, "callback_dialect": dialect})
    yield faulty
    server.shutdown()


def wallet_balance(faulty: Faulty) -> Decimal:
    ledger = faulty.wallet_app.extensions["wallet_ledger"]
    return ledger.accounts["test1234"].balance


@pytest.fixture
def session(sim, wallet):
    agent = sim.world.hierarchy.get("demo_seamless")
    user = sim.world.store.user_by_name(agent.agent_id, "seamless", "test1234")
    launch = sim.world.sessions.launch(agent, LaunchRequest(user.user_code, 1, "vs20fruitsw", 1))
    return sim.world.sessions.open(launch.token)


def rows(sim, round_id):
    agent = sim.world.hierarchy.get("demo_seamless")
    return [
        (tx.trans_type, tx.trans_amount)
        for tx in sim.world.store.transactions_of(agent.agent_id)
        if tx.round_id == round_id
    ]


def test_a_round_sends_bet_then_win_and_records_both(sim, wallet, session):
    sim.world.forced.push(session.agent_id, "test1234", [Fraction(3)])
    round_ = sim.world.rounds.play(session, Decimal(100))
    assert [c["command"] for c in wallet.calls][-3:] == ["bet", "win", "balance"]
    assert rows(sim, round_.round_id) == [(1, 100), (2, 300)]
    assert wallet_balance(wallet) == START + 200
    assert sim.world.store.user(session.user_code).last_balance == START + 200


def test_bet_and_win_carry_the_dialects_fields(sim, wallet, session, dialect):
    sim.world.rounds.play(session, Decimal(100))
    bet = next(c for c in wallet.calls if c["command"] == "bet")
    assert bet["check"] == "21,22,41,31"
    if dialect == "v4":
        assert bet["data"]["trans_guid"].startswith(f"{session.user_code}-1-vs20fruitsw-")
        assert bet["data"]["gplay_id"] == str(session.gplay_id)
        assert bet["data"]["game_type"] == "slot"
    else:
        assert isinstance(bet["data"]["trans_id"], int)
        assert bet["data"]["game_type"] == "Slots"
        assert bet["data"]["game_name"] == "Sweet Bonanza"


@pytest.mark.parametrize("dialect", ["legacy"])
def test_legacy_trans_id_is_the_history_trans_id(sim, wallet, session, dialect):
    round_ = sim.world.rounds.play(session, Decimal(100))
    bet = next(c for c in wallet.calls if c["command"] == "bet")
    assert bet["data"]["trans_id"] == round_.trans_ids[0]


def test_a_bet_refused_with_31_records_nothing(sim, wallet, session):
    from simulator.codes import SimError

    agent = sim.world.hierarchy.get("demo_seamless")
    wallet.wallet_app.extensions["wallet_ledger"].accounts["test1234"].balance = Decimal(50)
    before = len(sim.world.store.transactions_of(agent.agent_id))
    points = sim.world.store.agent(agent.agent_id).points
    with pytest.raises(SimError) as refused:
        sim.world.rounds.play(session, Decimal(100))
    assert refused.value.code == 2006
    assert len(sim.world.store.transactions_of(agent.agent_id)) == before
    assert sim.world.store.agent(agent.agent_id).points == points


def test_a_bet_that_times_out_is_cancelled_forward(sim, wallet, session):
    wallet.mode["bet"] = "hang"  # the bet lands in the wallet 2.5 s after it was sent
    sim.retries.delay = (1.0, 1.0)  # the cancel goes out 2 s + 1 s later, as a queued cancel does
    with pytest.raises(RoundFailed) as failed:
        sim.world.rounds.play(session, Decimal(100))
    assert rows(sim, failed.value.round.round_id) == [(1, 100), (16, 100)]
    assert sim.retries.wait_idle(10)
    assert wallet.count("cancel") == 1
    assert wallet_balance(wallet) == START
    assert sim.world.ledger.audit().conserved


def test_a_win_answered_500_is_retried_per_the_profile_then_left_as_win_error(sim, wallet, session):
    wallet.mode["win"] = "500"
    round_ = sim.world.rounds.play(session, Decimal(100))
    assert sim.retries.wait_idle(10)
    assert wallet.count("win") == 4  # 1 + 3 retries (OP-2 default)
    assert sim.world.store.round(round_.agent_id, round_.round_id).status == "win_error"
    assert rows(sim, round_.round_id) == [(1, 100)]  # OP-19: no Win row until accepted


@pytest.mark.parametrize("mode", ["garbage", "[]"])
def test_unusable_win_replies_are_retried(sim, wallet, session, mode):
    wallet.mode["win"] = mode
    sim.world.rounds.play(session, Decimal(100))
    assert sim.retries.wait_idle(10)
    assert wallet.count("win") == 4


def test_a_win_recovers_on_retry(sim, wallet, session):
    wallet.mode["win"] = "500"
    sim.world.forced.push(session.agent_id, "test1234", [Fraction(2)])
    round_ = sim.world.rounds.play(session, Decimal(100))
    wallet.mode["win"] = "pass"
    assert sim.retries.wait_idle(10)
    assert sim.world.store.round(round_.agent_id, round_.round_id).status == "settled"
    assert rows(sim, round_.round_id) == [(1, 100), (2, 200)]
    assert wallet_balance(wallet) == START + 100


def test_points_follow_op3(sim, wallet, session):
    points = sim.world.hierarchy.get("demo_seamless").points
    sim.world.forced.push(session.agent_id, "test1234", [Fraction(5), Fraction(0)])
    sim.world.rounds.play(session, Decimal(100))
    sim.world.rounds.play(session, Decimal(100))
    assert sim.world.hierarchy.get("demo_seamless").points == points - 200 + 500
    assert sim.world.ledger.audit().conserved


def test_skip_fault_on_bet_is_a_timeout(sim, wallet, session):
    sim.faults.add({"agent": "demo_seamless", "target": "callback:bet", "effect": {"skip": True}, "times": 1})
    with pytest.raises(RoundFailed):
        sim.world.rounds.play(session, Decimal(100))
    assert wallet.count("bet") == 0
    assert sim.retries.wait_idle(10)
    assert wallet_balance(wallet) == START


def test_duplicate_fault_sends_the_bet_twice_and_the_wallet_applies_it_once(sim, wallet, session):
    sim.faults.add(
        {"agent": "demo_seamless", "target": "callback:bet", "effect": {"duplicate": True}, "times": 1}
    )
    sim.world.forced.push(session.agent_id, "test1234", [Fraction(0)])
    sim.world.rounds.play(session, Decimal(100))
    first, second = (c for c in wallet.calls if c["command"] == "bet")
    assert first == second  # the same body, so the same trans_guid / trans_id
    assert wallet_balance(wallet) == START - 100


def test_cancel_after_ok_refunds_an_accepted_bet(sim, wallet, session):
    sim.faults.add(
        {"agent": "demo_seamless", "target": "callback:bet", "effect": {"cancel_after_ok": True}, "times": 1}
    )
    with pytest.raises(RoundFailed) as failed:
        sim.world.rounds.play(session, Decimal(100))
    assert rows(sim, failed.value.round.round_id) == [(1, 100), (16, 100)]
    assert sim.retries.wait_idle(10)
    assert wallet_balance(wallet) == START


def test_callback_log_records_every_attempt(sim, wallet, session):
    wallet.mode["win"] = "500"
    sim.world.rounds.play(session, Decimal(100))
    assert sim.retries.wait_idle(10)
    agent = sim.world.hierarchy.get("demo_seamless")
    wins = sim.callback_log.query(agent.agent_id, command="win")
    assert [w.attempt for w in reversed(wins)] == [1, 2, 3, 4]
    assert {w.outcome for w in wins} == {"unclear"}
    assert wins[0].status == 500
