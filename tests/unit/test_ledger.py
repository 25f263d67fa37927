"""The ledger: deposits, withdrawals, point movements, records and the audit (spec 1.2, 5.6-5.8, 7)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from simulator.clock import Clock
from simulator.codes import ResultCode, SimError
from simulator.domain.hierarchy import Hierarchy
from simulator.domain.ledger import Ledger
from simulator.domain.models import TransType
from simulator.domain.users import Users
from simulator.store import MemoryStore

D = Decimal


class Small:
    """A broker (10,000 issued) -> operator (5,000) -> agent (1,000) with one user."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.clock.freeze(True)
        self.clock.set(datetime(2026, 1, 13, 12, 0, tzinfo=UTC))
        self.store = MemoryStore()
        self.ledger = Ledger(self.store, self.clock)
        self.hierarchy = Hierarchy(self.store, self.ledger, self.clock)
        self.users = Users(self.store, self.clock, _no_wallet)
        self.broker = self.hierarchy.create("broker", "broker", points=D(10000))
        self.operator = self.hierarchy.create("op", "operator", "broker", points=D(5000))
        self.agent = self.hierarchy.create("agent1", "agent", "op", points=D(1000))
        self.user, _ = self.users.create_or_get(self.agent, "alice")

    def rows(self):
        return list(self.store.transactions_of(self.agent.agent_id))


def _no_wallet(agent, account):  # pragma: no cover - transfer mode never calls it
    raise AssertionError("authenticate must not be called in transfer mode")


@pytest.fixture
def w() -> Small:
    return Small()


def test_deposit_moves_points_from_agent_to_user(w):
    w.ledger.deposit(w.agent, w.user, D(250))
    assert (w.agent.points, w.user.balance) == (D(750), D(250))


def test_deposit_records_a_deposit_row_of_type_4(w):
    tx = w.ledger.deposit(w.agent, w.user, D(250))
    assert tx.trans_type == TransType.DEPOSIT == 4
    assert (tx.trans_amount, tx.prebalance, tx.balance) == (D(250), D(0), D(250))
    assert (tx.user_code, tx.agent_id) == (w.user.user_code, w.agent.agent_id)
    assert tx.created_at == datetime(2026, 1, 13, 12, 0, tzinfo=UTC)
    assert w.rows() == [tx]


def test_withdraw_moves_balance_back_to_agent_points(w):
    w.ledger.deposit(w.agent, w.user, D(400))
    w.ledger.withdraw(w.agent, w.user, D(150))
    assert (w.agent.points, w.user.balance) == (D(750), D(250))


def test_withdraw_records_a_withdraw_row_of_type_8(w):
    w.ledger.deposit(w.agent, w.user, D(400))
    tx = w.ledger.withdraw(w.agent, w.user, D(150))
    assert tx.trans_type == TransType.WITHDRAW == 8
    assert (tx.trans_amount, tx.prebalance, tx.balance) == (D(150), D(400), D(250))


def test_withdraw_all_empties_the_balance_and_returns_the_amount(w):
    w.ledger.deposit(w.agent, w.user, D("123.45"))
    amount, tx = w.ledger.withdraw_all(w.agent, w.user)
    assert amount == D("123.45")
    assert (tx.trans_type, tx.trans_amount, tx.prebalance, tx.balance) == (8, D("123.45"), D("123.45"), D(0))
    assert (w.agent.points, w.user.balance) == (D(1000), D(0))


def test_withdraw_all_of_a_zero_balance_records_nothing(w):
    amount, tx = w.ledger.withdraw_all(w.agent, w.user)
    assert (amount, tx) == (D(0), None)
    assert w.rows() == []
    assert w.agent.points == D(1000)


def test_trans_ids_increase_with_every_movement(w):
    ids = [
        w.ledger.deposit(w.agent, w.user, D(100)).trans_id,
        w.ledger.withdraw(w.agent, w.user, D(30)).trans_id,
        w.ledger.deposit(w.agent, w.user, D(5)).trans_id,
        w.ledger.withdraw_all(w.agent, w.user)[1].trans_id,
    ]
    assert ids == [1, 2, 3, 4]


def test_each_rows_prebalance_is_the_previous_rows_balance(w):
    w.ledger.deposit(w.agent, w.user, D(100))
    w.ledger.withdraw(w.agent, w.user, D(30))
    w.ledger.deposit(w.agent, w.user, D("0.5"))
    rows = w.rows()
    assert [(r.prebalance, r.balance) for r in rows] == [
        (D(0), D(100)),
        (D(100), D(70)),
        (D(70), D("70.5")),
    ]


def test_decimal_amounts_add_up_exactly(w):
    for _ in range(3):
        w.ledger.deposit(w.agent, w.user, D("0.1"))
    assert w.user.balance == D("0.3")
    assert w.agent.points == D("999.7")


def test_deposit_beyond_the_agents_points_is_2005_and_changes_nothing(w):
    with pytest.raises(SimError) as error:
        w.ledger.deposit(w.agent, w.user, D("1000.0001"))
    assert error.value.code == ResultCode.POINT_NOT_ENOUGH == 2005
    assert (w.agent.points, w.user.balance, w.rows()) == (D(1000), D(0), [])


