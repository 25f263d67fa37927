"""Bonus calls: an operator hands a player of a running game a chosen amount of winnings (spec 5.15-5.17, 8).

Funding: ``call_start`` takes ``set_point`` from the agent's points and holds
it (a ``call_hold`` point movement); when the call ends - Complete or Cancel -
the whole ``set_point`` goes back (``call_return``), so the points are
unchanged overall.  The winnings themselves are paid like any round's win, by
the house, and settled as BonusCall (32) instead of Win (2); in seamless mode
they never touch the points (OP-3).

Steering rule (the spec leaves it open): every paid spin of the session while
its call is Init or Running is a bonus spin.  The engine is not consulted (nor
a queued forced outcome); the spin pays

    min(set_point - paid so far, STEER_MULTIPLE x stake, agent's max_win if set)

so a call completes in ``ceil(set_point / (10 x stake))`` spins, and the last
payout is cut so that ``call_win`` equals ``set_point`` exactly.  The player's
stake is taken as usual and counts toward the RTP figures.  Free-round spins
(spec 9) are not steered: they pay from their grant.

Status: 0 Init at start, 1 Running from the first spin under the call, 2
Complete when fully paid, 3 Cancel through ``call_cancel`` (what was paid stays
paid).  A call whose session has been idle for more than 30 minutes (the
``online-games`` window), or whose session ended, is cancelled automatically -
a simulator choice - checked lazily whenever calls are read or started and
before each spin of that session, using the controlled clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..clock import Clock
from ..codes import ResultCode, SimError
from ..money import ZERO, plain
from .catalogue import Catalogue
from .enums import CallStatus
from .models import Agent, BonusCall, GameSession, Round
from .sessions import ONLINE_WINDOW
from .store import CallRunning, Seq, Shortfall, Store

#: A bonus spin pays at most this many times its stake.
STEER_MULTIPLE = 10
#: ``memo`` is stored up to this many characters (spec 5.16).
MEMO_LIMIT = 200


@dataclass(frozen=True)
class CallSummary:
    """The bonus-call fields of an ``online-games`` row (spec 5.13)."""

    call_win: Decimal = ZERO
    call_id: int = 0
    callend_flag: bool = False
    call_status: CallStatus = CallStatus.INIT


class BonusCalls:
    def __init__(self, store: Store, clock: Clock, catalogue: Catalogue) -> None:
        self._store = store
        self._clock = clock
        self._catalogue = catalogue

    # -- 5.15 / 5.16 / 5.17 ----------------------------------------------------------
    @staticmethod
    def call_min(agent: Agent) -> Decimal:
        return agent.settings.call_min

    def start(
        self,
        agent: Agent,
        gplay_id: int,
        set_point: Decimal,
        call_type: int | None = None,
        memo: str | None = None,
    ) -> BonusCall:
        """Checks in the order of spec 5.16 (1010, 1002 set_point, 2011, 1012, 2005), then hold points."""
        if not agent.settings.bonus_call_enabled:
            raise SimError(ResultCode.PERMISSION_ERROR, f"bonus calls are disabled for agent {agent.name}")
        self.expire_idle(agent)
        store = self._store
        session = store.session(gplay_id)
        if session is None or session.agent_id != agent.agent_id:
            raise SimError(ResultCode.PERMISSION_ERROR, f"no game session {gplay_id} of agent {agent.name}")
        if not self._online(session):
            raise SimError(ResultCode.PERMISSION_ERROR, f"game session {gplay_id} is no longer online")
        game = self._catalogue.game(session.provider_id, session.game_code)
        if game is None or game.category == "Live":
            raise SimError(
                ResultCode.PERMISSION_ERROR, f"game session {gplay_id} does not accept bonus calls"
            )
        if set_point <= 0:  # after the session, as the live service answers (issue 15)
            raise SimError.validation("set_point", "[set_point] must be greater than 0")
        running = self._open_call(session)
        if running is not None:
            raise _double(running.call_id, gplay_id)
        if set_point < agent.settings.call_min:
            raise SimError(
                ResultCode.PARAMETERS_INVALID,
                f"set_point {plain(set_point)} is below call_min {plain(agent.settings.call_min)}",
            )
        now = self._clock.now()
        call = BonusCall(
            call_id=store.next_id(Seq.CALL),
            agent_id=agent.agent_id,
            gplay_id=session.gplay_id,
            user_code=session.user_code,
            set_point=set_point,
            type=call_type,
            memo=memo[:MEMO_LIMIT] if memo is not None else None,
            created_at=now,
        )
        try:
            return store.open_bonus_call(call, now)
        except CallRunning as running_now:  # opened by a concurrent request meanwhile
            raise _double(running_now.call_id, gplay_id) from None
        except Shortfall as short:
            raise SimError(
                ResultCode.POINT_NOT_ENOUGH,
                f"agent {agent.name} has {plain(short.have)} points, set_point is {plain(set_point)}",
            ) from None

    def cancel(self, agent: Agent, call_id: int) -> BonusCall:
        """1005 unknown, 1010 another agent's, 2012 already Complete or Cancel (spec 5.17)."""
        call = self._store.bonus_call(call_id)
        if call is None:
            raise SimError(ResultCode.RESOURCE_NOT_FOUND, f"no bonus call {call_id}")
        if call.agent_id != agent.agent_id:
            raise SimError(ResultCode.PERMISSION_ERROR, f"bonus call {call_id} belongs to another agent")
        self.expire_idle(agent)
        if not self._store.end_bonus_call(call_id, CallStatus.CANCEL, self._clock.now()):
            ended = self._store.bonus_call(call_id) or call
            state = "completed" if ended.status == CallStatus.COMPLETE else "cancelled"
            raise SimError(ResultCode.BONUSCALL_ALEADY_ENDED, f"bonus call {call_id} was already {state}")
        return self._store.bonus_call(call_id) or call

    # -- reads ---------------------------------------------------------------------------
    def expire_idle(self, agent: Agent) -> int:
        """Cancel (status 3) the agent's open calls whose session is no longer online; how many."""
        store = self._store
        cancelled = 0
        for call in store.bonus_calls_of(agent.agent_id):
            if call.open:
                session = store.session(call.gplay_id)
                if (session is None or not self._online(session)) and self._end(call, CallStatus.CANCEL):
                    cancelled += 1
        return cancelled

    def summary(self, session: GameSession) -> CallSummary:
        """``call_win`` (every call of the session), then the latest call's id, end flag and status."""
        calls = self._store.bonus_calls_of_session(session.gplay_id)
        if not calls:
            return CallSummary()
        latest = max(calls, key=lambda c: c.call_id)
        return CallSummary(
            call_win=sum((c.paid for c in calls), ZERO),
            call_id=latest.call_id,
            callend_flag=not latest.open,
            call_status=latest.status,
        )

    # -- steering, used by Rounds ----------------------------------------------------------
    def current(self, session: GameSession) -> int:
        """The call a new spin of this session plays under, 0 if none.

        Called before the spin updates the session's activity, so a call left
        idle for more than 30 minutes is cancelled here instead of resuming.
        """
        call = self._open_call(session)
        if call is None:
            return 0
        if not self._online(session):
            self._end(call, CallStatus.CANCEL)
            return 0
        return call.call_id

    def pay(self, agent: Agent, round_: Round) -> Decimal | None:
        """Reserve this spin's payout (see the module's steering rule); None if the call has ended."""
        return self._store.pay_bonus_call(round_.call_id, round_.bet * STEER_MULTIPLE, agent.settings.max_win)

    def settled(self, agent: Agent, round_: Round) -> None:
        """After the payout was settled: a fully paid call is Complete and its points go back."""
        self._store.complete_bonus_call(round_.call_id, self._clock.now())

    def unpay(self, agent: Agent, round_: Round, payout: Decimal) -> None:
        """The spin failed before its payout was settled: the reservation is dropped."""
        self._store.unpay_bonus_call(round_.call_id, payout)

    # -- helpers -------------------------------------------------------------------------
    def _online(self, session: GameSession) -> bool:
        """Listed by ``online-games``: not ended, activity within the last 30 minutes (5.13)."""
        return not session.ended and session.last_update >= self._clock.now() - ONLINE_WINDOW

    def _open_call(self, session: GameSession) -> BonusCall | None:
        return next((c for c in self._store.bonus_calls_of_session(session.gplay_id) if c.open), None)

    def _end(self, call: BonusCall, status: CallStatus) -> bool:
        """Complete or Cancel; the whole ``set_point`` returns to the points.  False if it had ended."""
        return self._store.end_bonus_call(call.call_id, status, self._clock.now())


def _double(call_id: int, gplay_id: int) -> SimError:
    return SimError(
        ResultCode.BONUSCALL_DOUBLE, f"bonus call {call_id} is already running on game session {gplay_id}"
    )
