"""Transaction history, round look-ups, user statistics and their retention (spec 5.20-5.23, 10, OP-7).

Retention is continuous (spec 10): every query first purges what has aged
out for its agent - transactions after 48 h, rounds after 30 days (not while
still waiting for their win), round statistics after 90 days - so a controlled
clock makes each window testable.
The store keeps every agent's rows oldest first, so a purge pops from the
front and costs only the rows it removes.  Purged movements are added to
``store.purged_movement`` per user, which keeps :meth:`Ledger.audit`
conserved after a purge (a balance equals purged plus retained movements).

Selection by time compares ``regdate``, the row's instant cut to whole
seconds, because that is the value the caller sees and filters on.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from ..clock import Clock
from ..codes import ResultCode, SimError
from ..money import ZERO
from ..store import MemoryStore
from .models import Round, Transaction

TRANSACTION_RETENTION = timedelta(hours=48)
ROUND_RETENTION = timedelta(days=30)
STATISTICS_RETENTION = timedelta(days=90)
#: The longest ``transaction`` window (spec 3.3, 5.20).
MAX_WINDOW = timedelta(hours=1)
#: The throttle key of ``transaction`` polls; ``transaction-id`` uses its ``last_id``.
WINDOW_POLL = "transaction"
#: Statuses of a seamless round whose win the wallet has not accepted yet (OP-19).
AWAITING_WIN = ("win_pending", "win_error")


def regdate_instant(moment: datetime) -> datetime:
    """The instant ``regdate`` shows: the row's time cut to the second."""
    return moment.replace(microsecond=0)


def statistics_bucket(category: str) -> str:
    """``Slots`` -> ``slot``, ``Live`` -> ``live``, anything else -> ``mini`` (spec 11.4)."""
    return {"Slots": "slot", "Live": "live"}.get(category, "mini")


def history_category(category: str) -> str:
    """The ``category`` of a play row: ``Slots``, ``Live`` or ``Mini`` (spec 5.20, 11.4)."""
    return category if category in ("Slots", "Live") else "Mini"


@dataclass(frozen=True)
class Purged:
    transactions: int = 0
    rounds: int = 0
    round_stats: int = 0


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


@dataclass(frozen=True)
class Page:
    """``total`` matches, of which ``items`` is the requested slice."""

    total: int
    items: list


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
        self, store: MemoryStore, clock: Clock, poll_throttle: bool = True, poll_interval: float = 30
    ) -> None:
        self._store = store
        self._clock = clock
        self._poll_throttle = poll_throttle
        self._poll_interval = poll_interval

    # -- retention (spec 10) ---------------------------------------------------------
    def purge(self, now: datetime | None = None) -> Purged:
        """Purge every agent's aged-out rows."""
        now = now or self._clock.now()
        counts = [self.purge_agent(agent_id, now) for agent_id in list(self._store.agents)]
        return Purged(
            sum(c.transactions for c in counts),
            sum(c.rounds for c in counts),
            sum(c.round_stats for c in counts),
        )

    def purge_agent(self, agent_id: int, now: datetime | None = None) -> Purged:
        """Drop one agent's transactions older than 48 h, rounds older than 30 days, stats older than 90."""
        now = now or self._clock.now()
        store = self._store
        with store.locked(agent_id):
            rows = store.transactions[agent_id]
            cutoff = now - TRANSACTION_RETENTION
            purged_rows = 0
            while rows and rows[0].created_at < cutoff:
                tx = rows.popleft()
                store.purged_movement[tx.user_code] = store.purged_movement.get(tx.user_code, ZERO) + (
                    tx.balance - tx.prebalance
                )
                purged_rows += 1
            rounds = store.rounds[agent_id]
            cutoff = now - ROUND_RETENTION
            # One pass from the oldest: popping the front of a dict one key at a time is quadratic.
            aged = list(itertools.takewhile(lambda rid: rounds[rid].created_at < cutoff, iter(rounds)))
            # A round still owed its win (on its retries, or "Win Error" waiting for a replay)
            # stays: the win settles it later, and a snapshot must be able to resume it.
            victims = [rid for rid in aged if rounds[rid].status not in AWAITING_WIN]
            for round_id in victims:
                del rounds[round_id]
            stats = store.round_stats[agent_id]
            cutoff = now - STATISTICS_RETENTION
            purged_stats = 0
            while stats and stats[0].created_at < cutoff:
                stats.popleft()
                purged_stats += 1
        return Purged(purged_rows, len(victims), purged_stats)

    # -- 5.20 transactions by time window -------------------------------------------------
    def by_window(self, agent_id: int, start: datetime, end: datetime, offset: int, limit: int) -> Page:
        """Rows with ``start <= regdate < end`` in ``trans_id`` order; ``items`` is the page asked for.

        Rows are in ``trans_id`` order and their times never decrease along it
        (both are taken under the agent's lock), so the window is found by bisection.
        """
        self.purge_agent(agent_id)
        with self._store.locked(agent_id):
            rows = self._store.transactions[agent_id]
            first = bisect.bisect_left(rows, start, key=_regdate_of)
            stop = bisect.bisect_left(rows, end, lo=first, key=_regdate_of)
            begin = min(first + offset, stop)
            page = list(itertools.islice(rows, begin, min(begin + limit, stop)))
        return Page(stop - first, page)

    # -- 5.21 transactions after a cursor ---------------------------------------------------
    def after(self, agent_id: int, last_id: int, limit: int) -> list[Transaction]:
        """Up to ``limit`` rows with ``trans_id > last_id``, oldest first.

        A cursor older than the retention simply continues from the oldest retained row.
        """
        self.purge_agent(agent_id)
        with self._store.locked(agent_id):
            rows = self._store.transactions[agent_id]
            first = bisect.bisect_right(rows, last_id, key=_trans_id_of)
            return list(itertools.islice(rows, first, first + limit))

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
        round_ = self._store.rounds[agent_id].get(round_id)
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
        with self._store.locked(agent_id):
            stats = list(self._store.round_stats[agent_id])
        for stat in stats:
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
        now = self._clock.timestamp()
        store = self._store
        with store.locked(agent_id):
            marks = store.poll_marks.setdefault(agent_id, {})
            last = marks.get(key)
            # A clock set backwards (control API) does not lock the caller out.
            if last is not None and 0 <= now - last < self._poll_interval:
                wait = self._poll_interval - (now - last)
                raise SimError(
                    ResultCode.SERVER_IS_BUSY,
                    f"polled too fast: wait {wait:.0f} s more ({self._poll_interval} s between polls)",
                )
            for stale in [k for k, at in marks.items() if not 0 <= now - at < self._poll_interval]:
                del marks[stale]
            marks[key] = now


def _regdate_of(tx: Transaction) -> datetime:
    return regdate_instant(tx.created_at)


def _trans_id_of(tx: Transaction) -> int:
    return tx.trans_id
