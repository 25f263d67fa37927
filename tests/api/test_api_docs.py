"""docs/simulator-api.md documents the simulator's own APIs as ``/openapi.json`` does (issue 16): the same
operations, and where the document has a body schema, the same fields (``?``: optional)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from simulator import create_app
from simulator.openapi import build
from tests.conftest import make_settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "simulator-api.md"
DOCUMENT = build(create_app(make_settings()))
ROW = re.compile(r"^\| `(?P<method>GET|POST|PATCH|DELETE|PUT) (?P<path>/\S+)` \| (?P<body>[^|]*) \|", re.M)
OWN_PREFIXES = ("/admin/api/", "/control/", "/play/")


def documented() -> dict[tuple[str, str], str]:
    """``(method, path) -> body cell`` of every table row of the page."""
    rows: dict[tuple[str, str], str] = {}
    for match in ROW.finditer(DOCS.read_text()):
        key = (match.group("method"), match.group("path"))
        assert key not in rows, f"{key} is listed twice"
        rows[key] = match.group("body").strip()
    return rows


def operations() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, methods in DOCUMENT["paths"].items()
        if path.startswith(OWN_PREFIXES)
        for method, operation in methods.items()
    }


def fields_of(schema: dict[str, Any]) -> frozenset[str]:
    component = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    required = set(component.get("required", []))
    return frozenset(name if name in required else f"{name}?" for name in component.get("properties", {}))


def body_schemas(operation: dict[str, Any]) -> set[frozenset[str]] | None:
    """The field sets the document declares for the body (one per ``oneOf`` option); None: no schema."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body is None:
        return None
    if "$ref" in body:
        return {fields_of(body)}
    if "oneOf" in body:
        return {fields_of(option) for option in body["oneOf"]}
    return None


def cell_fields(cell: str) -> set[frozenset[str]]:
    """``{a, b?}`` groups of a body cell, each as a set of names."""
    return {
        frozenset(name.strip().split(":")[0].strip() for name in group.split(",") if name.strip())
        for group in re.findall(r"`\{([^}]*)\}`", cell)
    }


def test_the_page_lists_exactly_the_operations_of_the_openapi_document():
    assert set(documented()) == set(operations())


@pytest.mark.parametrize(
    ("method", "path"), sorted(key for key, op in operations().items() if body_schemas(op) is not None)
)
def test_the_page_names_exactly_the_body_fields_of_the_openapi_document(method, path):
    assert cell_fields(documented()[(method, path)]) == body_schemas(operations()[(method, path)])


@pytest.mark.parametrize(
    ("method", "path"), sorted(key for key, op in operations().items() if "requestBody" not in op)
)
def test_operations_without_a_body_show_none_on_the_page(method, path):
    cell = documented()[(method, path)]
    assert cell == "–" or cell.startswith("query ")


def test_the_readme_points_to_the_page():
    readme = (DOCS.parents[1] / "README.md").read_text()
    assert "[docs/simulator-api.md](docs/simulator-api.md)" in readme
