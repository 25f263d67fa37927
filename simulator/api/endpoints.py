"""The ``/v4`` endpoints of the foundation (spec 5.1, 5.2, 5.4-5.11).

Each handler is thin: it takes the validated parameters, calls one domain
function, and shapes the answer with a response schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ..access.guards import allow_list
from ..codes import ResultCode, SimError
from ..config import Settings
from ..domain.catalogue import Catalogue, Game
from ..domain.enums import WalletMode
from ..domain.models import Agent
from ..money import ZERO
from ..runtime import Simulator, World
from . import schemas
from .transport import BARE


@dataclass
class Call:
    """One authenticated, validated ``/v4`` call."""

    sim: Simulator
    world: World
    agent: Agent
    params: dict[str, Any]
    client_ip: str


Handler = Callable[[Call], Any]


@dataclass(frozen=True)
class Endpoint:
    schema: type[schemas.RequestSchema]
    handler: Handler


# -- agent -------------------------------------------------------------------
_agent_info = schemas.AgentInfo()


def agent_info(call: Call) -> Any:
    agent = call.agent
    return _agent_info.dump(
        {
            "name": agent.name,
            "currency": agent.settings.currency,
            "balance": agent.points,
            "win_ratio": agent.settings.rtp,
            "rtp": agent.settings.rtp,
            "whitelist": allow_list(agent.settings.allowed_ips),
            "client_ip": call.client_ip,
        }
    )


def agent_rtp(call: Call) -> Any:
    """Set the agent's RTP; 0 restores the platform default (OP-9)."""
    if not call.agent.settings.rtp_api_enabled:
        raise SimError(ResultCode.PERMISSION_ERROR, f"RTP management is disabled for agent {call.agent.name}")
    rtp = call.params["rtp"] or Decimal(call.sim.settings.default_rtp)
    call.world.hierarchy.apply_settings(call.agent, {"rtp": rtp})
    return BARE


# -- users and wallet ----------------------------------------------------------
_user_created = schemas.UserCreated()
_user_info = schemas.UserInfo()
_wallet_result = schemas.WalletResult()


def user_create(call: Call) -> Any:
    user, is_new = call.world.users.create_or_get(call.agent, call.params["name"])
    return _user_created.dump({"user_code": user.user_code, "is_new_user": is_new})


def user_info(call: Call) -> Any:
    users = call.world.users
    user = users.lookup(call.agent, call.params["user_code"])
    return _user_info.dump({"name": user.name, "balance": users.displayed_balance(user)})


def _transfer_agent(call: Call) -> None:
    """An agent in seamless mode gets 1010 (OP-15) before any user lookup: the wallet
    endpoints do not exist for it, whatever the ``user_code``."""
    if call.agent.mode == WalletMode.SEAMLESS:
        raise SimError(
            ResultCode.PERMISSION_ERROR,
            f"agent {call.agent.name} is in seamless mode; wallet endpoints are for transfer mode only",
        )


def wallet_deposit(call: Call) -> Any:
    _transfer_agent(call)
    tx = call.world.ledger.deposit_to(call.agent, call.params["user_code"], call.params["amount"])
    return _wallet_result.dump({"balance": tx.balance, "amount": tx.trans_amount})


def wallet_withdraw(call: Call) -> Any:
    _transfer_agent(call)
    tx = call.world.ledger.withdraw_from(call.agent, call.params["user_code"], call.params["amount"])
    return _wallet_result.dump({"balance": tx.balance, "amount": tx.trans_amount})


def wallet_withdraw_all(call: Call) -> Any:
    _transfer_agent(call)
    amount, tx = call.world.ledger.withdraw_all_from(call.agent, call.params["user_code"])
    return _wallet_result.dump({"balance": tx.balance if tx else ZERO, "amount": amount})


# -- catalogue -------------------------------------------------------------------
_provider_items = schemas.ProviderItem(many=True)
_game_items = schemas.GameItem(many=True)


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


def game_providers(call: Call) -> Any:
    catalogue, lang = call.world.catalogue, call.params["lang"]
    return _provider_items.dump(
        [
            {
                "provider_id": p.provider_id,
                "provider_name": p.provider_name,
                "locale_name": p.locale_name(lang),
                "status": catalogue.provider_status(p),
            }
            for p in catalogue.assigned_providers(call.agent.settings.providers)
        ]
    )


def game_games(call: Call) -> Any:
    """Games of one provider: 2007 if unknown, ``[]`` if not assigned (spec 5.10)."""
    catalogue, provider_id = call.world.catalogue, call.params["provider_id"]
    if catalogue.provider(provider_id) is None:
        raise SimError(ResultCode.PROVIDER_NOT_FOUND, f"no provider with provider_id {provider_id}")
    assigned = {p.provider_id for p in catalogue.assigned_providers(call.agent.settings.providers)}
    if provider_id not in assigned:
        return []
    return _game_items.dump(game_rows(call.sim.settings, catalogue, [provider_id], call.params["lang"]))


def game_all(call: Call) -> Any:
    catalogue = call.world.catalogue
    provider_ids = [p.provider_id for p in catalogue.assigned_providers(call.agent.settings.providers)]
    return _game_items.dump(game_rows(call.sim.settings, catalogue, provider_ids, call.params["lang"]))


ENDPOINTS: dict[str, Endpoint] = {
    "agent/info": Endpoint(schemas.Empty, agent_info),
    "agent/rtp": Endpoint(schemas.RtpRequest, agent_rtp),
    "user/create": Endpoint(schemas.UserCreateRequest, user_create),
    "user/info": Endpoint(schemas.UserCodeRequest, user_info),
    "wallet/deposit": Endpoint(schemas.WalletRequest, wallet_deposit),
    "wallet/withdraw": Endpoint(schemas.WalletRequest, wallet_withdraw),
    "wallet/withdraw-all": Endpoint(schemas.UserCodeRequest, wallet_withdraw_all),
    "game/providers": Endpoint(schemas.ProvidersRequest, game_providers),
    "game/games": Endpoint(schemas.GamesRequest, game_games),
    "game/all": Endpoint(schemas.AllGamesRequest, game_all),
}
