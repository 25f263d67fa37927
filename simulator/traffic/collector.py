"""Picks the run's own callbacks out of the simulator's callback log as they are written.

The log (spec 6.8) already records every attempt with its duration and
outcome, so reading it changes nothing the wallet sees.  It is bounded per
agent, so it is polled often; an entry is the run's when its ``account`` is one
of the run's players.  If the log turned over completely between two polls,
entries may have been missed and the report says the figures are incomplete.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..seamless.log import CallbackEntry, CallbackLog


class CallbackCollector:
    def __init__(
        self, log: CallbackLog, agent_id: int, accounts: set[str], capacity: int, on_entry: Callable
    ) -> None:
        self._log = log
        self._agent_id = agent_id
        self._accounts = accounts
        self._capacity = capacity
        self._on_entry = on_entry
        self._lock = threading.Lock()
        #: Ids of the entries the log held at the last poll: nothing older is the run's.
        self._known = {entry.entry_id for entry in self._entries()}
        self.complete = True

    def _entries(self) -> list[CallbackEntry]:
        return self._log.query(self._agent_id, limit=self._capacity)

    def poll(self) -> int:
        """Hand the entries written since the last poll to ``on_entry``; returns how many were the run's."""
        with self._lock:
            return self._poll()

    def _poll(self) -> int:
        entries = self._entries()
        ids = {entry.entry_id for entry in entries}
        if self._known and len(entries) >= self._capacity and not (ids & self._known):
            self.complete = False
        mine = 0
        for entry in reversed(entries):  # oldest first
            if entry.entry_id in self._known:
                continue
            data = entry.request.get("data") if isinstance(entry.request, dict) else None
            if isinstance(data, dict) and data.get("account") in self._accounts:
                self._on_entry(entry)
                mine += 1
        self._known = ids
        return mine
