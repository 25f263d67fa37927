"""Latency percentiles in bounded memory: a log-bucketed histogram (1 % relative precision).

A one-hour run at the rate cap sends millions of callbacks; keeping every
duration would cost hundreds of megabytes, a histogram a few kilobytes.  A
percentile is the upper edge of the bucket holding that rank (nearest-rank
definition), clamped to the exact minimum and maximum seen, so it is never
more than 1 % above the true value and never outside the observed range.
"""

from __future__ import annotations

import math
from collections import Counter

#: Each bucket is this much wider than the one below it.
GROWTH = 1.01
#: Durations below this (ms) share the first bucket.
FLOOR_MS = 0.01
_LOG_GROWTH = math.log(GROWTH)


class LatencyHistogram:
    def __init__(self) -> None:
        self._buckets: Counter[int] = Counter()
        self.count = 0
        self.total_ms = 0.0
        self.min_ms = math.inf
        self.max_ms = 0.0

    @staticmethod
    def _bucket(ms: float) -> int:
        return 0 if ms <= FLOOR_MS else math.ceil(math.log(ms / FLOOR_MS) / _LOG_GROWTH)

    @staticmethod
    def _upper_edge(bucket: int) -> float:
        return FLOOR_MS * GROWTH**bucket

    def add(self, ms: float) -> None:
        ms = max(0.0, float(ms))
        self._buckets[self._bucket(ms)] += 1
        self.count += 1
        self.total_ms += ms
        self.min_ms = min(self.min_ms, ms)
        self.max_ms = max(self.max_ms, ms)

    def percentile(self, p: float) -> float | None:
        """The ``p``-th percentile (0 < p <= 100) by nearest rank; None when empty."""
        if not self.count:
            return None
        rank = max(1, math.ceil(p / 100 * self.count))
        seen = 0
        for bucket in sorted(self._buckets):
            seen += self._buckets[bucket]
            if seen >= rank:
                return min(max(self._upper_edge(bucket), self.min_ms), self.max_ms)
        return self.max_ms  # pragma: no cover - the counts always reach every rank

    def summary(self) -> dict[str, float | int | None]:
        """``count``, ``mean``, ``p50``, ``p90``, ``p99`` and ``max`` in ms, rounded to 0.1 ms."""

        def ms(value: float | None) -> float | None:
            return None if value is None else round(value, 1)

        return {
            "count": self.count,
            "mean": ms(self.total_ms / self.count) if self.count else None,
            "p50": ms(self.percentile(50)),
            "p90": ms(self.percentile(90)),
            "p99": ms(self.percentile(99)),
            "max": ms(self.max_ms) if self.count else None,
        }
