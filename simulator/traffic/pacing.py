"""Steady pacing of rounds: round ``k`` is due at ``start + k / rate``, never earlier.

When the players cannot keep up (a slow wallet, all players busy), the
schedule is re-anchored at the moment a round could finally start instead of
firing the backlog in a burst: the achieved rate then drops below the target
and the report says so, but the wallet never sees more than the target rate
(plus at most ``slack`` seconds of catch-up).
"""

from __future__ import annotations


class Pacer:
    def __init__(self, rate: float, start: float, slack: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.interval = 1.0 / rate
        #: How late a round may start and still keep its place in the schedule.
        self.slack = self.interval if slack is None else slack
        self.due = start
        self.issued = 0
        #: How many times the schedule was re-anchored because rounds could not start on time.
        self.reanchored = 0

    def wait_for(self, now: float) -> float:
        """Seconds until the next round is due (0 when it is due now)."""
        return max(0.0, self.due - now)

    def take(self, now: float) -> None:
        """A round starts at ``now`` (not before it was due); schedule the next one."""
        if now < self.due:
            raise ValueError("a round cannot start before it is due")
        if now - self.due > self.slack:
            self.due = now
            self.reanchored += 1
        self.due += self.interval
        self.issued += 1
