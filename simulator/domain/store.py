"""The store interface: every operation the simulator performs on its state (issue 14).

The domain reaches state only through :class:`Store`.  It is made of explicit
operations, each atomic on its own, so that an implementation can run each one
as a single server-side step (a Redis script) instead of holding a lock across
several:

- **Reads** return records (the plain dataclasses of :mod:`simulator.domain.models`).
  A caller treats them as read-only values: a change goes through an operation,
  never by assigning a field of a record it read.  (The memory store hands out
  its own objects for speed; another store hands out copies.)
- **Money** moves only through the movement operations: each checks that the
  balance or points suffice, applies the change and appends its record (a
  :class:`~simulator.domain.models.Transaction` or a
  :class:`~simulator.domain.models.PointTransaction`) in one step.  A shortfall
  raises :class:`Shortfall` and changes nothing.
- **State changes of rounds, sessions, bonus calls and free-round grants** are
  compare-and-set or counter operations, so whichever process runs the next
  step of a round finds it where the previous step left it.
- **History** is queried here (window, cursor, statistics rows) because how it
  is indexed is the store's business.  A row becomes visible only once every
  smaller ``trans_id`` of its agent is recorded or released, so a cursor that
  passed an id never misses a row below it (issue 15, item 11).

Nothing here knows HTTP, result codes or the spec's rules; the domain turns a
:class:`Shortfall` into the result code the spec names.  The interface lives in the
domain package, its caller; the implementations (:mod:`simulator.store`) import the
domain and never the other way round (issue 17).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from .enums import CallStatus, PointKind, RoundStatus, WalletMode
from .models import (
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
    User,
)

ZERO = Decimal(0)


def secret_key(secret: str) -> bytes:
    """The key every store indexes an API token, a launch token or a session secret by: its SHA-256 digest.

    A dict probe ends by comparing keys byte by byte, so keyed by the secret itself
    its timing would tell a guesser how much of a guess was right; keyed by the
    digest it tells nothing about the secret (the digest cannot be steered).
    """
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def regdate_instant(moment: datetime) -> datetime:
    """The instant ``regdate`` shows: the row's time cut to the second (what callers filter on)."""
    return moment.replace(microsecond=0)


#: The (agent_id, wallet mode) a movement's user must have (see ``Store.move_balance``).
Owner = tuple[int, WalletMode]


class Seq(StrEnum):
    """The id counters; the values are the names snapshots keep them under."""

    AGENT = "agent_ids"
    USER = "user_codes"
    TRANS = "trans_ids"
    POINT_TRANS = "point_trans_ids"
    GPLAY = "gplay_ids"
    ROUND = "round_ids"
    CALL = "call_ids"
    FREE_ROUND = "fr_seq"


#: The first id each counter hands out: the ranges of the spec's examples, 1 for the others.
FIRST_IDS: dict[Seq, int] = {seq: 1 for seq in Seq} | {
    Seq.USER: 400_000_001,
    Seq.GPLAY: 8_949_101,
    Seq.ROUND: 336_097_135_001,
}


class Shortfall(Exception):
    """A movement needed more than there was; nothing changed.

    ``what`` is ``"points"`` (the agent's) or ``"balance"`` (the user's), and
    ``have`` what there was when the movement was refused.
    """

    def __init__(self, what: str, have: Decimal) -> None:
        super().__init__(f"{what} short: {have}")
        self.what = what
        self.have = have


class NotOwned(Exception):
    """The user of a movement is unknown, or not the expected agent's in the expected mode.

    ``user`` is the stored user (None when unknown), so the domain can name what is wrong.
    """

    def __init__(self, user: User | None) -> None:
        super().__init__("the user is not the caller's")
        self.user = user


class CallRunning(Exception):
    """A bonus call is already open on the session (spec 5.16, 2011)."""

    def __init__(self, call_id: int) -> None:
        super().__init__(f"bonus call {call_id} is running")
        self.call_id = call_id


@dataclass(frozen=True)
class PlayRef:
    """Which round a movement belongs to (the history's round_id, provider_id, game_code)."""

    round_id: str
    provider_id: int
    game_code: str


@dataclass(frozen=True)
class Page:
    """``total`` matches, of which ``items`` is the requested slice."""

    total: int
    items: list[Any]


