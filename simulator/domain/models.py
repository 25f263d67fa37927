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

TRANSFER = "transfer"
SEAMLESS = "seamless"

AGENT_KINDS = ("broker", "operator", "agent")


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
    kind: str
    parent_id: int | None
    api_token: str
    points: Decimal
    settings: AgentSettings
    created_at: datetime

    @property
    def mode(self) -> str:
        """The wallet mode: the callback URL selects it, nothing else does (spec 1.4)."""
        return SEAMLESS if self.settings.callback_url else TRANSFER


@dataclass
class User:
    user_code: int
    agent_id: int
    name: str
    mode: str
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
    """A movement of agent points outside user play: grants, recalls, issuance.

    ``kind`` is ``grant`` (parent to child), ``recall`` (child to parent) or
    ``issue`` (points created for a root broker, the only source of points).
    """

    point_trans_id: int
    kind: str
    from_agent_id: int | None
    to_agent_id: int
    amount: Decimal
    from_points: Decimal | None
    to_points: Decimal
    created_at: datetime
