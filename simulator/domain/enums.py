"""The closed sets of words and numbers the records carry, each named once.

``StrEnum`` and ``IntEnum`` members *are* their ``str`` or ``int``: JSON, the
API's schemas, templates and snapshots see exactly the values the spec and the
old strings had, while code and the type checker see which set a value is from.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class WalletMode(StrEnum):
    """Where a user's money lives (spec 1.4): here (transfer) or in the integrator's wallet."""

    TRANSFER = "transfer"
    SEAMLESS = "seamless"


class AgentKind(StrEnum):
    """The levels of the agent tree (spec 1.1): broker -> operator -> agent."""

    BROKER = "broker"
    OPERATOR = "operator"
    AGENT = "agent"


class PointKind(StrEnum):
    """A movement of agent points outside user play."""

    #: Parent to child.
    GRANT = "grant"
    #: Child to parent.
    RECALL = "recall"
    #: Points created for a root broker, the only source of points.
    ISSUE = "issue"
    #: A bonus call's ``set_point`` taken from the agent's points and held (spec 8).
    CALL_HOLD = "call_hold"
    #: The held ``set_point`` given back when the call ends (Complete or Cancel).
    CALL_RETURN = "call_return"


class RoundStatus(StrEnum):
    """Where a round stands: ``pending`` until settled; a seamless win whose callback is still
    being retried is ``win_pending``, one whose every retry failed ``win_error``."""

    PENDING = "pending"
    WIN_PENDING = "win_pending"
    WIN_ERROR = "win_error"
    SETTLED = "settled"
    REFUNDED = "refunded"


class CallStatus(IntEnum):
    """Bonus-call status codes (spec 8, ``call_status`` of 5.13)."""

    INIT = 0
    RUNNING = 1
    COMPLETE = 2
    CANCEL = 3


class CallbackOutcome(StrEnum):
    """What one callback attempt came to (spec 6.8's log)."""

    #: The wallet answered result 0.
    OK = "ok"
    #: A usable answer with a result other than 0.
    REFUSED = "refused"
    #: Timeout, network error, non-200 or an unusable body: the effect is unknown.
    UNCLEAR = "unclear"
    #: A fault rule kept it from being sent.
    SKIPPED = "skipped"
