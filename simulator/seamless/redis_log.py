"""The callback log shared by every worker and host through Redis (spec 6.8, issue 9).

The back office's callback log and "API Error Logs", and replay by entry id
(``/control/callbacks/<id>/replay``), must see every worker's callbacks.  Keys,
under the log's prefix:

* ``cblog:seq`` - the last entry id handed out; ``next_id`` is ``INCR``, so ids
  are unique across workers and never repeat (``clear`` keeps the counter);
* ``cblog:byid`` - a hash from entry id to the entry as JSON, for ``get``;
* ``cblog:agent:<agent_id>`` - a list of that agent's entry ids in the order
  Redis received them, trimmed to the per-agent bound;
* ``cblog:agents`` - a sorted set of the agents with a list (score: the id of
  their first entry), so ``clear`` and ``entries`` find every list.

Adding, trimming, clearing and replacing are Lua scripts: an id leaves the
agent's list and the hash together, so ``get`` never finds an entry that
``query`` no longer shows, nor the reverse.

Entries are not changed after :meth:`CallbackLog.add` anywhere in the
simulator (the client builds each one complete); the Redis copy is therefore
written once.  ``get`` and ``query`` return new objects: changing one changes
nothing in the log.

Drop-in for :class:`simulator.seamless.log.CallbackLog`: ``next_id``, ``add``,
``get``, ``query``, ``clear``, ``peek_id``, ``entries``, ``replace``, ``MAX_REPLY``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import fields
from decimal import Decimal
from typing import Any

from ..domain.enums import CallbackOutcome
from .log import CallbackEntry, CallbackLog, newest_matching

#: Store the entry, append its id to the agent's list, and drop the ids beyond the bound from both.
_ADD = """
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[3], 'NX', ARGV[1], ARGV[4])
local over = redis.call('LLEN', KEYS[1]) - tonumber(ARGV[3])
if over > 0 then
  local dropped = redis.call('LRANGE', KEYS[1], 0, over - 1)
  redis.call('LTRIM', KEYS[1], over, -1)
  for _, id in ipairs(dropped) do redis.call('HDEL', KEYS[2], id) end
