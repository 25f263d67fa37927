"""The default fixture set: tree, tokens, catalogue, seeded players (spec 11.5, 13.3)."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal

import pytest

from simulator.domain.enums import WalletMode
from simulator.fixtures import FixtureError, load_catalogue
from simulator.runtime import Simulator, World
from tests.conftest import CALLBACK_TOKEN, DEMO_TOKEN, DEMO_USER, SEAMLESS_TOKEN, make_settings

SPEC_PROVIDER_IDS = {1, 2, 3, 4, 5, 7, 9, 12, 13, 14, 15, 16, 17, 20, 23, 24, 26}


@pytest.fixture(scope="module")
def world() -> World:
    """Read-only: tests in this module never change it."""
    return Simulator(make_settings()).world


def _players(world: World, agent_name: str) -> list[tuple[int, str, Decimal]]:
    agent = world.hierarchy.get(agent_name)
    users = sorted(world.store.users_of(agent.agent_id), key=lambda u: u.user_code)
    return [(u.user_code, u.name, u.balance) for u in users]


def test_demo_holds_1000000_points(world):
    assert world.hierarchy.get("demo").points == Decimal(1000000)


def test_demo_seamless_holds_1000000_points(world):
    assert world.hierarchy.get("demo_seamless").points == Decimal(1000000)


def test_demo_is_in_transfer_mode_with_the_documented_token(world):
    agent = world.store.agent_by_token(DEMO_TOKEN)
    assert (agent.name, agent.mode) == ("demo", WalletMode.TRANSFER)


def test_demo_seamless_is_in_seamless_mode_with_the_documented_callback_token(world):
    agent = world.store.agent_by_token(SEAMLESS_TOKEN)
    assert (agent.name, agent.mode) == ("demo_seamless", WalletMode.SEAMLESS)
    assert agent.settings.callback_token == CALLBACK_TOKEN == "eadd5a04-4720-4a10-ae60-b11cd01cc3aa"


def test_the_tree_is_broker_operator_and_two_agents(world):
    [root] = world.hierarchy.tree()
    assert (root["agent"].name, root["agent"].kind) == ("scorpio_broker", "broker")
    [operator] = root["children"]
    assert (operator["agent"].name, operator["agent"].kind) == ("demo_operator", "operator")
    assert sorted(c["agent"].name for c in operator["children"]) == ["demo", "demo_seamless"]


def test_the_first_player_of_demo_is_test1234(world):
    user = world.store.user(DEMO_USER)
    assert (user.name, user.agent_id) == ("test1234", world.hierarchy.get("demo").agent_id)


def test_demo_has_25_funded_players(world):
    players = _players(world, "demo")
    assert len(players) == 25
    assert all(Decimal(1000) <= balance <= Decimal(200000) for _, _, balance in players)


def test_demo_seamless_has_test1234_in_seamless_mode(world):
    agent = world.hierarchy.get("demo_seamless")
    user = world.store.user_by_name(agent.agent_id, WalletMode.SEAMLESS, "test1234")
    assert (user.user_code, user.balance) == (400000026, Decimal(0))


def test_there_are_at_least_15_providers_all_with_spec_ids(world):
    ids = set(world.catalogue.providers)
    assert len(ids) >= 15
    assert ids <= SPEC_PROVIDER_IDS


def test_there_are_at_least_300_games(world):
    assert len(world.catalogue.games) >= 300


def test_games_cover_slots_live_and_mini(world):
    categories = Counter(g.category for g in world.catalogue.games.values())
    assert set(categories) == {"Slots", "Live", "Mini"}


def test_every_game_belongs_to_a_known_provider(world):
    assert {g.provider_id for g in world.catalogue.games.values()} <= set(world.catalogue.providers)


def test_the_ledger_is_conserved_after_loading(world):
    audit = world.ledger.audit()
    assert audit.conserved
    assert audit.issued == Decimal(100000000)


def test_every_players_balance_is_a_recorded_deposit(world):
    agent = world.hierarchy.get("demo")
    rows = world.store.transactions_of(agent.agent_id)
    assert len(rows) == 25
    assert {r.trans_type for r in rows} == {4}


def test_the_same_seed_gives_the_same_players():
    first = Simulator(make_settings(seed=42)).world
    second = Simulator(make_settings(seed=42)).world
    assert _players(first, "demo") == _players(second, "demo")


def test_another_seed_gives_other_player_names():
    first = _players(Simulator(make_settings(seed=42)).world, "demo")
    second = _players(Simulator(make_settings(seed=43)).world, "demo")
    assert first[0][1] == second[0][1] == "test1234"
    assert [name for _, name, _ in first[1:]] != [name for _, name, _ in second[1:]]


def test_player_names_are_valid_user_names(world):
    pattern = re.compile(r"^[A-Za-z0-9_]{2,50}$")
    assert all(pattern.match(name) for _, name, _ in _players(world, "demo"))


def test_a_missing_fixture_directory_is_a_fixture_error(tmp_path):
    with pytest.raises(FixtureError, match="catalogue.json"):
        load_catalogue(tmp_path)


def test_an_agent_added_at_the_end_leaves_existing_players_as_they_were(tmp_path):
    import json
    import shutil

    from simulator.config import default_fixtures_dir
    from simulator.fixtures import plan_players

    base = default_fixtures_dir()
    shutil.copy(base / "catalogue.json", tmp_path / "catalogue.json")
    data = json.loads((base / "agents.json").read_text())
    data["agents"].append({"name": "aaa_first_by_name", "kind": "agent", "parent": "demo_operator"})
    data["players"]["aaa_first_by_name"] = {"generated": 3, "deposit_min": 1000, "deposit_max": 2000}
    (tmp_path / "agents.json").write_text(json.dumps(data))
    before, after = plan_players(base, 7), plan_players(tmp_path, 7)
    assert {name: after[name] for name in before} == before
    assert list(after) == [*before, "aaa_first_by_name"]


def test_player_names_are_the_same_from_a_fresh_faker_and_a_reused_one():
    from faker import Faker

    from simulator.fixtures import _NOT_NAME, player_names

    fresh = Faker("en_US")
    fresh.seed_instance(11)
    expected: list[str] = []
    while len(expected) < 5:
        name = _NOT_NAME.sub("_", fresh.user_name())[:50]
        if len(name) >= 2 and name.lower() not in {n.lower() for n in expected} | {"test1234"}:
            expected.append(name)
    player_names(3, 99, set())  # the shared instance has drawn for another seed first
    assert player_names(5, 11, {"test1234"}) == expected
    assert player_names(0, 11, set()) == []
