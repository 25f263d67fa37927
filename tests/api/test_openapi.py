"""``/openapi.json`` is a valid OpenAPI 3 document of every ``/v4`` endpoint; ``/docs`` works offline.

The ``/v4`` operations come from the endpoints' declarations (issue 17): each takes its declared
request schema and documents its declared response schema as the envelope's ``data``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from openapi_spec_validator import validate

from simulator import openapi
from simulator.api import schemas
from simulator.api.registry import ENDPOINTS

FIELD_ERRORS = {"$ref": "#/components/schemas/FieldErrors"}


def _component(document: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    return document["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def _data(document: dict[str, Any], path: str) -> dict[str, Any]:
    success = document["paths"][f"/v4/{path}"]["post"]["responses"]["200"]
    return success["content"]["application/json"]["schema"]["properties"].get("data")


def _keys(schema: Any) -> set[str]:
    return {field.data_key or name for name, field in schema.fields.items()}


def test_document_validates_and_lists_every_v4_endpoint(client) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    for path in ENDPOINTS:
        operation = document["paths"][f"/v4/{path}"]["post"]
        assert operation["security"] == [{"bearerAuth": []}]
        assert set(operation["responses"]) == {"200", "404", "405"}
    assert "/admin/api/agents" in document["paths"]
    assert "/control/health" in document["paths"]


def test_every_v4_operation_takes_its_declared_request_schema(app) -> None:
    document = openapi.build(app)
    for path, endpoint in ENDPOINTS.items():
        body = document["paths"][f"/v4/{path}"]["post"]["requestBody"]["content"]["application/json"]
        assert set(_component(document, body["schema"]).get("properties", {})) == _keys(endpoint.request()), (
            path
        )


def test_every_v4_success_documents_its_declared_payload(app) -> None:
    document = openapi.build(app)
    for path, endpoint in ENDPOINTS.items():
        if endpoint.response is None:
            continue
        payload, field_errors = _data(document, path)["anyOf"]
        assert field_errors == FIELD_ERRORS
        if endpoint.response.many:
            assert payload["type"] == "array", path
            payload = payload["items"]
        assert set(_component(document, payload)["properties"]) == _keys(endpoint.response), path


def test_a_bare_success_documents_no_payload_and_answers_none(app, v4) -> None:
    bare = [path for path, endpoint in ENDPOINTS.items() if endpoint.response is None]
    assert bare == ["agent/rtp", "game/kick_games", "game/call_cancel", "game/freeround/cancel"]
    document = openapi.build(app)
    for path in bare:
        assert _data(document, path) == FIELD_ERRORS, path
    answer = v4("agent/rtp", {"rtp": 90})
    assert answer.body == {"code": 0, "message": "OK"}


def test_the_document_follows_a_changed_declaration(app, monkeypatch) -> None:
    monkeypatch.setitem(ENDPOINTS, "agent/rtp", replace(ENDPOINTS["agent/rtp"], response=schemas.UserInfo()))
    monkeypatch.setitem(ENDPOINTS, "user/info", replace(ENDPOINTS["user/info"], response=None))
    monkeypatch.setitem(ENDPOINTS, "game/all", replace(ENDPOINTS["game/all"], request=schemas.GamesRequest))
    document = openapi.build(app)
    assert _data(document, "agent/rtp") == {
        "anyOf": [{"$ref": "#/components/schemas/UserInfo"}, FIELD_ERRORS]
    }
    assert _data(document, "user/info") == FIELD_ERRORS
    body = document["paths"]["/v4/game/all"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/GamesRequest"}


def test_docs_page_uses_only_local_assets(client) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    references = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert references and all(ref.startswith("/") and not ref.startswith("//") for ref in references)
    for ref in references:
        asset = client.get(ref)
        assert asset.status_code == 200, ref
    assert "/openapi.json" in client.get("/docs/init.js").get_data(as_text=True)
