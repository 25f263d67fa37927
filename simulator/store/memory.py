"""The in-memory store: every piece of simulator state in one process, plus its locks.

It implements :class:`~simulator.domain.store.Store` with plain dicts and
deques.  Each operation takes the lock of the agent it concerns (two agents'
locks, in id order, for a points transfer), so every operation is atomic and
there is no deadlock; nobody holds a lock while waiting on the network.
Records are handed out as they are held - no copy on the read path - and the
domain changes them only through the operations.

A snapshot must never see a round half-played - the stake taken but the round
not yet recorded - so multi-step operations run inside
:meth:`MemoryStore.activity` and a snapshot waits in
:meth:`MemoryStore.quiesced` until none is running (and lets no new one start).
"""

from __future__ import annotations

import bisect
import copy
import dataclasses
import itertools
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..domain.enums import CallStatus, PointKind, RoundStatus, WalletMode
from ..domain.models import (
    Agent,
    AgentSettings,
    BonusCall,
    FreeRoundGrant,
    GameSession,
    LaunchToken,
    PointTransaction,
    Round,
    RoundStat,
    Transaction,
    TransType,
    User,
)
from ..domain.store import (
    FIRST_IDS,
    ZERO,
    CallRunning,
    MoneyTotals,
    NotOwned,
    Owner,
    Page,
    PlayRef,
    Purged,
    Retention,
    Seq,
    Shortfall,
    Store,
    StoreState,
    regdate_instant,
    secret_key,
)

#: Bonus-call statuses of a call that has not ended (spec 8).
_OPEN_CALL = (CallStatus.INIT, CallStatus.RUNNING)


class Sequence:
    """A thread-safe id counter whose position can be read and set (snapshots keep it)."""

    def __init__(self, start: int) -> None:
        self._lock = threading.Lock()
        self._next = start

    def next(self) -> int:
        with self._lock:
            value = self._next
            self._next += 1
            return value

    def peek(self) -> int:
        """The id the next call of :meth:`next` hands out."""
        with self._lock:
            return self._next

    def set(self, value: int) -> None:
        with self._lock:
            self._next = value


