"""What a traffic run counts while it plays: rounds by outcome, money per account, callbacks, latency.

One lock guards everything; the round workers, the callback collector and
the report readers each hold it only for a few additions or a copy.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..domain.enums import CallbackOutcome, RoundStatus
from ..domain.models import Round
from ..money import ZERO
from ..seamless.log import CallbackEntry
from .latency import LatencyHistogram

#: How many error messages a report keeps (the count is always complete).
MAX_ERROR_SAMPLES = 5


@dataclass
class AccountTally:
    """One wallet account's money as the run saw it: the other side of the reconciliation."""

    name: str
    user_code: int = 0
    start_balance: Decimal | None = None
    deposited: Decimal = ZERO
    bets: Decimal = ZERO
    wins: Decimal = ZERO
    refunds: Decimal = ZERO
    bet_count: int = 0
    win_count: int = 0
    refund_count: int = 0
    #: The run made this user (so everything left on it goes back to the agent at the end).
    created: bool = False

    def expected_balance(self) -> Decimal | None:
        if self.start_balance is None:
            return None
        return self.start_balance + self.deposited - self.bets + self.wins + self.refunds


@dataclass
class Figures:
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Rounds handed to a player (played, refused or failed).
    attempted: int = 0
    #: Rounds whose stake was taken: settled, refunded, or with a win still pending.
    played: int = 0
    settled: int = 0
    refunded: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    #: Rounds whose win was still on its retries when ``play`` returned, by round id.
    pending: dict[str, tuple[Round, str]] = field(default_factory=dict)
    win_error: int = 0
    accounts: dict[str, AccountTally] = field(default_factory=dict)
    callbacks: Counter[tuple[str, str]] = field(default_factory=Counter)
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    latency_by_command: dict[str, LatencyHistogram] = field(default_factory=dict)

    def tally(self, name: str) -> AccountTally:
        return self.accounts.setdefault(name, AccountTally(name))

    # -- rounds ---------------------------------------------------------------
    def round_played(self, account: str, round_: Round) -> None:
        """A round ``play`` returned: settled, or its win still pending on the retry queue."""
        with self.lock:
            self.played += 1
            tally = self.tally(account)
            tally.bets += round_.bet
            tally.bet_count += 1
            if round_.status == RoundStatus.SETTLED:
                self.settled += 1
                tally.wins += round_.win
                tally.win_count += 1
            else:
                self.pending[round_.round_id] = (round_, account)

    def round_refunded(self, account: str, round_: Round) -> None:
        """The stake was taken (or its outcome unclear) and given back: Bet then BetCancel."""
        with self.lock:
            self.played += 1
            self.refunded += 1
            tally = self.tally(account)
            tally.bets += round_.bet
            tally.bet_count += 1
            tally.refunds += round_.bet
            tally.refund_count += 1

    def round_refused(self, code_name: str) -> None:
        with self.lock:
            self.refused[code_name] += 1

    def round_error(self, message: str) -> None:
        with self.lock:
            self.errors += 1
            if len(self.error_samples) < MAX_ERROR_SAMPLES:
                self.error_samples.append(message)

    def resolve_pending(self, current: Callable[[Round], Round | None]) -> int:
        """Count pending rounds whose win was since accepted (or gave up); returns how many remain.

        ``current`` reads a round as the store holds it now: the records kept in
        ``pending`` are values, taken when ``play`` returned.
        """
        with self.lock:
            waiting = list(self.pending.items())
        now = {round_id: current(played) or played for round_id, (played, _) in waiting}  # outside the lock
        with self.lock:
            for round_id, (_, account) in list(self.pending.items()):
                round_ = now.get(round_id)
                if round_ is None:  # became pending after the reads above
                    continue
                if round_.status == RoundStatus.SETTLED:
                    self.settled += 1
                    tally = self.tally(account)
                    tally.wins += round_.win
                    tally.win_count += 1
                    del self.pending[round_id]
                elif round_.status == RoundStatus.WIN_ERROR:
                    self.win_error += 1
                    del self.pending[round_id]
            return len(self.pending)

    # -- callbacks ------------------------------------------------------------
    def callback(self, entry: CallbackEntry) -> None:
        with self.lock:
            self.callbacks[(entry.command, entry.outcome)] += 1
            if entry.outcome != CallbackOutcome.SKIPPED:  # never sent: no wallet latency to speak of
                self.latency.add(entry.duration_ms)
                self.latency_by_command.setdefault(entry.command, LatencyHistogram()).add(entry.duration_ms)

    def callbacks_by_command(self) -> dict[str, dict[str, int]]:
        by_command: dict[str, dict[str, int]] = {}
        for (command, outcome), count in sorted(self.callbacks.items()):
            by_command.setdefault(command, {})[outcome] = count
        return by_command

    def snapshot(self) -> dict[str, Any]:
        """The round, money and callback figures of a report."""
        with self.lock:
            tallies = list(self.accounts.values())
            return {
                "rounds": {
                    "attempted": self.attempted,
                    "played": self.played,
                    "settled": self.settled,
                    "refunded": self.refunded,
                    "refused": dict(sorted(self.refused.items())),
                    "win_pending": len(self.pending),
                    "win_error": self.win_error,
                    "errors": self.errors,
                },
                "errors": list(self.error_samples),
                "money": {
                    "bets": sum((t.bets for t in tallies), ZERO),
                    "wins": sum((t.wins for t in tallies), ZERO),
                    "refunds": sum((t.refunds for t in tallies), ZERO),
                    "deposited": sum((t.deposited for t in tallies), ZERO),
                },
                "callbacks": {
                    "total": sum(self.callbacks.values()),
                    "by_command": self.callbacks_by_command(),
                },
                "wallet_latency_ms": self.latency.summary(),
                "wallet_latency_ms_by_command": {
                    command: histogram.summary()
                    for command, histogram in sorted(self.latency_by_command.items())
                },
            }
