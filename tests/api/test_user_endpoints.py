"""``user/create`` and ``user/info`` (spec 1.3, 5.4, 5.5, OP-14)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.domain.enums import WalletMode
from tests.conftest import DEMO_USER


@pytest.fixture
def seamless_user(sim) -> int:
    """The ``user_code`` of ``demo_seamless``'s fixture player ``test1234``."""
    agent = sim.world.hierarchy.get("demo_seamless")
    return sim.world.store.user_by_name(agent.agent_id, "seamless", "test1234").user_code


def _user_codes(sim) -> list[int]:
    store = sim.world.store
    return [u.user_code for a in store.all_agents() for u in store.users_of(a.agent_id)]


def _max_user_code(sim) -> int:
    return max(_user_codes(sim))


def _switch_to_seamless(client, name: str = "demo") -> None:
    response = client.patch(f"/admin/api/agents/{name}", json={"callback_url": "http://127.0.0.1:9/wallet"})
    assert response.status_code == 200


def _switch_to_transfer(client, name: str) -> None:
    response = client.patch(f"/admin/api/agents/{name}", json={"callback_url": ""})
    assert response.status_code == 200


# -- user/create -------------------------------------------------------------------------


def test_fixture_users_start_at_400000001(sim):
    assert min(_user_codes(sim)) == 400000001
    assert sim.world.store.user(DEMO_USER).name == "test1234"


def test_new_user_code_is_one_more_than_the_highest_existing(v4, sim):
    expected = _max_user_code(sim) + 1
    answer = v4("user/create", {"name": "newplayer"})
    assert answer.body == {"code": 0, "message": "OK", "data": {"user_code": expected, "is_new_user": True}}


def test_user_codes_increase_in_creation_order(v4, sim):
    first = v4("user/create", {"name": "first_player"}).data["user_code"]
    second = v4("user/create", {"name": "second_player"}).data["user_code"]
    assert second == first + 1


def test_user_codes_are_one_sequence_across_agents(v4, other):
    first = v4("user/create", {"name": "alpha"}).data["user_code"]
    second = other("user/create", {"name": "beta"}).data["user_code"]
    assert second == first + 1


def test_new_user_starts_with_zero_balance(v4):
    code = v4("user/create", {"name": "newplayer"}).data["user_code"]
    assert v4("user/info", {"user_code": code}).data == {"name": "newplayer", "balance": 0}


def test_existing_name_returns_the_same_user(v4):
    assert v4("user/create", {"name": "test1234"}).data == {"user_code": DEMO_USER, "is_new_user": False}


def test_create_is_idempotent(v4, sim):
    first = v4("user/create", {"name": "repeat_me"}).data
    users = sim.world.store.user_count()
    second = v4("user/create", {"name": "repeat_me"}).data
    assert second == {"user_code": first["user_code"], "is_new_user": False}
    assert sim.world.store.user_count() == users


def test_name_matching_is_case_insensitive(v4):
    assert v4("user/create", {"name": "TEST1234"}).data == {"user_code": DEMO_USER, "is_new_user": False}


def test_first_spelling_of_a_name_is_kept(v4):
    code = v4("user/create", {"name": "MixedCase"}).data["user_code"]
    assert v4("user/create", {"name": "mixedcase"}).data["user_code"] == code
    assert v4("user/info", {"user_code": code}).data["name"] == "MixedCase"


def test_same_name_in_another_agent_is_another_user(v4, other, sim):
    answer = other("user/create", {"name": "test1234"})
    assert answer.data == {"user_code": _max_user_code(sim), "is_new_user": True}
    assert answer.data["user_code"] != DEMO_USER


@pytest.mark.parametrize("name", ["ab", "A_b_9", "_" * 2, "x" * 50, "0123456789"])
def test_valid_names_are_accepted(v4, name):
    assert v4("user/create", {"name": name}).code == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a", "The name field must be between 2 and 50 characters."),
        ("", "The name field must be between 2 and 50 characters."),
        ("x" * 51, "The name field must be between 2 and 50 characters."),
        ("ab-c", "The name field may only contain letters, numbers and underscores."),
        ("ab c", "The name field may only contain letters, numbers and underscores."),
        ("abc\n", "The name field may only contain letters, numbers and underscores."),
        ("josé", "The name field may only contain letters, numbers and underscores."),
        ("a.b@c", "The name field may only contain letters, numbers and underscores."),
        (12345, "The name field must be a string."),
        (["ab"], "The name field must be a string."),
    ],
)
def test_invalid_name_is_1002(v4, sim, name, message):
    users = sim.world.store.user_count()
    answer = v4("user/create", {"name": name})
    assert answer.code == 1002
    assert answer.data == [{"field": "name", "message": message}]
    assert sim.world.store.user_count() == users


