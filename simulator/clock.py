"""The simulator's one clock.

Every expiry, retention window, journal time and throttle reads this clock, so
the control API (``/control/clock``) can freeze it, move it forward or set it,
and tests can exercise 10-minute URLs or 2-day purges without waiting.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    """Wall-clock time plus an adjustable offset, optionally frozen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at: float | None = None

    def timestamp(self) -> float:
        """Seconds since the epoch as the simulator sees them."""
        frozen = self._frozen_at
        if frozen is not None:
            return frozen
        return time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), tz=UTC)

    def millis(self) -> int:
        return int(self.timestamp() * 1000)

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self, on: bool) -> None:
        with self._lock:
            if on and self._frozen_at is None:
                self._frozen_at = time.time() + self._offset
            elif not on and self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds

    def set(self, when: datetime) -> None:
        target = when.timestamp()
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = target
            else:
                self._offset = target - time.time()

    def state(self) -> tuple[float, float | None]:
        """The offset and the frozen instant, for :meth:`restore`."""
        with self._lock:
            return self._offset, self._frozen_at

    def restore(self, state: tuple[float, float | None]) -> None:
        with self._lock:
            self._offset, self._frozen_at = state

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
            self._frozen_at = None
