"""The whole domain as a state machine: random sequences of every money operation, faults and clock moves.

Hypothesis drives one in-process simulator (no HTTP server) through user
creation, deposits, withdrawals, withdraw-all, points grants and recalls,
rounds in transfer and seamless mode (forced multipliers, engine draws,
``round:settle`` failures), bonus calls, free rounds, blocked players, wallet
outages with ``win``/``cancel`` retries and replays, clock moves past every
retention window with purges, and snapshot/restore round trips.  A plain model
predicts every transfer balance, every agent's points and every account of
the seamless wallet; after each step it checks:

- the ledger audit is conserved (points + held + balances + house == issued);
- every balance, every agent's points and every wallet account equal the model's,
  and nothing is negative;
- history ids increase per agent, never repeat, and stay below the id counter;
  each transfer row chains onto its user's previous row and the last one is the balance;
- each retained round has one Bet and at most one settlement, matching its status
  (spec 10), and every Win follows its Bet;
- the callbacks still owed (pending or "Win Error") are exactly the model's.

The seamless wallet is the reference wallet (``examples.wallet``) behind a
``requests`` transport adapter, so callbacks run through the real client (log,
reply parsing, retries) without a socket.  The retry queue's thread is stopped:
the machine delivers retries itself, one step at a time, so every step is
deterministic.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest
import requests
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from requests.adapters import BaseAdapter

from examples.wallet.wallet import Ledger as ReferenceWalletLedger
from examples.wallet.wallet import handle as reference_wallet_handle
from simulator.codes import ResultCode, SimError
from simulator.config import Settings
from simulator.domain.enums import RoundStatus, WalletMode
from simulator.domain.freerounds import FreeRoundRequest
from simulator.domain.history import History
from simulator.domain.models import TransType
from simulator.domain.rounds import RoundFailed
from simulator.domain.sessions import ONLINE_WINDOW, LaunchRequest
from simulator.domain.store import Seq
from simulator.money import json_number
from simulator.runtime import Simulator

D = Decimal
START = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
WALLET_URL = "http://wallet.state-machine.test/callback"
PARENT = "demo_operator"
CHILDREN = ("demo", "demo_seamless", "sm_t")
SEAMLESS_AGENT = "demo_seamless"
#: Wallet accounts and their opening balances; ``nobody`` has no account (authenticate answers 21).
ACCOUNTS = {"test1234": D(4000), "sa": D(3000), "sb": D(1500)}
TRANSFER_NAMES = ("ann", "ANN", "bob", "cid")
SEAMLESS_NAMES = ("sa", "sb", "nobody")
GAMES = ((1, "vs20fruitsw"), (1, "sim_live_roulette"), (15, "aviator"))
FOUR_PLACES = D("0.0001")
WALLET_MODES = ("up", "down", "wins_fail", "wins_lost")
BET, WIN, BET_CANCEL, BONUS_CALL = (
    int(t) for t in (TransType.BET, TransType.WIN, TransType.BET_CANCEL, TransType.BONUS_CALL)
)
SIGN = {BET: -1, WIN: 1, int(TransType.DEPOSIT): 1, int(TransType.WITHDRAW): -1, BET_CANCEL: 1, BONUS_CALL: 1}
SETTLEMENTS = {
    "settled": {WIN, BONUS_CALL},
    "refunded": {BET_CANCEL},
    "win_pending": set(),
    "win_error": set(),
}

amounts = st.one_of(
    st.integers(min_value=1, max_value=5_000).map(D),
    st.decimals(min_value=D("0.0001"), max_value=D(900), places=4),
    st.sampled_from([D(0), D(-5), D(10) ** 9]),
)
stakes = st.sampled_from([D(100), D(250), D("333.5"), D(1000), D(2000)])
multipliers = st.sampled_from([Fraction(0), Fraction(1, 3), Fraction(1), Fraction(2), Fraction(37, 10), None])
slots = st.integers(min_value=0, max_value=63)
failures = st.integers(min_value=0, max_value=5).map(lambda n: n == 0)  # about 1 round in 6 fails
plays = st.lists(st.tuples(stakes, multipliers, failures), min_size=1, max_size=4)


# -- the wallet ----------------------------------------------------------------------------------
class WalletTransport(BaseAdapter):
    """The reference wallet's logic as a transport, with switchable outages.

    ``down``: every callback fails to connect; ``wins_fail``: a ``win`` is answered
    HTTP 500 and not applied; ``wins_lost``: a ``win`` is applied, then its answer
    is lost (HTTP 500), so the retry is answered 41.
    """

    def __init__(self, balances: dict[str, Decimal]) -> None:
        super().__init__()
        self.ledger = ReferenceWalletLedger(dict(balances))
        self.mode = "up"
        #: Every callback that reached the transport, by command (for the regression tests).
        self.sent: list[str] = []
        #: Seconds each callback takes; wins after the first ``pass_wins`` wait for ``release``.
        self.delay = 0.0
        self.pass_wins: int | None = None
        self.release = threading.Event()

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        command = json.loads(request.body)["command"]
        self.sent.append(command)
        if command == "win" and self.pass_wins is not None and self.sent.count("win") > self.pass_wins:
            self.release.wait(10)
        if self.delay:
            time.sleep(self.delay)
        if self.mode == "down":
            raise requests.ConnectionError("the wallet is down (state machine)", request=request)
        if command == "win" and self.mode == "wins_fail":
            return self._response(request, 500, b"<html>Internal Server Error</html>")
        reply = reference_wallet_handle(self.ledger, request.body, "auto")
        status = 500 if command == "win" and self.mode == "wins_lost" else 200
        return self._response(request, status, json.dumps(reply, default=json_number).encode())

    @staticmethod
    def _response(request, status: int, content: bytes) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response._content = content
        response.request, response.url = request, request.url
        return response

    def close(self) -> None:
        pass

    def balance(self, account: str) -> Decimal:
        return self.ledger.accounts[account].balance


# -- what the model remembers -----------------------------------------------------------------------
@dataclass
class Owed:
    """A ``win`` or ``cancel`` still to be delivered: what it does to the wallet and to the points."""

    agent: str
    account: str
    wallet_delta: Decimal
    points_on_settle: Decimal
    applied: bool = False


@dataclass
class Call:
    agent: str
    gplay_id: int
    set_point: Decimal
    paid: Decimal = D(0)
    open: bool = True


@dataclass
class Grant:
    user_code: int
    game: int
    bet: Decimal
    rounds: int
    expires_at: datetime
    cap: Decimal
    played: int = 0
    won: Decimal = D(0)
    cancelled: bool = False


def snapshot_text(sim: Simulator) -> str:
    """The snapshot as the state file holds it (decimals as JSON numbers), with the C encoder."""
    return json.dumps(sim.snapshot(), default=json_number, ensure_ascii=False, separators=(",", ":"))


def _quantize(amount: Decimal) -> Decimal:
    return amount.quantize(FOUR_PLACES, rounding=ROUND_HALF_EVEN)


def _expect_error(codes: set[ResultCode], call) -> SimError:
    try:
        call()
    except RoundFailed:
        raise
    except SimError as error:
        assert error.code in codes, f"{error.code!r} ({error.detail}), expected one of {codes}"
        return error
    raise AssertionError(f"expected a refusal with one of {codes}")


class DomainMachine(RuleBasedStateMachine):
    """One simulator and its model; the rules are the operations, the invariants the identities."""

    #: Steps and invariant checks over every example of the run (for the closing figures).
    figures: dict[str, int] = defaultdict(int)
    #: A snapshot round trip costs about 0.3 s (the catalogue alone is 3,000 games): a few per example.
    snapshots_per_example = 1

    def __init__(self) -> None:
        super().__init__()
        self.sim = Simulator(Settings())
        self.sim.retries.stop()  # retries are delivered by the rules below, one step at a time
        self.sim.clock.freeze(True)
        self.sim.clock.set(START)
        self.wallet = WalletTransport(ACCOUNTS)
        self.sim.callbacks.mount(WALLET_URL, self.wallet)
        world = self.sim.world
        seamless = world.hierarchy.get(SEAMLESS_AGENT)
        world.hierarchy.apply_settings(seamless, {"callback_url": WALLET_URL})
        world.hierarchy.create("sm_t", "agent", PARENT, points=D(20_000))
        store = world.store
        agents = store.all_agents()
        users = [u for a in agents for u in store.users_of(a.agent_id)]
        self.funds = {a.name: a.points for a in agents}
        self.balances = {u.user_code: u.balance for u in users if u.mode == WalletMode.TRANSFER}
        self.players = sorted(u.user_code for u in users if u.agent_id != seamless.agent_id)
        self.players += [u.user_code for u in store.users_of(seamless.agent_id)]
        self.wallet_model = dict(ACCOUNTS)
        self.blocked: set[int] = set()
        self.sessions: dict[tuple[int, int], int] = {}
        self.last_play: dict[int, datetime] = {}
        self.calls: dict[int, Call] = {}
        self.grants: dict[str, Grant] = {}
        self.owed: dict[str, Owed] = {}
        self.now = START
        self.figures_of_example: dict[str, int] = defaultdict(int)

    # -- helpers ---------------------------------------------------------------------------
    @property
    def world(self):
        return self.sim.world

    def _agent_of(self, user_code: int):
        store = self.world.store
        return store.agent(store.user(user_code).agent_id)

    def _held(self, agent: str) -> Decimal:
        return sum((c.set_point for c in self.calls.values() if c.open and c.agent == agent), D(0))

    def _available(self, agent: str) -> Decimal:
        return self.funds[agent] - self._held(agent)

    def _online(self, gplay_id: int) -> bool:
        return self.last_play[gplay_id] >= self.now - ONLINE_WINDOW

    def _expire_idle(self, agent: str) -> None:
        """What ``BonusCalls.expire_idle`` does: a call whose session went offline is cancelled."""
        for call in self.calls.values():
            if call.open and call.agent == agent and not self._online(call.gplay_id):
                call.open = False

    def _session(self, user_code: int, game: int):
        gplay_id = self.sessions.get((user_code, game))
        if gplay_id is not None:
            return self.world.store.session(gplay_id)
        world, agent = self.world, self._agent_of(user_code)
        seamless = agent.mode == WalletMode.SEAMLESS
        if seamless and (self.wallet.mode == "down" or self._available(agent.name) <= 0):
            codes = {ResultCode.CALLBACK_ERROR, ResultCode.BALANCE_NOT_ENOUGH}
            _expect_error(
                codes, lambda: world.sessions.launch(agent, LaunchRequest(user_code, *GAMES[game], 1))
            )
            return None
        launch = world.sessions.launch(agent, LaunchRequest(user_code, *GAMES[game], 1))
        session = world.sessions.open(launch.token)
        self.sessions[(user_code, game)] = session.gplay_id
        self.last_play[session.gplay_id] = self.now
        return session

    def _claimable(self, user_code: int, game: int) -> Grant | None:
        """The grant the next round of this player and game is played from (oldest first, spec 9)."""
        for grant in self.grants.values():
            if (
                grant.user_code == user_code
                and grant.game == game
                and not grant.cancelled
                and grant.played < grant.rounds
                and self.now < grant.expires_at
            ):
                return grant
        return None

    def _settle_owed(self, key: str, job, send) -> None:
        """Deliver one owed callback through ``send`` and follow it in the model."""
        owed = self.owed[key]
        mode = self.wallet.mode
        command = key.partition(":")[0]
        reaches = mode != "down"
        applies = reaches and not (command == "win" and mode == "wins_fail")
        if applies and not owed.applied:
            self.wallet_model[owed.account] += owed.wallet_delta
            owed.applied = True
        send(job)
        settles = applies and not (command == "win" and mode == "wins_lost")
        assert (job.state == "settled") == settles, (key, mode, job.state)
        if settles:
            self.funds[owed.agent] += owed.points_on_settle
            del self.owed[key]

    # -- players and the wallet endpoints --------------------------------------------------------
    @rule(agent=st.sampled_from(["demo", "sm_t", SEAMLESS_AGENT]), index=st.integers(0, 3))
    def create_user(self, agent: str, index: int) -> None:
        world = self.world
        target = world.hierarchy.get(agent)
        seamless = target.mode == WalletMode.SEAMLESS
        name = (SEAMLESS_NAMES if seamless else TRANSFER_NAMES)[index % 3 if seamless else index]
        existing = world.store.user_by_name(target.agent_id, target.mode, name)
        if seamless and (self.wallet.mode == "down" or name not in ACCOUNTS):
            _expect_error({ResultCode.CALLBACK_ERROR}, lambda: world.users.create_or_get(target, name))
            assert world.store.user_by_name(target.agent_id, target.mode, name) is existing
            return
        user, is_new = world.users.create_or_get(target, name)
        assert is_new is (existing is None)
        if is_new:
            self.players.append(user.user_code)
            if not seamless:
                self.balances[user.user_code] = D(0)

    def _transfer_player(self, slot: int):
        players = [code for code in self.players if code in self.balances]
        code = players[slot % len(players)]
        return self._agent_of(code), self.world.store.user(code)

    @rule(slot=slots, amount=amounts)
    def deposit(self, slot: int, amount: Decimal) -> None:
        agent, user = self._transfer_player(slot)
        if amount <= 0 or amount > self._available(agent.name):
            codes = {ResultCode.VALIDATION_ERROR, ResultCode.POINT_NOT_ENOUGH}
            _expect_error(codes, lambda: self.world.ledger.deposit(agent, user, amount))
            return
        tx = self.world.ledger.deposit(agent, user, amount)
        assert (tx.trans_type, tx.trans_amount) == (int(TransType.DEPOSIT), amount)
        self.balances[user.user_code] += amount
        self.funds[agent.name] -= amount

    @rule(slot=slots, amount=amounts)
    def withdraw(self, slot: int, amount: Decimal) -> None:
        agent, user = self._transfer_player(slot)
        if amount <= 0 or amount > self.balances[user.user_code]:
            codes = {ResultCode.VALIDATION_ERROR, ResultCode.BALANCE_NOT_ENOUGH}
            _expect_error(codes, lambda: self.world.ledger.withdraw(agent, user, amount))
            return
        self.world.ledger.withdraw(agent, user, amount)
        self.balances[user.user_code] -= amount
        self.funds[agent.name] += amount

    @rule(slot=slots)
    def withdraw_all(self, slot: int) -> None:
        agent, user = self._transfer_player(slot)
        expected = self.balances[user.user_code]
        amount, tx = self.world.ledger.withdraw_all(agent, user)
        assert amount == expected and (tx is None) == (expected == 0)
        self.balances[user.user_code] = D(0)
        self.funds[agent.name] += expected

    @rule(child=st.sampled_from(CHILDREN), amount=amounts, grant=st.booleans())
    def move_points(self, child: str, amount: Decimal, grant: bool) -> None:
        source, target = (PARENT, child) if grant else (child, PARENT)
        hierarchy = self.world.hierarchy
        if amount <= 0 or amount > self._available(source):
            codes = {ResultCode.VALIDATION_ERROR, ResultCode.POINT_NOT_ENOUGH}
            _expect_error(codes, lambda: hierarchy.transfer_points(source, target, amount))
            return
        ptx, _, _ = hierarchy.transfer_points(source, target, amount)
        assert ptx.kind == ("grant" if grant else "recall")
        self.funds[source] -= amount
        self.funds[target] += amount

    @rule(slot=slots)
    def block_or_unblock(self, slot: int) -> None:
        code = self.players[slot % len(self.players)]
        store = self.world.store
        store.set_user_active(code, not store.user(code).active)  # what the back office's switch does
        self.blocked ^= {code}

    # -- play ---------------------------------------------------------------------------------
    @rule(slot=slots, game=st.integers(0, len(GAMES) - 1), plays=plays)
    def play_transfer_rounds(self, slot: int, game: int, plays: list) -> None:
        self._play_rounds([code for code in self.players if code in self.balances], slot, game, plays)

    @rule(slot=slots, game=st.integers(0, len(GAMES) - 1), plays=plays)
    def play_seamless_rounds(self, slot: int, game: int, plays: list) -> None:
        self._play_rounds([code for code in self.players if code not in self.balances], slot, game, plays)

    def _play_rounds(self, players: list[int], slot: int, game: int, plays: list) -> None:
        code = players[slot % len(players)]
        for stake, multiplier, fail in plays:
            session = self._session(code, game)
            if session is None:
                return
            self._play_round(session, code, game, stake, multiplier, fail)

    def _play_round(
        self, session, code: int, game: int, stake: Decimal, multiplier: Fraction | None, fail: bool
    ) -> None:
        world, agent, user = self.world, self._agent_of(code), self.world.store.user(code)
        self.figures["rounds"] += 1
        if code in self.blocked:
            _expect_error({ResultCode.PERMISSION_ERROR}, lambda: world.rounds.play(session, stake))
            return
        call_id = world.bonus.current(session)  # ends an idle call, as the round itself would
        model_call = next(
            (cid for cid, c in self.calls.items() if c.open and c.gplay_id == session.gplay_id), None
        )
        if model_call is not None and not self._online(session.gplay_id):
            self.calls[model_call].open = False
            model_call = None
        assert call_id == (model_call or 0)
        grant = self._claimable(code, game)
        call = self.calls[call_id] if call_id and grant is None else None
        taken = D(0) if grant else stake
        if call is None and multiplier is not None:
            world.forced.push(agent.agent_id, user.name, [multiplier])
        if fail:
            self.sim.faults.add({"agent": agent.name, "target": "round:settle", "effect": {"fail": True}})
        try:
            self._play(session, agent, user, stake, taken, grant, call, multiplier, fail)
        finally:
            self.sim.faults.clear()
            while world.forced.pop(agent.agent_id, user.name) is not None:
                pass

    def _play(self, session, agent, user, stake, taken, grant, call, multiplier, fail) -> None:
        world, seamless = self.world, agent.mode == WalletMode.SEAMLESS
        play = lambda: world.rounds.play(session, stake)  # noqa: E731
        if seamless and taken > self._available(agent.name):
            _expect_error({ResultCode.POINT_NOT_ENOUGH}, play)
            return
        if not seamless and taken > self.balances[user.user_code]:
            _expect_error({ResultCode.BALANCE_NOT_ENOUGH}, play)
            return
        mode = self.wallet.mode
        if seamless and mode != "down" and taken > self.wallet_model[user.name]:
            _expect_error({ResultCode.BALANCE_NOT_ENOUGH}, play)  # the wallet answered 31
            return
        if fail or (seamless and mode == "down"):
            try:
                play()
            except RoundFailed as failed:
                round_ = failed.round
            else:
                raise AssertionError("a failed round was not refunded")
            assert round_.status == "refunded" and round_.bet == taken
            self.last_play[session.gplay_id] = self.now
            if seamless:  # a forward cancel: owed to the wallet only if it took the bet
                bet_applied = mode != "down"
                if bet_applied:
                    self.wallet_model[user.name] -= taken
                self.owed[f"cancel:{round_.round_id}"] = Owed(
                    agent.name, user.name, taken if bet_applied else D(0), D(0)
                )
            return
        round_ = play()
        self.last_play[session.gplay_id] = self.now
        assert round_.bet == taken and (round_.call_id != 0) == (call is not None)
        if call is not None:
            win = min(call.set_point - call.paid, stake * 10)
            call.paid += win
            call.open = call.paid < call.set_point
        elif multiplier is None:
            win = round_.win
        else:
            basis = grant.bet if grant else stake
            win = _quantize(basis * multiplier.numerator / multiplier.denominator)
        if grant is not None:
            if grant.cap > 0:
                win = min(win, max(grant.cap - grant.won, D(0)))
            grant.played += 1
            grant.won += win
        assert round_.win == win, (round_.win, win)
        pays_points = call is None  # OP-3: a bonus-call win leaves the points alone
        if not seamless:
            assert round_.status == "settled"
            self.balances[user.user_code] += win - taken
            return
        self.funds[agent.name] -= taken
        self.wallet_model[user.name] -= taken
        if mode == "up":
            assert round_.status == "settled"
            self.wallet_model[user.name] += win
            self.funds[agent.name] += win if pays_points else D(0)
            return
        assert round_.status == "win_pending"
        owed = Owed(agent.name, user.name, win, win if pays_points else D(0))
        if mode == "wins_lost":
            self.wallet_model[user.name] += win
            owed.applied = True
        self.owed[f"win:{round_.round_id}"] = owed

    # -- the wallet and its retries --------------------------------------------------------------
    @rule(mode=st.sampled_from(WALLET_MODES), deliver=st.booleans(), replay=st.booleans())
    def wallet_and_retries(self, mode: str, deliver: bool, replay: bool) -> None:
        """The wallet goes up, down or half-broken; then, maybe, one more attempt of every pending
        ``win``/``cancel`` (what the queue's thread does), and a replay of every "Win Error"
        (``POST /control/callbacks/<id>/replay``)."""
        self.wallet.mode = mode
        retries = self.sim.retries
        if deliver:
            for job in sorted(retries.pending(), key=lambda j: j.job_id):
                self._settle_owed(job.key, job, retries._attempt)
                self.figures["retries"] += 1
        if replay:
            for job in sorted(retries.failed(), key=lambda j: j.job_id):
                self._settle_owed(job.key, job, retries.replay)
                self.figures["replays"] += 1

    # -- bonus calls and free rounds ---------------------------------------------------------------
    @precondition(lambda self: self.sessions)
    @rule(slot=slots, set_point=st.sampled_from([D(1000), D(2500), D(5000)]))
    def start_bonus_call(self, slot: int, set_point: Decimal) -> None:
        keys = sorted(self.sessions)
        user_code, game = keys[slot % len(keys)]
        gplay_id = self.sessions[(user_code, game)]
        agent = self._agent_of(user_code)
        self._expire_idle(agent.name)
        bonus = self.world.bonus
        possible = (
            self._online(gplay_id)
            and GAMES[game][1] != "sim_live_roulette"
            and not any(c.open and c.gplay_id == gplay_id for c in self.calls.values())
            and set_point >= agent.settings.call_min
            and set_point <= self._available(agent.name)
        )
        if not possible:
            codes = {
                ResultCode.PERMISSION_ERROR,
                ResultCode.BONUSCALL_DOUBLE,
                ResultCode.PARAMETERS_INVALID,
                ResultCode.POINT_NOT_ENOUGH,
            }
            _expect_error(codes, lambda: bonus.start(agent, gplay_id, set_point))
            return
        call = bonus.start(agent, gplay_id, set_point)
        self.calls[call.call_id] = Call(agent.name, gplay_id, set_point)

    @precondition(lambda self: self.calls)
    @rule(slot=slots)
    def cancel_bonus_call(self, slot: int) -> None:
        call_id = sorted(self.calls)[slot % len(self.calls)]
        call = self.calls[call_id]
        self._expire_idle(call.agent)
        agent = self.world.hierarchy.get(call.agent)
        if not call.open:
            _expect_error(
                {ResultCode.BONUSCALL_ALEADY_ENDED}, lambda: self.world.bonus.cancel(agent, call_id)
            )
            return
        self.world.bonus.cancel(agent, call_id)
        call.open = False

    @rule(
        slot=slots,
        game=st.integers(0, len(GAMES) - 1),
        bet=st.sampled_from([D(100), D("12.5"), D(400)]),
        rounds=st.integers(1, 3),
        minutes=st.sampled_from([30, 45, 24 * 60]),
        cap=st.sampled_from([D(0), D(150)]),
    )
    def grant_free_rounds(
        self, slot: int, game: int, bet: Decimal, rounds: int, minutes: int, cap: Decimal
    ) -> None:
        code = self.players[slot % len(self.players)]
        expires = self.now + timedelta(minutes=minutes)
        request = FreeRoundRequest(code, *GAMES[game], bet, rounds, int(expires.timestamp() * 1000), cap)
        grant = self.world.free_rounds.grant(self._agent_of(code), request)
        self.grants[grant.fr_id] = Grant(code, game, bet, rounds, expires, cap)

    @precondition(lambda self: self.grants)
    @rule(slot=slots)
    def cancel_free_rounds(self, slot: int) -> None:
        fr_id = sorted(self.grants)[slot % len(self.grants)]
        grant = self.grants[fr_id]
        agent = self._agent_of(grant.user_code)
        if grant.cancelled or grant.played >= grant.rounds or self.now >= grant.expires_at:
            _expect_error(
                {ResultCode.FREEROUND_NO_EXIST}, lambda: self.world.free_rounds.cancel(agent, fr_id)
            )
            return
        self.world.free_rounds.cancel(agent, fr_id)
        grant.cancelled = True

    # -- time, retention and snapshots ---------------------------------------------------------------
    @rule(seconds=st.sampled_from([60, 31 * 60, 3 * 3600, 49 * 3600, 31 * 86400]), purge=st.booleans())
    def advance_clock(self, seconds: int, purge: bool) -> None:
        """Time passes; the server's housekeeping (or any history read) then purges what aged out."""
        self.sim.clock.advance(seconds)
        self.now += timedelta(seconds=seconds)
        assert self.sim.clock.now() == self.now
        if purge:
            History(self.world.store, self.sim.clock).purge()

    def _snapshot_text(self) -> str:
        return snapshot_text(self.sim)

    @precondition(lambda self: self.figures_of_example["snapshots"] < DomainMachine.snapshots_per_example)
    @rule()
    def snapshot_and_restore(self) -> None:
        """A restore of a fresh snapshot changes nothing: the next snapshot is the same document."""
        before = self._snapshot_text()
        self.sim.restore(json.loads(before, parse_float=Decimal))
        assert self._snapshot_text() == before
        self.figures_of_example["snapshots"] += 1
        self.figures["snapshots"] += 1

    # -- invariants ------------------------------------------------------------------------------------
    def _count(self) -> None:
        self.figures["invariant checks"] += 1

    @invariant()
    def money_is_conserved(self) -> None:
        self._count()
        audit = self.world.ledger.audit()
        assert audit.conserved, audit

    @invariant()
    def points_balances_and_wallet_match_the_model(self) -> None:
        self._count()
        store = self.world.store
        held_points = store.export().held_points
        for agent in store.all_agents():
            held = self._held(agent.name)
            assert agent.points == self.funds[agent.name] - held >= 0, agent.name
            assert held_points[agent.agent_id] == held, agent.name
        for code, balance in self.balances.items():
            assert store.user(code).balance == balance >= 0, code
        for account, balance in self.wallet_model.items():
            assert self.wallet.balance(account) == balance >= 0, account

    @invariant()
    def history_ids_increase_and_rows_chain(self) -> None:
        self._count()
        store = self.world.store
        seen: set[int] = set()
        last_row: dict[int, object] = {}
        history = [store.transactions_of(agent.agent_id) for agent in store.all_agents()]
        for rows in history:
            ids = [tx.trans_id for tx in rows]
            assert ids == sorted(set(ids)), "trans_ids of an agent must strictly increase"
            seen.update(ids)
            for tx in rows:
                assert tx.trans_amount >= 0
                if store.user(tx.user_code).mode != WalletMode.TRANSFER:
                    continue
                assert tx.balance - tx.prebalance == SIGN[tx.trans_type] * tx.trans_amount
                previous = last_row.get(tx.user_code)
                assert previous is None or previous.balance == tx.prebalance
                last_row[tx.user_code] = tx
        assert len(seen) == sum(len(rows) for rows in history)
        assert max(seen, default=0) < store.sequences()[Seq.TRANS]
        for code, tx in last_row.items():
            assert tx.balance == store.user(code).balance

    @invariant()
    def each_round_has_one_bet_and_one_settlement(self) -> None:
        self._count()
        store = self.world.store
        for agent in store.all_agents():
            agent_id, rows = agent.agent_id, store.transactions_of(agent.agent_id)
            by_round: dict[str, list] = defaultdict(list)
            for tx in rows:
                if tx.round_id:
                    by_round[tx.round_id].append(tx)
            for round_id, round_rows in by_round.items():
                types = [tx.trans_type for tx in round_rows]
                settlements = [tx for tx in round_rows if tx.trans_type != BET]
                assert types.count(BET) <= 1 and len(settlements) <= 1, (round_id, types)
                if BET in types:
                    assert types[0] == BET and all(
                        tx.user_code == round_rows[0].user_code for tx in round_rows
                    )
                round_ = store.round(agent_id, round_id)
                if round_ is None:
                    continue
                expected = SETTLEMENTS[round_.status]
                if settlements:
                    assert settlements[0].trans_type in expected, (round_id, round_.status, types)
                elif BET in types:
                    assert not expected, (round_id, round_.status, types)

    @invariant()
    def owed_callbacks_are_the_model_s(self) -> None:
        self._count()
        jobs = {job.key: job.state for job in self.sim.retries.outstanding()}
        assert set(jobs) == set(self.owed)
        store = self.world.store
        for agent in store.all_agents():
            for round_ in store.rounds_of(agent.agent_id):
                if round_.status in ("win_pending", "win_error"):
                    expected = "pending" if round_.status == "win_pending" else "failed"
                    assert jobs.get(f"win:{round_.round_id}") == expected, round_.round_id

    def teardown(self) -> None:
        self.figures["examples"] += 1
        self.sim.stop_housekeeping()


def _run(examples: int, steps: int, derandomize: bool, snapshots: int = 1) -> None:
    DomainMachine.snapshots_per_example = snapshots
    run_state_machine_as_test(
        DomainMachine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            derandomize=derandomize,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.filter_too_much,
            ],
        ),
    )


