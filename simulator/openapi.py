"""OpenAPI 3 document of ``/v4``, ``/admin/api``, ``/control`` and the game page's ``/play`` API,
built from the marshmallow schemas.

``/v4`` operations come from the endpoints' declarations (:data:`simulator.api.registry.ENDPOINTS`):
the request body is the declared request schema, and the answer the envelope of spec 2.2,
``{code, message, data?}``, where ``data`` is the payload of the declared response schema (none for
an endpoint declared without one) or, for ``1002``, the list of field problems.  The back-office and
control APIs are listed from the Flask URL map with their methods and the ``{"error"}`` schema.
The player's side - opening a one-time game URL and the spin API the page calls - is listed by
:func:`_play_paths`, so a CI job can play through its own launch URL without a browser.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema, fields

from .api import schemas
from .api.fields import Amount, SpecInt, Text
from .api.registry import ENDPOINTS
from .codes import ResultCode
from .http import request_body_of
from .openapi_bodies import JsonBody
from .openapi_examples import DEMO_TOKEN, PATH_PARAMETERS, example_for
from .play.schemas import PlayError, SpinResult, TableState
from .play.views import SpinRequest
from .version import __version__

#: The request schemas outside the views' route declarations: the game page's spin API.
_PLAY_REQUEST_SCHEMAS = (SpinRequest,)


def declared_bodies(app: Flask) -> dict[str, Any]:
    """The body each ``/admin/api`` and ``/control`` view declared on its route, by endpoint."""
    found = {endpoint: request_body_of(view) for endpoint, view in app.view_functions.items()}
    return {endpoint: body for endpoint, body in found.items() if body is not None}


def _schema_classes(bodies: dict[str, Any]) -> frozenset[type[Schema]]:
    """Every marshmallow schema that reads a request body: their fields carry the bounds the
    validators enforce."""
    classes: set[type[Schema]] = set(_PLAY_REQUEST_SCHEMAS)
    for body in bodies.values():
        options = body.get("oneOf", []) if isinstance(body, dict) else [body]
        classes.update(
            option for option in options if isinstance(option, type) and issubclass(option, Schema)
        )
    return frozenset(classes)


_ERROR = {"$ref": "#/components/schemas/Error"}
_RULE_ARG = re.compile(r"<(?:(\w+):)?(\w+)>")


def _bounds_of(request_schemas: frozenset[type[Schema]]) -> Any:
    def field_bounds(self: Any, field: Any, **kwargs: Any) -> dict[str, Any]:
        """Bounds of the custom fields in request bodies, so the document says what the
        validators enforce.  Response payloads carry no bounds: a balance of 0 is a valid
        answer, not a valid deposit."""
        root = getattr(field, "root", None)
        if not isinstance(root, schemas.RequestSchema) and type(root) not in request_schemas:
            return {}
        return _field_bounds(field)

    return field_bounds


def _field_bounds(field: Any) -> dict[str, Any]:
    if isinstance(field, SpecInt):
        return {"minimum": field.low, "maximum": field.high}
    if isinstance(field, Amount):
        bounds = {"minimum": float(field.minimum), "maximum": float(field.maximum)}
        return {**bounds, "exclusiveMinimum": True} if field.exclusive else bounds
    if isinstance(field, Text):
        bounds: dict[str, Any] = {"minLength": field.min_length} if field.min_length else {}
        if field.max_length is not None:
            bounds["maxLength"] = field.max_length
        if field.pattern is not None:
            bounds["pattern"] = field.pattern.pattern
        return bounds
    return {}


def _field_example(self: Any, field: Any, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A realistic example for each field (:mod:`simulator.openapi_examples`), so Swagger UI pre-fills
    requests that work on the default fixtures instead of values invented from the bounds."""
    parent = getattr(field, "parent", None)
    if "example" in ret or not isinstance(parent, Schema) or isinstance(field, fields.Nested | fields.Dict):
        return {}
    if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
        return {}
    name = type(parent).__name__.removesuffix("Schema")
    try:
        return {"example": example_for(name, field.data_key or field.name)}
    except KeyError:
        return {}


