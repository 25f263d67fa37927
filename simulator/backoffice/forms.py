"""HTML forms of the back office, read through the admin API's schemas.

A form posts strings and leaves unticked checkboxes out; these helpers turn it
into the values the JSON API would receive and validate them with the same
marshmallow schemas, so a setting the API refuses is refused here with the same
message, shown next to its field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from werkzeug.datastructures import MultiDict

from ..api.fields import Amount
from ..domain.bonus import MEMO_LIMIT
from ..domain.enums import PointKind
from ..domain.models import Agent
from .admin_api import settings_of
from .schemas import AgentCreateSchema, AgentSettingsSchema, PointsTransferSchema, first_error

#: The settings the agent page edits, in the order it shows them.
TEXT_SETTINGS = (
    "allowed_ips",
    "callback_url",
    "callback_token",
    "callback_dialect",
    "rtp",
    "min_bet",
    "max_bet",
    "max_win",
    "call_min",
)
SWITCH_SETTINGS = ("bonus_call_enabled", "approved", "disabled")


class BonusCallSchema(Schema):
    """The game-connections page's "Start bonus call" form (spec 5.16, without ``type``)."""

    class Meta:
        unknown = RAISE

    set_point = Amount(required=True)
    memo = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=MEMO_LIMIT))


_settings_schema = AgentSettingsSchema()
_create_schema = AgentCreateSchema()
_transfer_schema = PointsTransferSchema()
_bonus_call_schema = BonusCallSchema()

Errors = dict[str, str]


def _errors(exc: ValidationError) -> Errors:
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return {name: first_error(problems) for name, problems in messages.items()}


def settings_form_values(agent: Agent) -> dict[str, Any]:
    """What the settings form shows for the agent as it is now."""
    current = settings_of(agent)
    values: dict[str, Any] = {name: current[name] for name in SWITCH_SETTINGS}
    for name in TEXT_SETTINGS:
        value = current[name]
        values[name] = format(value.normalize(), "f") if isinstance(value, Decimal) else value
    return values


def settings_from_form(form: MultiDict, default_rtp: int) -> tuple[dict[str, Any], dict[str, Any], Errors]:
    """``(changes, submitted, errors)``: validated changes, or the field errors and what was typed."""
    # Browsers send a textarea's line breaks as CRLF.
    submitted: dict[str, Any] = {
        name: form.get(name, "").replace("\r\n", "\n").strip() for name in TEXT_SETTINGS
    }
    submitted.update({name: form.get(name) == "on" for name in SWITCH_SETTINGS})
    try:
        changes = _settings_schema.load(submitted, partial=True)
    except ValidationError as exc:
        return {}, submitted, _errors(exc)
    if changes.get("rtp") == 0:
        changes["rtp"] = Decimal(default_rtp)
    return changes, submitted, {}


def create_from_form(form: MultiDict) -> tuple[dict[str, Any], dict[str, Any], Errors]:
    """A new agent: ``name``, ``kind``, ``parent`` and the points taken from the parent."""
    submitted = {
        "name": form.get("name", "").strip(),
        "kind": form.get("kind", ""),
        "parent": form.get("parent", "").strip() or None,
        "points": form.get("points", "").strip() or "0",
    }
    try:
        return _create_schema.load(submitted), submitted, {}
    except ValidationError as exc:
        return {}, submitted, _errors(exc)


def transfer_from_form(form: MultiDict, agent: Agent, parent_name: str) -> tuple[dict[str, Any], Errors]:
    """A grant (parent -> agent) or a recall (agent -> parent) of ``amount`` points."""
    direction = form.get("direction", "")
    if direction not in (PointKind.GRANT, PointKind.RECALL):
        return {}, {"direction": "choose grant or recall"}
    source, target = (parent_name, agent.name) if direction == PointKind.GRANT else (agent.name, parent_name)
    body = {"from": source, "to": target, "amount": form.get("amount", "").strip()}
    try:
        return _transfer_schema.load(body), {}
    except ValidationError as exc:
        return {}, _errors(exc)


def bonus_call_from_form(form: MultiDict) -> tuple[dict[str, Any], Errors]:
    """``set_point`` (> 0; ``call_min`` is the domain's check) and an optional ``memo``."""
    body = {
        "set_point": form.get("set_point", "").strip(),
        "memo": form.get("memo", "").replace("\r\n", "\n").strip() or None,
    }
    try:
        return _bonus_call_schema.load(body), {}
    except ValidationError as exc:
        return {}, _errors(exc)
