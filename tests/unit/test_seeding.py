"""``python -m simulator seed``: a fixture set of one's own, checked with the simulator's loader."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from simulator import create_app
from simulator.__main__ import main
from simulator.config import default_fixtures_dir
from simulator.domain.enums import WalletMode
from simulator.runtime import Simulator, World
from tests.conftest import make_settings

SEED = 7
#: Three transfer and two seamless agents with five generated players each.
ARGS = ["--seed", str(SEED), "--agents", "3", "--seamless-agents", "2", "--players", "5"]


def seed(out: Path, *args: str) -> int:
    return main(["seed", "--out", str(out), *args])


def agents_json(directory: Path) -> dict:
    return json.loads((directory / "agents.json").read_text(encoding="utf-8"))


def new_agents(directory: Path) -> list[dict]:
    base = {item["name"] for item in agents_json(default_fixtures_dir())["agents"]}
    return [item for item in agents_json(directory)["agents"] if item["name"] not in base]


def world_of(directory: Path, seed: int = SEED) -> World:
    sim = Simulator(make_settings(fixtures=str(directory), seed=seed))
    sim.retries.stop()
    return sim.world


def players(world: World, agent: str) -> list[tuple[int, str, Decimal]]:
    users = sorted(world.store.users_of(world.hierarchy.get(agent).agent_id), key=lambda u: u.user_code)
    return [(u.user_code, u.name, u.balance) for u in users]


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """Read-only: a set made with ``ARGS``."""
    out = tmp_path_factory.mktemp("seeded") / "world"
    assert seed(out, *ARGS) == 0
    return out


@pytest.fixture(scope="module")
def world(made) -> World:
    return world_of(made)


def test_the_same_seed_writes_byte_identical_files(made, tmp_path, capsys):
    assert seed(tmp_path / "again", *ARGS) == 0
    for name in ("catalogue.json", "agents.json"):
        assert (tmp_path / "again" / name).read_bytes() == (made / name).read_bytes()


def test_another_seed_gives_other_names_and_tokens(made, tmp_path, capsys):
    assert seed(tmp_path / "other", *ARGS, "--seed", "8") == 0
    ours, theirs = new_agents(made), new_agents(tmp_path / "other")
    assert {a["name"] for a in ours}.isdisjoint(a["name"] for a in theirs)
    assert {a["api_token"] for a in ours}.isdisjoint(a["api_token"] for a in theirs)


def test_the_catalogue_is_copied_byte_for_byte(made):
    assert (made / "catalogue.json").read_bytes() == (default_fixtures_dir() / "catalogue.json").read_bytes()


def test_the_set_has_the_new_transfer_and_seamless_agents(made, world):
    modes = [world.hierarchy.get(item["name"]).mode for item in new_agents(made)]
    assert modes == [WalletMode.TRANSFER] * 3 + [WalletMode.SEAMLESS] * 2


def test_new_agents_answer_to_their_api_tokens(made, world):
    for item in new_agents(made):
        assert world.store.agent_by_token(item["api_token"]).name == item["name"]


def test_new_agents_have_test1234_first_then_the_generated_players(made, world):
    for item in new_agents(made):
        rows = players(world, item["name"])
        assert len(rows) == 6
        assert rows[0][1] == "test1234"


def test_new_transfer_players_are_funded_within_the_deposit_range(made, world):
    for item in new_agents(made)[:3]:
        assert all(
            Decimal(1000) <= balance <= Decimal(200000) for _, _, balance in players(world, item["name"])
        )


def test_new_agents_hold_the_points_asked_after_funding_their_players(made, world):
    assert {world.hierarchy.get(item["name"]).points for item in new_agents(made)} == {Decimal(1000000)}


def test_the_base_set_is_unchanged(world):
    default = world_of(default_fixtures_dir())
    for agent in ("demo", "demo_seamless"):
        assert players(world, agent) == players(default, agent)
        assert world.hierarchy.get(agent).points == default.hierarchy.get(agent).points
    assert world.hierarchy.get("demo_operator").points >= default.hierarchy.get("demo_operator").points


def test_seamless_agents_get_the_callback_url_and_one_shared_token(made):
    settings = [item["settings"] for item in new_agents(made)[3:]]
    assert {s["callback_url"] for s in settings} == {"http://127.0.0.1:8090/callback"}
    assert len({s["callback_token"] for s in settings}) == 1


def test_callback_options_are_written_to_seamless_agents(tmp_path, capsys):
    out = tmp_path / "w"
    url, token = "http://127.0.0.1:9000/wallet", "my-secret"
    args = ["--agents", "0", "--seamless-agents", "1", "--callback-url", url, "--callback-token", token]
    assert seed(out, *args, "--callback-dialect", "legacy") == 0
    [item] = new_agents(out)
    written = {key: item["settings"][key] for key in ("callback_url", "callback_token", "callback_dialect")}
    assert written == {"callback_url": url, "callback_token": token, "callback_dialect": "legacy"}


def test_the_summary_shows_each_new_agent_with_its_token_and_how_to_use_the_set(made, tmp_path, capsys):
    assert seed(tmp_path / "w", *ARGS) == 0
    text = capsys.readouterr().out
    for item in new_agents(tmp_path / "w"):
        assert item["name"] in text and item["api_token"] in text
    assert f"SCORPIO_SIM_FIXTURES={tmp_path / 'w'} make run" in text
    assert '"fixtures"' in text


def test_a_non_empty_out_is_refused_without_force(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert seed(tmp_path, *ARGS) == 2
    assert "--force" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_force_writes_into_a_non_empty_out_and_keeps_other_files(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert seed(tmp_path, *ARGS, "--force") == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agents.json", "catalogue.json", "notes.txt"]


def test_a_seeded_set_can_be_the_base_of_another(made, tmp_path, capsys):
    out = tmp_path / "more"
    assert seed(out, "--from", str(made), "--agents", "1", "--seamless-agents", "0", "--seed", "9") == 0
    before = world_of(made)
    after = world_of(out)
    assert len(new_agents(out)) == len(new_agents(made)) + 1
    for item in new_agents(made):
        assert players(after, item["name"]) == players(before, item["name"])


def test_another_currency_puts_the_agents_under_a_new_broker_and_operator(tmp_path, capsys):
    out = tmp_path / "usd"
    assert seed(out, "--currency", "USD", "--agents", "1", "--seamless-agents", "0") == 0
    world = world_of(out)
    [item] = [a for a in new_agents(out) if a["kind"] == "agent"]
    agent = world.hierarchy.get(item["name"])
    operator = world.store.agent(agent.parent_id)
    broker = world.store.agent(operator.parent_id)
    assert (agent.settings.currency, operator.settings.currency, broker.settings.currency) == (2, 2, 2)
    assert (operator.name, broker.name) == ("seed_operator_usd", "seed_broker_usd")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--currency", "XYZ"], "--currency"),
        (["--operator", "demo"], "--operator"),
        (["--deposit-min", "500", "--deposit-max", "100"], "--deposit-min"),
    ],
)
def test_an_impossible_set_is_refused_and_nothing_written(tmp_path, capsys, args, message):
    assert seed(tmp_path / "w", *args) == 1
    assert capsys.readouterr().err.startswith(f"seed: {message}")
    assert not (tmp_path / "w").exists()


def test_a_base_that_is_not_a_fixture_set_is_refused(tmp_path, capsys):
    assert seed(tmp_path / "w", "--from", str(tmp_path)) == 2
    assert "--from" in capsys.readouterr().err


def test_a_set_that_does_not_load_is_not_written(tmp_path, capsys):
    base = tmp_path / "base"
    base.mkdir()
    (base / "catalogue.json").write_bytes((default_fixtures_dir() / "catalogue.json").read_bytes())
    broken = agents_json(default_fixtures_dir())
    broken["agents"].append({"name": "x", "kind": "agent", "parent": "demo_operator"})  # name too short
    (base / "agents.json").write_text(json.dumps(broken))
    assert seed(tmp_path / "w", "--from", str(base)) == 1
    assert "'x'" in capsys.readouterr().err
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize("option", ["--agents", "--players", "--points"])
def test_a_negative_count_is_a_usage_error(tmp_path, capsys, option):
    with pytest.raises(SystemExit) as exit_:
        seed(tmp_path / "w", option, "-1")
    assert exit_.value.code == 2


def test_seed_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["seed", "--help"])
    assert exit_.value.code == 0
    assert "examples:\n  python -m simulator seed --out my-world" in capsys.readouterr().out


def test_the_simulator_resets_to_a_seeded_set_through_the_control_api(made):
    client = create_app(make_settings()).test_client()
    assert client.post("/control/reset", json={"fixtures": str(made)}).status_code == 200
    token = new_agents(made)[0]["api_token"]
    answer = client.post("/v4/agent/info", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert (answer["code"], answer["data"]["balance"]) == (0, 1000000)
