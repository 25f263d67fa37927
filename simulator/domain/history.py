"""Transaction history, round look-ups, user statistics and their retention (spec 5.20-5.23, 10, OP-7).

Retention is continuous (spec 10): every query first purges what has aged
out for its agent - transactions after 48 h, rounds after 30 days (not while
still waiting for their win), round statistics after 90 days - so a controlled
clock makes each window testable.
The store keeps every agent's rows oldest first, so a purge costs only the
rows it removes; it keeps the purged movements per user, so
:meth:`Ledger.audit` stays conserved after a purge.

Selection by time compares ``regdate``, the row's instant cut to whole
seconds, because that is the value the caller sees and filters on.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from ..clock import Clock
from ..codes import ResultCode, SimError
from ..money import ZERO
from .enums import RoundStatus
from .models import Round, Transaction
from .store import Page, Purged, Retention, Store, regdate_instant

__all__ = ["History", "Page", "Purged", "regdate_instant"]

TRANSACTION_RETENTION = timedelta(hours=48)
ROUND_RETENTION = timedelta(days=30)
STATISTICS_RETENTION = timedelta(days=90)
#: The longest ``transaction`` window (spec 3.3, 5.20).
MAX_WINDOW = timedelta(hours=1)
#: The throttle key of ``transaction`` polls; ``transaction-id`` uses its ``last_id``.
WINDOW_POLL = "transaction"
#: Statuses of a seamless round whose win the wallet has not accepted yet (OP-19).
AWAITING_WIN = (RoundStatus.WIN_PENDING, RoundStatus.WIN_ERROR)


def statistics_bucket(category: str) -> str:
    """``Slots`` -> ``slot``, ``Live`` -> ``live``, anything else -> ``mini`` (spec 11.4)."""
    return {"Slots": "slot", "Live": "live"}.get(category, "mini")


def history_category(category: str) -> str:
    """The ``category`` of a play row: ``Slots``, ``Live`` or ``Mini`` (spec 5.20, 11.4)."""
    return category if category in ("Slots", "Live") else "Mini"


@dataclass
class UserTotals:
    """One ``statistics/user`` item, before the user's name is added (spec 5.23)."""

    user_code: int
    slot_bet: Decimal = ZERO
    slot_win: Decimal = ZERO
    live_bet: Decimal = ZERO
    live_win: Decimal = ZERO
    mini_bet: Decimal = ZERO
    mini_win: Decimal = ZERO

    def add(self, category: str, bet: Decimal, win: Decimal) -> None:
        prefix = statistics_bucket(category)
        setattr(self, f"{prefix}_bet", getattr(self, f"{prefix}_bet") + bet)
        setattr(self, f"{prefix}_win", getattr(self, f"{prefix}_win") + win)


def check_transaction_window(start: datetime, end: datetime) -> None:
    """``end > start`` and ``end - start <= 1 h``, else 1012 (spec 5.20)."""
    if end <= start:
        raise SimError(ResultCode.PARAMETERS_INVALID, "end_time must be later than start_time")
    if end - start > MAX_WINDOW:
        raise SimError(ResultCode.PARAMETERS_INVALID, "the window from start_time to end_time exceeds 1 hour")


def check_statistics_window(start: datetime, end: datetime) -> None:
    """``end >= start``, else 1012 (spec 5.23)."""
    if end < start:
        raise SimError(ResultCode.PARAMETERS_INVALID, "end_time must not be earlier than start_time")


