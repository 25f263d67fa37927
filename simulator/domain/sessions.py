"""Game launches and sessions: ``game/game-url``, opening a URL, ``kick_games``, ``online-games``.

A launch URL is valid 10 minutes and opens once (spec 5.12); opening it starts
a session with a new ``gplay_id``.  A session counts as online while it had
activity in the last 30 minutes (5.13); ``kick_games`` marks a user's sessions,
and the next round attempt ends them (5.14).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from ..clock import Clock
from ..codes import ResultCode, SimError
from .catalogue import STATUS_MAINTENANCE, Catalogue, Game
from .enums import WalletMode
from .models import Agent, GameSession, LaunchToken, User
from .store import Seq, Store
from .users import Users

URL_LIFETIME = timedelta(minutes=10)
ONLINE_WINDOW = timedelta(minutes=30)


@dataclass(frozen=True)
class LaunchRequest:
    user_code: int
    provider_id: int
    game_symbol: str
    lang: int
    return_url: str | None = None
    rtp: Decimal | None = None


class LaunchError(Exception):
    """A launch URL that cannot be opened; ``reason`` is ``unknown``, ``used`` or ``expired``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class Sessions:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        catalogue: Catalogue,
        users: Users,
        authenticate: Callable[[Agent, str], Decimal],
    ) -> None:
        self._store = store
        self._clock = clock
        self._catalogue = catalogue
        self._users = users
        self._authenticate = authenticate

    # -- game/game-url -------------------------------------------------------
    def launch(self, agent: Agent, request: LaunchRequest) -> LaunchToken:
        """Every check of spec 5.12, in its order, then a one-time token."""
        user = self._users.lookup(agent, request.user_code)  # 2002, 1010
        game = self._launchable_game(agent, request.provider_id, request.game_symbol)
        if request.rtp is not None and (request.rtp < 0 or request.rtp > agent.settings.rtp):
            raise SimError(
                ResultCode.PARAMETERS_INVALID,
                f"rtp {request.rtp} must be between 0 and the agent's RTP {agent.settings.rtp}",
            )
        if not agent.settings.approved:  # OP-21
            raise SimError(ResultCode.PERMISSION_ERROR, f"agent {agent.name} is not approved yet")
        if agent.mode == WalletMode.SEAMLESS:
            if agent.points <= 0:  # OP-3
                raise SimError(ResultCode.BALANCE_NOT_ENOUGH, f"agent {agent.name} has no points left")
            self._store.set_last_balance(user.user_code, self._authenticate(agent, user.name))
        now = self._clock.now()
        launch = LaunchToken(
            token=secrets.token_urlsafe(24),
            agent_id=agent.agent_id,
            user_code=user.user_code,
            provider_id=game.provider_id,
            game_code=game.game_code,
            lang=request.lang,
            return_url=request.return_url,
            rtp=request.rtp or None,
            created_at=now,
            expires_at=now + URL_LIFETIME,
        )
        self._store.add_launch(launch)
        return launch

    def _launchable_game(self, agent: Agent, provider_id: int, game_code: str) -> Game:
        """2007, 2003, 1, 2003 (launch disabled), 2014 - in the order of spec 5.12."""
        catalogue = self._catalogue
        provider = catalogue.provider(provider_id)
        assigned = {p.provider_id for p in catalogue.assigned_providers(agent.settings.providers)}
        if provider is None or provider_id not in assigned:
            raise SimError(
                ResultCode.PROVIDER_NOT_FOUND, f"provider {provider_id} is unknown or not assigned"
            )
        game = catalogue.game(provider_id, game_code)
        if game is None:
            raise SimError(ResultCode.GAME_NOT_FOUND, f"provider {provider_id} has no game {game_code!r}")
        if catalogue.provider_status(provider) == STATUS_MAINTENANCE:
            raise SimError(ResultCode.UNDER_MAINTENANCE, f"provider {provider_id} is in maintenance")
        if catalogue.game_status(game) == STATUS_MAINTENANCE:
            raise SimError(ResultCode.UNDER_MAINTENANCE, f"game {game_code!r} is in maintenance")
        if not game.launch_enable:
            raise SimError(ResultCode.GAME_NOT_FOUND, f"game {game_code!r} cannot be launched")
        if not provider.supports_currency(agent.settings.currency):
            raise SimError(
                ResultCode.CURRENCY_NOT_SUPPORTED,
                f"provider {provider_id} does not support currency {agent.settings.currency}",
            )
        return game

    # -- opening a launch URL --------------------------------------------------
    def open(self, token: str) -> GameSession:
        """Consume a launch token and start a session; expired or reused tokens start nothing."""
        store = self._store
        now = self._clock.now()
        launch, refused = store.use_launch(token, now)
        if launch is None:
            raise LaunchError("unknown", "This game link is not valid.")
        if refused == "used":
            raise LaunchError("used", "This game link was already opened. Game links work once.")
        if refused:
            raise LaunchError("expired", "This game link has expired. Game links are valid for 10 minutes.")
        agent = store.agent(launch.agent_id)
        user = store.user(launch.user_code)
        if agent is None or user is None:
            raise LaunchError("unknown", "This game link is not valid.")
        if agent.mode == WalletMode.SEAMLESS:
            store.set_last_balance(user.user_code, self._authenticate(agent, user.name))
        session = GameSession(
            gplay_id=store.next_id(Seq.GPLAY),
            secret=secrets.token_urlsafe(24),
            agent_id=launch.agent_id,
            user_code=launch.user_code,
            provider_id=launch.provider_id,
            game_code=launch.game_code,
            lang=launch.lang,
            return_url=launch.return_url,
            rtp=launch.rtp,
            started_at=now,
            last_update=now,
        )
        store.add_session(session)
        return session

    # -- kick_games, online-games ------------------------------------------------
    def kick(self, agent: Agent, user_code: int) -> int:
        """Mark every live session of the user; returns how many were marked."""
        user = self._users.lookup(agent, user_code)
        return self._store.kick(agent.agent_id, user.user_code)

    def online(self, agent: Agent) -> list[GameSession]:
        """Sessions with activity in the last 30 minutes, oldest first."""
        since = self._clock.now() - ONLINE_WINDOW
        return [s for s in self._store.sessions_of(agent.agent_id) if not s.ended and s.last_update >= since]

    def session(self, secret: str) -> GameSession | None:
        return self._store.session_by_secret(secret)

    def user_of(self, session: GameSession) -> User:
        user = self._store.user(session.user_code)
        if user is None:  # users are never deleted
            raise LookupError(f"game session {session.gplay_id} has no user {session.user_code}")
        return user
