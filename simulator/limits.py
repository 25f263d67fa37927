"""The per-agent in-flight limit (spec 3.1 step 5, OP-6).

A pool of ``limit`` slots per key: ``agent:<agent_id>``, or the client IP when the
scope is ``ip`` (see :mod:`simulator.access.admission`).  A request that would
exceed the limit is refused at once; requests already in flight are untouched.
The caller releases its slot in a ``finally`` so every exit path - success,
error, exception - gives it back.

No lock (issue 17): taking a slot is one ``list.pop`` and giving it back one
``list.append``, each a single C call that CPython's GIL runs whole, so two
threads never take the same slot.  With a lock, a thread the interpreter
switched out while holding it kept every other request waiting - measured, a
fifth of the busy threads of a ``user/info`` server at 50 connections.  (This
relies on the GIL: a free-threaded build would need a lock back.)  A key's pool
stays once made: one small list per agent or client address seen.
"""

from __future__ import annotations


class InflightLimiter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._free: dict[str, list[None]] = {}

    def acquire(self, key: str) -> bool:
        free = self._free.get(key)
        if free is None:
            free = self._free.setdefault(key, [None] * self.limit)
        try:
            free.pop()
        except IndexError:
            return False
        return True

    def release(self, key: str) -> None:
        """Give a slot back.  A release with no slot out (a caller's mistake) gives nothing
        back; the check takes no lock, so two such mistakes at the same instant could give one."""
        free = self._free.get(key)
        if free is not None and len(free) < self.limit:
            free.append(None)

    def in_flight(self, key: str) -> int:
        free = self._free.get(key)
        return 0 if free is None else self.limit - len(free)

    def close(self) -> None:
        """Nothing to stop; here so every limiter (see ``store.redis_limiter``) closes the same way."""