@dataclass(frozen=True)
class Purged:
    transactions: int = 0
    rounds: int = 0
    round_stats: int = 0

    def __add__(self, other: Purged) -> Purged:
        return Purged(
            self.transactions + other.transactions,
            self.rounds + other.rounds,
            self.round_stats + other.round_stats,
        )


@dataclass(frozen=True)
class Retention:
    """Purge cut-offs: rows created before these instants go (spec 10)."""

    transactions_before: datetime
    rounds_before: datetime
    round_stats_before: datetime
    #: Round statuses kept past the cut-off (a win still owed, OP-19).
    keep_round_statuses: tuple[RoundStatus, ...] = ()


@dataclass(frozen=True)
class MoneyTotals:
    """What the ledger's conservation audit adds up (see :mod:`simulator.domain.ledger`)."""

    issued: Decimal
    points: Decimal
    held: Decimal
    house: Decimal
    #: Transfer-mode users' balances by user_code.
    balances: dict[int, Decimal]
    #: Per user, the sum of (balance - prebalance) over every row, purged ones included.
    movements: dict[int, Decimal]

    @classmethod
    def of(cls, state: StoreState) -> MoneyTotals:
        movements = dict(state.purged_movement)
        for tx in state.transactions:
            movements[tx.user_code] = movements.get(tx.user_code, ZERO) + (tx.balance - tx.prebalance)
        return cls(
            issued=sum((p.amount for p in state.point_transactions if p.kind == PointKind.ISSUE), ZERO),
            points=sum((a.points for a in state.agents), ZERO),
            held=sum(state.held_points.values(), ZERO),
            house=sum(state.house_net.values(), ZERO),
            balances={u.user_code: u.balance for u in state.users if u.mode == WalletMode.TRANSFER},
            movements=movements,
        )


@dataclass
class StoreState:
    """The whole state as records: what a snapshot saves and a restore loads.

    ``sums`` holds the per-agent and per-user figures that are not records:
    ``house_net`` and ``held_points`` by agent_id, ``purged_movement`` by user_code.
    """

    sequences: dict[str, int] = field(default_factory=dict)
    agents: list[Agent] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    point_transactions: list[PointTransaction] = field(default_factory=list)
    launch_tokens: list[LaunchToken] = field(default_factory=list)
    sessions: list[GameSession] = field(default_factory=list)
    rounds: list[Round] = field(default_factory=list)
    round_stats: dict[int, list[RoundStat]] = field(default_factory=dict)
    house_net: dict[int, Decimal] = field(default_factory=dict)
    held_points: dict[int, Decimal] = field(default_factory=dict)
    purged_movement: dict[int, Decimal] = field(default_factory=dict)
    #: (agent_id, poll key, clock timestamp) of each admitted history poll (OP-7).
    poll_marks: list[tuple[int, Any, float]] = field(default_factory=list)
    bonus_calls: list[BonusCall] = field(default_factory=list)
    free_rounds: list[FreeRoundGrant] = field(default_factory=list)
    #: Per shared RTP stream (:meth:`Store.next_card`), the position of its next card.
    cards: dict[str, int] = field(default_factory=dict)