def test_deposit_of_exactly_all_points_succeeds(w):
    w.ledger.deposit(w.agent, w.user, D(1000))
    assert (w.agent.points, w.user.balance) == (D(0), D(1000))


def test_withdraw_beyond_the_balance_is_2006_and_changes_nothing(w):
    w.ledger.deposit(w.agent, w.user, D(100))
    with pytest.raises(SimError) as error:
        w.ledger.withdraw(w.agent, w.user, D("100.01"))
    assert error.value.code == ResultCode.BALANCE_NOT_ENOUGH == 2006
    assert (w.agent.points, w.user.balance, len(w.rows())) == (D(900), D(100), 1)


@pytest.mark.parametrize("amount", [D(0), D(-1), D("-0.0001")])
@pytest.mark.parametrize("operation", ["deposit", "withdraw"])
def test_non_positive_amount_is_1002_and_changes_nothing(w, operation, amount):
    w.ledger.deposit(w.agent, w.user, D(10))
    with pytest.raises(SimError) as error:
        getattr(w.ledger, operation)(w.agent, w.user, amount)
    assert error.value.code == ResultCode.VALIDATION_ERROR == 1002
    assert (w.agent.points, w.user.balance, len(w.rows())) == (D(990), D(10), 1)


def test_issue_points_adds_to_a_broker_and_to_the_issued_total(w):
    ptx = w.ledger.issue_points(w.broker, D(500))
    assert w.broker.points == D(5500)
    assert (ptx.kind, ptx.from_agent_id, ptx.to_agent_id, ptx.amount) == (
        "issue",
        None,
        w.broker.agent_id,
        D(500),
    )
    assert w.ledger.audit().issued == D(10500)


def test_move_points_records_both_balances_after_the_move(w):
    ptx = w.ledger.move_points(w.operator, w.agent, D(200), "grant")
    assert (w.operator.points, w.agent.points) == (D(3800), D(1200))
    assert (ptx.kind, ptx.amount, ptx.from_points, ptx.to_points) == ("grant", D(200), D(3800), D(1200))
    assert (ptx.from_agent_id, ptx.to_agent_id) == (w.operator.agent_id, w.agent.agent_id)


def test_point_transaction_ids_increase(w):
    first = w.ledger.move_points(w.operator, w.agent, D(1), "grant")
    second = w.ledger.move_points(w.agent, w.operator, D(1), "recall")
    assert second.point_trans_id == first.point_trans_id + 1


def test_move_points_beyond_the_source_points_is_2005_and_changes_nothing(w):
    count = len(w.store.all_point_transactions())
    with pytest.raises(SimError) as error:
        w.ledger.move_points(w.agent, w.operator, D(1001), "recall")
    assert error.value.code == ResultCode.POINT_NOT_ENOUGH
    assert (w.agent.points, w.operator.points) == (D(1000), D(4000))
    assert len(w.store.all_point_transactions()) == count


def test_move_points_of_zero_is_1002(w):
    with pytest.raises(SimError) as error:
        w.ledger.move_points(w.operator, w.agent, D(0), "grant")
    assert error.value.code == ResultCode.VALIDATION_ERROR


def test_audit_is_conserved_after_movements(w):
    w.ledger.deposit(w.agent, w.user, D(600))
    w.ledger.withdraw(w.agent, w.user, D(100))
    w.ledger.move_points(w.operator, w.agent, D(50), "grant")
    audit = w.ledger.audit()
    assert (audit.issued, audit.points, audit.balances) == (D(10000), D(9500), D(500))
    assert audit.conserved


def _tampered(w: Small, change) -> Ledger:
    """A ledger over ``w``'s state as records, edited by ``change`` and loaded into a new store.

    The store's operations cannot change money without a record; an edited state can.
    """
    state = w.store.export()
    change(state)
    store = MemoryStore()
    store.load(state)
    return Ledger(store, w.clock)


def _record(records, **key):
    (found,) = [r for r in records if all(getattr(r, name) == value for name, value in key.items())]
    return found


def test_audit_detects_points_that_appear_without_a_record(w):
    assert _tampered(w, lambda state: None).audit().conserved

    def extra_point(state) -> None:
        _record(state.agents, agent_id=w.agent.agent_id).points += D(1)

    assert not _tampered(w, extra_point).audit().conserved


def test_audit_detects_a_balance_changed_outside_the_ledger(w):
    w.ledger.deposit(w.agent, w.user, D(100))
    assert _tampered(w, lambda state: None).audit().conserved

    def shifted(state) -> None:
        _record(state.users, user_code=w.user.user_code).balance += D(1)
        _record(state.agents, agent_id=w.agent.agent_id).points -= D(1)

    audit = _tampered(w, shifted).audit()
    assert audit.mismatched_users == (w.user.user_code,)
    assert not audit.conserved


def test_audit_leaves_seamless_users_balances_out_of_the_total(w):
    w.hierarchy.apply_settings(w.agent, {"callback_url": "http://127.0.0.1:9/cb"})
    w.users.create_fixture_user(w.agent, "bob")
    audit = w.ledger.audit()
    assert (audit.balances, audit.conserved) == (D(0), True)
