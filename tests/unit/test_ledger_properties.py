"""Ledger conservation under random sequences and under threads (ARCHITECTURE.md, "Ledger").

Every step is checked against a plain model: a valid movement must succeed
with exactly the model's effect, an invalid one must fail with its code and
change nothing; after every step the audit is conserved, nothing is
negative, and each balance is the sum of the user's recorded movements.
"""

from __future__ import annotations

import random
import sys
import threading
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.clock import Clock
from simulator.codes import ResultCode, SimError
from simulator.domain.hierarchy import Hierarchy
from simulator.domain.ledger import Ledger
from simulator.domain.models import TransType
from simulator.domain.users import Users
from simulator.store import MemoryStore

D = Decimal
ISSUED = D(1_000_000)
SIGN = {int(TransType.DEPOSIT): 1, int(TransType.WITHDRAW): -1}
#: ``(name, kind, parent, points at creation)``
TREE = [
    ("broker", "broker", None, ISSUED),
    ("op", "operator", "broker", D(200_000)),
    ("a1", "agent", "op", D(20_000)),
    ("a2", "agent", "op", D(5_000)),
    ("a3", "agent", "a1", D(1_000)),
]
AGENTS = ["a1", "a2", "a3"]
CHILDREN = ["op", "a1", "a2", "a3"]
NAMES = ["ann", "ANN", "bob", "cid", "Dee", "dee", "eve"]


def _unused_wallet(agent, account):  # pragma: no cover - every agent stays in transfer mode
    raise AssertionError("transfer mode never authenticates")


class Ledgerland:
    def __init__(self) -> None:
        self.store = MemoryStore()
        clock = Clock()
        self.ledger = Ledger(self.store, clock)
        self.hierarchy = Hierarchy(self.store, self.ledger, clock)
        self.users = Users(self.store, clock, _unused_wallet)
        for name, kind, parent, points in TREE:
            self.hierarchy.create(name, kind, parent, points=points)
        for name in AGENTS:
            self.users.create_or_get(self.agent(name), f"first_{name}")

    def agent(self, name: str):
        return self.hierarchy.get(name)

    def users_of(self, name: str):
        return sorted(self.store.users_of(self.agent(name).agent_id), key=lambda u: u.user_code)

    def all_users(self) -> list:
        users = (u for a in self.store.all_agents() for u in self.store.users_of(a.agent_id))
        return sorted(users, key=lambda u: u.user_code)

    def all_rows(self) -> list:
        return [tx for a in self.store.all_agents() for tx in self.store.transactions_of(a.agent_id)]

    def state(self) -> tuple:
        points = tuple(a.points for a in self.store.all_agents())
        balances = tuple((u.user_code, u.balance) for u in self.all_users())
        rows = self.store.transaction_count()
        return points, balances, rows, len(self.store.all_point_transactions())

    def check_invariants(self) -> None:
        assert self.ledger.audit().conserved
        assert all(a.points >= 0 for a in self.store.all_agents())
        assert all(u.balance >= 0 for u in self.all_users())
        signed: dict[int, Decimal] = {}
        for tx in self.all_rows():
            signed[tx.user_code] = signed.get(tx.user_code, D(0)) + SIGN[tx.trans_type] * tx.trans_amount
        for user in self.all_users():
            assert user.balance == signed.get(user.user_code, D(0))


amounts = st.one_of(
    st.integers(min_value=1, max_value=3_000).map(D),
    st.decimals(min_value=D("0.0001"), max_value=D(50), places=4),
    st.sampled_from([D(0), D(-1), D("-0.5"), D(10_000_000)]),
    st.integers(min_value=20_000, max_value=300_000).map(D),
)
agent_names = st.sampled_from(AGENTS)
slots = st.integers(min_value=0, max_value=9)
operations = st.one_of(
    st.tuples(st.just("create"), agent_names, st.sampled_from(NAMES)),
    st.tuples(st.just("deposit"), agent_names, slots, amounts),
    st.tuples(st.just("withdraw"), agent_names, slots, amounts),
    st.tuples(st.just("withdraw_all"), agent_names, slots),
    st.tuples(st.just("grant"), st.sampled_from(CHILDREN), amounts),
    st.tuples(st.just("recall"), st.sampled_from(CHILDREN), amounts),
)
PARENT = {name: parent for name, _, parent, _ in TREE}


def _expected(amount: Decimal, available: Decimal, short: ResultCode) -> ResultCode | None:
    """The code a movement of ``amount`` out of ``available`` must fail with, or None."""
    if amount <= 0:
        return ResultCode.VALIDATION_ERROR
    return short if available < amount else None


def _expect(error_code: ResultCode | None, call) -> None:
    """Run ``call``: it must succeed when ``error_code`` is None, else fail with it."""
    if error_code is None:
        call()
        return
    try:
        call()
    except SimError as error:
        assert error.code == error_code
    else:
        raise AssertionError(f"expected {error_code!r}")