class ActivityGate:
    """Many activities at once, or one quiet period with none (a writer-preferring RW lock).

    Activities are re-entrant per thread, so a round that runs another
    activity inside itself cannot block behind a waiting snapshot.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._active = 0
        self._quiet = False
        self._waiting_quiet = 0
        self._mine = threading.local()

    @contextmanager
    def activity(self) -> Iterator[None]:
        depth = getattr(self._mine, "depth", 0)
        if depth == 0:
            with self._cond:
                while self._quiet or self._waiting_quiet:
                    self._cond.wait()
                self._active += 1
        self._mine.depth = depth + 1
        try:
            yield
        finally:
            self._mine.depth = depth
            if depth == 0:
                with self._cond:
                    self._active -= 1
                    if not self._active:
                        self._cond.notify_all()

    @contextmanager
    def quiet(self, timeout: float | None = None) -> Iterator[None]:
        """Wait until no activity runs (new ones wait meanwhile); ``TimeoutError`` after ``timeout`` s."""
        if getattr(self._mine, "depth", 0):
            raise RuntimeError("a quiet period cannot start inside an activity of the same thread")
        with self._cond:
            self._waiting_quiet += 1
            try:
                if not self._cond.wait_for(lambda: not (self._quiet or self._active), timeout):
                    raise TimeoutError(f"{self._active} operation(s) still running after {timeout} s")
            finally:
                self._waiting_quiet -= 1
                self._cond.notify_all()
            self._quiet = True
        try:
            yield
        finally:
            with self._cond:
                self._quiet = False
                self._cond.notify_all()


class MemoryStore(Store):
    """The state of one process (see the module docstring)."""

    def __init__(self) -> None:
        self._meta = threading.RLock()
        self._agent_locks: dict[int, threading.RLock] = {}
        self.agents: dict[int, Agent] = {}
        self._agents_by_name: dict[str, int] = {}
        #: API token digest (:func:`secret_key`) -> agent_id.
        self._agents_by_token: dict[bytes, int] = {}
        self.users: dict[int, User] = {}
        self._users_by_name: dict[tuple[int, str, str], int] = {}
        self.transactions: dict[int, deque[Transaction]] = {}
        self.point_transactions: list[PointTransaction] = []
        self._ids = {seq: Sequence(first) for seq, first in FIRST_IDS.items()}
        #: Launch token digest (:func:`secret_key`) -> the one-time launch.
        self.launch_tokens: dict[bytes, LaunchToken] = {}
        self.sessions: dict[int, GameSession] = {}
        #: Session secret digest (:func:`secret_key`) -> gplay_id.
        self._sessions_by_secret: dict[bytes, int] = {}
        #: Per agent, round_id -> Round, oldest first (kept 30 days).
        self.rounds: dict[int, dict[str, Round]] = {}
        #: Per agent, round summaries oldest first (kept 90 days).
        self.round_stats: dict[int, deque[RoundStat]] = {}
        #: Per agent, the platform's net result of play: stakes taken minus wins and refunds.
        self.house_net: dict[int, Decimal] = {}
        #: Per user, the sum of (balance - prebalance) over history rows purged by retention (spec 10).
        self.purged_movement: dict[int, Decimal] = {}
        #: Per agent, when each history poll was last admitted: key -> clock timestamp (OP-7).
        self.poll_marks: dict[int, dict[Any, float]] = {}
        #: Bonus calls by call_id (spec 8), and per agent the points they hold.
        self.bonus_calls: dict[int, BonusCall] = {}
        self.held_points: dict[int, Decimal] = {}
        #: Free-round grants by fr_id, oldest first (spec 9).
        self.free_rounds: dict[str, FreeRoundGrant] = {}
        self._free_rounds_by_user: dict[int, list[FreeRoundGrant]] = {}
        #: Per agent, trans_ids handed out before their rows exist -> when (see ``reserve_trans_id``).
        self._reserved: dict[int, dict[int, datetime]] = {}
        #: Per shared RTP stream, the position of its next card (see ``next_card``).
        self.cards: dict[str, int] = {}
        self._cards_lock = threading.Lock()

        self._gate = ActivityGate()

    # -- locking ---------------------------------------------------------
    def _lock_of(self, agent_id: int) -> threading.RLock:
        lock = self._agent_locks.get(agent_id)
        if lock is None:
            with self._meta:
                lock = self._agent_locks.setdefault(agent_id, threading.RLock())
        return lock

    @contextmanager
    def locked(self, *agent_ids: int) -> Iterator[None]:
        """Hold the locks of these agents, taken in id order (the store's own operations only)."""
        with ExitStack() as stack:
            for agent_id in sorted(set(agent_ids)):
                stack.enter_context(self._lock_of(agent_id))
            yield

    def activity(self) -> AbstractContextManager[None]:
        return self._gate.activity()

    @contextmanager
    def quiesced(self, timeout: float | None = None) -> Iterator[None]:
        """No activity running or starting, and every lock held: the state is consistent."""
        with self._gate.quiet(timeout), self._all_locked():
            yield

    @contextmanager
    def _all_locked(self) -> Iterator[None]:
        with self.locked(*list(self.agents)), self._meta:
            yield

    # -- ids -------------------------------------------------------------
    def next_id(self, seq: Seq) -> int:
        return self._ids[seq].next()

    def sequences(self) -> dict[str, int]:
        return {seq.value: sequence.peek() for seq, sequence in self._ids.items()}

    # -- agents ----------------------------------------------------------
    def _insert_agent(self, agent: Agent) -> None:
        with self._meta:
            self.agents[agent.agent_id] = agent
            self._agents_by_name[agent.name.lower()] = agent.agent_id
            self._agents_by_token[secret_key(agent.api_token)] = agent.agent_id
            self.transactions[agent.agent_id] = deque()
            self.rounds[agent.agent_id] = {}
            self.round_stats[agent.agent_id] = deque()
            self.poll_marks[agent.agent_id] = {}
            self.house_net.setdefault(agent.agent_id, ZERO)
            self.held_points.setdefault(agent.agent_id, ZERO)

    def add_agent(self, agent: Agent) -> None:
        with self.locked(agent.agent_id):
            self._insert_agent(agent)

    def agent(self, agent_id: int) -> Agent | None:
        return self.agents.get(agent_id)

    def agent_by_name(self, name: str) -> Agent | None:
        agent_id = self._agents_by_name.get(name.lower())
        return None if agent_id is None else self.agents.get(agent_id)

    def agent_by_token(self, token: str) -> Agent | None:
        agent_id = self._agents_by_token.get(secret_key(token))
        return None if agent_id is None else self.agents.get(agent_id)

    def all_agents(self) -> list[Agent]:
        return sorted(self.agents.values(), key=lambda a: a.agent_id)

    def change_settings(self, agent_id: int, changes: dict[str, Any]) -> AgentSettings:
        with self.locked(agent_id):
            agent = self.agents[agent_id]
            settings = copy.copy(agent.settings)
            for name, value in changes.items():
                setattr(settings, name, value)
            agent.settings = settings
            return settings

    def replace_token(self, agent_id: int, token: str) -> None:
        with self.locked(agent_id), self._meta:
            agent = self.agents[agent_id]
            self._agents_by_token.pop(secret_key(agent.api_token), None)
            agent.api_token = token
            self._agents_by_token[secret_key(token)] = agent_id

    # -- users -----------------------------------------------------------
    def _insert_user(self, user: User) -> None:
        with self._meta:
            self.users[user.user_code] = user
            self._users_by_name[(user.agent_id, user.mode, user.name.lower())] = user.user_code

    def add_user(self, user: User) -> tuple[User, bool]:
        with self.locked(user.agent_id):
            existing = self.user_by_name(user.agent_id, user.mode, user.name)
            if existing is not None:
                return existing, False
            self._insert_user(user)
            return user, True

    def user(self, user_code: int) -> User | None:
        return self.users.get(user_code)

    def user_by_name(self, agent_id: int, mode: WalletMode, name: str) -> User | None:
        code = self._users_by_name.get((agent_id, mode, name.lower()))
        return None if code is None else self.users.get(code)

    def users_of(self, agent_id: int) -> list[User]:
        return [u for u in self.users.values() if u.agent_id == agent_id]

    def user_count(self) -> int:
        return len(self.users)

    def set_user_active(self, user_code: int, active: bool) -> None:
        user = self.users[user_code]
        with self.locked(user.agent_id):
            user.active = active

    def set_last_balance(self, user_code: int, balance: Decimal) -> None:
        user = self.users[user_code]
        with self.locked(user.agent_id):
            user.last_balance = balance

    # -- money: points ---------------------------------------------------
    def _point_row(
        self, kind: PointKind, source: Agent | None, target: Agent, amount: Decimal, at: datetime
    ) -> PointTransaction:
        ptx = PointTransaction(
            point_trans_id=self.next_id(Seq.POINT_TRANS),
            kind=kind,
            from_agent_id=source.agent_id if source else None,
            to_agent_id=target.agent_id,
            amount=amount,
            from_points=source.points if source else None,
            to_points=target.points,
            created_at=at,
        )
        with self._meta:
            self.point_transactions.append(ptx)
        return ptx

    def issue_points(self, agent_id: int, amount: Decimal, at: datetime) -> PointTransaction:
        with self.locked(agent_id):
            agent = self.agents[agent_id]
            agent.points += amount
            return self._point_row(PointKind.ISSUE, None, agent, amount, at)

    def move_points(
        self, kind: PointKind, source_id: int, target_id: int, amount: Decimal, at: datetime
    ) -> PointTransaction:
        with self.locked(source_id, target_id):
            source, target = self.agents[source_id], self.agents[target_id]
            if source.points < amount:
                raise Shortfall("points", source.points)
            source.points -= amount
            target.points += amount
            return self._point_row(kind, source, target, amount, at)

    def _hold(self, agent: Agent, amount: Decimal, kind: PointKind, at: datetime) -> None:
        """Points into the agent's held sum (a bonus call's funding, spec 8), or back out of it."""
        agent.points -= amount
        self.held_points[agent.agent_id] += amount
        self._point_row(kind, agent, agent, abs(amount), at)

    def move_house(self, agent_id: int, points: Decimal) -> None:
        with self.locked(agent_id):
            agent = self.agents[agent_id]
            if points < 0 and agent.points < -points:
                raise Shortfall("points", agent.points)
            agent.points += points
            self.house_net[agent_id] -= points

    # -- money: balances and history rows -----------------------------------
    def move_balance(
        self,
        user_code: int,
        trans_type: int,
        change: Decimal,
        at: datetime,
        *,
        points: Decimal = ZERO,
        house: Decimal = ZERO,
        ref: PlayRef | None = None,
        owner: Owner | None = None,
    ) -> Transaction:
        user = self._owned(user_code, owner)
        with self.locked(user.agent_id):
            agent = self.agents[user.agent_id]
            if change < 0 and user.balance < -change:
                raise Shortfall("balance", user.balance)
            if points < 0 and agent.points < -points:
                raise Shortfall("points", agent.points)
            agent.points += points
            self.house_net[agent.agent_id] += house
            return self._balance_row(user, trans_type, change, at, ref)

    def withdraw_all(self, user_code: int, at: datetime, owner: Owner | None = None) -> Transaction | None:
        user = self._owned(user_code, owner)
        with self.locked(user.agent_id):
            amount = user.balance
            if amount <= ZERO:
                return None
            self.agents[user.agent_id].points += amount
            return self._balance_row(user, TransType.WITHDRAW, -amount, at, None)

    def _owned(self, user_code: int, owner: Owner | None) -> User:
        """The user of a movement; :class:`NotOwned` when it is not ``owner``'s (agent, mode)."""
        user = self.users.get(user_code)
        if user is None or (owner is not None and (user.agent_id, user.mode) != owner):
            raise NotOwned(user)
        return user

    def _balance_row(
        self, user: User, trans_type: int, change: Decimal, at: datetime, ref: PlayRef | None
    ) -> Transaction:
        prebalance = user.balance
        user.balance = prebalance + change
        tx = Transaction(
            trans_id=self.next_id(Seq.TRANS),
            agent_id=user.agent_id,
            user_code=user.user_code,
            trans_type=int(trans_type),
            trans_amount=abs(change),
            prebalance=prebalance,
            balance=user.balance,
            created_at=self._row_time(user.agent_id, at),
        )
        if ref is not None:
            tx.round_id, tx.provider_id, tx.game_code = ref.round_id, ref.provider_id, ref.game_code
        self._insert_row(tx)
        return tx

    def _row_time(self, agent_id: int, at: datetime) -> datetime:
        """Never before the agent's latest row: ``regdate`` does not decrease along ``trans_id``
        (a clock set back through the control API would otherwise break the window search)."""
        rows = self.transactions[agent_id]
        reserved = self._reserved.get(agent_id)
        latest = [rows[-1].created_at] if rows else []
        if reserved:
            latest.append(max(reserved.values()))
        return max(at, *latest) if latest else at

    def reserve_trans_id(self, agent_id: int, at: datetime) -> int:
        with self.locked(agent_id):
            trans_id = self.next_id(Seq.TRANS)
            self._reserved.setdefault(agent_id, {})[trans_id] = self._row_time(agent_id, at)
            return trans_id

    def release_trans_id(self, agent_id: int, trans_id: int) -> None:
        with self.locked(agent_id):
            self._reserved.get(agent_id, {}).pop(trans_id, None)

    def record_row(self, row: Transaction, last_balance: Decimal | None = None) -> Transaction:
        with self.locked(row.agent_id):
            reserved = self._reserved.get(row.agent_id, {})
            if row.trans_id:
                row.created_at = reserved.pop(row.trans_id, row.created_at)
            else:
                row.trans_id = self.next_id(Seq.TRANS)
                row.created_at = self._row_time(row.agent_id, row.created_at)
            self._insert_row(row)
            if last_balance is not None:
                self.users[row.user_code].last_balance = last_balance
            return row

    def _insert_row(self, tx: Transaction) -> None:
        """Append, or insert in trans_id order when the id was handed out earlier (a reservation)."""
        rows = self.transactions[tx.agent_id]
        if not rows or rows[-1].trans_id < tx.trans_id:
            rows.append(tx)
            return
        position = len(rows)
        while position > 0 and rows[position - 1].trans_id > tx.trans_id:
            position -= 1
        rows.insert(position, tx)

    def money_totals(self) -> MoneyTotals:
        return MoneyTotals.of(self._state(_same))

    # -- history -----------------------------------------------------------
    def _visible(self, agent_id: int) -> tuple[deque[Transaction], int]:
        """The agent's rows and how many of them are visible: those below its oldest reservation."""
        rows = self.transactions[agent_id]
        reserved = self._reserved.get(agent_id)
        if not reserved:
            return rows, len(rows)
        return rows, bisect.bisect_left(rows, min(reserved), key=_trans_id_of)

    def window(self, agent_id: int, start: datetime, end: datetime, offset: int, limit: int) -> Page:
        with self.locked(agent_id):
            rows, visible = self._visible(agent_id)
            first = bisect.bisect_left(rows, start, hi=visible, key=_regdate_of)
            stop = bisect.bisect_left(rows, end, lo=first, hi=visible, key=_regdate_of)
            begin = min(first + offset, stop)
            return Page(stop - first, list(itertools.islice(rows, begin, min(begin + limit, stop))))

    def after(self, agent_id: int, last_id: int, limit: int) -> list[Transaction]:
        with self.locked(agent_id):
            rows, visible = self._visible(agent_id)
            first = bisect.bisect_right(rows, last_id, hi=visible, key=_trans_id_of)
            return list(itertools.islice(rows, first, min(first + limit, visible)))

    def transactions_of(self, agent_id: int) -> list[Transaction]:
        with self.locked(agent_id):
            return list(self.transactions.get(agent_id, ()))

    def transaction_count(self) -> int:
        return sum(len(rows) for rows in self.transactions.values())

    def all_point_transactions(self) -> list[PointTransaction]:
        with self._meta:
            return list(self.point_transactions)

    def round_stats_of(self, agent_id: int) -> list[RoundStat]:
        with self.locked(agent_id):
            return list(self.round_stats.get(agent_id, ()))

    def purge(self, agent_id: int, retention: Retention) -> Purged:
        with self.locked(agent_id):
            rows = self.transactions[agent_id]
            purged_rows = 0
            while rows and rows[0].created_at < retention.transactions_before:
                tx = rows.popleft()
                self.purged_movement[tx.user_code] = self.purged_movement.get(tx.user_code, ZERO) + (
                    tx.balance - tx.prebalance
                )
                purged_rows += 1
            rounds = self.rounds[agent_id]
            cutoff = retention.rounds_before
            # One pass from the oldest: popping the front of a dict one key at a time is quadratic.
            aged = list(itertools.takewhile(lambda rid: rounds[rid].created_at < cutoff, iter(rounds)))
            victims = [rid for rid in aged if rounds[rid].status not in retention.keep_round_statuses]
            for round_id in victims:
                del rounds[round_id]
            stats = self.round_stats[agent_id]
            purged_stats = 0
            while stats and stats[0].created_at < retention.round_stats_before:
                stats.popleft()
                purged_stats += 1
            return Purged(purged_rows, len(victims), purged_stats)

    def admit_poll(self, agent_id: int, key: Hashable, now: float, interval: float) -> float | None:
        with self.locked(agent_id):
            marks = self.poll_marks.setdefault(agent_id, {})
            last = marks.get(key)
            # A clock set backwards (control API) does not lock the caller out.
            if last is not None and 0 <= now - last < interval:
                return interval - (now - last)
            for stale in [k for k, at in marks.items() if not 0 <= now - at < interval]:
                del marks[stale]
            marks[key] = now
            return None

    # -- launches and sessions ---------------------------------------------
    def _insert_launch(self, launch: LaunchToken) -> None:
        with self._meta:
            self.launch_tokens[secret_key(launch.token)] = launch

    def add_launch(self, launch: LaunchToken) -> None:
        with self.locked(launch.agent_id):
            self._insert_launch(launch)

    def use_launch(self, token: str, now: datetime) -> tuple[LaunchToken | None, str]:
        launch = self.launch_tokens.get(secret_key(token))
        if launch is None:
            return None, "unknown"
        with self.locked(launch.agent_id):
            if launch.used_at is not None:
                return launch, "used"
            if now >= launch.expires_at:
                return launch, "expired"
            launch.used_at = now
            return launch, ""

    def _insert_session(self, session: GameSession) -> None:
        with self._meta:
            self.sessions[session.gplay_id] = session
            self._sessions_by_secret[secret_key(session.secret)] = session.gplay_id

    def add_session(self, session: GameSession) -> None:
        with self.locked(session.agent_id):
            self._insert_session(session)

    def session(self, gplay_id: int) -> GameSession | None:
        return self.sessions.get(gplay_id)

    def session_by_secret(self, secret: str) -> GameSession | None:
        gplay_id = self._sessions_by_secret.get(secret_key(secret))
        return None if gplay_id is None else self.sessions.get(gplay_id)

    def sessions_of(self, agent_id: int) -> list[GameSession]:
        return sorted((s for s in self.sessions.values() if s.agent_id == agent_id), key=lambda s: s.gplay_id)

    def session_count(self) -> int:
        return len(self.sessions)

    def kick(self, agent_id: int, user_code: int) -> int:
        marked = 0
        with self.locked(agent_id):
            for session in self.sessions_of(agent_id):
                if session.user_code == user_code and not session.ended:
                    session.kicked = True
                    marked += 1
        return marked

    def end_session(self, gplay_id: int) -> None:
        session = self.sessions[gplay_id]
        with self.locked(session.agent_id):
            session.ended = True

    # -- rounds ------------------------------------------------------------
    def record_round(self, round_: Round, at: datetime, recent: int) -> None:
        refunded = round_.status == RoundStatus.REFUNDED
        session = self.sessions[round_.gplay_id]
        with self.locked(round_.agent_id):
            self.rounds[round_.agent_id][round_.round_id] = round_
            stat = RoundStat(
                round_.created_at, round_.user_code, round_.category, round_.bet, round_.win, refunded
            )
            self.round_stats[round_.agent_id].append(stat)
            session.last_update = at
            session.last_round_bet = round_.bet
            if not refunded:
                session.spend += round_.bet
                if not round_.call_id:  # bonus-call wins show as call_win instead (5.13)
                    session.win += round_.win
            session.round_ids = [*session.round_ids, round_.round_id][-recent:]

    def round(self, agent_id: int, round_id: str) -> Round | None:
        return self.rounds.get(agent_id, {}).get(round_id)

    def rounds_of(self, agent_id: int) -> list[Round]:
        with self.locked(agent_id):
            return list(self.rounds.get(agent_id, {}).values())

    def round_count(self) -> int:
        return sum(len(rounds) for rounds in self.rounds.values())

    def update_round(
        self, agent_id: int, round_id: str, expect: RoundStatus | None = None, **fields: Any
    ) -> bool:
        with self.locked(agent_id):
            round_ = self.rounds[agent_id].get(round_id)
            if round_ is None or (expect is not None and round_.status != expect):
                return False
            for name, value in fields.items():
                setattr(round_, name, value)
            return True

    # -- bonus calls -------------------------------------------------------
    def open_bonus_call(self, call: BonusCall, at: datetime) -> BonusCall:
        with self.locked(call.agent_id):
            running = next(
                (c for c in self.bonus_calls_of_session(call.gplay_id) if c.status in _OPEN_CALL), None
            )
            if running is not None:
                raise CallRunning(running.call_id)
            agent = self.agents[call.agent_id]
            if agent.points < call.set_point:
                raise Shortfall("points", agent.points)
            self._hold(agent, call.set_point, PointKind.CALL_HOLD, at)
            self.bonus_calls[call.call_id] = call
            return call

    def bonus_call(self, call_id: int) -> BonusCall | None:
        return self.bonus_calls.get(call_id)

    def bonus_calls_of(self, agent_id: int) -> list[BonusCall]:
        return [c for c in list(self.bonus_calls.values()) if c.agent_id == agent_id]

    def bonus_calls_of_session(self, gplay_id: int) -> list[BonusCall]:
        return [c for c in list(self.bonus_calls.values()) if c.gplay_id == gplay_id]

    def end_bonus_call(self, call_id: int, status: CallStatus, at: datetime) -> bool:
        call = self.bonus_calls[call_id]
        with self.locked(call.agent_id):
            if call.status not in _OPEN_CALL:
                return False
            call.status = status
            call.ended_at = at
            self._hold(self.agents[call.agent_id], -call.set_point, PointKind.CALL_RETURN, at)
            return True

    def pay_bonus_call(self, call_id: int, stake_cap: Decimal, max_win: Decimal) -> Decimal | None:
        call = self.bonus_calls.get(call_id)
        if call is None:
            return None
        with self.locked(call.agent_id):
            if call.status not in _OPEN_CALL:
                return None
            payout = min(call.set_point - call.paid, stake_cap)
            if max_win > 0:
                payout = min(payout, max_win)
            call.paid += payout
            call.status = CallStatus.RUNNING
            return payout

    def unpay_bonus_call(self, call_id: int, payout: Decimal) -> None:
        call = self.bonus_calls.get(call_id)
        if call is not None:
            with self.locked(call.agent_id):
                call.paid -= payout

    def complete_bonus_call(self, call_id: int, at: datetime) -> bool:
        call = self.bonus_calls.get(call_id)
        if call is None:
            return False
        with self.locked(call.agent_id):
            if call.status != CallStatus.RUNNING or call.paid < call.set_point:
                return False
            return self.end_bonus_call(call_id, CallStatus.COMPLETE, at)

    # -- free rounds -------------------------------------------------------
    def _insert_grant(self, grant: FreeRoundGrant) -> None:
        self.free_rounds[grant.fr_id] = grant
        self._free_rounds_by_user.setdefault(grant.user_code, []).append(grant)

    def add_grant(self, grant: FreeRoundGrant) -> None:
        with self.locked(grant.agent_id):
            self._insert_grant(grant)

    def grant(self, fr_id: str) -> FreeRoundGrant | None:
        return self.free_rounds.get(fr_id)

    def grants_of(self, agent_id: int) -> list[FreeRoundGrant]:
        return [g for g in list(self.free_rounds.values()) if g.agent_id == agent_id]

    def claim_grant(self, user_code: int, provider_id: int, game_code: str, now: datetime) -> str | None:
        user = self.users[user_code]
        with self.locked(user.agent_id):
            for grant in self._free_rounds_by_user.get(user_code, ()):
                if grant.provider_id == provider_id and grant.game_code == game_code and _active(grant, now):
                    grant.played += 1
                    return grant.fr_id
        return None

    def release_grant(self, fr_id: str) -> None:
        grant = self.free_rounds[fr_id]
        with self.locked(grant.agent_id):
            grant.played -= 1

    def cap_grant_win(self, fr_id: str, win: Decimal) -> Decimal:
        grant = self.free_rounds[fr_id]
        with self.locked(grant.agent_id):
            if grant.win_cap > 0:
                win = min(win, max(grant.win_cap - grant.won, ZERO))
            grant.won += win
            return win

    def uncap_grant_win(self, fr_id: str, win: Decimal) -> None:
        grant = self.free_rounds[fr_id]
        with self.locked(grant.agent_id):
            grant.won -= win

    def cancel_grant(self, fr_id: str, now: datetime) -> bool:
        grant = self.free_rounds[fr_id]
        with self.locked(grant.agent_id):
            if not _active(grant, now):
                return False
            grant.cancelled = True
            return True

    # -- RTP streams --------------------------------------------------------
    def next_card(self, stream: str) -> int:
        with self._cards_lock:
            position = self.cards.get(stream, 0)
            self.cards[stream] = position + 1
        return position

    # -- snapshots ----------------------------------------------------------
    def export(self) -> StoreState:
        """Copies of every record, so serialising them later races with nothing."""
        return self._state(_copy)

    def _state(self, copy: Callable[[Any], Any]) -> StoreState:
        """The whole state, each mutable record passed through ``copy``."""
        with self._all_locked():
            with self._cards_lock:
                cards = dict(self.cards)
            return StoreState(
                sequences=self.sequences(),
                agents=[copy(a) for a in self.all_agents()],
                users=[copy(u) for u in self.users.values()],
                transactions=list(itertools.chain.from_iterable(self.transactions.values())),
                point_transactions=list(self.point_transactions),
                launch_tokens=[copy(t) for t in self.launch_tokens.values()],
                sessions=[copy(s) for s in self.sessions.values()],
                rounds=[copy(r) for rounds in self.rounds.values() for r in rounds.values()],
                round_stats={a: list(stats) for a, stats in self.round_stats.items() if stats},
                house_net=dict(self.house_net),
                held_points=dict(self.held_points),
                purged_movement=dict(self.purged_movement),
                poll_marks=[
                    (a, key, at) for a, marks in self.poll_marks.items() for key, at in marks.items()
                ],
                bonus_calls=[copy(c) for c in self.bonus_calls.values()],
                free_rounds=[copy(g) for g in self.free_rounds.values()],
                cards=cards,
            )

    def load(self, state: StoreState) -> None:
        for agent in sorted(state.agents, key=lambda a: a.agent_id):
            self._insert_agent(agent)
        for user in state.users:
            self._insert_user(user)
        for tx in state.transactions:
            self._insert_row(tx)
        self.point_transactions.extend(state.point_transactions)
        for launch in state.launch_tokens:
            self._insert_launch(launch)
        for session in state.sessions:
            self._insert_session(session)
        for round_ in state.rounds:
            self.rounds[round_.agent_id][round_.round_id] = round_
        for agent_id, stats in state.round_stats.items():
            self.round_stats[agent_id].extend(stats)
        self.house_net.update(state.house_net)
        self.held_points.update(state.held_points)
        self.purged_movement.update(state.purged_movement)
        for agent_id, key, at in state.poll_marks:
            self.poll_marks.setdefault(agent_id, {})[key] = at
        for call in state.bonus_calls:
            self.bonus_calls[call.call_id] = call
        for grant in state.free_rounds:
            self._insert_grant(grant)
        with self._cards_lock:
            self.cards.update(state.cards)
        for seq, sequence in self._ids.items():
            if seq.value in state.sequences:
                sequence.set(state.sequences[seq.value])


def _active(grant: FreeRoundGrant, now: datetime) -> bool:
    return not grant.cancelled and grant.played < grant.rounds and now < grant.expires_at


def _same(record: Any) -> Any:
    return record


def _copy(record: Any) -> Any:
    """A copy that later changes to ``record`` (balances, statuses, lists) do not reach."""
    clone = copy.copy(record)
    for item in dataclasses.fields(record):
        value = getattr(record, item.name)
        if isinstance(value, list | dict):
            setattr(clone, item.name, copy.copy(value))
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            setattr(clone, item.name, _copy(value))
    return clone


def _regdate_of(tx: Transaction) -> datetime:
    return regdate_instant(tx.created_at)


def _trans_id_of(tx: Transaction) -> int:
    return tx.trans_id
