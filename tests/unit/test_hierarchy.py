"""The agent tree: kinds and parents, names, points at creation, grants, tokens, settings (spec 1.1-1.2)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.clock import Clock
from simulator.codes import ResultCode, SimError
from simulator.domain.enums import WalletMode
from simulator.domain.hierarchy import Hierarchy
from simulator.domain.ledger import Ledger
from simulator.store import MemoryStore

D = Decimal


@pytest.fixture
def tree() -> Hierarchy:
    """broker (issued 10,000; 5,000 left) -> op (4,000 left) -> agent1 (1,000)."""
    store = MemoryStore()
    clock = Clock()
    ledger = Ledger(store, clock)
    hierarchy = Hierarchy(store, ledger, clock)
    hierarchy.create("broker", "broker", points=D(10000))
    hierarchy.create("op", "operator", "broker", points=D(5000))
    hierarchy.create("agent1", "agent", "op", points=D(1000))
    return hierarchy


def _code(call) -> int:
    with pytest.raises(SimError) as error:
        call()
    return error.value.code


def test_a_broker_can_be_created_at_the_root(tree):
    broker = tree.create("broker2", "broker")
    assert (broker.kind, broker.parent_id) == ("broker", None)


def test_a_broker_can_be_created_under_a_broker(tree):
    sub = tree.create("subbroker", "broker", "broker")
    assert sub.parent_id == tree.get("broker").agent_id


def test_an_operator_can_be_created_under_a_broker(tree):
    assert tree.create("op2", "operator", "broker").parent_id == tree.get("broker").agent_id


@pytest.mark.parametrize("parent", ["op", "agent1"])
def test_an_agent_can_be_created_under_an_operator_or_an_agent(tree, parent):
    assert tree.create("child", "agent", parent).parent_id == tree.get(parent).agent_id


@pytest.mark.parametrize(
    ("kind", "parent"),
    [
        ("broker", "op"),
        ("broker", "agent1"),
        ("operator", None),
        ("operator", "op"),
        ("operator", "agent1"),
        ("agent", None),
        ("agent", "broker"),
    ],
)
def test_a_kind_under_a_parent_kind_it_may_not_sit_under_is_1002(tree, kind, parent):
    assert _code(lambda: tree.create("newone", kind, parent)) == ResultCode.VALIDATION_ERROR
    assert tree._store.agent_by_name("newone") is None


def test_an_unknown_kind_is_1002(tree):
    assert _code(lambda: tree.create("newone", "casino", "op")) == ResultCode.VALIDATION_ERROR


@pytest.mark.parametrize("name", ["a", "x" * 51, "bad-name", "with space", ""])
def test_an_invalid_name_is_1002(tree, name):
    assert _code(lambda: tree.create(name, "agent", "op")) == ResultCode.VALIDATION_ERROR


def test_a_duplicate_name_is_rejected_case_insensitively(tree):
    assert _code(lambda: tree.create("AGENT1", "agent", "op")) == ResultCode.PERMISSION_ERROR
    assert len(tree._store.all_agents()) == 3


def test_get_finds_an_agent_case_insensitively(tree):
    assert tree.get("Agent1").name == "agent1"


def test_an_unknown_parent_is_2001(tree):
    assert _code(lambda: tree.create("newone", "agent", "ghost")) == ResultCode.AGENT_NOT_FOUND


def test_points_at_creation_are_taken_from_the_parent(tree):
    child = tree.create("child", "agent", "agent1", points=D(300))
    assert (child.points, tree.get("agent1").points) == (D(300), D(700))


def test_points_at_creation_are_recorded_as_a_grant(tree):
    child = tree.create("child", "agent", "agent1", points=D(300))
    ptx = tree._store.all_point_transactions()[-1]
    assert (ptx.kind, ptx.from_agent_id, ptx.to_agent_id, ptx.amount) == (
        "grant",
        tree.get("agent1").agent_id,
        child.agent_id,
        D(300),
    )


def test_points_at_creation_beyond_the_parents_points_is_2005_and_creates_nothing(tree):
    assert (
        _code(lambda: tree.create("child", "agent", "agent1", points=D(1001))) == ResultCode.POINT_NOT_ENOUGH
    )
    assert tree._store.agent_by_name("child") is None
    assert tree.get("agent1").points == D(1000)


def test_a_root_brokers_points_are_issued(tree):
    tree.create("broker2", "broker", points=D(777))
    audit = tree._ledger.audit()
    assert (audit.issued, audit.conserved) == (D(10777), True)


def test_a_child_takes_its_parents_currency_by_default(tree):
    tree.apply_settings(tree.get("op"), {"currency": 3})
    assert tree.create("child", "agent", "op").settings.currency == 3


def test_points_at_creation_in_another_currency_are_rejected(tree):
    assert (
        _code(lambda: tree.create("child", "agent", "op", currency=3, points=D(1)))
        == ResultCode.PERMISSION_ERROR
    )
    assert tree._store.agent_by_name("child") is None


def test_a_grant_moves_points_from_parent_to_child(tree):
    ptx, source, target = tree.transfer_points("op", "agent1", D(250))
    assert ptx.kind == "grant"
    assert (source.points, target.points) == (D(3750), D(1250))


def test_a_recall_moves_points_from_child_to_parent(tree):
    ptx, source, target = tree.transfer_points("agent1", "op", D(250))
    assert ptx.kind == "recall"
    assert (source.points, target.points) == (D(750), D(4250))


@pytest.mark.parametrize(("source", "target"), [("broker", "agent1"), ("agent1", "broker"), ("op", "op")])
def test_a_transfer_between_agents_that_are_not_parent_and_child_is_1010(tree, source, target):
    assert _code(lambda: tree.transfer_points(source, target, D(1))) == ResultCode.PERMISSION_ERROR
    assert [a.points for a in tree._store.all_agents()] == [D(5000), D(4000), D(1000)]


def test_a_transfer_between_siblings_is_1010(tree):
    tree.create("agent2", "agent", "op", points=D(10))
    assert _code(lambda: tree.transfer_points("agent1", "agent2", D(1))) == ResultCode.PERMISSION_ERROR


def test_a_recall_beyond_the_childs_points_is_2005(tree):
    assert _code(lambda: tree.transfer_points("agent1", "op", D(1001))) == ResultCode.POINT_NOT_ENOUGH
    assert (tree.get("agent1").points, tree.get("op").points) == (D(1000), D(4000))


def test_a_transfer_between_different_currencies_is_1010(tree):
    tree.create("euro", "agent", "op", currency=3)
    assert _code(lambda: tree.transfer_points("op", "euro", D(1))) == ResultCode.PERMISSION_ERROR
    assert tree.get("op").points == D(4000)


def test_a_transfer_with_an_unknown_agent_is_2001(tree):
    assert _code(lambda: tree.transfer_points("op", "ghost", D(1))) == ResultCode.AGENT_NOT_FOUND


def test_a_reissued_token_replaces_the_old_one_at_once(tree):
    agent = tree.get("agent1")
    old = agent.api_token
    new = tree.reissue_token(agent)
    assert new != old
    assert tree._store.agent_by_token(old) is None
    assert tree._store.agent_by_token(new) is agent


def test_a_given_api_token_is_used(tree):
    agent = tree.create("fixed", "agent", "op", api_token="ed45553e-1702-4342-a70d-09bf7ff7f568")
    assert tree._store.agent_by_token("ed45553e-1702-4342-a70d-09bf7ff7f568") is agent


def test_an_api_token_already_in_use_is_rejected(tree):
    token = tree.get("agent1").api_token
    assert _code(lambda: tree.create("other", "agent", "op", api_token=token)) == ResultCode.PERMISSION_ERROR


def test_every_agent_gets_its_own_callback_token(tree):
    tokens = {a.settings.callback_token for a in tree._store.all_agents()}
    assert len(tokens) == 3 and "" not in tokens


def test_apply_settings_rejects_an_unknown_key_and_changes_nothing(tree):
    agent = tree.get("agent1")
    assert (
        _code(lambda: tree.apply_settings(agent, {"rtp": D(80), "colour": "red"}))
        == ResultCode.VALIDATION_ERROR
    )
    assert agent.settings.rtp == D(95)


def test_apply_settings_changes_the_named_settings(tree):
    agent = tree.apply_settings(tree.get("agent1"), {"rtp": D(80), "max_win": D(5000)})
    assert (agent.settings.rtp, agent.settings.max_win, agent.settings.min_bet) == (D(80), D(5000), D(0))


def test_setting_a_callback_url_switches_the_agent_to_seamless_mode(tree):
    agent = tree.get("agent1")
    assert agent.mode == WalletMode.TRANSFER
    tree.apply_settings(agent, {"callback_url": "https://wallet.example/cb"})
    assert agent.mode == WalletMode.SEAMLESS
    tree.apply_settings(agent, {"callback_url": ""})
    assert agent.mode == WalletMode.TRANSFER


def test_settings_given_at_creation_are_applied(tree):
    agent = tree.create("child", "agent", "op", settings={"callback_url": "http://127.0.0.1:1/cb"})
    assert agent.mode == WalletMode.SEAMLESS


def test_tree_nests_children_under_their_parents(tree):
    tree.create("agent2", "agent", "agent1")
    [root] = tree.tree()
    assert (root["agent"].name, root["parent"]) == ("broker", None)
    [op] = root["children"]
    [agent1] = op["children"]
    assert (op["parent"], agent1["parent"]) == ("broker", "op")
    assert [c["agent"].name for c in agent1["children"]] == ["agent2"]


def test_parent_name_of_a_root_is_none(tree):
    assert (tree.parent_name(tree.get("broker")), tree.parent_name(tree.get("agent1"))) == (None, "op")
