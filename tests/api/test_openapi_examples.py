"""The OpenAPI document's examples are realistic (issue 16): fixture user codes, the documented example
token, real catalogue games - and the ``/v4`` request examples work against a fresh simulator.
Swagger UI pre-fills requests from them; without them it showed ``9223372036854776000``."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from simulator import create_app
from simulator.config import default_fixtures_dir
from simulator.openapi import build
from tests.conftest import DEMO_TOKEN, make_settings

DOCUMENT = build(create_app(make_settings()))
SCHEMAS = DOCUMENT["components"]["schemas"]
FIXTURES = default_fixtures_dir()
#: The largest number a realistic example here reaches: epoch milliseconds of 2030 are 1.9e12.
LARGEST = 10**13


def properties() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for schema_name, schema in SCHEMAS.items():
        for name, prop in schema.get("properties", {}).items():
            yield schema_name, name, prop


def examples(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    """Every ``example`` in the document, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "example":
                yield where, value
            else:
                yield from examples(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from examples(value, f"{where}/{index}")


def numbers(value: Any) -> Iterator[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from numbers(item)


def example_body(schema_ref: dict[str, Any]) -> dict[str, Any]:
    schema = SCHEMAS[schema_ref["$ref"].rsplit("/", 1)[1]]
    return {name: prop["example"] for name, prop in schema.get("properties", {}).items() if "example" in prop}


def test_every_field_has_an_example_but_lists_of_objects():
    missing = [
        f"{schema}.{name}"
        for schema, name, prop in properties()
        if "example" not in prop and "$ref" not in prop.get("items", {})
    ]
    assert missing == []


def test_no_example_is_an_absurd_number():
    absurd = [
        (where, number)
        for where, value in examples(DOCUMENT)
        for number in numbers(value)
        if not math.isfinite(number) or abs(number) >= LARGEST
    ]
    assert absurd == []


def test_no_example_is_a_placeholder_string():
    placeholders = [where for where, value in examples(DOCUMENT) if value == "string"]
    assert placeholders == []


@pytest.mark.parametrize(
    ("schema", "name"), [(schema, name) for schema, name, prop in properties() if "example" in prop]
)
def test_each_example_is_valid_for_its_field(schema, name):
    prop = SCHEMAS[schema]["properties"][name]
    OAS30Validator({**prop, "components": DOCUMENT["components"]}).validate(prop["example"])


def test_the_bearer_scheme_names_the_demo_agents_token():
    agents = json.loads((FIXTURES / "agents.json").read_text())["agents"]
    demo_token = next(agent["api_token"] for agent in agents if agent["name"] == "demo")
    assert demo_token == DEMO_TOKEN
    assert f"`{demo_token}`" in DOCUMENT["components"]["securitySchemes"]["bearerAuth"]["description"]


def test_game_examples_are_a_real_catalogue_game():
    catalogue = json.loads((FIXTURES / "catalogue.json").read_text())
    shown = {(name, json.dumps(prop["example"])) for _, name, prop in properties() if "example" in prop}
    shown = {(name, json.loads(value)) for name, value in shown if not value.startswith(("[", "{"))}
    provider_ids = {value for name, value in shown if name == "provider_id"}
    game_codes = {value for name, value in shown if name in ("game_code", "game_symbol")}
    games = {(g["provider_id"], g["game_code"]): g["game_name"] for g in catalogue["games"]}
    providers = {p["provider_id"]: p["provider_name"] for p in catalogue["providers"]}
    assert [(p, c) in games for p in provider_ids for c in game_codes] == [True]
    [(provider_id, game_code)] = [(p, c) for p in provider_ids for c in game_codes]
    assert {value for name, value in shown if name == "game_name"} == {games[(provider_id, game_code)]}
    assert {value for name, value in shown if name == "provider_name"} == {providers[provider_id]}


def test_user_code_examples_are_the_first_fixture_player(v4):
    user_codes = {
        prop["example"]
        for schema, name, prop in properties()
        if name == "user_code" and schema != "UserCreated"
    }
    assert user_codes == {400000001}
    assert v4("user/info", {"user_code": 400000001}).data["name"] == "test1234"


def test_the_user_created_example_is_the_next_fixture_user_code(v4):
    example = SCHEMAS["UserCreated"]["properties"]["user_code"]["example"]
    assert v4("user/create", {"name": "alice_2026"}).data["user_code"] == example


USER = 400000001
V4_PATHS = [path for path in DOCUMENT["paths"] if path.startswith("/v4/")]
#: The call whose example makes another's example work, as in the README.
PREPARED_BY = {
    "/v4/wallet/withdraw": "/v4/wallet/deposit",
    "/v4/game/call_cancel": "/v4/game/call_start",
    "/v4/game/freeround/cancel": "/v4/game/freeround/start",
}


@pytest.mark.parametrize("path", V4_PATHS)
def test_the_v4_request_example_works_after_a_round(client, v4, path):
    # The README's order: a round has been played, so its round and game session exist.
    played = client.post(
        "/control/play",
        json={
            "agent": "demo",
            "user_code": 400000001,
            "provider_id": 1,
            "game_code": "vs20fruitsw",
            "bet": 100,
        },
    )
    assert played.status_code == 200
    before = PREPARED_BY.get(path)
    if before:
        assert v4(before.removeprefix("/v4/"), example_body(_request_schema(before))).code == 0
    body = example_body(_request_schema(path))
    answer = client.post(path, json=body, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}).get_json()
    if path == "/v4/agent/callback-test":  # the demo agent is in transfer mode: it has no wallet to call
        assert answer["code"] == 1015
    else:
        assert answer["code"] == 0, (body, answer)


def _request_schema(path: str) -> dict[str, Any]:
    return DOCUMENT["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]


@pytest.mark.parametrize(
    ("method", "path", "url", "status"),
    [
        ("post", "/admin/api/agents", "/admin/api/agents", 201),
        ("patch", "/admin/api/agents/{name}", "/admin/api/agents/demo", 200),
        ("post", "/admin/api/points/transfer", "/admin/api/points/transfer", 200),
        ("patch", "/admin/api/agents/{name}/users/{user_code}", f"/admin/api/agents/demo/users/{USER}", 200),
        ("post", "/control/faults", "/control/faults", 201),
        ("post", "/control/maintenance", "/control/maintenance", 200),
        ("post", "/control/clock", "/control/clock", 200),
    ],
)
def test_the_admin_and_control_request_examples_are_accepted(client, method, path, url, status):
    schema = DOCUMENT["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    answer = client.open(url, method=method.upper(), json=example_body(schema))
    assert answer.status_code == status, answer.get_json()


def test_the_control_play_examples_are_accepted(client, v4):
    schema = DOCUMENT["paths"]["/control/play"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    by_agent, by_launch = (example_body(option) for option in schema["oneOf"])
    assert client.post("/control/play", json=by_agent).status_code == 200
    launch = {"user_code": 400000001, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 1}
    by_launch["game_url"] = v4("game/game-url", launch).data["game_url"]
    assert client.post("/control/play", json=by_launch).status_code == 200
