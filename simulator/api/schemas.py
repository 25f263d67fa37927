"""Request and response schemas of the ``/v4`` endpoints (spec section 5).

Request schemas validate (1002 with ``[{field, message}]``); response schemas
shape every payload, so the JSON keys are exactly the spec's.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load

from ..codes import ResultCode, SimError
from .fields import Amount, SpecInt, Text

USER_NAME = re.compile(r"^[_a-zA-Z0-9]+$")


class RequestSchema(Schema):
    """Base of request schemas: unknown fields ignored (2.1), spec-worded messages."""

    class Meta:
        unknown = EXCLUDE

    def __init__(self, strict_types: bool = False, **kwargs: Any) -> None:
        self.strict_types = strict_types
        super().__init__(**kwargs)

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        missing = f"The {field_name} field is required."
        field_obj.error_messages["required"] = missing
        field_obj.error_messages["null"] = missing

    def parse(self, body: Any) -> dict[str, Any]:
        """Validate a parsed body; ``[]`` counts as ``{}`` (13.2)."""
        if body == []:
            body = {}
        if not isinstance(body, dict):
            raise SimError.validation("body", "The request body must be a JSON object.")
        try:
            return self.load(body)
        except ValidationError as exc:
            errors = self._field_errors(exc.messages)
            detail = "; ".join(e["message"] for e in errors)
            raise SimError(ResultCode.VALIDATION_ERROR, detail, errors) from exc

    def _field_errors(self, messages: Any) -> list[dict[str, str]]:
        order = list(self.fields)
        items = messages.items() if isinstance(messages, dict) else [("body", messages)]
        flat = []
        for field, problems in sorted(items, key=lambda kv: order.index(kv[0]) if kv[0] in order else 99):
            for problem in problems if isinstance(problems, list) else [problems]:
                flat.append({"field": "body" if field == "_schema" else field, "message": str(problem)})
        return flat


def rtp_alias(data: Any) -> Any:
    """``win_ratio`` is the older name of ``rtp``; when both are sent, ``rtp`` wins (2.4)."""
    if isinstance(data, dict) and "rtp" not in data and "win_ratio" in data:
        data = dict(data)
        data["rtp"] = data["win_ratio"]
    return data


class Empty(RequestSchema):
    pass


class RtpRequest(RequestSchema):
    rtp = Amount(required=True, minimum=Decimal(0), exclusive=False, maximum=Decimal(95))

    @pre_load
    def alias(self, data: Any, **kwargs: Any) -> Any:
        return rtp_alias(data)

    def parse(self, body: Any) -> dict[str, Any]:
        values = super().parse(body)
        rtp = values["rtp"]
        if rtp != 0 and not Decimal(75) <= rtp <= Decimal(95):
            raise SimError.validation("rtp", "[rtp] must be between 75 and 95, or 0 for the platform default")
        return values


class UserCreateRequest(RequestSchema):
    name = Text(
        required=True,
        min_length=2,
        max_length=50,
        pattern=USER_NAME,
        pattern_message="The {name} field may only contain letters, numbers and underscores.",
    )


class UserCodeRequest(RequestSchema):
    user_code = SpecInt(required=True, low=1)


class WalletRequest(UserCodeRequest):
    amount = Amount(required=True)


class ProvidersRequest(RequestSchema):
    lang = SpecInt(required=True, low=1, high=6)


class GamesRequest(RequestSchema):
    provider_id = SpecInt(required=True, low=0)
    lang = SpecInt(required=True, low=1, high=6)


class AllGamesRequest(RequestSchema):
    lang = SpecInt(load_default=1, low=1, high=6)


# -- responses ---------------------------------------------------------------


class AgentInfo(Schema):
    name = fields.String()
    currency = fields.Integer()
    balance = Amount()
    win_ratio = Amount()
    rtp = Amount()
    whitelist = fields.List(fields.String())
    client_ip = fields.String()


class UserCreated(Schema):
    user_code = fields.Integer()
    is_new_user = fields.Boolean()


class UserInfo(Schema):
    name = fields.String()
    balance = Amount()


class WalletResult(Schema):
    balance = Amount()
    amount = Amount()


class ProviderItem(Schema):
    provider_id = fields.Integer()
    provider_name = fields.String()
    locale_name = fields.String()
    status = fields.Integer()


class GameItem(Schema):
    provider_id = fields.Integer()
    game_code = fields.String()
    game_name = fields.String()
    locale_name = fields.String()
    game_image = fields.String()
    game_image_narrow = fields.String()
    launch_enable = fields.Boolean()
    category = fields.String()
    reg_date = fields.String()
