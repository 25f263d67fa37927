"""Plain records of the domain (spec sections 1, 5, 7).

They are mutable dataclasses held by the store; only the ledger changes a
``points`` or ``balance`` field.  Transactions use ``slots`` because a busy
simulator keeps hundreds of thousands of them for the 2-day retention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import IntEnum

from ..money import ZERO
from .enums import AgentKind, CallStatus, PointKind, RoundStatus, WalletMode


class TransType(IntEnum):
    """Transaction types (spec section 7)."""

    BET = 1
    WIN = 2
    DEPOSIT = 4
    WITHDRAW = 8
    BET_CANCEL = 16
    BONUS_CALL = 32


@dataclass
class AgentSettings:
    """Back-office settings of one agent (spec 1.1, control-api.md)."""

    allowed_ips: str = ""
    callback_url: str = ""
    callback_token: str = ""
    callback_dialect: str = "v4"
    rtp: Decimal = Decimal(95)
    min_bet: Decimal = ZERO
    max_bet: Decimal = ZERO
    max_win: Decimal = ZERO
    bonus_call_enabled: bool = True
    call_min: Decimal = Decimal(10)
    approved: bool = True
    disabled: bool = False
    currency: int = 2
    providers: list[int] = field(default_factory=list)
    #: ``agent/rtp`` answers 1010 when off (spec 5.2).
    rtp_api_enabled: bool = True


@dataclass
class Agent:
    agent_id: int
    name: str
    kind: AgentKind
    parent_id: int | None
    api_token: str
    points: Decimal
    settings: AgentSettings
    created_at: datetime

    @property
    def mode(self) -> WalletMode:
        """The wallet mode: the callback URL selects it, nothing else does (spec 1.4)."""
        return WalletMode.SEAMLESS if self.settings.callback_url else WalletMode.TRANSFER


@dataclass
class User:
    user_code: int
    agent_id: int
    name: str
    mode: WalletMode
    balance: Decimal
    created_at: datetime
    active: bool = True
    #: Seamless mode: the last balance the integrator reported (spec 5.5).
    last_balance: Decimal = ZERO


@dataclass(slots=True)
class Transaction:
    """One row of the transaction history (spec 5.20)."""

    trans_id: int
    agent_id: int
    user_code: int
    trans_type: int
    trans_amount: Decimal
    prebalance: Decimal
    balance: Decimal
    created_at: datetime
    round_id: str = ""
    provider_id: int = 0
    game_code: str = ""


@dataclass(slots=True)
class PointTransaction:
    """A movement of agent points outside user play (see PointKind)."""

    point_trans_id: int
    kind: PointKind
    from_agent_id: int | None
    to_agent_id: int
    amount: Decimal
    from_points: Decimal | None
    to_points: Decimal
    created_at: datetime


@dataclass
class LaunchToken:
    """A one-time game URL (spec 5.12): valid 10 minutes, opened once."""

    token: str
    agent_id: int
    user_code: int
    provider_id: int
    game_code: str
    lang: int
    return_url: str | None
    #: The launch's own RTP; None = the agent's RTP at each round.
    rtp: Decimal | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


@dataclass
class GameSession:
    """A launched game, opened by the player; listed by ``online-games`` while active (5.13)."""

    gplay_id: int
    #: Unguessable key of the game page and its spin API (``/play/session/<secret>``).
    secret: str
    agent_id: int
    user_code: int
    provider_id: int
    game_code: str
    lang: int
    return_url: str | None
    rtp: Decimal | None
    started_at: datetime
    last_update: datetime
    spend: Decimal = ZERO
    win: Decimal = ZERO
    last_round_bet: Decimal = ZERO
    #: ``kick_games`` marks the session; the next round attempt ends it (5.14).
    kicked: bool = False
    ended: bool = False
    round_ids: list[str] = field(default_factory=list)


@dataclass
class Round:
    """One play: a Bet then a Win (or a BetCancel when it failed in between)."""

    round_id: str
    agent_id: int
    user_code: int
    gplay_id: int
    provider_id: int
    game_code: str
    category: str
    bet: Decimal
    created_at: datetime
    win: Decimal = ZERO
    multiplier: str = "0"
    #: What the game showed: reels, a live result or a crash point (see domain.reels).
    view: dict = field(default_factory=dict)
    status: RoundStatus = RoundStatus.PENDING
    settled_at: datetime | None = None
    trans_ids: list[int] = field(default_factory=list)
    free: bool = False
    #: Seamless mode: the callback transaction ids of the round's bet, win and cancel.
    callback_ids: dict = field(default_factory=dict)
    #: The bonus call that paid this round (settled as BonusCall 32, spec 8); 0 = none.
    call_id: int = 0
    #: The free-round grant this round was played from (spec 9); "" = a paid round.
    fr_id: str = ""


@dataclass(slots=True)
class RoundStat:
    """What ``statistics/user`` needs of a round, kept 90 days (5.23)."""

    created_at: datetime
    user_code: int
    category: str
    bet: Decimal
    win: Decimal
    refunded: bool


@dataclass
class BonusCall:
    """A bonus call on one game session (spec 5.16, 8): ``set_point`` held from the agent's points."""

    call_id: int
    agent_id: int
    gplay_id: int
    user_code: int
    set_point: Decimal
    #: Accepted, stored and ignored (OP-16).
    type: int | None
    memo: str | None
    created_at: datetime
    status: CallStatus = CallStatus.INIT
    #: What the call has paid so far (``call_win``); never more than ``set_point``.
    paid: Decimal = ZERO
    ended_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.status in (CallStatus.INIT, CallStatus.RUNNING)


@dataclass
class FreeRoundGrant:
    """Free rounds of one user in one game (spec 5.18, 9, OP-17)."""

    fr_id: str
    agent_id: int
    user_code: int
    provider_id: int
    game_code: str
    bet: Decimal
    rounds: int
    expires_at: datetime
    #: Cap on the grant's total winnings; 0 = no cap (OP-17).
    win_cap: Decimal
    created_at: datetime
    #: Rounds taken, including one still being played.
    played: int = 0
    won: Decimal = ZERO
    cancelled: bool = False
