"""The ledger: the only place where agent points and user balances change.

Every change happens under the owning agents' locks and leaves a record: a
:class:`Transaction` for user balances (spec section 7: Deposit 4, Withdraw 8,
...) or a :class:`PointTransaction` for points moving between agents.  Points
enter the system only by ``issue`` to a root broker, so the conservation
invariant is::

    sum(agent points) + held points + sum(transfer-mode user balances) + house result
        == sum(issued points)

where the house result is what play moved out of balances (stakes minus wins,
bonus-call wins and refunds), and held points are what running bonus calls
took from their agents' points (spec 8).
:meth:`Ledger.audit` checks it, together with each user's history arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..clock import Clock
from ..codes import ResultCode, SimError
from ..money import ZERO, plain
from .enums import PointKind
from .models import Agent, PointTransaction, Transaction, TransType, User
from .store import NotOwned, Owner, PlayRef, Shortfall, Store
from .users import check_owner

__all__ = ["Audit", "Ledger", "PlayRef"]


@dataclass(frozen=True)
class Audit:
    issued: Decimal
    points: Decimal
    balances: Decimal
    #: The platform's net result of play (stakes minus wins and refunds).
    house: Decimal
    #: user_codes whose balance differs from the sum of their recorded movements.
    mismatched_users: tuple[int, ...]
    #: Points held by bonus calls that have not ended (spec 8).
    held: Decimal = ZERO

    @property
    def conserved(self) -> bool:
        total = self.points + self.held + self.balances + self.house
        return total == self.issued and not self.mismatched_users


class Ledger:
    """The money rules over the store's atomic movements: amounts checked, shortfalls named."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    # -- agent points ----------------------------------------------------
    def issue_points(self, agent: Agent, amount: Decimal) -> PointTransaction:
        """Create points for a root broker: the only way points enter the system."""
        _require_positive(amount)
        return self._store.issue_points(agent.agent_id, amount, self._clock.now())

    def move_points(self, source: Agent, target: Agent, amount: Decimal, kind: PointKind) -> PointTransaction:
        """Move points between two agents; ``POINT_NOT_ENOUGH`` if the source is short."""
        _require_positive(amount)
        try:
            return self._store.move_points(kind, source.agent_id, target.agent_id, amount, self._clock.now())
        except Shortfall as short:
            raise _points_short(source, short, f"{plain(amount)} needed") from None

    # -- transfer-mode wallet (spec 5.6-5.8) -------------------------------
    def balance_of(self, user: User) -> Decimal:
        """The user's balance now (``user`` may have been read before the last movement)."""
        current = self._store.user(user.user_code)
        return (current or user).balance

    def deposit(self, agent: Agent, user: User, amount: Decimal) -> Transaction:
        """Agent points -> user balance, recorded as Deposit (4)."""
        return self._deposit(agent, user.user_code, amount, None)

    def withdraw(self, agent: Agent, user: User, amount: Decimal) -> Transaction:
        """User balance -> agent points, recorded as Withdraw (8)."""
        return self._withdraw(agent, user.user_code, amount, None)

    def withdraw_all(self, agent: Agent, user: User) -> tuple[Decimal, Transaction | None]:
        """Withdraw the whole balance; a zero balance records nothing (spec 5.8)."""
        return self._withdraw_all(agent, user.user_code, None)

    # -- the same, for a user known by its code (the wallet API: one step to check and move) ----
    def deposit_to(self, agent: Agent, user_code: int, amount: Decimal) -> Transaction:
        """:meth:`deposit` to the agent's user ``user_code``; its 2002/1010 as :func:`check_owner` says."""
        return self._deposit(agent, user_code, amount, _owner(agent))

    def withdraw_from(self, agent: Agent, user_code: int, amount: Decimal) -> Transaction:
        """:meth:`withdraw` from the agent's user ``user_code``."""
        return self._withdraw(agent, user_code, amount, _owner(agent))

    def withdraw_all_from(self, agent: Agent, user_code: int) -> tuple[Decimal, Transaction | None]:
        """:meth:`withdraw_all` of the agent's user ``user_code``."""
        return self._withdraw_all(agent, user_code, _owner(agent))

    def _deposit(self, agent: Agent, user_code: int, amount: Decimal, owner: Owner | None) -> Transaction:
        _require_positive(amount)
        try:
            return self._store.move_balance(
                user_code, TransType.DEPOSIT, amount, self._clock.now(), points=-amount, owner=owner
            )
        except NotOwned as wrong:
            raise _not_owned(agent, user_code, wrong) from None
        except Shortfall as short:
            raise _points_short(agent, short, f"deposit needs {plain(amount)}") from None

    def _withdraw(self, agent: Agent, user_code: int, amount: Decimal, owner: Owner | None) -> Transaction:
        _require_positive(amount)
        try:
            return self._store.move_balance(
                user_code, TransType.WITHDRAW, -amount, self._clock.now(), points=amount, owner=owner
            )
        except NotOwned as wrong:
            raise _not_owned(agent, user_code, wrong) from None
        except Shortfall as short:
            raise _balance_short(user_code, short, f"withdrawal needs {plain(amount)}") from None

    def _withdraw_all(
        self, agent: Agent, user_code: int, owner: Owner | None
    ) -> tuple[Decimal, Transaction | None]:
        try:
            tx = self._store.withdraw_all(user_code, self._clock.now(), owner=owner)
        except NotOwned as wrong:
            raise _not_owned(agent, user_code, wrong) from None
        return (tx.trans_amount, tx) if tx is not None else (ZERO, None)

    # -- rounds in transfer mode (spec 7) ---------------------------------------
    def bet(self, agent: Agent, user: User, amount: Decimal, ref: PlayRef) -> Transaction:
        """Take a stake: Bet (1).  ``BALANCE_NOT_ENOUGH`` records nothing."""
        try:
            return self._play(user, TransType.BET, -amount, ref)
        except Shortfall as short:
            raise _balance_short(user.user_code, short, f"the stake is {plain(amount)}") from None

    def win(self, agent: Agent, user: User, amount: Decimal, ref: PlayRef) -> Transaction:
        """Settle a round: Win (2), also for 0."""
        return self._play(user, TransType.WIN, amount, ref)

    def bonus_call_win(self, agent: Agent, user: User, amount: Decimal, ref: PlayRef) -> Transaction:
        """Settle a round paid by a bonus call: BonusCall (32) instead of Win (2) (spec 8).

        The house pays it, as it pays a Win; the points the call holds are not spent.
        """
        return self._play(user, TransType.BONUS_CALL, amount, ref)

    def bet_cancel(self, agent: Agent, user: User, amount: Decimal, ref: PlayRef) -> Transaction:
        """Refund the stake of a round that failed between bet and settlement: BetCancel (16)."""
        return self._play(user, TransType.BET_CANCEL, amount, ref)

    def _play(self, user: User, trans_type: TransType, change: Decimal, ref: PlayRef) -> Transaction:
        """A play movement: the balance changes and the house takes the opposite."""
        return self._store.move_balance(
            user.user_code, trans_type, change, self._clock.now(), house=-change, ref=ref
        )

    # -- seamless mode (spec 6.11, OP-3) ---------------------------------------------
    def take_points(self, agent: Agent, amount: Decimal, why: str) -> None:
        """OP-3: an accepted seamless bet (or a clawed-back win) moves points to the house.

        Taken *before* the bet callback (a reservation, given back if the bet is
        refused), so a bet the points cannot cover is refused before any callback.
        """
        try:
            self._store.move_house(agent.agent_id, -amount)
        except Shortfall as short:
            raise _points_short(agent, short, f"{why} needs {plain(amount)}") from None

    def give_points(self, agent: Agent, amount: Decimal) -> None:
        """OP-3: an accepted seamless win, or a cancelled bet, gives points back."""
        self._store.move_house(agent.agent_id, amount)

    def record_seamless(
        self,
        agent: Agent,
        user: User,
        trans_type: TransType,
        amount: Decimal,
        prebalance: Decimal,
        balance: Decimal,
        ref: PlayRef,
        trans_id: int | None = None,
    ) -> Transaction:
        """A history row for seamless play: balances as the integrator reported them (6.11).

        The player's money is in the integrator's wallet, so no platform balance
        changes; the row records what happened and ``last_balance`` follows it.
        ``trans_id`` is given in the ``legacy`` dialect, whose callbacks carry the
        history id before the row exists (reserved with :meth:`reserve_trans_id`).
        """
        row = Transaction(
            trans_id=trans_id or 0,
            agent_id=agent.agent_id,
            user_code=user.user_code,
            trans_type=int(trans_type),
            trans_amount=amount,
            prebalance=prebalance,
            balance=balance,
            created_at=self._clock.now(),
            round_id=ref.round_id,
            provider_id=ref.provider_id,
            game_code=ref.game_code,
        )
        return self._store.record_row(row, last_balance=balance)

    def reserve_trans_id(self, agent: Agent) -> int:
        """A history id for a ``legacy`` callback, handed out before its row (see the store)."""
        return self._store.reserve_trans_id(agent.agent_id, self._clock.now())

    def release_trans_id(self, agent: Agent, trans_id: int) -> None:
        self._store.release_trans_id(agent.agent_id, trans_id)

    # -- invariant -----------------------------------------------------------
    def audit(self) -> Audit:
        """Check conservation over the whole store."""
        totals = self._store.money_totals()
        mismatched = tuple(
            code for code, balance in totals.balances.items() if totals.movements.get(code, ZERO) != balance
        )
        return Audit(
            totals.issued,
            totals.points,
            sum(totals.balances.values(), ZERO),
            totals.house,
            mismatched,
            totals.held,
        )


def _points_short(agent: Agent, short: Shortfall, need: str) -> SimError:
    return SimError(ResultCode.POINT_NOT_ENOUGH, f"agent {agent.name} has {plain(short.have)} points, {need}")


def _balance_short(code: int, short: Shortfall, need: str) -> SimError:
    have = plain(short.have)
    return SimError(ResultCode.BALANCE_NOT_ENOUGH, f"user {code} has a balance of {have}, {need}")


def _owner(agent: Agent) -> Owner:
    return agent.agent_id, agent.mode


def _not_owned(agent: Agent, user_code: int, wrong: NotOwned) -> SimError:
    try:
        check_owner(agent, user_code, wrong.user)
    except SimError as error:
        return error
    raise AssertionError("the store refused a user the domain accepts")  # pragma: no cover


def _require_positive(amount: Decimal) -> None:
    if amount <= ZERO:
        raise SimError.validation("amount", "[amount] must be greater than 0")
