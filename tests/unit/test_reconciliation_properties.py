"""The reconciliation identities of spec 10, under random play, wallet moves, time and purges.

Each example runs random rounds (three categories, stakes with and without
decimals, forced multipliers, occasional injected refunds), deposits,
withdrawals, clock jumps and purges against a plain model, and after every
step checks:

- each user's balance is the model's, and the signed ``trans_amount`` of the
  retained rows equals the change of balance over the same period;
- each round has exactly one Bet and then one Win or one BetCancel, with the
  model's amounts, and its rows are retained or purged together;
- every Win / BetCancel row's ``round_id`` matches an earlier Bet of the same user;
- the ledger audit is conserved - also after the purge of every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.codes import ResultCode, SimError
from simulator.config import Settings
from simulator.domain.history import TRANSACTION_RETENTION, History
from simulator.domain.models import TransType
from simulator.domain.rounds import RoundFailed
from simulator.domain.sessions import LaunchRequest
from simulator.runtime import Simulator
from tests.conftest import DEMO_USER

D = Decimal
START = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
USERS = [DEMO_USER, DEMO_USER + 1, DEMO_USER + 2]
GAMES = [(1, "vs20fruitsw"), (1, "sim_live_roulette"), (15, "aviator")]
SIGN = {
    TransType.BET: -1,
    TransType.WIN: 1,
    TransType.DEPOSIT: 1,
    TransType.WITHDRAW: -1,
    TransType.BET_CANCEL: 1,
    TransType.BONUS_CALL: 1,
}
FOUR_PLACES = D("0.0001")
#: Fails the next round of ``demo`` between bet and settlement, so it is refunded with BetCancel.
REFUND_ONCE = {"agent": "demo", "target": "round:settle", "effect": {"fail": True}, "times": 1}

user_slots = st.integers(min_value=0, max_value=len(USERS) - 1)
stakes = st.one_of(
    st.integers(min_value=100, max_value=3_000).map(D),
    st.decimals(min_value=D(100), max_value=D(500), places=2),
)
multipliers = st.sampled_from([Fraction(0), Fraction(1, 3), Fraction(1), Fraction(2), Fraction(37, 10)])
amounts = st.one_of(
    st.integers(min_value=1, max_value=5_000).map(D),
    st.decimals(min_value=D("0.01"), max_value=D(900), places=2),
)
operations = st.one_of(
    st.tuples(
        st.just("round"),
        user_slots,
        st.integers(min_value=0, max_value=len(GAMES) - 1),
        stakes,
        multipliers,
        st.integers(min_value=0, max_value=5).map(lambda n: n == 0),  # ~1 in 6 rounds is refunded
    ),
    st.tuples(st.just("deposit"), user_slots, amounts),
    st.tuples(st.just("withdraw"), user_slots, amounts),
    st.tuples(st.just("advance"), st.integers(min_value=0, max_value=14 * 3600)),
    st.tuples(st.just("purge")),
)


def _signed(tx) -> Decimal:
    """``trans_amount`` with the sign of its type (spec 7)."""
    return SIGN[TransType(tx.trans_type)] * tx.trans_amount


@dataclass
class PlayedRound:
    user_code: int
    stake: Decimal
    win: Decimal
    refunded: bool
    created_at: datetime
    purged: bool = False


class Casino:
    """A fresh simulator on a frozen clock, its fixture history already purged, plus the model."""

    def __init__(self) -> None:
        self.sim = Simulator(Settings())
        self.sim.clock.freeze(True)
        self.sim.clock.set(START)
        self.world = self.sim.world
        self.store = self.world.store
        self.agent = self.world.hierarchy.get("demo")
        self.history = History(self.store, self.sim.clock, poll_throttle=False)
        every_agent = self.store.all_agents()
        newest = max(
            (tx.trans_id for a in every_agent for tx in self.store.transactions_of(a.agent_id)), default=0
        )
        self.first_test_id = newest + 1
        self.history.purge()  # the fixture deposits were made months before START
        self.opening = {code: self.store.user(code).balance for code in USERS}
        purged_movement = self.store.export().purged_movement
        self.purged_at_start = {code: purged_movement.get(code, D(0)) for code in USERS}
        self.balance = dict(self.opening)
        self.rounds: dict[str, PlayedRound] = {}
        self._sessions: dict[tuple, object] = {}

    def session(self, user_code: int, game: tuple):
        key = (user_code, game)
        if key not in self._sessions:
            launch = self.world.sessions.launch(self.agent, LaunchRequest(user_code, *game, 1))
            self._sessions[key] = self.world.sessions.open(launch.token)
        return self._sessions[key]

    # -- operations -----------------------------------------------------------------
    def apply(self, op: tuple) -> None:
        kind, *args = op
        getattr(self, f"_{kind}")(*args)

    def _round(self, slot: int, game_index: int, stake: Decimal, multiplier: Fraction, refund: bool) -> None:
        user_code = USERS[slot]
        session = self.session(user_code, GAMES[game_index])
        name = self.store.user(user_code).name
        if self.balance[user_code] < stake:
            try:
                self.world.rounds.play(session, stake)
            except SimError as refused:
                assert refused.code == ResultCode.BALANCE_NOT_ENOUGH
                return
            raise AssertionError("a stake above the balance was accepted")
        if refund:
            self.sim.faults.add(dict(REFUND_ONCE))
            try:
                self.world.rounds.play(session, stake)
            except RoundFailed as failed:
                round_ = failed.round
            else:
                raise AssertionError("an injected settlement fault did not refund the round")
            win = D(0)
        else:
            self.world.forced.push(self.agent.agent_id, name, [multiplier])
            round_ = self.world.rounds.play(session, stake)
            win = (stake * multiplier.numerator / multiplier.denominator).quantize(
                FOUR_PLACES, rounding=ROUND_HALF_EVEN
            )
            self.balance[user_code] += win - stake
        assert round_.status == ("refunded" if refund else "settled")
        self.rounds[round_.round_id] = PlayedRound(user_code, stake, win, refund, round_.created_at)

    def _deposit(self, slot: int, amount: Decimal) -> None:
        user_code = USERS[slot]
        self.world.ledger.deposit(self.agent, self.store.user(user_code), amount)
        self.balance[user_code] += amount

    def _withdraw(self, slot: int, amount: Decimal) -> None:
        user_code = USERS[slot]
        try:
            self.world.ledger.withdraw(self.agent, self.store.user(user_code), amount)
        except SimError as refused:
            assert refused.code == ResultCode.BALANCE_NOT_ENOUGH
            assert self.balance[user_code] < amount
            return
        self.balance[user_code] -= amount

    def _advance(self, seconds: int) -> None:
        self.sim.clock.advance(seconds)

    def _purge(self) -> None:
        cutoff = self.sim.clock.now() - TRANSACTION_RETENTION
        self.history.purge()
        for played in self.rounds.values():
            played.purged = played.purged or played.created_at < cutoff

    # -- the identities of spec 10 ---------------------------------------------------------
    def retained(self) -> list:
        return list(self.store.transactions_of(self.agent.agent_id))

    def check(self) -> None:
        rows = self.retained()
        self._check_balances(rows)
        self._check_rounds(rows)
        assert self.world.ledger.audit().conserved

    def _check_balances(self, rows: list) -> None:
        purged_movement = self.store.export().purged_movement
        for user_code in USERS:
            user = self.store.user(user_code)
            assert user.balance == self.balance[user_code]
            mine = [tx for tx in rows if tx.user_code == user_code]
            for tx in mine:
                assert tx.trans_amount >= 0
                assert tx.balance - tx.prebalance == _signed(tx)
            for before, after in zip(mine, mine[1:], strict=False):
                assert after.prebalance == before.balance
            signed = sum((_signed(tx) for tx in mine), D(0))
            period_start = mine[0].prebalance if mine else user.balance
            assert signed == user.balance - period_start
            # Over the whole test: purged plus retained movements are the balance change.
            purged = purged_movement.get(user_code, D(0)) - self.purged_at_start[user_code]
            in_test = sum((_signed(tx) for tx in mine if tx.trans_id >= self.first_test_id), D(0))
            assert purged + in_test == user.balance - self.opening[user_code]

    def _check_rounds(self, rows: list) -> None:
        by_round: dict[str, list] = {}
        for tx in rows:
            if tx.round_id:
                by_round.setdefault(tx.round_id, []).append(tx)
        assert set(by_round) == {rid for rid, played in self.rounds.items() if not played.purged}
        for round_id, round_rows in by_round.items():
            played = self.rounds[round_id]
            bet, settlement = round_rows  # exactly two rows: one Bet, then one settlement
            assert (bet.trans_type, bet.trans_amount) == (TransType.BET, played.stake)
            assert bet.trans_id < settlement.trans_id
            assert bet.user_code == settlement.user_code == played.user_code
            expected = (
                (TransType.BET_CANCEL, played.stake) if played.refunded else (TransType.WIN, played.win)
            )
            assert (settlement.trans_type, settlement.trans_amount) == expected
        bets = {(tx.round_id, tx.user_code): tx.trans_id for tx in rows if tx.trans_type == TransType.BET}
        for tx in rows:
            if tx.trans_type in (TransType.WIN, TransType.BONUS_CALL, TransType.BET_CANCEL):
                assert bets[(tx.round_id, tx.user_code)] < tx.trans_id

    def check_cursor_reads_every_retained_row(self) -> None:
        read, last_id = [], 0
        while page := self.history.after(self.agent.agent_id, last_id, 10):
            assert len(page) <= 10 and page[0].trans_id > last_id  # never the cursor itself
            read.extend(page)
            last_id = page[-1].trans_id
        assert [tx.trans_id for tx in read] == [tx.trans_id for tx in self.retained()]


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(operations, min_size=1, max_size=100))
def test_reconciliation_identities_hold_through_play_wallet_moves_and_purges(ops):
    casino = Casino()
    casino.check()
    for op in ops:
        casino.apply(op)
        casino.check()
    casino.history.purge()
    casino.check_cursor_reads_every_retained_row()
    casino.sim.clock.advance(TRANSACTION_RETENTION.total_seconds() + 1)
    casino.apply(("purge",))
    assert casino.retained() == []
    casino.check()


def test_the_cursor_and_the_identities_hold_over_a_long_fixed_run():
    """One deterministic run of 600 operations: many rounds, refunds and purges in one history."""
    import random

    rng = random.Random(20260101)
    casino = Casino()
    for step in range(600):
        roll = rng.random()
        slot = rng.randrange(len(USERS))
        if roll < 0.6:
            multiplier = rng.choice([Fraction(0), Fraction(1, 3), Fraction(2), Fraction(37, 10)])
            casino.apply(
                (
                    "round",
                    slot,
                    rng.randrange(len(GAMES)),
                    D(rng.randint(100, 2_000)),
                    multiplier,
                    rng.random() < 0.15,
                )
            )
        elif roll < 0.75:
            casino.apply(("deposit", slot, D(rng.randint(1, 4_000))))
        elif roll < 0.9:
            casino.apply(("withdraw", slot, D(rng.randint(1, 4_000))))
        else:
            casino.apply(("advance", rng.randint(0, 6 * 3600)))
            casino.apply(("purge",))
        if step % 50 == 0:
            casino.check()
    casino.check()
    casino.check_cursor_reads_every_retained_row()
