"""History never goes back in time (issue 15 item 11, spec 5.20-5.21).

In the ``legacy`` dialect a bet's ``trans_id`` is handed out with the callback
and its row is recorded when the wallet answers; rows of other rounds may be
recorded meanwhile.  Rows are still shown in ``trans_id`` order with
non-decreasing ``regdate``: a ``transaction-id`` poller sees every row once,
and a ``transaction`` window holds exactly the rows of its window.
"""

from __future__ import annotations

import io
import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request

from examples.wallet.wallet import create_app as create_wallet
from simulator.codes import SimError
from simulator.domain.enums import RoundStatus
from simulator.domain.history import History, regdate_instant
from simulator.domain.rounds import RoundFailed
from simulator.domain.sessions import LaunchRequest
from tests.conftest import CALLBACK_TOKEN, make_settings

from .conftest import json_reply

START = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
STAKE = Decimal(100)


def open_session(sim, agent, name: str):
    user, _ = sim.world.users.create_fixture_user(agent, name)
    launch = sim.world.sessions.launch(agent, LaunchRequest(user.user_code, 1, "vs20fruitsw", 1))
    return sim.world.sessions.open(launch.token)


def history_of(sim, agent) -> History:
    return History(sim.world.store, sim.clock, poll_throttle=False)


def window_rows(rows, start: datetime, end: datetime) -> list[int]:
    return [tx.trans_id for tx in rows if start <= regdate_instant(tx.created_at) < end]


# -- a slow legacy bet while another round records its rows ------------------------------


class SlowBet:
    """The local wallet holds the bet of ``slow`` until :meth:`release`; everything else answers at once."""

    def __init__(self, wallet) -> None:
        self.arrived = threading.Event()
        self.go = threading.Event()
        wallet.reply = self.reply

    def reply(self, body):
        account = body["data"]["account"]
        if body["command"] == "bet" and account == "slow":
            self.arrived.set()
            self.go.wait(5)
        return json_reply({"result": 0, "status": "OK", "data": {"account": account, "balance": 1000}})

    def release(self) -> None:
        self.go.set()


@pytest.fixture
def slow_round(sim, seamless_agent, wallet):
    """``slow``'s legacy round waits on its bet at START; ``fast`` plays a whole round 5 s later;
    ``slow``'s bet is answered 10 s after START.  Yields ``(poll, everything)``: the poller's
    reads while ``slow``'s bet hung, and the rows after both rounds ended."""
    sim.world.hierarchy.apply_settings(seamless_agent, {"callback_dialect": "legacy"})
    sim.clock.freeze(True)
    sim.clock.set(START)
    history = history_of(sim, seamless_agent)
    agent_id = seamless_agent.agent_id
    cursor = max((tx.trans_id for tx in sim.world.store.transactions_of(agent_id)), default=0)
    slow, fast = open_session(sim, seamless_agent, "slow"), open_session(sim, seamless_agent, "fast")
    gate = SlowBet(wallet)
    errors: list[BaseException] = []

    def play_slow() -> None:
        try:
            sim.world.rounds.play(slow, STAKE)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    thread = threading.Thread(target=play_slow)
    thread.start()
    try:
        assert gate.arrived.wait(5), "the slow bet never reached the wallet"
        sim.clock.set(START + timedelta(seconds=5))
        sim.world.rounds.play(fast, STAKE)
        poll = history.after(agent_id, cursor, 100)
        sim.clock.set(START + timedelta(seconds=10))
    finally:
        gate.release()
        thread.join(10)
    assert not errors
    everything = [tx for tx in sim.world.store.transactions_of(agent_id) if tx.trans_id > cursor]
    return cursor, poll, everything


def test_rows_after_a_pending_legacy_bet_wait_for_it(slow_round):
    cursor, poll, everything = slow_round
    assert len(everything) == 4  # slow's bet, fast's bet and win, slow's win
    assert poll == []


def test_a_cursor_poller_sees_a_slow_legacy_bet_and_every_row_once(sim, seamless_agent, slow_round):
    cursor, poll, everything = slow_round
    seen = [tx.trans_id for tx in poll]
    last = seen[-1] if seen else cursor
    seen += [tx.trans_id for tx in history_of(sim, seamless_agent).after(seamless_agent.agent_id, last, 100)]
    assert seen == [tx.trans_id for tx in everything]
    assert seen == sorted(seen)


def test_regdate_never_decreases_in_trans_id_order_after_a_slow_legacy_bet(slow_round):
    cursor, poll, everything = slow_round
    times = [tx.created_at for tx in sorted(everything, key=lambda tx: tx.trans_id)]
    assert times == sorted(times)


