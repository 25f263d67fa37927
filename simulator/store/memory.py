"""The in-memory store: every piece of simulator state, plus its locks.

The store holds records and indexes and hands out identifiers; it applies no
business rule.  Locks are per agent: an operation on an agent and its users
takes that agent's lock, and an operation on two agents (a points transfer)
takes both in id order, so there is no deadlock.  Nobody holds a lock while
waiting on the network.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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


class MemoryStore:
    def __init__(self) -> None:
        self._meta = threading.Lock()
        self._agent_locks: dict[int, threading.RLock] = {}
        self.agents: dict[int, Agent] = {}
        self._agents_by_name: dict[str, int] = {}
        self._agents_by_token: dict[str, int] = {}
        self.users: dict[int, User] = {}
        self._users_by_name: dict[tuple[int, str, str], int] = {}
        self.transactions: dict[int, deque[Transaction]] = {}
        self.point_transactions: list[PointTransaction] = []
        self._agent_ids = itertools.count(1)
        self._user_codes = itertools.count(FIRST_USER_CODE)
        self._trans_ids = itertools.count(1)
        self._point_trans_ids = itertools.count(1)
        self._gplay_ids = itertools.count(FIRST_GPLAY_ID)
        self._round_ids = itertools.count(FIRST_ROUND_ID)
        self.launch_tokens: dict[str, LaunchToken] = {}
        self.sessions: dict[int, GameSession] = {}
        self._sessions_by_secret: dict[str, int] = {}
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
        self._call_ids = itertools.count(1)
        self.held_points: dict[int, Decimal] = {}
        #: Free-round grants by fr_id, oldest first (spec 9).
        self.free_rounds: dict[str, FreeRoundGrant] = {}
        self._free_rounds_by_user: dict[int, list[FreeRoundGrant]] = {}
        self._fr_seq = itertools.count(1)

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

    # -- identifiers -----------------------------------------------------
    def next_agent_id(self) -> int:
        return next(self._agent_ids)

    def next_user_code(self) -> int:
        return next(self._user_codes)

    def next_trans_id(self) -> int:
        return next(self._trans_ids)

    def next_point_trans_id(self) -> int:
        return next(self._point_trans_ids)

    def next_gplay_id(self) -> int:
        return next(self._gplay_ids)

    def next_round_id(self) -> str:
        return str(next(self._round_ids))

    def next_call_id(self) -> int:
        return next(self._call_ids)

    def next_fr_seq(self) -> int:
        return next(self._fr_seq)

    # -- agents ----------------------------------------------------------
    def add_agent(self, agent: Agent) -> None:
        with self._meta:
            self.agents[agent.agent_id] = agent
            self._agents_by_name[agent.name.lower()] = agent.agent_id
            self._agents_by_token[agent.api_token] = agent.agent_id
            self.transactions[agent.agent_id] = deque()
            self.rounds[agent.agent_id] = {}
            self.round_stats[agent.agent_id] = deque()
            self.house_net[agent.agent_id] = Decimal(0)
            self.held_points[agent.agent_id] = Decimal(0)

    def agent_by_name(self, name: str) -> Agent | None:
        agent_id = self._agents_by_name.get(name.lower())
        return None if agent_id is None else self.agents.get(agent_id)

    def agent_by_token(self, token: str) -> Agent | None:
        agent_id = self._agents_by_token.get(token)
        return None if agent_id is None else self.agents.get(agent_id)

    def replace_token(self, agent: Agent, new_token: str) -> None:
        with self._meta:
            self._agents_by_token.pop(agent.api_token, None)
            agent.api_token = new_token
            self._agents_by_token[new_token] = agent.agent_id

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
            self.launch_tokens[launch.token] = launch

    def add_session(self, session: GameSession) -> None:
        with self._meta:
            self.sessions[session.gplay_id] = session
            self._sessions_by_secret[session.secret] = session.gplay_id

    def session_by_secret(self, secret: str) -> GameSession | None:
        gplay_id = self._sessions_by_secret.get(secret)
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