def test_every_domain_operation_keeps_the_invariants():
    _run(examples=40, steps=50, derandomize=True)


@pytest.mark.slow
def test_every_domain_operation_keeps_the_invariants_over_long_runs():
    _run(examples=150, steps=80, derandomize=False, snapshots=3)


# -- regression tests for what the machine's rules reach -------------------------------------------
class Seamless:
    """A simulator whose ``demo_seamless`` plays against :class:`WalletTransport`, one open session."""

    def __init__(self, **overrides) -> None:
        self.sim = Simulator(Settings(**overrides))
        self.wallet = WalletTransport(ACCOUNTS)
        self.sim.callbacks.mount(WALLET_URL, self.wallet)
        world = self.sim.world
        self.agent = world.hierarchy.get(SEAMLESS_AGENT)
        world.hierarchy.apply_settings(self.agent, {"callback_url": WALLET_URL})
        self.user = world.store.user_by_name(self.agent.agent_id, WalletMode.SEAMLESS, "test1234")
        launch = world.sessions.launch(self.agent, LaunchRequest(self.user.user_code, *GAMES[0], 1))
        self.session = world.sessions.open(launch.token)

    def play(self, multiplier: Fraction):
        world = self.sim.world
        world.forced.push(self.agent.agent_id, self.user.name, [multiplier])
        try:
            return world.rounds.play(self.session, D(100))
        except RoundFailed as failed:
            return failed.round

    def rows(self, round_id: str) -> list[tuple[int, Decimal]]:
        agent = self.sim.world.hierarchy.get(SEAMLESS_AGENT)
        rows = self.sim.world.store.transactions_of(agent.agent_id)
        return [(tx.trans_type, tx.trans_amount) for tx in rows if tx.round_id == round_id]

    def exhaust(self, key: str):
        """Attempt the job until its retries run out ("Win Error" for a win)."""
        (job,) = [j for j in self.sim.retries.jobs.values() if j.key == key]
        while job.state == "pending":
            self.sim.retries._attempt(job)
        assert job.state == "failed"
        return job

    def restore_own_snapshot(self) -> None:
        self.sim.restore(json.loads(snapshot_text(self.sim), parse_float=Decimal))


