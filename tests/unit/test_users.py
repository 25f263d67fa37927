"""Players: user_code allocation, idempotent create, name matching, lookup, modes (spec 1.3, 5.4, 5.5)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.clock import Clock
from simulator.codes import ResultCode, SimError
from simulator.domain.enums import WalletMode
from simulator.domain.hierarchy import Hierarchy
from simulator.domain.ledger import Ledger
from simulator.domain.users import Users
from simulator.store import MemoryStore

D = Decimal
CALLBACK_URL = "http://127.0.0.1:9/callback"


class FakeWallet:
    """Stands in for the seamless ``authenticate`` callback."""

    def __init__(self) -> None:
        self.balance = D(0)
        self.calls: list[tuple[str, str]] = []
        self.fail = False

    def __call__(self, agent, account: str) -> Decimal:
        self.calls.append((agent.name, account))
        if self.fail:
            raise SimError(ResultCode.CALLBACK_ERROR, "wallet down")
        return self.balance


class World:
    def __init__(self) -> None:
        self.store = MemoryStore()
        clock = Clock()
        self.ledger = Ledger(self.store, clock)
        self.hierarchy = Hierarchy(self.store, self.ledger, clock)
        self.wallet = FakeWallet()
        self.users = Users(self.store, clock, self.wallet)
        self.hierarchy.create("broker", "broker", points=D(1000))
        self.hierarchy.create("op", "operator", "broker", points=D(1000))
        self.agent = self.hierarchy.create("agent1", "agent", "op", points=D(500))
        self.other = self.hierarchy.create("agent2", "agent", "op", points=D(500))

    def go_seamless(self, agent=None) -> None:
        self.hierarchy.apply_settings(agent or self.agent, {"callback_url": CALLBACK_URL})


@pytest.fixture
def w() -> World:
    return World()


def _code(call) -> int:
    with pytest.raises(SimError) as error:
        call()
    return error.value.code


def test_user_codes_start_at_400000001_and_increase(w):
    codes = [w.users.create_or_get(w.agent, name)[0].user_code for name in ("ann", "bob", "cid")]
    assert codes == [400000001, 400000002, 400000003]


def test_user_codes_increase_across_agents(w):
    first, _ = w.users.create_or_get(w.agent, "ann")
    second, _ = w.users.create_or_get(w.other, "ann")
    assert (first.user_code, second.user_code) == (400000001, 400000002)


def test_a_new_user_is_reported_as_new(w):
    user, is_new = w.users.create_or_get(w.agent, "ann")
    assert is_new is True
    assert (user.name, user.mode, user.balance, user.active) == ("ann", WalletMode.TRANSFER, D(0), True)


def test_creating_the_same_name_again_returns_the_same_user(w):
    first, _ = w.users.create_or_get(w.agent, "ann")
    again, is_new = w.users.create_or_get(w.agent, "ann")
    assert (again is first, is_new) == (True, False)
    assert w.store.user_count() == 1


def test_names_match_case_insensitively_and_keep_the_first_spelling(w):
    first, _ = w.users.create_or_get(w.agent, "TestUser")
    again, is_new = w.users.create_or_get(w.agent, "testuser")
    assert (again.user_code, is_new, again.name) == (first.user_code, False, "TestUser")


def test_lookup_finds_the_agents_user(w):
    user, _ = w.users.create_or_get(w.agent, "ann")
    assert w.users.lookup(w.agent, 400000001) is user


def test_lookup_of_an_unknown_code_is_2002(w):
    assert _code(lambda: w.users.lookup(w.agent, 400000999)) == ResultCode.USER_NOT_FOUND == 2002


def test_lookup_of_another_agents_user_is_1010(w):
    w.users.create_or_get(w.other, "ann")
    assert _code(lambda: w.users.lookup(w.agent, 400000001)) == ResultCode.PERMISSION_ERROR == 1010


def test_after_the_callback_url_is_set_old_users_are_2002(w):
    w.users.create_or_get(w.agent, "ann")
    w.go_seamless()
    assert _code(lambda: w.users.lookup(w.agent, 400000001)) == ResultCode.USER_NOT_FOUND


def test_after_the_callback_url_is_set_the_same_name_gets_a_new_code(w):
    w.users.create_or_get(w.agent, "ann")
    w.go_seamless()
    user, is_new = w.users.create_or_get(w.agent, "ann")
    assert (user.user_code, user.mode, is_new) == (400000002, WalletMode.SEAMLESS, True)


def test_seamless_create_calls_authenticate_with_the_name(w):
    w.go_seamless()
    w.users.create_or_get(w.agent, "Ann")
    assert w.wallet.calls == [("agent1", "Ann")]


def test_seamless_create_stores_the_reported_balance_as_last_balance(w):
    w.go_seamless()
    w.wallet.balance = D("1234.5")
    user, _ = w.users.create_or_get(w.agent, "ann")
    assert (user.last_balance, user.balance) == (D("1234.5"), D(0))


def test_seamless_create_of_an_existing_user_updates_last_balance(w):
    w.go_seamless()
    w.wallet.balance = D(100)
    w.users.create_or_get(w.agent, "ann")
    w.wallet.balance = D(40)
    user, is_new = w.users.create_or_get(w.agent, "ann")
    assert (user.last_balance, is_new) == (D(40), False)


def test_seamless_authenticate_of_an_existing_user_uses_the_stored_spelling(w):
    w.go_seamless()
    w.users.create_or_get(w.agent, "AnnSmith")
    w.users.create_or_get(w.agent, "annsmith")
    assert [account for _, account in w.wallet.calls] == ["AnnSmith", "AnnSmith"]


def test_a_failed_authenticate_creates_nothing(w):
    w.go_seamless()
    w.wallet.fail = True
    assert _code(lambda: w.users.create_or_get(w.agent, "ann")) == ResultCode.CALLBACK_ERROR == 1015
    assert w.store.user_count() == 0


def test_a_failed_authenticate_does_not_use_up_a_user_code(w):
    w.go_seamless()
    w.wallet.fail = True
    with pytest.raises(SimError):
        w.users.create_or_get(w.agent, "ann")
    w.wallet.fail = False
    user, _ = w.users.create_or_get(w.agent, "ann")
    assert user.user_code == 400000001


def test_transfer_create_does_not_call_authenticate(w):
    w.users.create_or_get(w.agent, "ann")
    assert w.wallet.calls == []


def test_a_fixture_user_is_created_without_authenticate_in_seamless_mode(w):
    w.go_seamless()
    user, is_new = w.users.create_fixture_user(w.agent, "ann")
    assert (user.mode, is_new, w.wallet.calls) == (WalletMode.SEAMLESS, True, [])


def test_displayed_balance_is_the_platform_balance_in_transfer_mode(w):
    user, _ = w.users.create_or_get(w.agent, "ann")
    w.ledger.deposit(w.agent, user, D(75))
    assert w.users.displayed_balance(user) == D(75)


def test_displayed_balance_is_the_last_reported_balance_in_seamless_mode(w):
    w.go_seamless()
    w.wallet.balance = D(33)
    user, _ = w.users.create_or_get(w.agent, "ann")
    assert w.users.displayed_balance(user) == D(33)
