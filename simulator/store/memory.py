"""The in-memory store: every piece of simulator state, plus its locks.

The store holds records and indexes and hands out identifiers; it applies no
business rule.  Locks are per agent: an operation on an agent and its users
takes that agent's lock, and an operation on two agents (a points transfer)
takes both in id order, so there is no deadlock.  Nobody holds a lock while
waiting on the network.

A snapshot (``/control/snapshot``, the state file) must never see a round
half-played - the stake taken but the round not yet recorded - so multi-step
operations run inside :meth:`MemoryStore.activity` and a snapshot waits in
:meth:`MemoryStore.quiesced` until none is running (and lets no new one start).
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from decimal import Decimal

from ..domain.models import (
    Agent,
    BonusCall,
    FreeRoundGrant,
    GameSession,
    LaunchToken,
    PointTransaction,
    Round,
    RoundStat,
    Transaction,
    User,
)

FIRST_USER_CODE = 400000001
FIRST_GPLAY_ID = 8_949_101
FIRST_ROUND_ID = 336_097_135_001


def secret_key(secret: str) -> bytes:
    """The index key of an API token, a launch token or a session secret: its SHA-256 digest.

    A dict probe ends by comparing keys byte by byte, so keyed by the secret itself
    its timing would tell a guesser how much of a guess was right; keyed by the
    digest it tells nothing about the secret (the digest cannot be steered).
    """
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


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


class MemoryStore:
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
        self.agent_ids = Sequence(1)
        self.user_codes = Sequence(FIRST_USER_CODE)
        self.trans_ids = Sequence(1)
        self.point_trans_ids = Sequence(1)
        self.gplay_ids = Sequence(FIRST_GPLAY_ID)
        self.round_ids = Sequence(FIRST_ROUND_ID)
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
        self.poll_marks: dict[int, dict[object, float]] = {}
        #: Bonus calls by call_id (spec 8), and per agent the points they hold.
        self.bonus_calls: dict[int, BonusCall] = {}
        self.call_ids = Sequence(1)
        self.held_points: dict[int, Decimal] = {}
        #: Free-round grants by fr_id, oldest first (spec 9).
        self.free_rounds: dict[str, FreeRoundGrant] = {}
        self._free_rounds_by_user: dict[int, list[FreeRoundGrant]] = {}
        self.fr_seq = Sequence(1)

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
        """Hold the locks of these agents, taken in id order."""
        with ExitStack() as stack:
            for agent_id in sorted(set(agent_ids)):
                stack.enter_context(self._lock_of(agent_id))
            yield

    def activity(self) -> AbstractContextManager[None]:
        """Hold while a multi-step operation runs (a round): snapshots wait for it to end."""
        return self._gate.activity()

    @contextmanager
    def quiesced(self, timeout: float | None = None) -> Iterator[None]:
        """No activity running or starting, and every lock held: the state is consistent.

        ``TimeoutError`` when rounds are still running after ``timeout`` seconds
        (a seamless round waits on the integrator's wallet).
        """
        with self._gate.quiet(timeout), self.locked(*list(self.agents)), self._meta:
            yield

    def sequences(self) -> dict[str, Sequence]:
        """Every id counter by name, for snapshots."""
        return {
            "agent_ids": self.agent_ids,
            "user_codes": self.user_codes,
            "trans_ids": self.trans_ids,
            "point_trans_ids": self.point_trans_ids,
            "gplay_ids": self.gplay_ids,
            "round_ids": self.round_ids,
            "call_ids": self.call_ids,
            "fr_seq": self.fr_seq,
        }

    # -- identifiers -----------------------------------------------------
    def next_agent_id(self) -> int:
        return self.agent_ids.next()

    def next_user_code(self) -> int:
        return self.user_codes.next()

    def next_trans_id(self) -> int:
        return self.trans_ids.next()

    def next_point_trans_id(self) -> int:
        return self.point_trans_ids.next()

    def next_gplay_id(self) -> int:
        return self.gplay_ids.next()

    def next_round_id(self) -> str:
        return str(self.round_ids.next())

    def next_call_id(self) -> int:
        return self.call_ids.next()

    def next_fr_seq(self) -> int:
        return self.fr_seq.next()

    # -- agents ----------------------------------------------------------
    def add_agent(self, agent: Agent) -> None:
        with self._meta:
            self.agents[agent.agent_id] = agent
            self._agents_by_name[agent.name.lower()] = agent.agent_id
            self._agents_by_token[secret_key(agent.api_token)] = agent.agent_id
            self.transactions[agent.agent_id] = deque()
            self.rounds[agent.agent_id] = {}
            self.round_stats[agent.agent_id] = deque()
            self.house_net[agent.agent_id] = Decimal(0)
            self.held_points[agent.agent_id] = Decimal(0)

    def agent_by_name(self, name: str) -> Agent | None:
        agent_id = self._agents_by_name.get(name.lower())
        return None if agent_id is None else self.agents.get(agent_id)

    def agent_by_token(self, token: str) -> Agent | None:
        agent_id = self._agents_by_token.get(secret_key(token))
        return None if agent_id is None else self.agents.get(agent_id)

    def replace_token(self, agent: Agent, new_token: str) -> None:
        with self._meta:
            self._agents_by_token.pop(secret_key(agent.api_token), None)
            agent.api_token = new_token
            self._agents_by_token[secret_key(new_token)] = agent.agent_id

    def children_of(self, agent_id: int | None) -> list[Agent]:
        return [a for a in self.agents.values() if a.parent_id == agent_id]

    # -- users -----------------------------------------------------------
    def add_user(self, user: User) -> None:
        with self._meta:
            self.users[user.user_code] = user
            self._users_by_name[(user.agent_id, user.mode, user.name.lower())] = user.user_code

    def user_by_name(self, agent_id: int, mode: str, name: str) -> User | None:
        code = self._users_by_name.get((agent_id, mode, name.lower()))
        return None if code is None else self.users.get(code)

    def users_of(self, agent_id: int) -> list[User]:
        return [u for u in self.users.values() if u.agent_id == agent_id]

    # -- history ---------------------------------------------------------
    def append_transaction(self, tx: Transaction) -> None:
        """Append under the agent's lock, so each agent's rows stay in trans_id order."""
        self.transactions[tx.agent_id].append(tx)

    def insert_transaction(self, tx: Transaction) -> None:
        """Append, or insert in trans_id order when the id was handed out earlier (legacy callbacks)."""
        rows = self.transactions[tx.agent_id]
        if not rows or rows[-1].trans_id < tx.trans_id:
            rows.append(tx)
            return
        position = len(rows)
        while position > 0 and rows[position - 1].trans_id > tx.trans_id:
            position -= 1
        rows.insert(position, tx)

    def transactions_of(self, agent_id: int) -> deque[Transaction]:
        return self.transactions[agent_id]

    def append_point_transaction(self, ptx: PointTransaction) -> None:
        with self._meta:
            self.point_transactions.append(ptx)

    # -- play --------------------------------------------------------------
    def add_launch_token(self, launch: LaunchToken) -> None:
        with self._meta:
            self.launch_tokens[secret_key(launch.token)] = launch

    def launch_by_token(self, token: str) -> LaunchToken | None:
        return self.launch_tokens.get(secret_key(token))

    def add_session(self, session: GameSession) -> None:
        with self._meta:
            self.sessions[session.gplay_id] = session
            self._sessions_by_secret[secret_key(session.secret)] = session.gplay_id

    def session_by_secret(self, secret: str) -> GameSession | None:
        gplay_id = self._sessions_by_secret.get(secret_key(secret))
        return None if gplay_id is None else self.sessions.get(gplay_id)

    def sessions_of(self, agent_id: int) -> list[GameSession]:
        return [s for s in self.sessions.values() if s.agent_id == agent_id]

    def add_round(self, round_: Round) -> None:
        """Under the agent's lock."""
        self.rounds[round_.agent_id][round_.round_id] = round_

    def add_round_stat(self, agent_id: int, stat: RoundStat) -> None:
        """Under the agent's lock."""
        self.round_stats[agent_id].append(stat)

    # -- bonus calls and free rounds ------------------------------------------
    def add_bonus_call(self, call: BonusCall) -> None:
        """Under the agent's lock."""
        self.bonus_calls[call.call_id] = call

    def bonus_calls_of_session(self, gplay_id: int) -> list[BonusCall]:
        return [c for c in self.bonus_calls.values() if c.gplay_id == gplay_id]

    def add_free_round_grant(self, grant: FreeRoundGrant) -> None:
        """Under the agent's lock."""
        self.free_rounds[grant.fr_id] = grant
        self._free_rounds_by_user.setdefault(grant.user_code, []).append(grant)

    def free_rounds_of(self, user_code: int) -> list[FreeRoundGrant]:
        """The user's grants, oldest first."""
        return self._free_rounds_by_user.get(user_code, [])
