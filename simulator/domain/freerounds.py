"""Free rounds: spins granted to one user in one game at a fixed stake that costs nothing (spec 5.18-5.19, 9).

A grant holds ``rounds`` spins at ``bet`` each until ``expirationDate``.  When
the player next plays that game - any session of that user, provider and game -
the grant's spins come first, oldest grant first: the stake the player chose is
ignored, the Bet is recorded (and in seamless mode sent) with amount 0, and the
Win pays the outcome at the grant's ``bet`` (OP-17).  The winnings are paid by
the house like any Win.  ``win`` caps the grant's total winnings (0 = no cap):
the spin that reaches the cap is cut, later spins pay 0.

A grant ends when its rounds are used up, when it expires or when it is
cancelled; a spin counts as used once it is settled (a spin refused or refunded
gives its round back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ..clock import Clock
from ..codes import ResultCode, SimError
from ..money import ZERO
from .catalogue import Catalogue
from .models import Agent, FreeRoundGrant, GameSession
from .store import Seq, Store
from .users import Users

#: ``expirationDate`` must be at least this far ahead (spec 3.3, 5.18).
MIN_LIFETIME = timedelta(minutes=30)
#: The simulator caps ``rounds`` at this (spec 5.18).
MAX_ROUNDS = 500


@dataclass(frozen=True)
class FreeRoundRequest:
    user_code: int
    provider_id: int
    game_code: str
    bet: Decimal
    rounds: int
    #: Unix epoch milliseconds.
    expiration_ms: int
    #: Cap on the total winnings; 0 = none.
    win: Decimal = ZERO


class FreeRounds:
    def __init__(self, store: Store, clock: Clock, catalogue: Catalogue, users: Users) -> None:
        self._store = store
        self._clock = clock
        self._catalogue = catalogue
        self._users = users

    # -- 5.18 / 5.19 ---------------------------------------------------------------
    def grant(self, agent: Agent, request: FreeRoundRequest) -> FreeRoundGrant:
        """1002 (expiry), 2002/1010 (user), 2007/2003 (provider, game), 1010 (no free-round support)."""
        now = self._clock.now()
        expires_at = datetime.fromtimestamp(request.expiration_ms / 1000, tz=UTC)
        # In whole milliseconds, the unit of ``expirationDate``: now + 30 min exactly is accepted.
        if request.expiration_ms < self._clock.millis() + MIN_LIFETIME // timedelta(milliseconds=1):
            raise SimError.validation(
                "expirationDate", "[expirationDate] must be at least 30 minutes from now"
            )
        user = self._users.lookup(agent, request.user_code)
        catalogue = self._catalogue
        provider = catalogue.provider(request.provider_id)
        assigned = {p.provider_id for p in catalogue.assigned_providers(agent.settings.providers)}
        if provider is None or provider.provider_id not in assigned:
            raise SimError(
                ResultCode.PROVIDER_NOT_FOUND, f"provider {request.provider_id} is unknown or not assigned"
            )
        if catalogue.game(request.provider_id, request.game_code) is None:
            raise SimError(
                ResultCode.GAME_NOT_FOUND, f"provider {request.provider_id} has no game {request.game_code!r}"
            )
        if not provider.free_rounds:
            raise SimError(
                ResultCode.PERMISSION_ERROR, f"provider {request.provider_id} does not support free rounds"
            )
        store = self._store
        grant = FreeRoundGrant(
            fr_id=f"FR-{user.user_code}-{store.next_id(Seq.FREE_ROUND):06d}",
            agent_id=agent.agent_id,
            user_code=user.user_code,
            provider_id=request.provider_id,
            game_code=request.game_code,
            bet=request.bet,
            rounds=request.rounds,
            expires_at=expires_at,
            win_cap=request.win,
            created_at=now,
        )
        store.add_grant(grant)
        return grant

    def cancel(self, agent: Agent, fr_id: str) -> FreeRoundGrant:
        """2020 for an unknown (or another agent's), used-up, expired or cancelled grant."""
        grant = self._store.grant(fr_id)
        if grant is None or grant.agent_id != agent.agent_id:
            raise SimError(ResultCode.FREEROUND_NO_EXIST, f"no free-round grant {fr_id!r}")
        if not self._store.cancel_grant(fr_id, self._clock.now()):
            raise SimError(
                ResultCode.FREEROUND_NO_EXIST,
                f"free-round grant {fr_id} is used up, expired or cancelled",
            )
        return self._store.grant(fr_id) or grant

    def active(self, grant: FreeRoundGrant) -> bool:
        return not grant.cancelled and grant.played < grant.rounds and self._clock.now() < grant.expires_at

    # -- play, used by Rounds ------------------------------------------------------------
    def claim(self, session: GameSession) -> FreeRoundGrant | None:
        """Take one round of the oldest active grant for this session's user and game."""
        fr_id = self._store.claim_grant(
            session.user_code, session.provider_id, session.game_code, self._clock.now()
        )
        return None if fr_id is None else self._store.grant(fr_id)

    def release(self, grant: FreeRoundGrant) -> None:
        """The spin was refused or refunded: its round is not used."""
        self._store.release_grant(grant.fr_id)

    def cap(self, grant: FreeRoundGrant, win: Decimal) -> Decimal:
        """Cut a spin's winnings to what the grant's cap still allows, and count them."""
        return self._store.cap_grant_win(grant.fr_id, win)

    def uncap(self, grant: FreeRoundGrant, win: Decimal) -> None:
        """The spin failed before its winnings were settled: they do not count."""
        self._store.uncap_grant_win(grant.fr_id, win)