class Store(Protocol):
    """The simulator's state (see the module docstring for the rules every operation keeps).

    Stores subclass it explicitly: mypy then checks each implements every operation,
    and a query derived from others (:meth:`children_of`) is written once, here.
    """

    # -- ids ------------------------------------------------------------------------------
    def next_id(self, seq: Seq) -> int:
        """A new id from the counter, never handed out before."""

    def sequences(self) -> dict[str, int]:
        """The id each counter hands out next, by :class:`Seq` value."""

    # -- agents ---------------------------------------------------------------------------
    def add_agent(self, agent: Agent) -> None: ...

    def agent(self, agent_id: int) -> Agent | None: ...

    def agent_by_name(self, name: str) -> Agent | None:
        """Names are matched without regard to case."""

    def agent_by_token(self, token: str) -> Agent | None: ...

    def all_agents(self) -> list[Agent]:
        """Every agent, by agent_id."""

    def children_of(self, parent_id: int | None) -> list[Agent]:
        """The agents directly under ``parent_id`` (None: the root brokers), by agent_id."""
        return [a for a in self.all_agents() if a.parent_id == parent_id]

    def change_settings(self, agent_id: int, changes: dict[str, Any]) -> AgentSettings:
        """Set the named settings fields; the new settings."""

    def replace_token(self, agent_id: int, token: str) -> None:
        """The agent's API token becomes ``token``; the old one stops matching at once."""

    # -- users ----------------------------------------------------------------------------
    def add_user(self, user: User) -> tuple[User, bool]:
        """Add ``user`` unless its agent has a user of that mode and name (any case) already.

        Returns the stored user and whether it is the new one.
        """

    def user(self, user_code: int) -> User | None: ...

    def user_by_name(self, agent_id: int, mode: WalletMode, name: str) -> User | None: ...

    def users_of(self, agent_id: int) -> list[User]: ...

    def user_count(self) -> int: ...

    def set_user_active(self, user_code: int, active: bool) -> None: ...

    def set_last_balance(self, user_code: int, balance: Decimal) -> None:
        """Seamless mode: the balance the integrator's wallet last reported (spec 5.5)."""

    # -- money ----------------------------------------------------------------------------
    def issue_points(self, agent_id: int, amount: Decimal, at: datetime) -> PointTransaction:
        """Create points for an agent (a root broker): the only way points enter."""

    def move_points(
        self, kind: PointKind, source_id: int, target_id: int, amount: Decimal, at: datetime
    ) -> PointTransaction:
        """Points from one agent to another; :class:`Shortfall` if the source has too few."""

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
        """Change a transfer-mode balance by ``change`` and record the row.

        In the same step the user's agent's points change by ``points`` and its
        house result by ``house``.  :class:`Shortfall` (``balance``) when the
        balance would go below zero, (``points``) when the points would; with
        ``owner``, :class:`NotOwned` unless the user is that agent's, in that mode
        (a wallet call checks its user and moves the money in one step).
        """

    def withdraw_all(self, user_code: int, at: datetime, owner: Owner | None = None) -> Transaction | None:
        """The whole balance back to the agent's points (Withdraw 8); None for a zero balance.

        ``owner`` as for :meth:`move_balance`.
        """

    def move_house(self, agent_id: int, points: Decimal) -> None:
        """Seamless play (OP-3): the agent's points change by ``points``, the house by the opposite.

        :class:`Shortfall` when the points would go below zero.
        """

    def reserve_trans_id(self, agent_id: int, at: datetime) -> int:
        """A ``trans_id`` handed out at ``at`` before its row exists (``legacy`` callbacks carry it).

        Rows above it stay invisible to history queries until it is recorded
        with :meth:`record_row` (stamped ``at``, so ``regdate`` keeps its order)
        or given up with :meth:`release_trans_id`.
        """

    def release_trans_id(self, agent_id: int, trans_id: int) -> None:
        """A reserved id that will never be recorded (the bet it was for never left)."""

    def record_row(self, row: Transaction, last_balance: Decimal | None = None) -> Transaction:
        """Record a history row that moves no platform money (seamless play, spec 6.11).

        ``row.trans_id`` 0 takes a new id; otherwise it is a reserved one and the
        row takes the reservation's time.  ``last_balance``, when
        given, becomes the user's last reported balance in the same step.
        """

    def money_totals(self) -> MoneyTotals: ...

    # -- history --------------------------------------------------------------------------
    def window(self, agent_id: int, start: datetime, end: datetime, offset: int, limit: int) -> Page:
        """Visible rows with ``start <= regdate < end`` (whole seconds) in trans_id order."""

    def after(self, agent_id: int, last_id: int, limit: int) -> list[Transaction]:
        """Up to ``limit`` visible rows with ``trans_id > last_id``, oldest first."""

    def transactions_of(self, agent_id: int) -> list[Transaction]:
        """Every retained row of the agent, visible or not, in trans_id order."""

    def transaction_count(self) -> int: ...

    def all_point_transactions(self) -> list[PointTransaction]:
        """Every point movement, oldest first."""

    def round_stats_of(self, agent_id: int) -> list[RoundStat]: ...

    def purge(self, agent_id: int, retention: Retention) -> Purged:
        """Drop the agent's rows older than the cut-offs; purged movements still count in the audit."""

    def admit_poll(self, agent_id: int, key: Hashable, now: float, interval: float) -> float | None:
        """OP-7: None and the poll is marked, or the seconds to wait when the same poll came too soon."""

    # -- launches and sessions ------------------------------------------------------------
    def add_launch(self, launch: LaunchToken) -> None: ...

    def use_launch(self, token: str, now: datetime) -> tuple[LaunchToken | None, str]:
        """Consume a launch token once: (launch, "") or (launch or None, "unknown"/"used"/"expired")."""

    def add_session(self, session: GameSession) -> None: ...

    def session(self, gplay_id: int) -> GameSession | None: ...

    def session_by_secret(self, secret: str) -> GameSession | None: ...

    def sessions_of(self, agent_id: int) -> list[GameSession]:
        """The agent's sessions, by gplay_id."""

    def session_count(self) -> int: ...

    def kick(self, agent_id: int, user_code: int) -> int:
        """Mark the user's sessions that have not ended (spec 5.14); how many were marked."""

    def end_session(self, gplay_id: int) -> None: ...

    # -- rounds ---------------------------------------------------------------------------
    def record_round(self, round_: Round, at: datetime, recent: int) -> None:
        """Keep a finished round: its record (30 days), its statistics row (90 days) and
        its session's figures (spend, win, the last ``recent`` round ids)."""

    def round(self, agent_id: int, round_id: str) -> Round | None: ...

    def rounds_of(self, agent_id: int) -> list[Round]:
        """The agent's retained rounds, oldest first."""

    def round_count(self) -> int: ...

    def update_round(
        self, agent_id: int, round_id: str, expect: RoundStatus | None = None, **fields: Any
    ) -> bool:
        """Set fields of a recorded round; with ``expect``, only while its status is that (else False)."""

    # -- bonus calls (spec 8) -------------------------------------------------------------
    def open_bonus_call(self, call: BonusCall, at: datetime) -> BonusCall:
        """Add the call and hold its ``set_point`` from the agent's points, in one step.

        :class:`CallRunning` when its session has an open call, :class:`Shortfall`
        when the points do not cover ``set_point``.
        """

    def bonus_call(self, call_id: int) -> BonusCall | None: ...

    def bonus_calls_of(self, agent_id: int) -> list[BonusCall]: ...

    def bonus_calls_of_session(self, gplay_id: int) -> list[BonusCall]: ...

    def end_bonus_call(self, call_id: int, status: CallStatus, at: datetime) -> bool:
        """Complete or cancel an open call and return its ``set_point``; False if it was not open."""

    def pay_bonus_call(self, call_id: int, stake_cap: Decimal, max_win: Decimal) -> Decimal | None:
        """Reserve a spin's payout: min(what is left, ``stake_cap``, ``max_win`` if > 0); None if ended."""

    def unpay_bonus_call(self, call_id: int, payout: Decimal) -> None: ...

    def complete_bonus_call(self, call_id: int, at: datetime) -> bool:
        """A running call that has paid its whole ``set_point`` is completed; whether it was."""

    # -- free rounds (spec 9) -------------------------------------------------------------
    def add_grant(self, grant: FreeRoundGrant) -> None: ...

    def grant(self, fr_id: str) -> FreeRoundGrant | None: ...

    def grants_of(self, agent_id: int) -> list[FreeRoundGrant]:
        """The agent's grants, oldest first."""

    def claim_grant(self, user_code: int, provider_id: int, game_code: str, now: datetime) -> str | None:
        """Take one round of the user's oldest active grant of that game; its fr_id, or None."""

    def release_grant(self, fr_id: str) -> None:
        """Give a claimed round back (the spin was refused or refunded)."""

    def cap_grant_win(self, fr_id: str, win: Decimal) -> Decimal:
        """Cut a spin's win to what the grant's cap still allows, and count it."""

    def uncap_grant_win(self, fr_id: str, win: Decimal) -> None: ...

    def cancel_grant(self, fr_id: str, now: datetime) -> bool:
        """Cancel an active grant; False when it is used up, expired or cancelled already."""

    # -- RTP streams ----------------------------------------------------------------------
    def next_card(self, stream: str) -> int:
        """The position of the next card dealt from a shared RTP stream (0, 1, 2, ...); every
        process dealing from the stream gets a distinct one."""

    # -- consistency and snapshots --------------------------------------------------------
    def activity(self) -> AbstractContextManager[None]:
        """Held while a multi-step operation runs (a round), so a snapshot never sees half of it."""

    def quiesced(self, timeout: float | None = None) -> AbstractContextManager[None]:
        """No activity running or starting: the state is consistent.  ``TimeoutError`` after ``timeout``."""

    def export(self) -> StoreState:
        """Copies of every record and sum (taken while quiesced, for a snapshot)."""

    def load(self, state: StoreState) -> None:
        """Fill an empty store from checked records (a restore)."""
