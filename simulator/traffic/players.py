"""Virtual players: a user of the agent with an open game session, made the way an integrator would.

``user/create`` semantics (:meth:`Users.create_or_get`, which authenticates
against the wallet in seamless mode), a Deposit (4) through the ledger in
transfer mode, then ``game-url`` (:meth:`Sessions.launch`), the page opening
(:meth:`Sessions.open`) and the game's first balance request.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..codes import SimError
from ..domain.models import GameSession, User
from ..domain.sessions import LaunchError, LaunchRequest
from .plan import Prepared

ENGLISH = 1


@dataclass
class VirtualPlayer:
    number: int
    name: str
    user: User | None = None
    session: GameSession | None = None
    #: Transfer mode: what the run deposited to the player's user.
    deposited: Decimal = Decimal(0)
    #: Set when the player stopped playing (out of balance, session ended by the operator).
    retired: str = ""


class SetupFailed(Exception):
    """A player could not be made ready; the run fails with this message."""


def set_up(world, prepared: Prepared, player: VirtualPlayer) -> None:
    """Make ``player`` ready to play: ``user`` is set as soon as it exists, ``deposited`` once paid in."""
    agent = prepared.agent
    try:
        user, _ = world.users.create_or_get(agent, player.name)
        player.user = user
        if prepared.deposit > 0:
            world.ledger.deposit(agent, user, prepared.deposit)
            player.deposited = prepared.deposit
        game = prepared.game
        launch = world.sessions.launch(
            agent, LaunchRequest(user.user_code, game.provider_id, game.game_code, ENGLISH)
        )
        session = world.sessions.open(launch.token)
    except (SimError, LaunchError) as error:
        raise SetupFailed(f"player {player.name}: {_detail(error)}") from error
    world.rounds.refresh_balance(session)
    player.session = session


def _detail(error: Exception) -> str:
    if isinstance(error, SimError):
        return f"{error.code.name}: {error.detail}"
    return str(error)
