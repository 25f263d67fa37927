"""``/v4`` endpoints of bonus calls and free rounds (spec 5.15-5.19, 8, 9, OP-16, OP-17)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, pre_load

from ..domain.freerounds import MAX_ROUNDS, FreeRoundRequest
from ..money import MAX_AMOUNT, ZERO
from .endpoints import Call, Endpoint, Payload
from .fields import INT32_MAX, Amount, SpecInt, Text
from .schemas import Empty, RequestSchema

#: ``expirationDate`` is epoch milliseconds; past the end of year 9999 no date can hold it.
LATEST_EXPIRATION_MS = 253_402_300_799_999


# -- requests -------------------------------------------------------------------------
class CallStartRequest(RequestSchema):
    gplay_id = SpecInt(required=True, low=0)
    #: Only its form here: whether it is above 0 is checked after the session, as the live
    #: service does (1010 before 1002, spec 5.16; issue 15).
    set_point = Amount(required=True, minimum=-MAX_AMOUNT, exclusive=False)
    #: Accepted, stored and ignored (OP-16).
    type = SpecInt(load_default=None, allow_none=True, low=-INT32_MAX - 1, high=INT32_MAX)
    #: Capped at 200 characters by the domain (spec 5.16).
    memo = Text(load_default=None, allow_none=True)


class CallCancelRequest(RequestSchema):
    call_id = SpecInt(required=True, low=0)


class FreeRoundStartRequest(RequestSchema):
    user_code = SpecInt(required=True, low=1)
    provider_id = SpecInt(required=True, low=0)
    game_code = Text(required=True, min_length=1, max_length=100)
    bet = Amount(required=True)
    rounds = SpecInt(required=True, low=1, high=MAX_ROUNDS)
    expirationDate = SpecInt(required=True, low=0, high=LATEST_EXPIRATION_MS)  # the spec's spelling (5.18)
    win = Amount(load_default=ZERO, allow_none=True, minimum=ZERO, exclusive=False)

    @pre_load
    def alias(self, data: Any, **kwargs: Any) -> Any:
        """``game_symbol`` is the older name of ``game_code``; if both are sent, ``game_code`` wins (2.4)."""
        if isinstance(data, dict) and "game_code" not in data and "game_symbol" in data:
            data = dict(data)
            data["game_code"] = data["game_symbol"]
        return data


class FreeRoundCancelRequest(RequestSchema):
    fr_id = Text(required=True, min_length=1, max_length=100)


# -- responses ------------------------------------------------------------------------
class CallConfig(Schema):
    call_min = Amount()


class CallStarted(Schema):
    call_id = fields.Integer()


class FreeRoundGranted(Schema):
    fr_id = fields.String()


# -- handlers -------------------------------------------------------------------------
def call_config(call: Call) -> Payload:
    return {"call_min": call.world.bonus.call_min(call.agent)}


def call_start(call: Call) -> Payload:
    p = call.params
    started = call.world.bonus.start(call.agent, p["gplay_id"], p["set_point"], p["type"], p["memo"])
    return {"call_id": started.call_id}


def call_cancel(call: Call) -> Payload:
    call.world.bonus.cancel(call.agent, call.params["call_id"])
    return None


def freeround_start(call: Call) -> Payload:
    p = call.params
    grant = call.world.free_rounds.grant(
        call.agent,
        FreeRoundRequest(
            user_code=p["user_code"],
            provider_id=p["provider_id"],
            game_code=p["game_code"],
            bet=p["bet"],
            rounds=p["rounds"],
            expiration_ms=p["expirationDate"],
            win=p["win"] or ZERO,
        ),
    )
    return {"fr_id": grant.fr_id}


def freeround_cancel(call: Call) -> Payload:
    call.world.free_rounds.cancel(call.agent, call.params["fr_id"])
    return None


DECLARATIONS: tuple[Endpoint, ...] = (
    Endpoint("game/call_config", Empty, CallConfig(), call_config),
    Endpoint("game/call_start", CallStartRequest, CallStarted(), call_start),
    Endpoint("game/call_cancel", CallCancelRequest, None, call_cancel),
    Endpoint("game/freeround/start", FreeRoundStartRequest, FreeRoundGranted(), freeround_start),
    Endpoint("game/freeround/create", FreeRoundStartRequest, FreeRoundGranted(), freeround_start),
    Endpoint("game/freeround/cancel", FreeRoundCancelRequest, None, freeround_cancel),
)
