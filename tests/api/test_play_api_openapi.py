"""The game page's JSON API is in ``/openapi.json`` (issue 16), and real answers match what it declares:
a CI job can open its own launch URL and spin without a browser, from the document alone."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from tests.conftest import DEMO_USER

LAUNCH = {"user_code": DEMO_USER, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 1}


@pytest.fixture
def document(client) -> dict[str, Any]:
    return client.get("/openapi.json").get_json()


@pytest.fixture
def secret(client, v4) -> str:
    """A session opened the documented way: GET the game_url, take the key from ``Location``."""
    game_url = v4("game/game-url", LAUNCH).data["game_url"]
    opened = client.get(game_url.removeprefix("http://127.0.0.1:8080"))
    assert opened.status_code == 303
    return opened.headers["Location"].removeprefix("/play/session/")


def conforms(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    """Raises unless ``instance`` is valid against ``schema`` (a ``$ref`` into the document)."""
    OAS30Validator({**schema, "components": document["components"]}).validate(instance)


def response_schema(document: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    return document["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]


def test_the_document_lists_the_launch_and_the_spin_api_without_an_admin_token(document):
    play = {
        (method, path): operation["security"]
        for path, operations in document["paths"].items()
        if path.startswith("/play/")
        for method, operation in operations.items()
    }
    assert play == {
        ("get", "/play/{token}"): [],
        ("get", "/play/api/session/{secret}/state"): [],
        ("post", "/play/api/session/{secret}/spin"): [],
    }


def test_opening_the_game_url_is_documented_as_a_303_to_the_session(document):
    responses = document["paths"]["/play/{token}"]["get"]["responses"]
    assert set(responses) == {"303", "404", "410", "502"}
    assert "Location" in responses["303"]["headers"]


def test_the_spin_body_is_the_stake(document):
    body = document["paths"]["/play/api/session/{secret}/spin"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]["required"] == ["bet"]


def test_a_real_state_answer_matches_the_document(client, document, secret):
    answer = client.get(f"/play/api/session/{secret}/state")
    assert answer.status_code == 200
    conforms(document, response_schema(document, "/play/api/session/{secret}/state", "get", 200), answer.json)


def test_a_real_spin_matches_the_document(client, document, secret):
    before = client.get(f"/play/api/session/{secret}/state").json["balance"]
    answer = client.post(f"/play/api/session/{secret}/spin", json={"bet": 100})
    assert answer.status_code == 200
    conforms(document, response_schema(document, "/play/api/session/{secret}/spin", "post", 200), answer.json)
    assert answer.json["balance"] == before - 100 + answer.json["win"]


@pytest.mark.parametrize(("bet", "status"), [(1, 400), (10_000_000, 400), ("x", 400)])
def test_a_refused_stake_answers_a_documented_error(client, document, secret, bet, status):
    answer = client.post(f"/play/api/session/{secret}/spin", json={"bet": bet})
    assert answer.status_code == status
    conforms(
        document, response_schema(document, "/play/api/session/{secret}/spin", "post", status), answer.json
    )


def test_a_stake_above_the_balance_answers_the_documented_409(client, document, secret):
    answer = client.post(f"/play/api/session/{secret}/spin", json={"bet": 90_000})  # the balance is 10,100
    assert (answer.status_code, answer.json["error"]) == (409, "BALANCE_NOT_ENOUGH")
    conforms(document, response_schema(document, "/play/api/session/{secret}/spin", "post", 409), answer.json)


def test_an_unknown_session_answers_the_documented_404(client, document):
    answer = client.post("/play/api/session/no-such-key/spin", json={"bet": 100})
    assert answer.status_code == 404
    conforms(document, response_schema(document, "/play/api/session/{secret}/spin", "post", 404), answer.json)