def test_a_window_holds_exactly_its_rows_after_a_slow_legacy_bet(sim, seamless_agent, slow_round):
    cursor, poll, everything = slow_round
    history = history_of(sim, seamless_agent)
    for second in range(0, 12):
        start = START + timedelta(seconds=second)
        end = start + timedelta(seconds=1)
        page = history.by_window(seamless_agent.agent_id, start, end, 0, 100)
        assert [tx.trans_id for tx in page.items] == window_rows(everything, start, end)


def last_trans_id(sim, agent) -> int:
    return max((tx.trans_id for tx in sim.world.store.transactions_of(agent.agent_id)), default=0)


def test_a_refused_legacy_bet_holds_no_later_row_back(sim, seamless_agent, wallet):
    sim.world.hierarchy.apply_settings(seamless_agent, {"callback_dialect": "legacy"})
    cursor = last_trans_id(sim, seamless_agent)
    broke, fast = open_session(sim, seamless_agent, "broke"), open_session(sim, seamless_agent, "fast")

    def reply(body):
        account = body["data"]["account"]
        if body["command"] == "bet" and account == "broke":
            return json_reply({"result": 31, "status": "ERROR", "data": {"account": account, "balance": 0}})
        return json_reply({"result": 0, "status": "OK", "data": {"account": account, "balance": 1000}})

    wallet.reply = reply
    with pytest.raises(SimError):
        sim.world.rounds.play(broke, STAKE)
    round_ = sim.world.rounds.play(fast, STAKE)
    shown = history_of(sim, seamless_agent).after(seamless_agent.agent_id, cursor, 10)
    assert [tx.trans_id for tx in shown] == round_.trans_ids


@pytest.fixture
def settings():
    return make_settings(retry_delay_min=0.01, retry_delay_max=0.02)


def test_a_legacy_win_settled_by_a_retry_after_later_rows_gets_a_new_trans_id(sim, seamless_agent, wallet):
    """Left to its retries, a win holds no row back; rows recorded meanwhile have passed its id,
    so it is recorded under a new one, which a cursor poller still sees."""
    sim.world.hierarchy.apply_settings(seamless_agent, {"callback_dialect": "legacy"})
    agent_id = seamless_agent.agent_id
    history = history_of(sim, seamless_agent)
    cursor = last_trans_id(sim, seamless_agent)
    late, fast = open_session(sim, seamless_agent, "late"), open_session(sim, seamless_agent, "fast")
    wins: list[int] = []
    go = threading.Event()

    def reply(body):
        account = body["data"]["account"]
        if body["command"] == "win" and account == "late":
            wins.append(body["data"]["trans_id"])
            if len(wins) == 1:
                return 500, b"<html>busy</html>"
            go.wait(3)
        return json_reply({"result": 0, "status": "OK", "data": {"account": account, "balance": 1000}})

    wallet.reply = reply
    late_round = sim.world.rounds.play(late, STAKE)
    seen = history.after(agent_id, cursor, 100)
    fast_round = sim.world.rounds.play(fast, STAKE)
    go.set()
    deadline = time.monotonic() + 5
    while late_round.status != RoundStatus.SETTLED and time.monotonic() < deadline:
        time.sleep(0.01)
        late_round = sim.world.store.round(agent_id, late_round.round_id)  # settled by a retry
    seen += history.after(agent_id, seen[-1].trans_id, 100)
    assert [tx.trans_id for tx in seen] == [
        *late_round.trans_ids[:1],
        *fast_round.trans_ids,
        *late_round.trans_ids[1:],
    ]
    assert late_round.trans_ids[1] > fast_round.trans_ids[-1] > wins[0]


@pytest.mark.parametrize("dialect", ["v4", "legacy"])
def test_seamless_rounds_take_consecutive_trans_ids(sim, seamless_agent, wallet, dialect):
    sim.world.hierarchy.apply_settings(seamless_agent, {"callback_dialect": dialect})
    session = open_session(sim, seamless_agent, "steady")
    for _ in range(3):
        sim.world.rounds.play(session, STAKE)
    ids = [tx.trans_id for tx in sim.world.store.transactions_of(seamless_agent.agent_id)]
    assert len(ids) == 6
    assert ids == list(range(ids[0], ids[0] + 6))


# -- the property: concurrent rounds in both dialects, slow and fast wallets mixed -------------

PLAYERS = 8
PLAY_SECONDS = 2.5
CURSOR_LIMIT = 7


