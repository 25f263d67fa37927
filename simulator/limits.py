"""The per-agent in-flight limit (spec 3.1 step 5, OP-6).

A counter per key: ``agent:<agent_id>``, or the client IP when the scope is ``ip``
(see :mod:`simulator.access.admission`).  A
request that would exceed the limit is refused at once; requests already in
flight are untouched.  The caller releases its slot in a ``finally`` so every
exit path - success, error, exception - gives it back.
"""

from __future__ import annotations

import threading


class InflightLimiter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def acquire(self, key: str) -> bool:
        with self._lock:
            count = self._counts.get(key, 0)
            if count >= self.limit:
                return False
            self._counts[key] = count + 1
            return True

    def release(self, key: str) -> None:
        with self._lock:
            count = self._counts.get(key, 0) - 1
            if count > 0:
                self._counts[key] = count
            else:
                self._counts.pop(key, None)

    def in_flight(self, key: str) -> int:
        return self._counts.get(key, 0)

    def close(self) -> None:
        """Nothing to stop; here so every limiter (see ``store.redis_limiter``) closes the same way."""
