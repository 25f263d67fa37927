"""Playing rounds: stake, outcome, settlement - and the automatic refund when it fails between.

A round takes the stake through the agent's wallet (Bet 1), draws an outcome
from the RTP engine (or a forced one from ``/control/outcomes``), and settles
it (Win 2, also for 0).  If anything fails after the stake was taken - an
injected ``round:settle`` fault, or an internal error - the stake goes back
with BetCancel (16): nothing is ever lost.

The wallet side is the small :class:`Wallet` interface: :class:`TransferWallet`
moves the platform balance through the ledger; the seamless wallet (callbacks
to the integrator) plugs in behind the same interface.

Two features change a round (spec 8, 9): a free-round grant of the session's
user and game is played first, at the grant's stake and with a Bet of 0
(:mod:`.freerounds`); otherwise, while a bonus call is open on the session, the
outcome is steered and settled as BonusCall (32) (:mod:`.bonus`).
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
from collections import deque
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any, Protocol, TypeVar

from ..clock import Clock
from ..codes import ResultCode, SimError
from ..money import MAX_PLACES, ZERO, places
from .bonus import BonusCalls
from .catalogue import STATUS_MAINTENANCE, Catalogue, Game
from .enums import RoundStatus
from .freerounds import FreeRounds
from .ledger import Ledger
from .models import Agent, FreeRoundGrant, GameSession, Round, User
from .reels import round_view
from .rtp import RtpEngine
from .store import PlayRef, Seq, Store

log = logging.getLogger("simulator.rounds")
T = TypeVar("T")
FOUR_PLACES = Decimal(1).scaleb(-MAX_PLACES)
#: How many recent rounds a session remembers for the game page.
RECENT_ROUNDS = 20


class Wallet(Protocol):
    """Where a player's money lives during play."""

    def balance(self, agent: Agent, user: User) -> Decimal: ...

    def refresh(self, agent: Agent, user: User) -> Decimal | None:
        """Ask the wallet for the balance the game displays (seamless: a ``balance`` callback)."""
        ...

    def bet(self, agent: Agent, user: User, round_: Round) -> None: ...

    def win(self, agent: Agent, user: User, round_: Round) -> None: ...

    def refund(self, agent: Agent, user: User, round_: Round) -> None: ...


class TransferWallet:
    """Money-transfer mode: the player's balance is on the platform (spec 1.4, 7)."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def balance(self, agent: Agent, user: User) -> Decimal:
        return self._ledger.balance_of(user)

    def refresh(self, agent: Agent, user: User) -> Decimal | None:
        return self._ledger.balance_of(user)

    def bet(self, agent: Agent, user: User, round_: Round) -> None:
        tx = self._ledger.bet(agent, user, round_.bet, _ref(round_))
        round_.trans_ids = [*round_.trans_ids, tx.trans_id]

    def win(self, agent: Agent, user: User, round_: Round) -> None:
        settle = self._ledger.bonus_call_win if round_.call_id else self._ledger.win
        tx = settle(agent, user, round_.win, _ref(round_))
        round_.trans_ids = [*round_.trans_ids, tx.trans_id]

    def refund(self, agent: Agent, user: User, round_: Round) -> None:
        tx = self._ledger.bet_cancel(agent, user, round_.bet, _ref(round_))
        round_.trans_ids = [*round_.trans_ids, tx.trans_id]


def _ref(round_: Round) -> PlayRef:
    return PlayRef(round_.round_id, round_.provider_id, round_.game_code)


class Abandoned(SimError):
    """The wallet abandoned the round at the stake and already recorded its refund."""


class RoundFailed(SimError):
    """The round failed after the stake was taken; the stake was refunded (BetCancel)."""

    def __init__(self, round_: Round, detail: str) -> None:
        super().__init__(ResultCode.INTERNAL_SERVER_ERROR, detail)
        self.round = round_


class ForcedOutcomes:
    """Queues of multipliers per (agent, account) from ``/control/outcomes``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[tuple[int, str], deque[Fraction]] = {}

    def push(self, agent_id: int, account: str, multipliers: list[Fraction]) -> int:
        with self._lock:
            queue = self._queues.setdefault((agent_id, account.lower()), deque())
            queue.extend(multipliers)
            return len(queue)

    def pop(self, agent_id: int, account: str) -> Fraction | None:
        with self._lock:
            queue = self._queues.get((agent_id, account.lower()))
            return queue.popleft() if queue else None

    def share(self) -> None:
        """Make these queues every worker's (a newly published world); one process has no other."""

    def pending(self, agent_id: int, account: str) -> int:
        return len(self._queues.get((agent_id, account.lower()), ()))

    def export(self) -> list[dict[str, object]]:
        """The queued multipliers as JSON values (snapshots)."""
        with self._lock:
            return [
                {"agent_id": agent_id, "account": account, "multipliers": [str(m) for m in queue]}
                for (agent_id, account), queue in self._queues.items()
                if queue
            ]

    def load(self, entries: list[dict[str, Any]]) -> None:
        """Replace the queues with exported ones; ``ValueError`` names a bad entry."""
        queues: dict[tuple[int, str], deque[Fraction]] = {}
        for number, entry in enumerate(entries):
            try:
                key = (int(entry["agent_id"]), str(entry["account"]).lower())
                multipliers = [Fraction(str(m)) for m in entry["multipliers"]]
            except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
                raise ValueError(f"forced_outcomes[{number}]: {exc}") from None
            if any(m < 0 for m in multipliers):
                raise ValueError(f"forced_outcomes[{number}]: multipliers must be >= 0")
            queues.setdefault(key, deque()).extend(multipliers)
        with self._lock:
            self._queues = queues


