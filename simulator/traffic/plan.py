"""What a traffic run is asked to do, and the checks made before it starts (control-api.md).

:func:`prepare` turns a :class:`TrafficPlan` into a :class:`Prepared` run for
one world: the agent, the game every player launches, the stake, the account
names and, in transfer mode, the deposit each player gets.  Every refusal is a
:class:`SimError` whose code the control API maps to 400, 404 or 409.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from ..codes import ResultCode, SimError
from ..domain.catalogue import STATUS_MAINTENANCE, Game
from ..domain.enums import WalletMode
from ..domain.models import Agent
from ..money import ZERO, plain

MAX_PLAYERS = 1000
MAX_RATE = 1000
MAX_DURATION_S = 3600
MAX_DRAIN_S = 600
DEFAULT_DRAIN_S = 20
#: The user/create name rule (spec 5.4): 2-50 letters, digits and underscores.
ACCOUNT_NAME = re.compile(r"^[_a-zA-Z0-9]{2,50}$")


@dataclass(frozen=True)
class TrafficPlan:
    agent: str
    players: int = 10
    rounds_per_second: float = 10.0
    duration_s: float = 30.0
    bet: Decimal | None = None
    provider_id: int | None = None
    game_code: str | None = None
    #: Existing wallet accounts to play as (player ``n`` uses ``accounts[n % len]``); default: new names.
    accounts: tuple[str, ...] = ()
    #: Transfer mode: what each player is deposited before playing; default: enough for every round.
    deposit: Decimal | None = None
    #: How long to wait at the end for win/cancel retries still pending.
    drain_s: float = DEFAULT_DRAIN_S


@dataclass
class Prepared:
    plan: TrafficPlan
    agent: Agent
    game: Game
    bet: Decimal
    #: One account name per player, in player order.
    names: list[str]
    deposit: Decimal
    notes: list[str] = field(default_factory=list)

    @property
    def seamless(self) -> bool:
        return self.agent.mode == WalletMode.SEAMLESS


def _invalid(detail: str) -> SimError:
    return SimError(ResultCode.PARAMETERS_INVALID, detail)


def check_limits(plan: TrafficPlan) -> None:
    """The bounds a run must stay within, whoever built the plan."""
    if not 1 <= plan.players <= MAX_PLAYERS:
        raise _invalid(f"players: must be between 1 and {MAX_PLAYERS}")
    if not 0 < plan.rounds_per_second <= MAX_RATE:
        raise _invalid(f"rounds_per_second: must be above 0 and at most {MAX_RATE}")
    if not 0 < plan.duration_s <= MAX_DURATION_S:
        raise _invalid(f"duration_s: must be above 0 and at most {MAX_DURATION_S}")
    if not 0 <= plan.drain_s <= MAX_DRAIN_S:
        raise _invalid(f"drain_s: must be between 0 and {MAX_DRAIN_S}")
    if len(plan.accounts) > plan.players:
        raise _invalid(
            f"accounts: {len(plan.accounts)} names for {plan.players} players; give at most one each"
        )
    for name in plan.accounts:
        if not ACCOUNT_NAME.fullmatch(name):
            raise _invalid(f"accounts: {name!r} is not a valid user name (2-50 letters, digits, underscores)")
    if (plan.provider_id is None) != (plan.game_code is None):
        raise _invalid("give both provider_id and game_code, or neither")


def choose_game(world, agent: Agent, provider_id: int | None, game_code: str | None) -> Game:
    """The requested game, checked as ``game-url`` would; else the first Slots game the agent may launch."""
    catalogue = world.catalogue
    if catalogue.platform_maintenance:
        raise SimError(ResultCode.UNDER_MAINTENANCE, "the platform is in maintenance")
    providers = catalogue.assigned_providers(agent.settings.providers)
    if provider_id is not None:
        if provider_id not in {p.provider_id for p in providers}:
            raise SimError(
                ResultCode.PROVIDER_NOT_FOUND, f"provider {provider_id} is unknown or not assigned"
            )
        game = catalogue.game(provider_id, game_code)
        if game is None:
            raise SimError(ResultCode.GAME_NOT_FOUND, f"provider {provider_id} has no game {game_code!r}")
        if not _playable(catalogue, catalogue.provider(provider_id), game, agent):
            raise SimError(
                ResultCode.PERMISSION_ERROR, f"game {provider_id}:{game_code} cannot be played now"
            )
        return game
    for provider in providers:
        for game in catalogue.games_of(provider.provider_id):
            if game.category == "Slots" and _playable(catalogue, provider, game, agent):
                return game
    raise SimError(ResultCode.GAME_NOT_FOUND, f"agent {agent.name} may launch no Slots game")


def _playable(catalogue, provider, game: Game, agent: Agent) -> bool:
    return (
        game.launch_enable
        and catalogue.provider_status(provider) != STATUS_MAINTENANCE
        and catalogue.game_status(game) != STATUS_MAINTENANCE
        and provider.supports_currency(agent.settings.currency)
    )


def rounds_per_player(plan: TrafficPlan) -> int:
    """How many rounds one player plays at most if the target rate is met."""
    return math.ceil(plan.rounds_per_second * plan.duration_s / plan.players)


def prepare(world, plan: TrafficPlan, run_id: int) -> Prepared:
    check_limits(plan)
    agent = world.hierarchy.get(plan.agent)
    if agent.settings.disabled:
        raise SimError(ResultCode.PERMISSION_ERROR, f"agent {agent.name} is disabled")
    if not agent.settings.approved:
        raise SimError(ResultCode.PERMISSION_ERROR, f"agent {agent.name} is not approved yet")
    game = choose_game(world, agent, plan.provider_id, plan.game_code)
    bet = plan.bet if plan.bet is not None else (agent.settings.min_bet or Decimal(1))
    world.rounds.check_stake(agent, bet)
    accounts = plan.accounts or tuple(f"traffic_{run_id}_{n}" for n in range(1, plan.players + 1))
    names = [accounts[n % len(accounts)] for n in range(plan.players)]
    prepared = Prepared(plan, agent, game, bet, names, ZERO)
    if plan.accounts:
        prepared.notes.append(
            "nothing else may play the given accounts during the run, or the balances differ"
        )
    if prepared.seamless:
        if agent.points <= 0:
            raise SimError(ResultCode.POINT_NOT_ENOUGH, f"agent {agent.name} has no points left")
        if not plan.accounts:
            prepared.notes.append(
                "the wallet must accept the generated accounts traffic_<run>_<n> on authenticate; "
                "give 'accounts' to play as accounts it knows"
            )
        return prepared
    deposit = plan.deposit
    if deposit is None:
        deposit = (bet * (rounds_per_player(plan) + 1)).quantize(Decimal(1), rounding=ROUND_CEILING)
    needed = deposit * plan.players
    if needed > agent.points:
        raise SimError(
            ResultCode.POINT_NOT_ENOUGH,
            f"agent {agent.name} has {plain(agent.points)} points; depositing {plain(deposit)} to each of "
            f"{plan.players} players needs {plain(needed)} (give a smaller 'deposit' or add points)",
        )
    prepared.deposit = deposit
    return prepared