def test_concurrent_replays_of_a_win_error_credit_the_win_once():
    casino = Seamless()
    casino.sim.retries.stop()
    casino.wallet.mode = "wins_fail"
    round_ = casino.play(Fraction(3))
    job = casino.exhaust(f"win:{round_.round_id}")
    points, balance = casino.agent.points, casino.wallet.balance("test1234")
    casino.wallet.mode, casino.wallet.delay = "up", 0.05
    replays = [threading.Thread(target=casino.sim.retries.replay, args=(job,)) for _ in range(4)]
    for thread in replays:
        thread.start()
    for thread in replays:
        thread.join(10)
    assert casino.rows(round_.round_id) == [(BET, D(100)), (WIN, D(300))]
    assert casino.agent.points == points + 300
    assert casino.wallet.balance("test1234") == balance + 300
    assert job.state == "settled" and casino.sim.world.ledger.audit().conserved


def test_a_win_error_older_than_the_round_retention_survives_a_snapshot_and_is_replayed():
    casino = Seamless()
    casino.sim.retries.stop()
    casino.wallet.mode = "wins_fail"
    round_ = casino.play(Fraction(2))
    casino.exhaust(f"win:{round_.round_id}")
    casino.sim.clock.advance(31 * 86400)
    History(casino.sim.world.store, casino.sim.clock).purge()
    casino.restore_own_snapshot()  # refused before: "retries[0].round_id: ... has no round"
    (job,) = casino.sim.retries.failed()
    casino.wallet.mode = "up"
    casino.sim.retries.replay(job)
    assert job.state == "settled"
    assert casino.sim.world.store.round(casino.agent.agent_id, round_.round_id).status == RoundStatus.SETTLED
    assert casino.rows(round_.round_id) == [(WIN, D(200))]  # its Bet row aged out after 48 h