class Rounds:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        catalogue: Catalogue,
        engine: RtpEngine,
        forced: ForcedOutcomes,
        wallet_for: Callable[[Agent], Wallet],
        fault: Callable[[str | None, str], list[dict]],
        seed: int,
        bonus: BonusCalls,
        free_rounds: FreeRounds,
    ) -> None:
        self._store = store
        self._clock = clock
        self._catalogue = catalogue
        self._engine = engine
        self._forced = forced
        self._wallet_for = wallet_for
        self._fault = fault
        self._seed = seed
        self._bonus = bonus
        self._free = free_rounds

    # -- the stake rules --------------------------------------------------------
    def check_stake(self, agent: Agent, stake: Decimal) -> None:
        """A stake must be positive, have at most 4 decimals and sit within the agent's limits."""
        if stake <= ZERO or places(stake) > MAX_PLACES:
            raise SimError(ResultCode.PARAMETERS_INVALID, "the stake must be > 0 with at most 4 decimals")
        settings = agent.settings
        if settings.min_bet > 0 and stake < settings.min_bet:
            raise SimError(
                ResultCode.PARAMETERS_INVALID, f"the stake is below the minimum bet {settings.min_bet}"
            )
        if settings.max_bet > 0 and stake > settings.max_bet:
            raise SimError(
                ResultCode.PARAMETERS_INVALID, f"the stake is above the maximum bet {settings.max_bet}"
            )

    def _check_playable(self, agent: Agent, session: GameSession, user: User) -> Game:
        """The session's game, if a round may be played now (else the refusal)."""
        if session.kicked or session.ended:
            self._store.end_session(session.gplay_id)  # 5.14: the refused round ends the session
            raise SimError(ResultCode.PERMISSION_ERROR, "this game session was ended by the operator")
        catalogue = self._catalogue
        provider = catalogue.provider(session.provider_id)
        game = catalogue.game(session.provider_id, session.game_code)
        if (
            catalogue.platform_maintenance
            or provider is None
            or game is None
            or catalogue.provider_status(provider) == STATUS_MAINTENANCE
            or catalogue.game_status(game) == STATUS_MAINTENANCE
        ):
            raise SimError(ResultCode.UNDER_MAINTENANCE, "the game is in maintenance")
        if not user.active:
            raise SimError(ResultCode.PERMISSION_ERROR, f"player {user.name} is blocked")
        if agent.settings.disabled:
            raise SimError(ResultCode.AGENT_NOT_FOUND, f"agent {agent.name} is disabled")
        return game

    # -- one round ------------------------------------------------------------------
    def play(self, session: GameSession, stake: Decimal) -> Round:
        """Play one round of a session; returns the settled (or refunded) round.

        A free round of the session's game is played first, whatever ``stake``
        the player chose; its round is given back if the spin does not settle.
        """
        store = self._store
        # The session as it stands now (a kick or another round since the caller read it).
        session = store.session(session.gplay_id) or session
        agent = _known(store.agent(session.agent_id))
        user = _known(store.user(session.user_code))
        game = self._check_playable(agent, session, user)
        # A snapshot waits for the round to be recorded: never a stake taken and no round.
        with store.activity():
            grant = self._free.claim(session)
            try:
                round_ = self._play(agent, user, session, game, stake, grant)
            except Exception:
                if grant is not None:
                    self._free.release(grant)
                raise
        self._wallet_for(agent).refresh(agent, user)  # the game refreshes its balance after each round (6.5)
        return round_

    def _play(
        self,
        agent: Agent,
        user: User,
        session: GameSession,
        game: Game,
        stake: Decimal,
        grant: FreeRoundGrant | None,
    ) -> Round:
        store = self._store
        if grant is None:
            self.check_stake(agent, stake)
        call_id = self._bonus.current(session)
        now = self._clock.now()
        round_ = Round(
            round_id=str(store.next_id(Seq.ROUND)),
            agent_id=agent.agent_id,
            user_code=user.user_code,
            gplay_id=session.gplay_id,
            provider_id=session.provider_id,
            game_code=session.game_code,
            category=game.category,
            bet=stake if grant is None else ZERO,
            created_at=now,
            free=grant is not None,
            call_id=call_id if grant is None else 0,
            fr_id=grant.fr_id if grant is not None else "",
        )
        wallet = self._wallet_for(agent)
        try:
            wallet.bet(agent, user, round_)  # refused stakes raise here and record nothing
        except Abandoned as abandoned:  # seamless: unclear bet, cancelled forward (6.8)
            round_.status = RoundStatus.REFUNDED
            round_.settled_at = self._clock.now()
            self._record(agent, session, round_)
            raise RoundFailed(round_, abandoned.detail) from abandoned
        try:
            self._settle(agent, user, session, round_, wallet, grant)
        except Exception as exc:
            self._refund(agent, user, round_, wallet, exc)
            raise RoundFailed(
                round_, f"round {round_.round_id} failed before settlement; the stake was refunded"
            ) from exc
        finally:
            self._record(agent, session, round_)
        return round_

    def _settle(
        self,
        agent: Agent,
        user: User,
        session: GameSession,
        round_: Round,
        wallet: Wallet,
        grant: FreeRoundGrant | None = None,
    ) -> None:
        basis = grant.bet if grant is not None else round_.bet  # a free spin pays at the grant's stake
        if not round_.call_id:
            multiplier, win = self._outcome(agent, user, session, round_, basis)
        for effect in self._fault(agent.name, "round:settle"):
            if effect.get("fail"):
                raise RuntimeError("round settlement failed (injected by a round:settle fault rule)")
        payout = self._bonus.pay(agent, round_) if round_.call_id else None
        if payout is not None:
            multiplier, win = Fraction(payout) / Fraction(round_.bet), payout
        elif round_.call_id:  # the call ended between the stake and the settlement
            round_.call_id = 0
            multiplier, win = self._outcome(agent, user, session, round_, basis)
        if grant is not None:
            win = self._free.cap(grant, win)
        round_.win = win
        round_.multiplier = str(multiplier)
        round_.view = round_view(round_.category, round_.game_code, multiplier, self._view_rng(round_))
        try:
            wallet.win(agent, user, round_)
        except Exception:
            if payout is not None:
                self._bonus.unpay(agent, round_, payout)
            if grant is not None:
                self._free.uncap(grant, win)
            raise
        if payout is not None:
            self._bonus.settled(agent, round_)
        if round_.status == RoundStatus.PENDING:  # a seamless win may still be on its retries
            round_.status = RoundStatus.SETTLED
        round_.settled_at = self._clock.now()

    def _outcome(
        self, agent: Agent, user: User, session: GameSession, round_: Round, basis: Decimal
    ) -> tuple[Fraction, Decimal]:
        """The multiplier (forced, else drawn at the effective RTP) and the win it pays on ``basis``."""
        multiplier = self._forced.pop(agent.agent_id, user.name)
        if multiplier is None:
            rtp = session.rtp if session.rtp else agent.settings.rtp
            cap = agent.settings.max_win / basis if agent.settings.max_win > 0 else None
            outcome = self._engine.draw(
                (agent.agent_id,),
                round_.provider_id,
                round_.game_code,
                round_.category,
                rtp,
                Fraction(cap) if cap is not None else None,
            )
            multiplier = outcome.multiplier
        win = (basis * Decimal(multiplier.numerator) / Decimal(multiplier.denominator)).quantize(
            FOUR_PLACES, rounding=ROUND_HALF_EVEN
        )
        if agent.settings.max_win > 0:
            win = min(win, agent.settings.max_win)
        return multiplier, win

    def _refund(self, agent: Agent, user: User, round_: Round, wallet: Wallet, cause: Exception) -> None:
        log.warning("round %s failed (%s); refunding the stake with BetCancel", round_.round_id, cause)
        round_.win = ZERO
        wallet.refund(agent, user, round_)
        round_.status = RoundStatus.REFUNDED
        round_.settled_at = self._clock.now()

    def _view_rng(self, round_: Round) -> random.Random:
        digest = hashlib.sha256(f"{self._seed}:{round_.round_id}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def _record(self, agent: Agent, session: GameSession, round_: Round) -> None:
        """Round record (30 days), statistics row (90 days) and the session's figures."""
        self._store.record_round(round_, self._clock.now(), RECENT_ROUNDS)

    def refresh_balance(self, session: GameSession) -> Decimal | None:
        """The game asks its wallet for the balance (on session open, 6.5)."""
        agent = _known(self._store.agent(session.agent_id))
        user = _known(self._store.user(session.user_code))
        return self._wallet_for(agent).refresh(agent, user)

    def balance_of(self, agent: Agent, user: User) -> Decimal:
        """The balance the game shows, from the agent's wallet."""
        return self._wallet_for(agent).balance(agent, user)

    def recent(self, session: GameSession) -> list[Round]:
        found = (self._store.round(session.agent_id, r) for r in reversed(session.round_ids))
        return [round_ for round_ in found if round_ is not None]


def _known(record: T | None) -> T:
    """A record a live session refers to (its agent, its user): they are never deleted."""
    if record is None:
        raise LookupError("a game session refers to a record the store does not hold")
    return record
