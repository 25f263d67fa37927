"""The request journal shared by every worker and host through Redis (``/control/journal``, issue 9).

With several workers on one Redis, ``GET /control/journal`` must show every
worker's ``/v4`` calls, in order, whichever worker answers.  The entries live in
one Redis list, ``{prefix}journal``, one JSON object per entry:

* :meth:`RedisJournal.record` appends and trims to the journal size in one
  ``MULTI``/``EXEC`` round trip (``RPUSH`` + ``LTRIM``), so the list never
  holds more than the size and the order is the order Redis received them;
* queries read the list and filter in Python with :class:`Journal`'s own
  semantics (the same code); a query without filters reads only the
  ``limit`` entries it returns.

Drop-in for :class:`simulator.harness.journal.Journal`: ``record``, ``query``,
``entries``, ``clear``, ``replace``, ``MAX_BODY``, ``size``.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from ..harness.journal import DEFAULT_LIMIT, Journal, JournalCall, JournalEntry, entry_of
from .redis_wire import compact_json

_FIELDS = tuple(item.name for item in fields(JournalEntry))


def dump_entry(entry: JournalEntry) -> str:
    return compact_json({name: getattr(entry, name) for name in _FIELDS})


def load_entry(data: bytes | str) -> JournalEntry:
    return JournalEntry(**json.loads(data))


class RedisJournal(Journal):
    """A bounded journal in one Redis list; every instance on the same Redis and prefix sees the same one."""

    def __init__(self, client: Any, prefix: str, size: int) -> None:
        self._redis = client
        self.prefix = prefix
        self.key = f"{prefix}journal"
        self.size = size

    def record(self, entry: JournalEntry | JournalCall) -> None:
        """Append an entry, in one ``MULTI``/``EXEC`` round trip."""
        commands = self.record_commands(entry)
        if commands:
            pipe = self._redis.pipeline(transaction=True)
            for command in commands:
                pipe.execute_command(*command)
            pipe.execute()

    def record_commands(self, entry: JournalEntry | JournalCall) -> list[tuple[Any, ...]]:
        """The commands that append an entry and trim the list (none when the size is 0), for the
        caller to send: the end of a /v4 call sends them with its in-flight slot's release."""
        if self.size <= 0:
            return []
        return [("RPUSH", self.key, dump_entry(entry_of(entry))), ("LTRIM", self.key, -self.size, -1)]

    def query(
        self,
        agent: str | None = None,
        path: str | None = None,
        code: int | Collection[int] | None = None,
        limit: int = DEFAULT_LIMIT,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        client_ip: str | None = None,
        min_duration_ms: float | None = None,
        errors: bool | None = None,
        oldest_first: bool = False,
    ) -> list[dict[str, object]]:
        """As :meth:`Journal.query`; without filters only the returned entries are read from Redis."""
        filters = (agent, path, code, since, until, client_ip, min_duration_ms, errors)
        if all(value is None for value in filters):
            return [asdict(entry) for entry in self._ends(limit, oldest_first)]
        return super().query(
            agent,
            path,
            code,
            limit,
            since=since,
            until=until,
            client_ip=client_ip,
            min_duration_ms=min_duration_ms,
            errors=errors,
            oldest_first=oldest_first,
        )

    def _ends(self, limit: int, oldest_first: bool) -> list[JournalEntry]:
        """The ``limit`` oldest or newest entries in query order (at least one, as in memory)."""
        count = max(limit, 1)
        if oldest_first:
            return [load_entry(item) for item in self._redis.lrange(self.key, 0, count - 1)]
        return [load_entry(item) for item in reversed(self._redis.lrange(self.key, -count, -1))]

    def clear(self) -> None:
        self._redis.delete(self.key)

    def _recorded(self) -> list[JournalEntry | JournalCall]:
        """Every kept entry, oldest first, in one read: what :meth:`Journal.query` filters and
        :meth:`Journal.entries` lists, so both run the memory journal's own code."""
        return [load_entry(item) for item in self._redis.lrange(self.key, 0, -1)]

    def replace(self, entries: list[JournalEntry]) -> None:
        """Install entries from a snapshot (the newest ones, if there are more than fit)."""
        kept = entries[-self.size :] if self.size > 0 else []
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(self.key)
        if kept:
            pipe.rpush(self.key, *(dump_entry(entry) for entry in kept))
        pipe.execute()