end
return 1
"""

#: The entries of one agent's list from index ARGV[1] on, oldest first.
_QUERY = """
local ids = redis.call('LRANGE', KEYS[1], ARGV[1], -1)
local out = {}
for i = 1, #ids, 1000 do
  local chunk = redis.call('HMGET', KEYS[2], unpack(ids, i, math.min(i + 999, #ids)))
  for _, value in ipairs(chunk) do out[#out + 1] = value end
end
return out
"""

#: Every kept entry: each agent's list in turn (agents by their first entry), oldest first.
_ALL = """
local out = {}
for _, agent in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local ids = redis.call('LRANGE', ARGV[1] .. agent, 0, -1)
  for i = 1, #ids, 1000 do
    local chunk = redis.call('HMGET', KEYS[2], unpack(ids, i, math.min(i + 999, #ids)))
    for _, value in ipairs(chunk) do out[#out + 1] = value end
  end
end
return out
"""

#: Forget every entry (not the id counter).
_CLEAR = """
for _, agent in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  redis.call('DEL', ARGV[1] .. agent)
end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
"""

#: Clear, then install (agent_id, entry_id, json) triples already trimmed and in order; set the counter.
_REPLACE = (
    _CLEAR.removesuffix("return 1\n")
    + """
for i = 3, #ARGV, 3 do
  redis.call('HSET', KEYS[2], ARGV[i + 1], ARGV[i + 2])
  redis.call('RPUSH', ARGV[1] .. ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[1], 'NX', ARGV[i + 1], ARGV[i])
end
redis.call('SET', KEYS[3], ARGV[2])
return 1
"""
)

_FIELDS = tuple(item.name for item in fields(CallbackEntry))
#: How a ``Decimal`` amount of a callback body is written, so it reads back as the same ``Decimal``.
_DECIMAL = "$decimal"


def _encode(value: object) -> dict[str, str]:
    if isinstance(value, Decimal):
        return {_DECIMAL: str(value)}
    raise TypeError(f"cannot keep {type(value).__name__} in the callback log")


def _decode(data: dict[str, Any]) -> Any:
    if len(data) == 1 and _DECIMAL in data:
        return Decimal(data[_DECIMAL])
    return data


def dump_entry(entry: CallbackEntry) -> str:
    """JSON with every field; the amounts in ``request`` stay ``Decimal`` (JSON numbers would not)."""
    return json.dumps(
        {name: getattr(entry, name) for name in _FIELDS}, default=_encode, separators=(",", ":")
    )


def load_entry(data: bytes | str) -> CallbackEntry:
    marker = _DECIMAL.encode() if isinstance(data, bytes) else _DECIMAL
    values = json.loads(data, object_hook=_decode if marker in data else None)
    return CallbackEntry(**{**values, "outcome": CallbackOutcome(values["outcome"])})


class RedisCallbackLog(CallbackLog):
    """Per-agent bounded callback log in Redis; every instance on the same Redis and prefix sees one log."""

    def __init__(self, client: Any, prefix: str, per_agent: int = 2000) -> None:
        self._redis = client
        self.prefix = prefix
        self._per_agent = per_agent
        self._seq = f"{prefix}cblog:seq"
        self._by_id_key = f"{prefix}cblog:byid"
        self._agents = f"{prefix}cblog:agents"
        self._agent_prefix = f"{prefix}cblog:agent:"
        self._add = client.register_script(_ADD)
        self._query = client.register_script(_QUERY)
        self._all = client.register_script(_ALL)
        self._clear = client.register_script(_CLEAR)
        self._replace = client.register_script(_REPLACE)

    def _list(self, agent_id: int) -> str:
        return f"{self._agent_prefix}{agent_id}"

    def next_id(self) -> int:
        return int(self._redis.incr(self._seq))

    def add(self, entry: CallbackEntry) -> CallbackEntry:
        self._add(
            keys=[self._list(entry.agent_id), self._by_id_key, self._agents],
            args=[entry.entry_id, dump_entry(entry), self._per_agent, entry.agent_id],
        )
        return entry

    def get(self, entry_id: int) -> CallbackEntry | None:
        data = self._redis.hget(self._by_id_key, entry_id)
        return None if data is None else load_entry(data)

    def query(
        self, agent_id: int, command: str | None = None, outcome: str | None = None, limit: int = 100
    ) -> list[CallbackEntry]:
        """Newest first; without filters only the returned entries are read."""
        start = 0 if command is not None or outcome is not None else -max(limit, 1)
        found = reversed(self._query(keys=[self._list(agent_id), self._by_id_key], args=[start]))
        entries = (load_entry(data) for data in found if data is not None)
        return newest_matching(entries, command, outcome, limit)

    def clear(self) -> None:
        self._clear(keys=[self._agents, self._by_id_key], args=[self._agent_prefix])

    def peek_id(self) -> int:
        """The id the next entry gets (snapshots keep it, so replay ids never repeat)."""
        last = self._redis.get(self._seq)
        return int(last or 0) + 1

    def entries(self) -> list[CallbackEntry]:
        """Every kept entry, oldest first per agent."""
        raw = self._all(keys=[self._agents, self._by_id_key], args=[self._agent_prefix])
        return [load_entry(data) for data in raw if data is not None]

    def replace(self, entries: list[CallbackEntry], next_id: int) -> None:
        """Install entries from a snapshot; ids continue from ``next_id`` (past every entry)."""
        kept: dict[int, list[CallbackEntry]] = defaultdict(list)
        for entry in sorted(entries, key=lambda e: e.entry_id):
            kept[entry.agent_id].append(entry)
        installed = sorted(
            (entry for agent in kept.values() for entry in agent[-self._per_agent :]),
            key=lambda e: e.entry_id,
        )
        args: list[Any] = [self._agent_prefix, max([next_id, *(e.entry_id + 1 for e in entries)]) - 1]
        for entry in installed:
            args += [entry.agent_id, entry.entry_id, dump_entry(entry)]
        self._replace(keys=[self._agents, self._by_id_key, self._seq], args=args)