def test_missing_name_is_1002(v4):
    answer = v4("user/create", {})
    assert answer.data == [{"field": "name", "message": "The name field is required."}]


def test_seamless_create_with_unreachable_wallet_is_1015(v4_seamless):
    assert v4_seamless("user/create", {"name": "walletless"}).body == {
        "code": 1015,
        "message": "CALLBACK_ERROR",
    }


def test_seamless_create_that_fails_creates_nobody(v4_seamless, sim):
    users = sim.world.store.user_count()
    v4_seamless("user/create", {"name": "walletless"})
    assert sim.world.store.user_count() == users


# -- user/info ------------------------------------------------------------------------------


def test_user_info_returns_name_and_balance(v4, sim):
    balance = sim.world.store.user(DEMO_USER).balance
    answer = v4("user/info", {"user_code": DEMO_USER})
    assert answer.body == {"code": 0, "message": "OK", "data": {"name": "test1234", "balance": int(balance)}}


def test_user_info_balance_follows_deposits(v4, sim):
    balance = sim.world.store.user(DEMO_USER).balance
    v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 1234.5})
    assert v4("user/info", {"user_code": DEMO_USER}).data["balance"] == float(balance) + 1234.5


def test_user_info_of_an_unknown_code_is_2002(v4):
    assert v4("user/info", {"user_code": 499999999}).body == {"code": 2002, "message": "USER_NOT_FOUND"}


def test_user_info_of_the_next_unallocated_code_is_2002(v4, sim):
    assert v4("user/info", {"user_code": _max_user_code(sim) + 1}).code == 2002


def test_user_info_of_another_agents_user_is_1010(v4, other):
    code = other("user/create", {"name": "someone"}).data["user_code"]
    assert v4("user/info", {"user_code": code}).body == {"code": 1010, "message": "PERMISSION_ERROR"}


def test_new_agent_cannot_read_a_demo_user(other):
    assert other("user/info", {"user_code": DEMO_USER}).code == 1010


def test_transfer_agent_cannot_read_a_seamless_agents_user(seamless_user, v4):
    assert v4("user/info", {"user_code": seamless_user}).code == 1010


def test_seamless_user_info_shows_the_last_reported_balance(seamless_user, v4_seamless):
    answer = v4_seamless("user/info", {"user_code": seamless_user})
    assert answer.data == {"name": "test1234", "balance": 0}


def test_seamless_user_info_balance_is_the_wallets_last_report(seamless_user, v4_seamless, sim):
    sim.world.store.set_last_balance(seamless_user, Decimal("777.25"))
    assert v4_seamless("user/info", {"user_code": seamless_user}).data["balance"] == 777.25


def test_user_code_is_not_found_after_a_switch_to_seamless(v4, client):
    _switch_to_seamless(client)
    assert v4("user/info", {"user_code": DEMO_USER}).body == {"code": 2002, "message": "USER_NOT_FOUND"}


def test_seamless_user_code_is_not_found_after_a_switch_to_transfer(seamless_user, v4_seamless, client):
    _switch_to_transfer(client, "demo_seamless")
    assert v4_seamless("user/info", {"user_code": seamless_user}).code == 2002


def test_create_after_a_mode_switch_yields_a_new_user_code(seamless_user, v4_seamless, client, sim):
    _switch_to_transfer(client, "demo_seamless")
    answer = v4_seamless("user/create", {"name": "test1234"})
    assert answer.data == {"user_code": _max_user_code(sim), "is_new_user": True}
    assert answer.data["user_code"] != seamless_user


def test_switching_modes_keeps_the_other_modes_user(seamless_user, v4_seamless, client, sim):
    _switch_to_transfer(client, "demo_seamless")
    v4_seamless("user/create", {"name": "test1234"})
    assert sim.world.store.user(seamless_user).mode == WalletMode.SEAMLESS
