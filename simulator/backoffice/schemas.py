"""marshmallow schemas of the back-office API (control-api.md, "Agent settings")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from ..access.guards import allow_list, normalise_ip
from ..api.fields import Amount
from ..domain.enums import AgentKind


class AgentSettingsSchema(Schema):
    """Every setting is optional in a PATCH; unknown keys are an error (400)."""

    class Meta:
        unknown = RAISE

    allowed_ips = fields.String()
    callback_url = fields.String()
    callback_token = fields.String(validate=validate.Length(min=1, max=200))
    callback_dialect = fields.String(validate=validate.OneOf(["v4", "legacy"]))
    rtp = Amount(minimum=Decimal(0), exclusive=False, maximum=Decimal(95))
    min_bet = Amount(exclusive=False)
    max_bet = Amount(exclusive=False)
    max_win = Amount(exclusive=False)
    bonus_call_enabled = fields.Boolean()
    call_min = Amount(exclusive=False)
    approved = fields.Boolean()
    disabled = fields.Boolean()
    currency = fields.Integer(strict=True, validate=validate.Range(min=1))
    providers = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1)))
    rtp_api_enabled = fields.Boolean()

    @validates("allowed_ips")
    def _ips(self, value: str, **kwargs: Any) -> None:
        bad = [item for item in allow_list(value) if normalise_ip(item) is None]
        if bad:
            raise ValidationError(f"not an IPv4 or IPv6 address: {bad[0]!r}")

    @validates("callback_url")
    def _url(self, value: str, **kwargs: Any) -> None:
        if not value:
            return
        if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
            # urlparse drops CR, LF and TAB silently; the URL would still carry them (issue 15).
            raise ValidationError("must not contain control characters (CR, LF, TAB, ...)")
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValidationError("must be empty (transfer mode) or an http:// or https:// URL")

    @validates("rtp")
    def _rtp(self, value: Decimal, **kwargs: Any) -> None:
        if value != 0 and not Decimal(75) <= value <= Decimal(95):
            raise ValidationError("must be between 75 and 95, or 0 for the platform default")


class AgentCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(tuple(AgentKind)))
    parent = fields.String(load_default=None, allow_none=True)
    currency = fields.Integer(strict=True, load_default=None, allow_none=True)
    points = Amount(exclusive=False, load_default=Decimal(0))


class PointsTransferSchema(Schema):
    class Meta:
        unknown = RAISE

    source = fields.String(required=True, data_key="from")
    target = fields.String(required=True, data_key="to")
    amount = Amount(required=True)


def first_error(messages: Any) -> str:
    """One readable line from marshmallow's error dict: ``field: message``."""
    if isinstance(messages, dict):
        field, problems = next(iter(messages.items()))
        detail = first_error(problems)
        return f"{field}: {detail}" if field != "_schema" else detail
    if isinstance(messages, list) and messages:
        return first_error(messages[0])
    return str(messages)
