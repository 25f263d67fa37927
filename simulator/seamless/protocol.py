"""The seamless callback protocol: what each command carries, in both dialects (spec 6.2-6.5, OP-1).

``v4`` (the default) identifies transactions by ``trans_guid`` strings and
carries ``gplay_id`` and ``time_stamp``; ``legacy`` uses integer ``trans_id``s
(the same numbers the history later shows) and ``game_name``.  This module only
builds request ``data`` blocks and check strings; sending is the client's job.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

V4 = "v4"
LEGACY = "legacy"
DIALECTS = (V4, LEGACY)

#: Check strings per command (spec 6.5); cancel differs by dialect (6.3).
CHECKS = {
    "authenticate": "21",
    "balance": "21,22",
    "bet": "21,22,41,31",
    "win": "21,22,41",
    "status": "21,42",
}
CANCEL_CHECKS = {V4: "21,22,41,43", LEGACY: "21,22,42"}
#: ``game_type`` per category and dialect (6.3).
GAME_TYPES = {
    V4: {"Slots": "slot", "Live": "live"},
    LEGACY: {"Slots": "Slots", "Live": "Live"},
}


def check_for(command: str, dialect: str) -> str:
    return CANCEL_CHECKS[dialect] if command == "cancel" else CHECKS[command]


def game_type(category: str, dialect: str) -> str:
    return GAME_TYPES[dialect].get(category, "mini" if dialect == V4 else "Mini")


class StampAllocator:
    """Millisecond stamps that never repeat: a clash moves the stamp on by one (6.3)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self, now_ms: int) -> int:
        with self._lock:
            self._last = max(now_ms, self._last + 1)
            return self._last

    def state(self) -> int:
        """The last stamp handed out (snapshots keep it, so no stamp repeats after a restore)."""
        with self._lock:
            return self._last

    def restore(self, last: int) -> None:
        with self._lock:
            self._last = last


@dataclass(frozen=True)
class RoundContext:
    """What every bet/win/cancel of one round shares."""

    account: str
    user_code: int
    gplay_id: int
    round_id: str
    provider_id: int
    game_code: str
    game_name: str
    category: str


def trans_guid(ctx: RoundContext, time_stamp: int) -> str:
    """``"<user_code>-<provider_id>-<game_code>-<round_id>-<time_stamp>"`` (6.3)."""
    return f"{ctx.user_code}-{ctx.provider_id}-{ctx.game_code}-{ctx.round_id}-{time_stamp}"


@dataclass(frozen=True)
class TransactionIds:
    """The identifiers of one callback transaction in either dialect."""

    trans_id: int
    trans_guid: str
    time_stamp: int

    def own(self, dialect: str) -> dict[str, Any]:
        return {"trans_guid": self.trans_guid} if dialect == V4 else {"trans_id": self.trans_id}


def money_data(
    ctx: RoundContext,
    dialect: str,
    ids: TransactionIds,
    amount: Decimal,
    trans_type: int,
    call_id: int | None = 0,
    target: TransactionIds | None = None,
) -> dict[str, Any]:
    """The ``data`` block of ``bet``, ``win`` (``call_id`` given) or ``cancel`` (``target`` given)."""
    if dialect == V4:
        data: dict[str, Any] = {
            "gplay_id": str(ctx.gplay_id),
            "account": ctx.account,
            "trans_guid": ids.trans_guid,
        }
        if target is not None:
            data["cancel_trans_guid"] = target.trans_guid
        data.update(
            {
                "time_stamp": ids.time_stamp,
                "round_id": ctx.round_id,
                "provider_id": ctx.provider_id,
                "game_code": ctx.game_code,
                "game_type": game_type(ctx.category, dialect),
                "amount": amount,
                "type": trans_type,
            }
        )
    else:
        data = {
            "account": ctx.account,
            # legacy: a cancel names the transaction it reverses by that one's id (6.3)
            "trans_id": target.trans_id if target is not None else ids.trans_id,
            "round_id": ctx.round_id,
            "provider_id": ctx.provider_id,
            "game_code": ctx.game_code,
            "game_name": ctx.game_name,
            "game_type": game_type(ctx.category, dialect),
            "amount": amount,
            "type": trans_type,
        }
    if target is None and call_id is not None:
        data["call_id"] = call_id
    return data


def status_data(account: str, dialect: str, ids: TransactionIds) -> dict[str, Any]:
    if dialect == V4:
        return {"account": account, "trans_guid": ids.trans_guid}
    return {"account": account, "trans_id": ids.trans_id}
