"""The request journal: recent ``/v4`` calls as the simulator saw them (``/control/journal``)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class JournalEntry:
    time: str
    agent: str | None
    path: str
    client_ip: str
    body: str
    code: int
    duration_ms: float
    detail: str


class Journal:
    """A bounded, thread-safe log; the oldest entries fall off first."""

    MAX_BODY = 4096

    def __init__(self, size: int) -> None:
        self._lock = threading.Lock()
        self._entries: deque[JournalEntry] = deque(maxlen=size)

    def record(self, entry: JournalEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def query(
        self, agent: str | None = None, path: str | None = None, code: int | None = None, limit: int = 100
    ) -> list[dict[str, object]]:
        """Newest first, filtered by agent name, path (exact, or prefix ending in ``*``) and code."""
        with self._lock:
            entries = list(self._entries)
        result = []
        for entry in reversed(entries):
            if agent is not None and (entry.agent or "").lower() != agent.lower():
                continue
            if path is not None and not _path_matches(entry.path, path):
                continue
            if code is not None and entry.code != code:
                continue
            result.append(asdict(entry))
            if len(result) >= limit:
                break
        return result

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _path_matches(actual: str, wanted: str) -> bool:
    if wanted.endswith("*"):
        return actual.startswith(wanted[:-1])
    return actual == wanted
