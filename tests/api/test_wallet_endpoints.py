"""``wallet/deposit``, ``wallet/withdraw`` and ``wallet/withdraw-all`` (spec 5.6-5.8, OP-15)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.domain.models import TransType
from tests.conftest import DEMO_USER

WALLET_PATHS = ["wallet/deposit", "wallet/withdraw", "wallet/withdraw-all"]


def _demo(sim):
    return sim.world.hierarchy.get("demo")


def _user(sim, user_code: int = DEMO_USER):
    return sim.world.store.user(user_code)


def _history(sim):
    return sim.world.store.transactions_of(_demo(sim).agent_id)


def _snapshot(sim) -> tuple:
    """Everything a wallet call may change: points, balances and history lengths."""
    store = sim.world.store
    agents = store.all_agents()
    users = sorted((u for a in agents for u in store.users_of(a.agent_id)), key=lambda u: u.user_code)
    return (
        tuple(a.points for a in agents),
        tuple(u.balance for u in users),
        tuple(len(store.transactions_of(a.agent_id)) for a in agents),
    )


@pytest.fixture
def empty_user(v4) -> int:
    """A fresh transfer-mode user of ``demo`` with a zero balance."""
    return v4("user/create", {"name": "empty_wallet"}).data["user_code"]


# -- deposit ---------------------------------------------------------------------------------


def test_deposit_moves_points_to_the_user(v4, sim):
    points, balance = _demo(sim).points, _user(sim).balance
    assert v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 5000}).code == 0
    assert _demo(sim).points == points - 5000
    assert _user(sim).balance == balance + 5000


def test_deposit_answers_the_new_balance_and_the_amount(v4, sim):
    balance = _user(sim).balance
    answer = v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 5000})
    assert answer.body == {
        "code": 0,
        "message": "OK",
        "data": {"balance": int(balance) + 5000, "amount": 5000},
    }


def test_deposit_to_an_empty_user(v4, empty_user):
    answer = v4("wallet/deposit", {"user_code": empty_user, "amount": 50000})
    assert answer.data == {"balance": 50000, "amount": 50000}


def test_deposit_of_a_decimal_amount(v4, sim, empty_user):
    answer = v4("wallet/deposit", {"user_code": empty_user, "amount": 100.5})
    assert answer.data == {"balance": 100.5, "amount": 100.5}
    assert _demo(sim).points == Decimal("999899.5")


def test_deposit_records_a_deposit_transaction(v4, sim, empty_user):
    v4("wallet/deposit", {"user_code": empty_user, "amount": 300})
    tx = _history(sim)[-1]
    assert tx.trans_type == TransType.DEPOSIT == 4
    assert (tx.user_code, tx.trans_amount, tx.prebalance, tx.balance) == (empty_user, 300, 0, 300)


def test_deposit_records_exactly_one_transaction(v4, sim):
    count = len(_history(sim))
    v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 300})
    assert len(_history(sim)) == count + 1


def test_deposit_of_all_the_agent_points_is_accepted(v4, sim, empty_user):
    answer = v4("wallet/deposit", {"user_code": empty_user, "amount": 1000000})
    assert answer.data == {"balance": 1000000, "amount": 1000000}
    assert _demo(sim).points == 0
    assert v4("agent/info").data["balance"] == 0


def test_deposit_beyond_the_agent_points_is_2005(v4, sim):
    before = _snapshot(sim)
    answer = v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 1000000.0001})
    assert answer.body == {"code": 2005, "message": "POINT_NOT_ENOUGH"}
    assert _snapshot(sim) == before


def test_deposit_by_an_agent_without_points_is_2005(v4, sim):
    v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 1000000})
    assert v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 1}).code == 2005


def test_deposit_keeps_the_ledger_conserved(v4, sim):
    v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 1234.5678})
    assert sim.world.ledger.audit().conserved


# -- withdraw ------------------------------------------------------------------------------------


def test_withdraw_moves_balance_to_the_agent(v4, sim):
    points, balance = _demo(sim).points, _user(sim).balance
    assert v4("wallet/withdraw", {"user_code": DEMO_USER, "amount": 100}).code == 0
    assert _demo(sim).points == points + 100
    assert _user(sim).balance == balance - 100


def test_withdraw_answers_the_new_balance_and_the_amount(v4, empty_user):
    v4("wallet/deposit", {"user_code": empty_user, "amount": 1000})
    answer = v4("wallet/withdraw", {"user_code": empty_user, "amount": 250.25})
    assert answer.body == {"code": 0, "message": "OK", "data": {"balance": 749.75, "amount": 250.25}}


def test_withdraw_records_a_withdraw_transaction(v4, sim, empty_user):
    v4("wallet/deposit", {"user_code": empty_user, "amount": 1000})
    v4("wallet/withdraw", {"user_code": empty_user, "amount": 400})
    tx = _history(sim)[-1]
    assert tx.trans_type == TransType.WITHDRAW == 8
    assert (tx.user_code, tx.trans_amount, tx.prebalance, tx.balance) == (empty_user, 400, 1000, 600)


def test_withdraw_of_the_whole_balance_is_accepted(v4, empty_user):
    v4("wallet/deposit", {"user_code": empty_user, "amount": 1000})
    assert v4("wallet/withdraw", {"user_code": empty_user, "amount": 1000}).data == {
        "balance": 0,
        "amount": 1000,
    }


def test_withdraw_beyond_the_balance_is_2006(v4, sim, empty_user):
    v4("wallet/deposit", {"user_code": empty_user, "amount": 1000})
    before = _snapshot(sim)
    answer = v4("wallet/withdraw", {"user_code": empty_user, "amount": 1000.0001})
    assert answer.body == {"code": 2006, "message": "BALANCE_NOT_ENOUGH"}
    assert _snapshot(sim) == before


def test_withdraw_from_an_empty_user_is_2006(v4, empty_user):
    assert v4("wallet/withdraw", {"user_code": empty_user, "amount": 1}).code == 2006


def test_withdraw_keeps_the_ledger_conserved(v4, sim):
    v4("wallet/withdraw", {"user_code": DEMO_USER, "amount": 0.5})
    assert sim.world.ledger.audit().conserved


# -- withdraw-all -------------------------------------------------------------------------------


def test_withdraw_all_empties_the_balance(v4, sim):
    points, balance = _demo(sim).points, _user(sim).balance
    answer = v4("wallet/withdraw-all", {"user_code": DEMO_USER})
    assert answer.body == {"code": 0, "message": "OK", "data": {"balance": 0, "amount": int(balance)}}
    assert _user(sim).balance == 0
    assert _demo(sim).points == points + balance


def test_withdraw_all_of_a_decimal_balance(v4, empty_user):
    v4("wallet/deposit", {"user_code": empty_user, "amount": 12.3456})
    assert v4("wallet/withdraw-all", {"user_code": empty_user}).data == {"balance": 0, "amount": 12.3456}


def test_withdraw_all_records_one_withdraw_transaction(v4, sim, empty_user):
    v4("wallet/deposit", {"user_code": empty_user, "amount": 700})
    count = len(_history(sim))
    v4("wallet/withdraw-all", {"user_code": empty_user})
    assert len(_history(sim)) == count + 1
    tx = _history(sim)[-1]
    assert (tx.trans_type, tx.trans_amount, tx.prebalance, tx.balance) == (8, 700, 700, 0)


def test_withdraw_all_of_a_zero_balance_answers_amount_0(v4, empty_user):
    answer = v4("wallet/withdraw-all", {"user_code": empty_user})
    assert answer.body == {"code": 0, "message": "OK", "data": {"balance": 0, "amount": 0}}


def test_withdraw_all_of_a_zero_balance_records_nothing(v4, sim, empty_user):
    before = _snapshot(sim)
    v4("wallet/withdraw-all", {"user_code": empty_user})
    assert _snapshot(sim) == before


def test_withdraw_all_twice_withdraws_once(v4, sim):
    balance = _user(sim).balance
    first = v4("wallet/withdraw-all", {"user_code": DEMO_USER}).data
    second = v4("wallet/withdraw-all", {"user_code": DEMO_USER}).data
    assert (first["amount"], second["amount"]) == (int(balance), 0)


def test_withdraw_all_keeps_the_ledger_conserved(v4, sim):
    v4("wallet/withdraw-all", {"user_code": DEMO_USER})
    assert sim.world.ledger.audit().conserved


def test_withdraw_all_ignores_an_amount_field(v4, sim):
    balance = _user(sim).balance
    answer = v4("wallet/withdraw-all", {"user_code": DEMO_USER, "amount": 1})
    assert answer.data == {"balance": 0, "amount": int(balance)}


# -- user and mode errors ------------------------------------------------------------------------


@pytest.mark.parametrize("path", WALLET_PATHS)
def test_wallet_call_for_an_unknown_user_is_2002(v4, path):
    answer = v4(path, {"user_code": 499999999, "amount": 10})
    assert answer.body == {"code": 2002, "message": "USER_NOT_FOUND"}


@pytest.mark.parametrize("path", WALLET_PATHS)
def test_wallet_call_for_another_agents_user_is_1010(v4, other, path):
    code = other("user/create", {"name": "someone"}).data["user_code"]
    other("wallet/deposit", {"user_code": code, "amount": 100})
    assert v4(path, {"user_code": code, "amount": 10}).body == {"code": 1010, "message": "PERMISSION_ERROR"}


@pytest.mark.parametrize("path", WALLET_PATHS)
def test_wallet_call_in_seamless_mode_is_1010(v4_seamless, path):
    answer = v4_seamless(path, {"user_code": DEMO_USER, "amount": 10})
    assert answer.body == {"code": 1010, "message": "PERMISSION_ERROR"}


def test_wallet_call_in_seamless_mode_is_1010_even_for_an_unknown_user(v4_seamless):
    assert v4_seamless("wallet/deposit", {"user_code": 499999999, "amount": 10}).code == 1010


@pytest.mark.parametrize("path", WALLET_PATHS)
def test_wallet_call_after_a_switch_to_seamless_is_1010(v4, client, path):
    response = client.patch(
        "/admin/api/agents/demo", json={"callback_url": "https://casino.example/callback"}
    )
    assert response.status_code == 200
    assert v4(path, {"user_code": DEMO_USER, "amount": 10}).code == 1010


def test_wallet_call_with_an_invalid_amount_reports_the_amount(v4):
    answer = v4("wallet/withdraw", {"user_code": DEMO_USER, "amount": 0})
    assert answer.data == [{"field": "amount", "message": "[amount] must be greater than 0"}]


@pytest.mark.parametrize("path", ["wallet/deposit", "wallet/withdraw"])
def test_deposit_and_withdraw_require_an_amount(v4, path):
    answer = v4(path, {"user_code": DEMO_USER})
    assert answer.data == [{"field": "amount", "message": "The amount field is required."}]


@pytest.mark.parametrize(
    ("token_kind", "path", "body", "headers", "code"),
    [
        ("demo", "wallet/deposit", {"user_code": DEMO_USER, "amount": 10**7}, None, 2005),
        ("demo", "wallet/withdraw", {"user_code": DEMO_USER, "amount": 10**7}, None, 2006),
        ("demo", "wallet/deposit", {"user_code": 499999999, "amount": 10}, None, 2002),
        ("demo", "wallet/withdraw", {"user_code": 499999999, "amount": 10}, None, 2002),
        ("demo", "wallet/withdraw-all", {"user_code": 499999999}, None, 2002),
        ("demo", "wallet/deposit", {"user_code": DEMO_USER, "amount": 0.00001}, None, 1002),
        ("demo", "wallet/deposit", {"user_code": DEMO_USER, "amount": -10}, None, 1002),
        ("demo", "wallet/withdraw", {"user_code": DEMO_USER}, None, 1002),
        ("demo", "wallet/deposit", {"user_code": DEMO_USER, "amount": 10}, {"X-Sim-Result": "2005"}, 2005),
        ("demo", "wallet/withdraw-all", {"user_code": DEMO_USER}, {"X-Sim-Result": "1001"}, 1001),
        ("seamless", "wallet/deposit", {"user_code": DEMO_USER, "amount": 10}, None, 1010),
        ("seamless", "wallet/withdraw-all", {"user_code": DEMO_USER}, None, 1010),
        ("bad", "wallet/withdraw-all", {"user_code": DEMO_USER}, None, 1009),
    ],
)
def test_failed_wallet_call_changes_nothing(v4, v4_seamless, sim, token_kind, path, body, headers, code):
    caller = {"demo": v4, "seamless": v4_seamless}.get(token_kind, v4)
    token = "not-a-token" if token_kind == "bad" else None
    before = _snapshot(sim)
    assert caller(path, body, token=token, headers=headers).code == code
    assert _snapshot(sim) == before
    assert sim.world.ledger.audit().conserved


def test_fixtures_start_with_a_conserved_ledger(sim):
    assert sim.world.ledger.audit().conserved


def test_a_mix_of_wallet_calls_keeps_the_ledger_conserved(v4, sim, empty_user):
    for amount in (10, 0.5, 1234.5678, 99999):
        v4("wallet/deposit", {"user_code": empty_user, "amount": amount})
    v4("wallet/withdraw", {"user_code": empty_user, "amount": 1000.0001})
    v4("wallet/withdraw-all", {"user_code": DEMO_USER})
    v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 10**9})
    assert sim.world.ledger.audit().conserved
    assert v4("user/info", {"user_code": empty_user}).data["balance"] == 100244.0677