class History:
    """Reads of one world's history; every piece of state lives in the store."""

    def __init__(
        self, store: Store, clock: Clock, poll_throttle: bool = True, poll_interval: float = 30
    ) -> None:
        self._store = store
        self._clock = clock
        self._poll_throttle = poll_throttle
        self._poll_interval = poll_interval

    # -- retention (spec 10) ---------------------------------------------------------
    def purge(self, now: datetime | None = None) -> Purged:
        """Purge every agent's aged-out rows."""
        now = now or self._clock.now()
        total = Purged()
        for agent in self._store.all_agents():
            total += self.purge_agent(agent.agent_id, now)
        return total

    def purge_agent(self, agent_id: int, now: datetime | None = None) -> Purged:
        """Drop one agent's transactions older than 48 h, rounds older than 30 days, stats older than 90.

        A round still owed its win (on its retries, or "Win Error" waiting for a
        replay) stays: the win settles it later, and a snapshot must be able to resume it.
        """
        now = now or self._clock.now()
        return self._store.purge(
            agent_id,
            Retention(
                transactions_before=now - TRANSACTION_RETENTION,
                rounds_before=now - ROUND_RETENTION,
                round_stats_before=now - STATISTICS_RETENTION,
                keep_round_statuses=AWAITING_WIN,
            ),
        )

    # -- 5.20 transactions by time window -------------------------------------------------
    def by_window(self, agent_id: int, start: datetime, end: datetime, offset: int, limit: int) -> Page:
        """Rows with ``start <= regdate < end`` in ``trans_id`` order; ``items`` is the page asked for."""
        self.purge_agent(agent_id)
        return self._store.window(agent_id, start, end, offset, limit)

    # -- 5.21 transactions after a cursor ---------------------------------------------------
    def after(self, agent_id: int, last_id: int, limit: int) -> list[Transaction]:
        """Up to ``limit`` rows with ``trans_id > last_id``, oldest first.

        A cursor older than the retention simply continues from the oldest retained row.
        """
        self.purge_agent(agent_id)
        return self._store.after(agent_id, last_id, limit)

    # -- 5.22 round details ------------------------------------------------------------------
    def round_of(
        self,
        agent_id: int,
        user_code: int,
        round_id: str,
        provider_id: int | None = None,
        game_code: str | None = None,
    ) -> Round:
        """The user's round, or 2013: unknown, another user's, older than 30 days, or not matching
        the ``provider_id`` / ``game_code`` given."""
        self.purge_agent(agent_id)
        round_ = self._store.round(agent_id, round_id)
        if round_ is None or round_.user_code != user_code:
            raise SimError(ResultCode.ROUND_NOT_FOUND, f"user {user_code} has no round {round_id!r}")
        if self._clock.now() - round_.created_at > ROUND_RETENTION:
            raise SimError(ResultCode.ROUND_NOT_FOUND, f"round {round_id} is older than 30 days")
        if provider_id is not None and provider_id != round_.provider_id:
            raise SimError(
                ResultCode.ROUND_NOT_FOUND, f"round {round_id} was not played with provider {provider_id}"
            )
        if game_code is not None and game_code != round_.game_code:
            raise SimError(
                ResultCode.ROUND_NOT_FOUND, f"round {round_id} was not played in game {game_code!r}"
            )
        return round_

    # -- 5.23 statistics --------------------------------------------------------------------
    def user_totals(self, agent_id: int, start: datetime, end: datetime, offset: int, limit: int) -> Page:
        """Per-user sums of the rounds with ``start <= time <= end`` (to the second), refunds excluded,
        users with activity only, by ``user_code``.

        The statistics rows are recorded at settlement, so they are only nearly in
        time order: they are scanned rather than bisected.
        """
        self.purge_agent(agent_id)
        kept_since = self._clock.now() - STATISTICS_RETENTION
        totals: dict[int, UserTotals] = {}
        for stat in self._store.round_stats_of(agent_id):
            moment = regdate_instant(stat.created_at)
            if stat.refunded or stat.created_at < kept_since or not start <= moment <= end:
                continue
            entry = totals.get(stat.user_code)
            if entry is None:
                entry = totals[stat.user_code] = UserTotals(stat.user_code)
            entry.add(stat.category, stat.bet, stat.win)
        ordered = [totals[code] for code in sorted(totals)]
        return Page(len(ordered), ordered[offset : offset + limit])

    # -- OP-7 throttle ---------------------------------------------------------------------
    def admit_poll(self, agent_id: int, key: Hashable) -> None:
        """1018 when the same poll of this agent was answered less than ``poll_interval`` ago.

        ``key`` is :data:`WINDOW_POLL` for ``transaction`` (any two calls) or the
        ``last_id`` of a ``transaction-id`` call.  Only admitted polls count, so a
        caller that keeps retrying too early is served once the interval has passed.
        """
        if not self._poll_throttle:
            return
        wait = self._store.admit_poll(agent_id, key, self._clock.timestamp(), self._poll_interval)
        if wait is not None:
            raise SimError(
                ResultCode.SERVER_IS_BUSY,
                f"polled too fast: wait {wait:.0f} s more ({self._poll_interval} s between polls)",
            )