def _apply(land: Ledgerland, op: tuple) -> None:
    kind, *args = op
    if kind == "create":
        agent_name, name = args
        count = land.store.user_count()
        existing = land.store.user_by_name(land.agent(agent_name).agent_id, "transfer", name)
        user, is_new = land.users.create_or_get(land.agent(agent_name), name)
        assert is_new is (existing is None)
        assert land.store.user_count() == count + int(is_new)
        return
    if kind in ("grant", "recall"):
        child, amount = args
        source, target = (PARENT[child], child) if kind == "grant" else (child, PARENT[child])
        before_source, before_target = land.agent(source).points, land.agent(target).points
        code = _expected(amount, before_source, ResultCode.POINT_NOT_ENOUGH)
        _expect(code, lambda: land.hierarchy.transfer_points(source, target, amount))
        if code is None:
            assert land.agent(source).points == before_source - amount
            assert land.agent(target).points == before_target + amount
        return
    agent_name, slot, *rest = args
    agent, users = land.agent(agent_name), land.users_of(agent_name)
    if not users:
        return
    user = users[slot % len(users)]
    points, balance = agent.points, user.balance
    if kind == "withdraw_all":
        amount, _ = land.ledger.withdraw_all(agent, user)
        assert (amount, user.balance, agent.points) == (balance, D(0), points + balance)
        return
    (amount,) = rest
    if kind == "deposit":
        code = _expected(amount, points, ResultCode.POINT_NOT_ENOUGH)
        _expect(code, lambda: land.ledger.deposit(agent, user, amount))
        delta = amount
    else:
        code = _expected(amount, balance, ResultCode.BALANCE_NOT_ENOUGH)
        _expect(code, lambda: land.ledger.withdraw(agent, user, amount))
        delta = -amount
    if code is None:
        assert (user.balance, agent.points) == (balance + delta, points - delta)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, min_size=1, max_size=40))
def test_random_movements_conserve_points_and_balances(ops):
    land = Ledgerland()
    for op in ops:
        before = land.state()
        _apply(land, op)
        after = land.state()
        if op[0] != "create" and after[2:] == before[2:]:
            assert after == before, f"{op} recorded nothing, yet changed points or balances"
        land.check_invariants()


def test_concurrent_deposits_and_withdrawals_lose_no_update():
    """8 threads x 200 random movements on shared users and shared agents."""
    land = Ledgerland()
    agents = [land.agent(name) for name in AGENTS]
    for agent in agents:
        land.users.create_or_get(agent, "second")
    users = [user for name in AGENTS for user in land.users_of(name)]
    agent_of = {u.user_code: next(a for a in agents if a.agent_id == u.agent_id) for u in users}
    start_points = {a.agent_id: a.points for a in land.store.all_agents()}
    net: dict[int, Decimal] = {u.user_code: D(0) for u in users}
    net_lock = threading.Lock()
    failures: list[BaseException] = []
    moves = [0]

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        mine: dict[int, Decimal] = {}
        done = 0
        try:
            for _ in range(200):
                user = rng.choice(users)
                agent = agent_of[user.user_code]
                amount = D(rng.randint(1, 400))
                try:
                    if rng.random() < 0.55:
                        land.ledger.deposit(agent, user, amount)
                        mine[user.user_code] = mine.get(user.user_code, D(0)) + amount
                    else:
                        land.ledger.withdraw(agent, user, amount)
                        mine[user.user_code] = mine.get(user.user_code, D(0)) - amount
                    done += 1
                except SimError as error:
                    assert error.code in (ResultCode.POINT_NOT_ENOUGH, ResultCode.BALANCE_NOT_ENOUGH)
            with net_lock:
                for code, value in mine.items():
                    net[code] += value
                moves[0] += done
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        sys.setswitchinterval(old_interval)
    assert not any(t.is_alive() for t in threads), "a worker is stuck (deadlock?)"
    assert failures == []
    assert {u.user_code: u.balance for u in users} == net
    for agent in agents:
        taken = sum((net[u.user_code] for u in users if u.agent_id == agent.agent_id), D(0))
        assert agent.points == start_points[agent.agent_id] - taken
    rows = land.all_rows()
    assert len(rows) == moves[0]
    assert len({tx.trans_id for tx in rows}) == len(rows)
    land.check_invariants()


def test_concurrent_grants_and_recalls_between_two_agents_conserve_points():
    """Locks are taken in id order, so opposite transfers never deadlock."""
    land = Ledgerland()
    parent, child = land.agent("op"), land.agent("a1")
    total = parent.points + child.points
    failures: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(200):
                amount = D(rng.randint(1, 5_000))
                source, target = ("op", "a1") if rng.random() < 0.5 else ("a1", "op")
                try:
                    land.hierarchy.transfer_points(source, target, amount)
                except SimError as error:
                    assert error.code == ResultCode.POINT_NOT_ENOUGH
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a worker is stuck (deadlock?)"
    assert failures == []
    assert parent.points + child.points == total
    land.check_invariants()
