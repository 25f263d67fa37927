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
from ..store import MemoryStore
from .models import TRANSFER, Agent, PointTransaction, Transaction, TransType, User


@dataclass(frozen=True)
class PlayRef:
    """Which round a movement belongs to (the history's round_id, provider_id, game_code)."""

    round_id: str
    provider_id: int
    game_code: str

    def __iter__(self):
        return iter((self.round_id, self.provider_id, self.game_code))


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
    def __init__(self, store: MemoryStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    # -- agent points ----------------------------------------------------
    def issue_points(self, agent: Agent, amount: Decimal) -> PointTransaction:
        """Create points for a root broker: the only way points enter the system."""
        _require_positive(amount)
        with self._store.locked(agent.agent_id):
            agent.points += amount
            return self._record_points("issue", None, agent, amount)

    def move_points(self, source: Agent, target: Agent, amount: Decimal, kind: str) -> PointTransaction:
        """Move points between two agents; ``POINT_NOT_ENOUGH`` if the source is short."""
        _require_positive(amount)
        with self._store.locked(source.agent_id, target.agent_id):
            if source.points < amount:
                raise SimError(
                    ResultCode.POINT_NOT_ENOUGH,
                    f"agent {source.name} has {plain(source.points)} points, {plain(amount)} needed",
                )
            source.points -= amount
            target.points += amount
            return self._record_points(kind, source, target, amount)

    def _record_points(
        self, kind: str, source: Agent | None, target: Agent, amount: Decimal
    ) -> PointTransaction:
        ptx = PointTransaction(
            point_trans_id=self._store.next_point_trans_id(),
            kind=kind,
            from_agent_id=source.agent_id if source else None,
            to_agent_id=target.agent_id,
            amount=amount,
            from_points=source.points if source else None,
            to_points=target.points,
            created_at=self._clock.now(),
        )
        self._store.append_point_transaction(ptx)
        return ptx

    # -- transfer-mode wallet (spec 5.6-5.8) -------------------------------
    def deposit(self, agent: Agent, user: User, amount: Decimal) -> Transaction:
        """Agent points -> user balance, recorded as Deposit (4)."""
        _require_positive(amount)
        with self._store.locked(agent.agent_id):
            if agent.points < amount:
                raise SimError(
                    ResultCode.POINT_NOT_ENOUGH,
                    f"agent {agent.name} has {plain(agent.points)} points, deposit needs {plain(amount)}",
                )
            agent.points -= amount
            return self._move_balance(user, TransType.DEPOSIT, amount)

    def withdraw(self, agent: Agent, user: User, amount: Decimal) -> Transaction:
        """User balance -> agent points, recorded as Withdraw (8)."""
        _require_positive(amount)
        with self._store.locked(agent.agent_id):
            if user.balance < amount:
                raise SimError(
                    ResultCode.BALANCE_NOT_ENOUGH,
                    f"user {user.user_code} has a balance of {plain(user.balance)}, "
                    f"withdrawal needs {plain(amount)}",
                )
            agent.points += amount
            return self._move_balance(user, TransType.WITHDRAW, -amount)

    def withdraw_all(self, agent: Agent, user: User) -> tuple[Decimal, Transaction | None]:
        """Withdraw the whole balance; a zero balance records nothing (spec 5.8)."""
        with self._store.locked(agent.agent_id):
            amount = user.balance
            if amount <= ZERO:
                return ZERO, None
            agent.points += amount
            return amount, self._move_balance(user, TransType.WITHDRAW, -amount)

    # -- rounds in transfer mode (spec 7) ---------------------------------------
    def bet(self, agent: Agent, user: User, amount: Decimal, ref: PlayRef) -> Transaction:
        """Take a stake: Bet (1).  ``BALANCE_NOT_ENOUGH`` records nothing."""
        with self._store.locked(agent.agent_id):
            if user.balance < amount:
                raise SimError(
                    ResultCode.BALANCE_NOT_ENOUGH,
                    f"user {user.user_code} has a balance of {plain(user.balance)}, "
                    f"the stake is {plain(amount)}",
                )
            self._store.house_net[agent.agent_id] += amount
            return self._move_balance(user, TransType.BET, -amount, ref)

    def win(self, agent: Agent, user: User, amount: Decimal, ref: PlayRef) -> Transaction:
        """Settle a round: Win (2), also for 0."""
        with self._store.locked(agent.agent_id):
            self._store.house_net[agent.agent_id] -= amount
            return self._move_balance(user, TransType.WIN, amount, ref)

    def bonus_call_win(self, agent: Agent, user: User, amount: Decimal, ref: PlayRef) -> Transaction:
        """Settle a round paid by a bonus call: BonusCall (32) instead of Win (2) (spec 8).

        The house pays it, as it pays a Win; the points the call holds are not spent.
        """
        with self._store.locked(agent.agent_id):
            self._store.house_net[agent.agent_id] -= amount
            return self._move_balance(user, TransType.BONUS_CALL, amount, ref)

    def bet_cancel(self, agent: Agent, user: User, amount: Decimal, ref: PlayRef) -> Transaction:
        """Refund the stake of a round that failed between bet and settlement: BetCancel (16)."""
        with self._store.locked(agent.agent_id):
            self._store.house_net[agent.agent_id] -= amount
            return self._move_balance(user, TransType.BET_CANCEL, amount, ref)

    # -- bonus-call funding (spec 8) -------------------------------------------------
    def hold_call_points(self, agent: Agent, amount: Decimal) -> PointTransaction:
        """Take a bonus call's ``set_point`` from the agent's points and hold it; 2005 if short."""
        _require_positive(amount)
        with self._store.locked(agent.agent_id):
            if agent.points < amount:
                raise SimError(
                    ResultCode.POINT_NOT_ENOUGH,
                    f"agent {agent.name} has {plain(agent.points)} points, the call needs {plain(amount)}",
                )
            agent.points -= amount
            self._store.held_points[agent.agent_id] += amount
            return self._record_points("call_hold", agent, agent, amount)

    def return_call_points(self, agent: Agent, amount: Decimal) -> PointTransaction:
        """Give a finished (completed or cancelled) bonus call's whole ``set_point`` back."""
        with self._store.locked(agent.agent_id):
            self._store.held_points[agent.agent_id] -= amount
            agent.points += amount
            return self._record_points("call_return", agent, agent, amount)

    # -- seamless mode (spec 6.11, OP-3) ---------------------------------------------
    def take_points(self, agent: Agent, amount: Decimal, why: str) -> None:
        """OP-3: an accepted seamless bet (or a clawed-back win) moves points to the house.

        Taken *before* the bet callback (a reservation, given back if the bet is
        refused), so a bet the points cannot cover is refused before any callback.
        """
        with self._store.locked(agent.agent_id):
            if agent.points < amount:
                raise SimError(
                    ResultCode.POINT_NOT_ENOUGH,
                    f"agent {agent.name} has {plain(agent.points)} points, {why} needs {plain(amount)}",
                )
            agent.points -= amount
            self._store.house_net[agent.agent_id] += amount

    def give_points(self, agent: Agent, amount: Decimal) -> None:
        """OP-3: an accepted seamless win, or a cancelled bet, gives points back."""
        with self._store.locked(agent.agent_id):
            agent.points += amount
            self._store.house_net[agent.agent_id] -= amount

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
        history id before the row exists.
        """
        with self._store.locked(agent.agent_id):
            tx = Transaction(
                trans_id=trans_id if trans_id is not None else self._store.next_trans_id(),
                agent_id=agent.agent_id,
                user_code=user.user_code,
                trans_type=int(trans_type),
                trans_amount=amount,
                prebalance=prebalance,
                balance=balance,
                created_at=self._clock.now(),
            )
            tx.round_id, tx.provider_id, tx.game_code = ref
            self._store.insert_transaction(tx)
            user.last_balance = balance
            return tx

    def _move_balance(
        self, user: User, trans_type: TransType, signed: Decimal, ref: PlayRef | None = None
    ) -> Transaction:
        """Change a balance and record it; the caller holds the agent's lock."""
        prebalance = user.balance
        user.balance = prebalance + signed
        tx = Transaction(
            trans_id=self._store.next_trans_id(),
            agent_id=user.agent_id,
            user_code=user.user_code,
            trans_type=int(trans_type),
            trans_amount=abs(signed),
            prebalance=prebalance,
            balance=user.balance,
            created_at=self._clock.now(),
        )
        if ref is not None:
            tx.round_id, tx.provider_id, tx.game_code = ref
        self._store.append_transaction(tx)
        return tx

    # -- invariant -----------------------------------------------------------
    def audit(self) -> Audit:
        """Check conservation over the whole store (takes every agent lock)."""
        store = self._store
        with store.locked(*store.agents):
            issued = sum((p.amount for p in store.point_transactions if p.kind == "issue"), ZERO)
            points = sum((a.points for a in store.agents.values()), ZERO)
            transfer_users = [u for u in store.users.values() if u.mode == TRANSFER]
            balances = sum((u.balance for u in transfer_users), ZERO)
            house = sum(store.house_net.values(), ZERO)
            held = sum(store.held_points.values(), ZERO)
            # Rows purged by retention (spec 10) still count towards the balance they built.
            movements: dict[int, Decimal] = dict(store.purged_movement)
            for rows in store.transactions.values():
                for tx in rows:
                    movements[tx.user_code] = movements.get(tx.user_code, ZERO) + (tx.balance - tx.prebalance)
            mismatched = tuple(
                u.user_code for u in transfer_users if movements.get(u.user_code, ZERO) != u.balance
            )
        return Audit(issued, points, balances, house, mismatched, held)


def _require_positive(amount: Decimal) -> None:
    if amount <= ZERO:
        raise SimError.validation("amount", "[amount] must be greater than 0")