def _envelope(codes: list[ResultCode], data: dict[str, Any] | None, description: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "code": {"type": "integer", "format": "int32", "enum": [int(code) for code in codes]},
        "message": {"type": "string", "enum": [code.name for code in codes]},
    }
    if data is not None:
        properties["data"] = data
    schema = {"type": "object", "required": ["code", "message"], "properties": properties}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _v4_operation(path: str) -> dict[str, Any]:
    endpoint = ENDPOINTS[path]
    options: list[Any] = [{"$ref": "#/components/schemas/FieldErrors"}]
    if endpoint.response is not None:
        options.insert(0, endpoint.response)
    data = options[0] if len(options) == 1 else {"anyOf": options}
    unrouted = [ResultCode.SERVICE_EXCEPTION]
    return {
        "post": {
            "operationId": "v4_" + re.sub(r"\W", "_", path),
            "summary": (inspect.getdoc(endpoint.handler) or path).splitlines()[0],
            "tags": ["v4"],
            "security": [{"bearerAuth": []}],
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": endpoint.request}},
            },
            "responses": {
                "200": _envelope(
                    list(ResultCode),
                    data,
                    "The envelope (spec 2.2): check `code`; `data` is the payload on success, "
                    "the field problems on 1002, absent otherwise.",
                ),
                "404": _envelope(unrouted, None, "Unknown /v4 path (OP-11)."),
                "405": _envelope(unrouted, None, "A method other than POST (OP-11)."),
            },
        }
    }


