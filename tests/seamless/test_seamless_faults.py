"""Seamless money stays exact when the wallet misbehaves: retries and a chaos run (6.8, 6.9, OP-2)."""

from __future__ import annotations

import contextlib
import io
import json
import random
import threading
import time
from decimal import Decimal

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from examples.wallet.wallet import create_app as create_wallet
from simulator.codes import SimError
from simulator.domain.models import TransType
from simulator.domain.sessions import LaunchRequest
from simulator.runtime import Simulator
from tests.conftest import CALLBACK_TOKEN, make_settings

START = Decimal(1_000_000)


class Chaos:
    """In front of the reference wallet: per command a mode, or random faults with a seeded RNG."""

    def __init__(self, wallet_app, seed: int = 0, rate: float = 0.0) -> None:
        self.wallet_app = wallet_app
        self.mode: dict[str, str] = {}
        self.rng = random.Random(seed)
        self.rate = rate
        self.attempts: dict[str, int] = {}

    def __call__(self, environ, start_response):
        raw = Request(environ).get_data()
        environ["wsgi.input"] = io.BytesIO(raw)
        command = json.loads(raw or b"{}").get("command", "")
        self.attempts[command] = self.attempts.get(command, 0) + 1
        mode = self.mode.get(command, "pass")
        if mode == "pass" and command != "authenticate" and self.rng.random() < self.rate:
            mode = self.rng.choice(["500", "garbage", "[]", "apply-then-500", "slow-apply"])
        if mode == "hang":
            time.sleep(5)
            return Response("too late", 200)(environ, start_response)
        if mode == "500":
            return Response("<html>boom</html>", 500)(environ, start_response)
        if mode == "garbage":
            return Response("<?php echo $x", 200)(environ, start_response)
        if mode == "[]":
            return Response("[]", 200, mimetype="application/json")(environ, start_response)
        if mode == "strings":
            inner = Response.from_app(self.wallet_app, environ)
            body = json.loads(inner.get_data())
            body["result"] = str(body["result"])
            if "data" in body and "balance" in body["data"]:
                body["data"]["balance"] = str(body["data"]["balance"])
            return Response(json.dumps(body), 200, mimetype="text/html")(environ, start_response)
        if mode == "apply-then-500":  # the wallet applied it, but the answer is lost
            Response.from_app(self.wallet_app, environ)
            return Response("gateway error", 502)(environ, start_response)
        if mode == "slow-apply":  # applied, answered after the platform's timeout
            time.sleep(0.3)
        return self.wallet_app(environ, start_response)


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def setup(profile: str = "default", seed: int = 0, rate: float = 0.0):
    sim = Simulator(make_settings(retry_delay_min=0.01, retry_delay_max=0.02, retry_profile=profile))
    wallet_app = create_wallet(token=CALLBACK_TOKEN, accounts={"test1234": START})
    chaos = Chaos(wallet_app, seed, rate)
    server = serve(chaos)
    agent = sim.world.hierarchy.get("demo_seamless")
    sim.world.hierarchy.apply_settings(
        agent, {"callback_url": f"http://127.0.0.1:{server.server_address[1]}/callback"}
    )
    user = sim.world.store.user_by_name(agent.agent_id, "seamless", "test1234")
    launch = sim.world.sessions.launch(agent, LaunchRequest(user.user_code, 15, "aviator", 1))
    session = sim.world.sessions.open(launch.token)
    return sim, chaos, server, session


def wallet_balance(chaos: Chaos) -> Decimal:
    return chaos.wallet_app.extensions["wallet_ledger"].accounts["test1234"].balance


@pytest.mark.parametrize(("profile", "attempts"), [("default", 4), ("extended", 51)])
@pytest.mark.parametrize("mode", ["500", "garbage", "[]"])
def test_win_attempts_follow_the_retry_profile(profile, attempts, mode):
    sim, chaos, server, session = setup(profile)
    try:
        chaos.mode["win"] = mode
        sim.world.rounds.play(session, Decimal(100))
        assert sim.retries.wait_idle(20)
        assert chaos.attempts["win"] == attempts
        assert wallet_balance(chaos) == START - 100  # the win never landed: nothing created
        assert sim.world.ledger.audit().conserved
    finally:
        server.shutdown()


def test_a_wallet_answering_string_numbers_is_understood_at_once():
    sim, chaos, server, session = setup()
    try:
        chaos.mode.update({"bet": "strings", "win": "strings", "balance": "strings"})
        round_ = sim.world.rounds.play(session, Decimal(100))
        assert chaos.attempts["win"] == 1
        assert sim.world.store.round(round_.agent_id, round_.round_id).status == "settled"
        assert sim.world.store.user(session.user_code).last_balance == wallet_balance(chaos)
    finally:
        server.shutdown()


def test_a_balance_callback_that_fails_is_tried_three_times():
    sim, chaos, server, session = setup()
    try:
        chaos.mode["balance"] = "500"
        before = chaos.attempts.get("balance", 0)
        sim.world.rounds.play(session, Decimal(100))
        assert chaos.attempts["balance"] - before == 3  # 1 + 2 (OP-2 default)
    finally:
        server.shutdown()


def test_a_win_that_is_never_answered_is_retried_after_each_timeout():
    sim, chaos, server, session = setup()
    try:
        chaos.mode["win"] = "hang"
        round_ = sim.world.rounds.play(session, Decimal(100))
        assert sim.retries.wait_idle(40)
        assert chaos.attempts["win"] == 4
        assert sim.world.store.round(round_.agent_id, round_.round_id).status == "win_error"
    finally:
        server.shutdown()


def test_a_bet_refused_by_an_agent_without_points_never_reaches_the_wallet():
    sim, chaos, server, session = setup()
    try:
        agent = sim.world.hierarchy.get("demo_seamless")
        sim.world.ledger.move_points(agent, sim.world.hierarchy.get("demo_operator"), agent.points, "recall")
        with pytest.raises(SimError) as refused:
            sim.world.rounds.play(session, Decimal(100))
        assert refused.value.code == 2005
        assert chaos.attempts.get("bet", 0) == 0
    finally:
        server.shutdown()


def test_chaos_rounds_keep_the_wallet_equal_to_the_history():
    """A few hundred rounds with random faults: wallet = start - bets + wins + refunds, per the history."""
    sim, chaos, server, session = setup(seed=11, rate=0.15)
    try:
        for _ in range(300):
            with contextlib.suppress(SimError):
                sim.world.rounds.play(session, Decimal(100))
        assert sim.retries.wait_idle(60)
        for job in sim.retries.failed():  # what ran out of retries is replayed, as an operator would
            chaos.rate = 0.0
            sim.retries.replay(job)
        agent = sim.world.hierarchy.get("demo_seamless")
        rows = [tx for tx in sim.world.store.transactions_of(agent.agent_id) if tx.round_id]
        signed = {TransType.BET: -1, TransType.WIN: 1, TransType.BET_CANCEL: 1}
        expected = START + sum(signed[TransType(tx.trans_type)] * tx.trans_amount for tx in rows)
        assert wallet_balance(chaos) == expected
        assert sim.world.ledger.audit().conserved
        kinds = {TransType(tx.trans_type) for tx in rows}
        assert {TransType.BET, TransType.WIN, TransType.BET_CANCEL} <= kinds  # the faults really bit
    finally:
        server.shutdown()
