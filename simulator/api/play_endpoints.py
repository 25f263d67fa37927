"""``/v4`` endpoints of game launches and sessions (spec 5.12-5.14)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, pre_load

from ..codes import ResultCode, SimError
from ..domain.catalogue import category_code
from ..domain.sessions import LaunchRequest
from ..money import MAX_AMOUNT
from .endpoints import Call, Endpoint, Payload
from .fields import Amount, SpecInt, Text
from .schemas import Empty, RequestSchema, UserCodeRequest, rtp_alias


class GameUrl(Schema):
    game_url = fields.String()


class OnlineGame(Schema):
    gplay_id = fields.Integer()
    user_code = fields.Integer()
    user_name = fields.String()
    provider_id = fields.Integer()
    provider_name = fields.String()
    game_code = fields.String()
    game_name = fields.String()
    category = fields.Integer()
    last_round_bet = Amount()
    spend = Amount()
    win = Amount()
    call_win = Amount()
    call_id = fields.Integer()
    call_enable = fields.Boolean()
    callend_flag = fields.Boolean()
    call_status = fields.Integer()
    start_time = fields.String()
    last_update = fields.String()


class CallbackTest(Schema):
    callback_url = fields.String()
    time = fields.String()


class GameUrlRequest(RequestSchema):
    user_code = SpecInt(required=True, low=1)
    provider_id = SpecInt(required=True, low=0)
    game_symbol = Text(required=True, min_length=1, max_length=100)
    lang = SpecInt(required=True, low=1, high=13)
    return_url = Text(load_default=None, allow_none=True, max_length=2000)
    # Any number passes validation: a negative or too-high RTP is 1012, checked in order (spec 5.12).
    rtp = Amount(load_default=None, allow_none=True, minimum=-MAX_AMOUNT, exclusive=False)
    is_finish_jackpot = fields.Raw(load_default=None, allow_none=True)

    @pre_load
    def alias(self, data: Any, **kwargs: Any) -> Any:
        return rtp_alias(data)

    def parse(self, body: Any) -> dict[str, Any]:
        """A missing ``provider_id`` answers 2007, as the real service does (13.2)."""
        if isinstance(body, dict) and body.get("provider_id") is None:
            raise SimError(ResultCode.PROVIDER_NOT_FOUND, "provider_id is missing")
        return super().parse(body)


def game_url(call: Call) -> Payload:
    p = call.params
    launch = call.world.sessions.launch(
        call.agent,
        LaunchRequest(
            user_code=p["user_code"],
            provider_id=p["provider_id"],
            game_symbol=p["game_symbol"],
            lang=p["lang"],
            return_url=p["return_url"],
            rtp=p["rtp"],
        ),
    )
    return {"game_url": f"{call.sim.settings.base_url}/play/{launch.token}"}


def kick_games(call: Call) -> Payload:
    call.world.sessions.kick(call.agent, call.params["user_code"])
    return None


def online_games(call: Call) -> Payload:
    """Sessions active in the last 30 minutes, with their bonus-call fields (spec 5.13, 8)."""
    world = call.world
    catalogue = world.catalogue
    world.bonus.expire_idle(call.agent)
    rows = []
    for session in world.sessions.online(call.agent):
        bonus = world.bonus.summary(session)
        user = world.store.user(session.user_code)
        provider = catalogue.provider(session.provider_id)
        game = catalogue.game(session.provider_id, session.game_code)
        category = game.category if game else "Slots"
        rows.append(
            {
                "gplay_id": session.gplay_id,
                "user_code": user.user_code,
                "user_name": user.name,
                "provider_id": session.provider_id,
                "provider_name": provider.provider_name if provider else "",
                "game_code": session.game_code,
                "game_name": game.game_name if game else "",
                "category": category_code(category),
                "last_round_bet": session.last_round_bet,
                "spend": session.spend,
                "win": session.win,
                "call_win": bonus.call_win,
                "call_id": bonus.call_id,
                "call_enable": category != "Live" and call.agent.settings.bonus_call_enabled,
                "callend_flag": bonus.callend_flag,
                "call_status": bonus.call_status,
                "start_time": call.sim.format_time(session.started_at),
                "last_update": call.sim.format_time(session.last_update),
            }
        )
    return rows


def callback_test(call: Call) -> Payload:
    """One ``authenticate`` for ``test1234``: any HTTP answer within 4 s passes (spec 5.3)."""
    agent = call.agent
    if not agent.settings.callback_url:
        raise SimError(ResultCode.CALLBACK_ERROR, f"agent {agent.name} has no callback URL (transfer mode)")
    attempt = call.sim.callbacks.send(agent, "authenticate", {"account": "test1234"}, apply_faults=False)
    if attempt.status is None:
        raise SimError(ResultCode.CALLBACK_ERROR, f"callback URL unreachable: {attempt.error}")
    return {"callback_url": agent.settings.callback_url, "time": f"{round(attempt.duration_ms)}ms"}


DECLARATIONS: tuple[Endpoint, ...] = (
    Endpoint("game/game-url", GameUrlRequest, GameUrl(), game_url),
    Endpoint("game/kick_games", UserCodeRequest, None, kick_games),
    Endpoint("game/online-games", Empty, OnlineGame(many=True), online_games),
    Endpoint("agent/callback-test", Empty, CallbackTest(), callback_test),
)
