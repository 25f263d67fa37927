"""Request bodies of the ``/admin/api`` and ``/control`` endpoints that read their JSON by hand, as
JSON schemas for the OpenAPI document (the others are declared with their marshmallow schemas).

A view declares its body once, on its route (``@routes.post("/reset", body=RESET)``); the
OpenAPI document reads it from there.  Each says what the view accepts (docs/simulator-api.md
describes the same); the views stay the judges: a body these schemas allow can still be
refused with ``{"error"}`` naming why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .harness.faults import MAX_LATENCY_MS


@dataclass(frozen=True)
class JsonBody:
    """A hand-parsed body: the OpenAPI component's name and its JSON schema."""

    name: str
    schema: dict[str, Any]


RESET = JsonBody(
    "ResetRequest",
    {
        "type": "object",
        "description": "Both optional: an empty body resets to the default fixtures and seed.",
        "properties": {
            "fixtures": {
                "type": "string",
                "description": "a fixture set directory (see `simulator seed`); default: the setting",
                "example": "/srv/scorpio/my-world",
            },
            "seed": {"type": "integer", "description": "default: SCORPIO_SIM_SEED", "example": 7},
        },
    },
)

CLOCK_MOVE = JsonBody(
    "ClockMove",
    {
        "type": "object",
        "description": "At least one of `freeze`, `advance` (seconds) and `set` (ISO-8601).",
        "properties": {
            "freeze": {"type": "boolean", "example": True},
            "advance": {"type": "number", "minimum": 0, "example": 172801},
            "set": {"type": "string", "format": "date-time", "example": "2026-01-13T12:00:00Z"},
        },
    },
)

MAINTENANCE_SWITCH = JsonBody(
    "MaintenanceSwitch",
    {
        "type": "object",
        "required": ["scope", "on"],
        "properties": {
            "scope": {
                "type": "string",
                "description": "`platform`, `provider:<id>` or `game:<provider_id>:<game_code>`",
                "example": "game:1:vs20fruitsw",
            },
            "on": {"type": "boolean", "example": True},
        },
    },
)

FAULT_RULE = JsonBody(
    "FaultRule",
    {
        "type": "object",
        "required": ["target", "effect"],
        "properties": {
            "agent": {"type": "string", "description": "one agent; default: all", "example": "demo"},
            "target": {
                "type": "string",
                "description": "`api` (every /v4 path), `api:/v4/<path>`, `callback:<command>` or "
                "`round:settle`",
                "example": "api:/v4/user/info",
            },
            "effect": {
                "type": "object",
                "description": "exactly one: on api targets `latency_ms` (0 to "
                f"{MAX_LATENCY_MS}), `code` (a non-zero result code) or `drop`; on callback targets "
                "`delay_ms`, `duplicate`, `skip` or (bet) `cancel_after_ok`; on `round:settle` `fail`",
                "example": {"latency_ms": 500},
            },
            "times": {"type": "integer", "minimum": 1, "description": "default: unlimited", "example": 3},
            "after": {
                "type": "integer",
                "minimum": 0,
                "description": "matching calls skipped first",
                "example": 0,
            },
            "probability": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "exclusiveMinimum": True,
                "example": 1,
            },
        },
    },
)

USER_PATCH = JsonBody(
    "UserPatch",
    {
        "type": "object",
        "required": ["active"],
        "properties": {
            "active": {"type": "boolean", "description": "false blocks the player", "example": False}
        },
    },
)

CONFORMANCE_RUN = JsonBody(
    "ConformanceRequest",
    {
        "type": "object",
        "properties": {
            "account": {
                "type": "string",
                "maxLength": 200,
                "description": "the wallet's test account; default: test1234",
                "example": "test1234",
            }
        },
    },
)