class Delay:
    """In front of the reference wallet: requests for the slow accounts wait 20-60 ms."""

    def __init__(self, app, slow: set[str], seed: int) -> None:
        self.app = app
        self.slow = slow
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        raw = Request(environ).get_data()
        environ["wsgi.input"] = io.BytesIO(raw)
        account = (json.loads(raw or b"{}").get("data") or {}).get("account")
        if account in self.slow:
            with self._lock:
                pause = self._random.uniform(0.02, 0.06)
            time.sleep(pause)
        return self.app(environ, start_response)


def test_concurrent_rounds_in_both_dialects_keep_the_history_in_order(sim):
    agent = sim.world.hierarchy.get("demo_seamless")
    agent_id = agent.agent_id
    names = [f"order{n}" for n in range(PLAYERS)]
    wallet_app = create_wallet(
        token=CALLBACK_TOKEN, dialect="auto", accounts={name: Decimal(10_000_000) for name in names}
    )
    server = make_server("127.0.0.1", 0, Delay(wallet_app, set(names[::2]), seed=15), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/callback"
    sim.world.hierarchy.apply_settings(agent, {"callback_url": url, "callback_dialect": "v4"})
    sessions = [open_session(sim, agent, name) for name in names]
    # A frozen clock that the ticker moves a second at a time: rows spread over many regdates.
    sim.clock.freeze(True)
    sim.clock.set(START)
    history = history_of(sim, agent)
    first_cursor = max((tx.trans_id for tx in sim.world.store.transactions_of(agent_id)), default=0)

    stop = threading.Event()
    errors: list[BaseException] = []
    seen: list[int] = []
    window_answers: list[tuple[datetime, list[int]]] = []
    failed_rounds = []

    def guarded(work):
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
                stop.set()

        return threading.Thread(target=run)

    def player(session) -> None:
        deadline = time.monotonic() + PLAY_SECONDS
        while time.monotonic() < deadline and not stop.is_set():
            try:
                sim.world.rounds.play(session, STAKE)
            except RoundFailed as failed:  # an unclear callback under load: cancelled forward
                failed_rounds.append(failed)

    def switcher() -> None:
        dialects = ["legacy", "v4"]
        flips = 0
        while not stop.wait(0.015):
            sim.world.hierarchy.apply_settings(agent, {"callback_dialect": dialects[flips % 2]})
            flips += 1

    def ticker() -> None:
        while not stop.wait(0.05):
            sim.clock.advance(1)

    cursor = first_cursor

    def poll_once() -> int:
        nonlocal cursor
        rows = history.after(agent_id, cursor, CURSOR_LIMIT)
        seen.extend(tx.trans_id for tx in rows)
        if rows:
            cursor = rows[-1].trans_id
        return len(rows)

    def poller() -> None:
        while not stop.wait(0.005):
            poll_once()
            start = regdate_instant(sim.clock.now()) - timedelta(seconds=2)
            page = history.by_window(agent_id, start, start + timedelta(seconds=2), 0, 1000)
            window_answers.append((start, [tx.trans_id for tx in page.items]))

    players = [guarded(lambda s=s: player(s)) for s in sessions]
    helpers = [guarded(switcher), guarded(ticker), guarded(poller)]
    for thread in players + helpers:
        thread.start()
    try:
        for thread in players:
            thread.join(PLAY_SECONDS + 30)
        sim.retries.wait_idle(10)
    finally:
        stop.set()
        for thread in helpers:
            thread.join(10)
        server.shutdown()
    assert errors == []
    while poll_once():
        pass
    rows = [tx for tx in sim.world.store.transactions_of(agent_id) if tx.trans_id > first_cursor]
    while poll_once():  # a win settled by a retry since
        pass

    ids = [tx.trans_id for tx in rows]
    assert len(rows) > 50, "too few rounds were played to check anything"
    assert seen[: len(ids)] == ids, "the cursor poller missed, repeated or reordered rows"
    assert seen == sorted(set(seen))
    times = [tx.created_at for tx in rows]
    assert times == sorted(times), "regdate decreases along trans_id"
    for start, answer in window_answers:
        final = window_rows(rows, start, start + timedelta(seconds=2))
        assert answer == final[: len(answer)], f"the window from {start} showed rows out of order"
    last = regdate_instant(rows[-1].created_at)
    second = regdate_instant(rows[0].created_at)
    while second <= last:
        end = second + timedelta(seconds=1)
        page = history.by_window(agent_id, second, end, 0, 1000)
        assert [tx.trans_id for tx in page.items] == window_rows(rows, second, end)
        second = end