def _other_operations(app: Flask, prefix: str, tag: str) -> dict[str, dict[str, Any]]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(prefix):
            continue
        path = _RULE_ARG.sub(r"{\2}", rule.rule)
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer" if converter == "int" else "string"},
                "example": PATH_PARAMETERS[name],
            }
            for converter, name in _RULE_ARG.findall(rule.rule)
        ]
        doc = inspect.getdoc(app.view_functions[rule.endpoint])
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation: dict[str, Any] = {
                "operationId": rule.endpoint.replace(".", "_") + "_" + method.lower(),
                "summary": doc.splitlines()[0] if doc else rule.endpoint.split(".")[-1].replace("_", " "),
                "tags": [tag],
                "responses": {
                    "2XX": {"description": "Success (JSON, or no content)."},
                    "default": {"description": "Error", "content": {"application/json": {"schema": _ERROR}}},
                },
            }
            if rule.endpoint == "control.health":
                operation["security"] = []
            if parameters:
                operation["parameters"] = parameters
            body = request_body_of(app.view_functions[rule.endpoint])
            required = True
            if isinstance(body, JsonBody):
                body, required = {"$ref": f"#/components/schemas/{body.name}"}, "required" in body.schema
            if body is not None:
                operation["requestBody"] = {
                    "required": required,
                    "content": {"application/json": {"schema": body}},
                }
            elif method in ("POST", "PATCH"):
                operation["requestBody"] = {
                    "required": False,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            paths.setdefault(path, {})[method.lower()] = operation
    return paths


def build(app: Flask) -> dict[str, Any]:
    """The document for ``app``: ``/control`` appears only when the control API is registered."""
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="scorpio-sim",
        version=__version__,
        openapi_version="3.0.3",
        plugins=[plugin],
        info={"description": "Offline simulator of the Scorpio Play v4 aggregator API."},
        security=[{"adminToken": []}],
    )
    plugin.map_to_openapi_type(SpecInt, "integer", "int64")
    plugin.map_to_openapi_type(Amount, "number", None)
    plugin.map_to_openapi_type(Text, "string", None)
    assert plugin.converter is not None
    bodies = declared_bodies(app)
    plugin.converter.add_attribute_function(_bounds_of(_schema_classes(bodies)))
    plugin.converter.add_attribute_function(_field_example)
    spec.components.security_scheme(
        "bearerAuth",
        {
            "type": "http",
            "scheme": "bearer",
            "description": f"An agent's API token; agent `demo` of the default fixtures: `{DEMO_TOKEN}`.",
        },
    )
    spec.components.security_scheme("adminToken", {"type": "apiKey", "in": "header", "name": "X-Admin-Token"})
    spec.components.schema(
        "Error",
        {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string", "example": "no agent named 'my_casino'"}},
        },
    )
    spec.components.schema(
        "FieldErrors",
        {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    )
    for body in {body.name: body for body in bodies.values() if isinstance(body, JsonBody)}.values():
        spec.components.schema(body.name, body.schema)
    for path in ENDPOINTS:
        spec.path(path=f"/v4/{path}", operations=_v4_operation(path))
    for prefix, tag in (("/admin/api/", "admin"), ("/control/", "control")):
        for path, operations in _other_operations(app, prefix, tag).items():
            spec.path(path=path, operations=operations)
    for path, operations in _play_paths().items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _play_error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": PlayError}}}


def _play_paths() -> dict[str, dict[str, Any]]:
    """The player's side: the launch URL ``game/game-url`` hands out, and the game page's JSON API.

    No admin token (the player's browser has none): the one-time token and the session key are
    the credentials, as on the real service.
    """
    secret = {
        "name": "secret",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "example": "yiKeC6SbMPNLcXKFghv8sf-rGEIAl38d"},
        "description": "the session key: the end of the `Location: /play/session/<secret>` that opening "
        "the game URL answers",
    }
    launch = {
        "operationId": "play_open_launch",
        "tags": ["play"],
        "security": [],
        "summary": "Open a one-time game URL (the `game_url` of game/game-url): starts a game session.",
        "description": "What the player's browser does. Valid 10 minutes, opens once (spec 5.12). Without "
        "a browser: request it without following the redirect and take the session key from `Location`.",
        "parameters": [
            {
                "name": "token",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "example": "uLbHYZJl9T93Fc9s2JQs343d_x5-q9S_"},
            }
        ],
        "responses": {
            "303": {
                "description": "The session started; `Location` is the game page `/play/session/<secret>`.",
                "headers": {"Location": {"schema": {"type": "string"}}},
            },
            "404": {"description": "Unknown link (an HTML page)."},
            "410": {"description": "Already opened, or expired (an HTML page)."},
            "502": {"description": "Seamless: the wallet's `authenticate` failed (an HTML page)."},
        },
    }
    state = {
        "operationId": "play_state",
        "tags": ["play"],
        "security": [],
        "summary": "The session's game, balance, stake limits and recent rounds.",
        "parameters": [secret],
        "responses": {
            "200": {"description": "The table.", "content": {"application/json": {"schema": TableState}}},
            "404": _play_error("No game session with this key."),
        },
    }
    spin = {
        "operationId": "play_spin",
        "tags": ["play"],
        "security": [],
        "summary": "Play one round at a stake, as the page's Spin button does: a Bet (1) and a Win (2).",
        "description": "The stake must lie within the agent's min and max bet. Seamless: the wallet gets "
        "`bet` and `win` callbacks first, as for a player.",
        "parameters": [secret],
        "requestBody": {"required": True, "content": {"application/json": {"schema": SpinRequest}}},
        "responses": {
            "200": {"description": "The round.", "content": {"application/json": {"schema": SpinResult}}},
            "400": _play_error("The stake is malformed, or outside the agent's limits."),
            "403": _play_error("The player is blocked, or the agent disabled."),
            "404": _play_error("No game session with this key."),
            "409": _play_error("Refused: e.g. the balance is too low (BALANCE_NOT_ENOUGH)."),
            "410": _play_error("The session was ended by game/kick_games."),
            "500": _play_error("The round failed after the bet; the stake was refunded (BetCancel, 16)."),
            "502": _play_error("Seamless: the wallet did not accept the bet."),
            "503": _play_error("The game is under maintenance."),
        },
    }
    return {
        "/play/{token}": {"get": launch},
        "/play/api/session/{secret}/state": {"get": state},
        "/play/api/session/{secret}/spin": {"post": spin},
    }
