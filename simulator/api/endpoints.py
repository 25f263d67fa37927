"""The ``/v4`` endpoints of the foundation (spec 5.1, 5.2, 5.4-5.11), and what an endpoint is.

An endpoint is declared once (:class:`Endpoint`): its path, request schema,
response schema and handler.  Dispatch validates the body with the request
schema, calls the handler and dumps its payload with the response schema; the
OpenAPI document is built from the same declarations.  Each handler is thin: it
takes the validated parameters, calls one domain function, and returns the
plain payload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from marshmallow import Schema

from ..access.guards import allow_list
from ..codes import ResultCode, SimError
from ..config import Settings
from ..domain.catalogue import Catalogue, Game
from ..domain.enums import WalletMode
from ..domain.models import Agent
from ..money import ZERO
from ..runtime import Simulator, World
from . import schemas


@dataclass
class Call:
    """One authenticated, validated ``/v4`` call."""

    sim: Simulator
    world: World
    agent: Agent
    params: dict[str, Any]
    client_ip: str


#: What a handler returns: the payload before its response schema shapes it; None when there is none.
Payload = dict[str, Any] | list[dict[str, Any]] | None
Handler = Callable[[Call], Payload]


@dataclass(frozen=True)
class Endpoint:
    """One ``/v4`` endpoint, declared once.

    ``response`` is a schema instance, built once and shared by every call (``many=True`` for a
    list), or None for a success without payload: the envelope then has no ``data`` (spec 2.2).
    ``request`` is a class: dispatch builds one instance per ``strict_types`` setting.
    """

    path: str
    request: type[schemas.RequestSchema]
    response: Schema | None
    handler: Handler


# -- agent -------------------------------------------------------------------
def agent_info(call: Call) -> Payload:
    agent = call.agent
    return {
        "name": agent.name,
        "currency": agent.settings.currency,
        "balance": agent.points,
        "win_ratio": agent.settings.rtp,
        "rtp": agent.settings.rtp,
        "whitelist": allow_list(agent.settings.allowed_ips),
        "client_ip": call.client_ip,
    }


def agent_rtp(call: Call) -> Payload:
    """Set the agent's RTP; 0 restores the platform default (OP-9)."""
    if not call.agent.settings.rtp_api_enabled:
        raise SimError(ResultCode.PERMISSION_ERROR, f"RTP management is disabled for agent {call.agent.name}")
    rtp = call.params["rtp"] or Decimal(call.sim.settings.default_rtp)
    call.world.hierarchy.apply_settings(call.agent, {"rtp": rtp})
    return None


# -- users and wallet ----------------------------------------------------------
def user_create(call: Call) -> Payload:
    user, is_new = call.world.users.create_or_get(call.agent, call.params["name"])
    return {"user_code": user.user_code, "is_new_user": is_new}


def user_info(call: Call) -> Payload:
    users = call.world.users
    user = users.lookup(call.agent, call.params["user_code"])
    return {"name": user.name, "balance": users.displayed_balance(user)}


def _transfer_agent(call: Call) -> None:
    """An agent in seamless mode gets 1010 (OP-15) before any user lookup: the wallet
    endpoints do not exist for it, whatever the ``user_code``."""
    if call.agent.mode == WalletMode.SEAMLESS:
        raise SimError(
            ResultCode.PERMISSION_ERROR,
            f"agent {call.agent.name} is in seamless mode; wallet endpoints are for transfer mode only",
        )


def wallet_deposit(call: Call) -> Payload:
    _transfer_agent(call)
    tx = call.world.ledger.deposit_to(call.agent, call.params["user_code"], call.params["amount"])
    return {"balance": tx.balance, "amount": tx.trans_amount}


def wallet_withdraw(call: Call) -> Payload:
    _transfer_agent(call)
    tx = call.world.ledger.withdraw_from(call.agent, call.params["user_code"], call.params["amount"])
    return {"balance": tx.balance, "amount": tx.trans_amount}


def wallet_withdraw_all(call: Call) -> Payload:
    _transfer_agent(call)
    amount, tx = call.world.ledger.withdraw_all_from(call.agent, call.params["user_code"])
    return {"balance": tx.balance if tx else ZERO, "amount": amount}


# -- catalogue -------------------------------------------------------------------


def image_urls(settings: Settings, game: Game) -> tuple[str, str]:
    """Thumbnail URLs served by the simulator itself (``/media``), so they work offline."""
    code = quote(game.game_code, safe="")
    base = f"{settings.base_url}/media/games/{game.provider_id}"
    return f"{base}/{code}.svg", f"{base}/narrow/{code}.svg"


def game_rows(settings: Settings, catalogue: Catalogue, provider_ids: list[int], lang: int) -> list[dict]:
    rows = []
    for provider_id in provider_ids:
        for game in catalogue.games_of(provider_id):
            image, narrow = image_urls(settings, game)
            rows.append(
                {
                    "provider_id": game.provider_id,
                    "game_code": game.game_code,
                    "game_name": game.game_name,
                    "locale_name": game.locale_name(lang),
                    "game_image": image,
                    "game_image_narrow": narrow,
                    "launch_enable": game.launch_enable,
                    "category": game.category,
                    "reg_date": game.reg_date,
                }
            )
    return rows


def game_providers(call: Call) -> Payload:
    catalogue, lang = call.world.catalogue, call.params["lang"]
    return [
        {
            "provider_id": p.provider_id,
            "provider_name": p.provider_name,
            "locale_name": p.locale_name(lang),
            "status": catalogue.provider_status(p),
        }
        for p in catalogue.assigned_providers(call.agent.settings.providers)
    ]


def game_games(call: Call) -> Payload:
    """Games of one provider: 2007 if unknown, ``[]`` if not assigned (spec 5.10)."""
    catalogue, provider_id = call.world.catalogue, call.params["provider_id"]
    if catalogue.provider(provider_id) is None:
        raise SimError(ResultCode.PROVIDER_NOT_FOUND, f"no provider with provider_id {provider_id}")
    assigned = {p.provider_id for p in catalogue.assigned_providers(call.agent.settings.providers)}
    if provider_id not in assigned:
        return []
    return game_rows(call.sim.settings, catalogue, [provider_id], call.params["lang"])


def game_all(call: Call) -> Payload:
    catalogue = call.world.catalogue
    provider_ids = [p.provider_id for p in catalogue.assigned_providers(call.agent.settings.providers)]
    return game_rows(call.sim.settings, catalogue, provider_ids, call.params["lang"])


DECLARATIONS: tuple[Endpoint, ...] = (
    Endpoint("agent/info", schemas.Empty, schemas.AgentInfo(), agent_info),
    Endpoint("agent/rtp", schemas.RtpRequest, None, agent_rtp),
    Endpoint("user/create", schemas.UserCreateRequest, schemas.UserCreated(), user_create),
    Endpoint("user/info", schemas.UserCodeRequest, schemas.UserInfo(), user_info),
    Endpoint("wallet/deposit", schemas.WalletRequest, schemas.WalletResult(), wallet_deposit),
    Endpoint("wallet/withdraw", schemas.WalletRequest, schemas.WalletResult(), wallet_withdraw),
    Endpoint("wallet/withdraw-all", schemas.UserCodeRequest, schemas.WalletResult(), wallet_withdraw_all),
    Endpoint("game/providers", schemas.ProvidersRequest, schemas.ProviderItem(many=True), game_providers),
    Endpoint("game/games", schemas.GamesRequest, schemas.GameItem(many=True), game_games),
    Endpoint("game/all", schemas.AllGamesRequest, schemas.GameItem(many=True), game_all),
)
