"""``/openapi.json`` is a valid OpenAPI 3 document of every ``/v4`` endpoint; ``/docs`` works offline."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from simulator.api.registry import ENDPOINTS
from simulator.openapi import RESPONSES


def test_document_validates_and_lists_every_v4_endpoint(client) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    for path in ENDPOINTS:
        operation = document["paths"][f"/v4/{path}"]["post"]
        assert operation["security"] == [{"bearerAuth": []}]
        assert set(operation["responses"]) == {"200", "404", "405"}
    assert set(RESPONSES) == set(ENDPOINTS)
    assert "/admin/api/agents" in document["paths"]
    assert "/control/health" in document["paths"]


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