def test_a_cancel_owed_for_a_purged_round_survives_a_snapshot_and_is_delivered():
    casino = Seamless()
    casino.sim.retries.stop()
    casino.wallet.mode = "wins_fail"
    casino.sim.faults.add({"agent": SEAMLESS_AGENT, "target": "round:settle", "effect": {"fail": True}})
    round_ = casino.play(Fraction(2))
    assert round_.status == "refunded"
    casino.wallet.mode = "down"
    casino.exhaust(f"cancel:{round_.round_id}")
    casino.sim.clock.advance(31 * 86400)
    History(casino.sim.world.store, casino.sim.clock).purge()
    assert casino.sim.world.store.round(casino.agent.agent_id, round_.round_id) is None
    balance = casino.wallet.balance("test1234")
    casino.restore_own_snapshot()
    (job,) = casino.sim.retries.failed()
    casino.wallet.mode = "up"
    casino.sim.retries.replay(job)
    assert job.state == "settled" and casino.wallet.balance("test1234") == balance + 100


def test_a_retry_on_the_wire_during_a_reset_is_not_sent_again():
    casino = Seamless(retry_delay_min=0.01, retry_delay_max=0.02)
    casino.wallet.mode, casino.wallet.pass_wins = "wins_fail", 1
    casino.play(Fraction(2))  # the first attempt fails; the retries follow 10-20 ms apart
    deadline = time.monotonic() + 5
    while casino.wallet.sent.count("win") < 2 and time.monotonic() < deadline:
        time.sleep(0.005)  # the first retry is now waiting on the wire
    casino.sim.reset()
    casino.wallet.release.set()
    time.sleep(0.3)  # ten retry delays: a rescheduled job would have been sent again by now
    assert casino.wallet.sent.count("win") == 2
    assert casino.sim.retries.jobs == {}
    casino.sim.retries.stop()
