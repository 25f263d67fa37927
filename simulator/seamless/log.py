"""The callback log: every attempt of every callback, per agent, bounded in memory (spec 6.8).

The back office shows it ("API Error Logs" for the failures) and the control
API replays entries from it.  Each entry keeps the exact request body, so a
replay sends the same transaction id.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..domain.enums import CallbackOutcome


@dataclass
class CallbackEntry:
    entry_id: int
    agent_id: int
    time: str
    command: str
    url: str
    request: dict[str, Any]
    attempt: int
    outcome: CallbackOutcome
    result: int | None = None
    status: int | None = None
    reply: str = ""
    error: str = ""
    duration_ms: float = 0.0
    #: Anything else worth showing: ``note`` (a duplicate sent by a fault rule), or for a
    #: conformance run ``conformance`` (run, scenario and step) and ``expected_results``.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def conformance(self) -> str:
        """The conformance run, scenario and step that sent this callback; "" for real traffic."""
        return str(self.extra.get("conformance") or "")

    @property
    def expected_refusal(self) -> bool:
        """A refusal a conformance run asked for on purpose (a repeated bet's 41, a wrong token's
        100...): the wallet did right, so the logs list it apart from real failures."""
        if self.outcome != CallbackOutcome.REFUSED or not self.conformance:
            return False
        expected = self.extra.get("expected_results")
        return expected == "any" or (isinstance(expected, list) and self.result in expected)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.entry_id,
            "time": self.time,
            "command": self.command,
            "url": self.url,
            "request": self.request,
            "attempt": self.attempt,
            "outcome": self.outcome,
            "result": self.result,
            "http_status": self.status,
            "reply": self.reply,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 3),
            **self.extra,
            "expected_refusal": self.expected_refusal,
        }


def newest_matching(
    newest_first: Iterable[CallbackEntry], command: str | None, outcome: str | None, limit: int
) -> list[CallbackEntry]:
    """The first ``limit`` entries of ``newest_first`` of that ``command`` and ``outcome`` (None:
    any): a query's filter, the same on every store."""
    result = []
    for entry in newest_first:
        if command is not None and entry.command != command:
            continue
        if outcome is not None and entry.outcome != outcome:
            continue
        result.append(entry)
        if len(result) >= limit:
            break
    return result


class CallbackLog:
    MAX_REPLY = 4096

    def __init__(self, per_agent: int = 2000) -> None:
        self._lock = threading.Lock()
        self._per_agent = per_agent
        self._entries: dict[int, deque[CallbackEntry]] = {}
        self._by_id: dict[int, CallbackEntry] = {}
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def add(self, entry: CallbackEntry) -> CallbackEntry:
        with self._lock:
            entries = self._entries.setdefault(entry.agent_id, deque())
            if len(entries) >= self._per_agent:
                dropped = entries.popleft()
                self._by_id.pop(dropped.entry_id, None)
            entries.append(entry)
            self._by_id[entry.entry_id] = entry
        return entry

    def get(self, entry_id: int) -> CallbackEntry | None:
        return self._by_id.get(entry_id)

    def query(
        self, agent_id: int, command: str | None = None, outcome: str | None = None, limit: int = 100
    ) -> list[CallbackEntry]:
        """Newest first."""
        with self._lock:
            entries = list(self._entries.get(agent_id, ()))
        return newest_matching(reversed(entries), command, outcome, limit)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._by_id.clear()

    def peek_id(self) -> int:
        """The id the next entry gets (snapshots keep it, so replay ids never repeat)."""
        with self._lock:
            value = next(self._ids)
            self._ids = itertools.count(value)
            return value

    def entries(self) -> list[CallbackEntry]:
        """Every kept entry, oldest first per agent."""
        with self._lock:
            return [entry for entries in self._entries.values() for entry in entries]

    def replace(self, entries: list[CallbackEntry], next_id: int) -> None:
        """Install entries from a snapshot; ids continue from ``next_id`` (past every entry)."""
        with self._lock:
            self._entries.clear()
            self._by_id.clear()
            for entry in sorted(entries, key=lambda e: e.entry_id):
                kept = self._entries.setdefault(entry.agent_id, deque())
                if len(kept) >= self._per_agent:
                    self._by_id.pop(kept.popleft().entry_id, None)
                kept.append(entry)
                self._by_id[entry.entry_id] = entry
            self._ids = itertools.count(max([next_id, *(e.entry_id + 1 for e in entries)]))
