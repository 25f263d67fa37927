"""Whole worlds on Redis: publishing one (start, reset, restore) and loading it (joining workers).

A *world* is what ``/control/reset`` replaces.  Publishing writes every record
of a freshly built store under the prefix, with the world's description (seed,
fixture directory, catalogue) in ``world``, and moves the ``epoch`` on: every
other worker sees the new epoch in the change stream and loads the world from
Redis.  While a world is being written the epoch reads ``building:...``, so a
unit of work of the old world that commits meanwhile is refused instead of
mixing into the new one.

Loading reads every key of the prefix in one Lua script, so the records, the
entry count and the last change-stream id it returns belong together; the
worker then follows the stream from that id.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .redis_store import Keys, LockKeeper, RedisStore, compact

_DUMP = """
local out = {}
local epoch = redis.call('GET', KEYS[1])
local version = redis.call('GET', KEYS[2])
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
local last_id = '0-0'
if #last > 0 then last_id = last[1][1] end
for _, key in ipairs(redis.call('KEYS', ARGV[1] .. '*')) do
  local name = string.sub(key, #ARGV[1] + 1)
  local kept = false
  for i = 2, #ARGV do
    if string.sub(name, 1, #ARGV[i]) == ARGV[i] then kept = true end
  end
  local kind = kept and 'none' or redis.call('TYPE', key)['ok']
  if kind == 'hash' then
    table.insert(out, {key, kind, redis.call('HGETALL', key)})
  elseif kind == 'zset' then
    table.insert(out, {key, kind, redis.call('ZRANGE', key, 0, -1)})
  elseif kind == 'list' then
    table.insert(out, {key, kind, redis.call('LRANGE', key, 0, -1)})
  elseif kind == 'string' then
    table.insert(out, {key, kind, {redis.call('GET', key)}})
  end
end
return {epoch or false, version or '0', last_id, out}
"""

_SHARE = """
if ARGV[3] ~= '*' and redis.call('GET', KEYS[1]) ~= ARGV[3] then return -1 end
redis.call('SET', KEYS[4], ARGV[1])
local n = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*',
           'n', n, 'o', ARGV[2], 'e', ARGV[3], 'ctl', ARGV[4], 'state', ARGV[1])
return n
"""

_PUBLISH = """
redis.call('SET', KEYS[1], ARGV[1])
local n = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'n', n, 'o', ARGV[2], 'e', ARGV[1], 'world', '1')
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
return {n, last[1][1]}
"""

#: Keys a publish keeps: the epoch, the entry count, the stream, the locks, the shared parts,
#: and what the parts' own classes clear at a reset (retry jobs, journal, callback log, leases).
_KEEP = ("epoch", "version", "changes", "lock:", "ctl:", "retry:", "journal", "cblog:", "inflight:")
#: Commands per pipeline round trip while a world is written.
_BATCH = 2000
#: How long a joining worker waits for another worker that is writing the world.
BUILD_WAIT_S = 120.0


class RedisBackend:
    """One simulator's connection to Redis: its stores, its locks, its worlds."""

    def __init__(self, url: str, prefix: str = "scorpio:") -> None:
        import redis

        self.url = url
        #: Untyped: redis-py types every reply of its sync client as ``Awaitable | Any``.
        self.redis: Any = redis.Redis.from_url(url)
        self.keys = Keys(prefix)
        #: Names this worker's entries in the change stream (host, pid and a random part).
        self.origin = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.locks = LockKeeper(self.redis)
        self._dump = self.redis.register_script(_DUMP)
        self._publish = self.redis.register_script(_PUBLISH)
        self._share = self.redis.register_script(_SHARE)
        #: Shared parts beside the world by key (``ctl:clock``, ``wctl:forced``...): see redis_shared.
        self.parts: dict[str, Any] = {}

    def new_store(self) -> RedisStore:
        store = RedisStore(self.redis, self.keys, self.origin, self.locks)
        store.on_control = self.install_part
        return store

    # -- parts beside the world ---------------------------------------------------------
    @contextmanager
    def guard(self, key: str) -> Iterator[None]:
        """Hold the Redis lock of a shared part."""
        lock = f"{self.keys.prefix}lock:{key}"
        self.locks.acquire(lock)
        try:
            yield
        finally:
            self.locks.release(lock)

    def shared(self, key: str) -> Any:
        raw = self.redis.get(f"{self.keys.prefix}{key}")
        return None if raw is None else json.loads(raw)

    def share(self, key: str, state: Any, epoch: str = "*") -> bool:
        """Write a part and tell the other workers; False when its world was replaced meanwhile."""
        from .redis_store import STREAM_LENGTH

        keys = self.keys
        text = json.dumps(state, separators=(",", ":"), default=str)
        number = self._share(
            keys=[keys.epoch, keys.version, keys.changes, f"{keys.prefix}{key}"],
            args=[text, self.origin, epoch, key, STREAM_LENGTH],
        )
        return int(number) >= 0

    def install_part(self, key: str, state: Any) -> None:
        """Another worker changed a part: install its copy here."""
        part = self.parts.get(key)
        if part is not None:
            part.install(state)

    # -- publishing ---------------------------------------------------------------------
    def publish(self, store: RedisStore, description: dict[str, Any], replace: bool = True) -> bool:
        """Make ``store`` (built, not live) the shared world, replacing whatever was there.

        With ``replace=False`` (a worker starting) nothing is written when another
        worker published a world first: False, and the caller loads that one.
        """
        from .redis_store import STREAM_LENGTH

        keys = self.keys
        self.locks.acquire(keys.world_lock)
        try:
            if not replace and self.redis.get(keys.epoch) is not None:
                return False
            self.redis.set(keys.epoch, f"building:{self.origin}")
            self._delete_world()
            commands = store.records_commands()
            commands.append(["SET", keys.world, compact(description)])
            for start in range(0, len(commands), _BATCH):
                pipe = self.redis.pipeline(transaction=False)
                for command in commands[start : start + _BATCH]:
                    pipe.execute_command(*command)
                pipe.execute()
            epoch = secrets.token_hex(8)
            number, last_id = self._publish(
                keys=[keys.epoch, keys.version, keys.changes], args=[epoch, self.origin, STREAM_LENGTH]
            )
            store.go_live(epoch, int(number), last_id)
            return True
        finally:
            self.locks.release(keys.world_lock)

    def _delete_world(self) -> None:
        prefix = self.keys.prefix
        doomed = []
        for key in self.redis.scan_iter(match=f"{prefix}*", count=1000):
            name = key.decode()[len(prefix) :]
            if not name.startswith(_KEEP):
                doomed.append(key)
        for start in range(0, len(doomed), _BATCH):
            self.redis.unlink(*doomed[start : start + _BATCH])

    # -- loading ------------------------------------------------------------------------
    def load(self) -> tuple[RedisStore, dict[str, Any]] | None:
        """The shared world as a live store and its description; None when Redis has none yet."""
        deadline = time.monotonic() + BUILD_WAIT_S
        while True:
            epoch, version, last_id, entries = self._dump(
                keys=[self.keys.epoch, self.keys.version, self.keys.changes],
                args=[self.keys.prefix, *_KEEP],
            )
            if not epoch:
                return None
            epoch = epoch.decode()
            if not epoch.startswith("building:"):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"another worker has been writing the world for {BUILD_WAIT_S} s")
            time.sleep(0.05)
        dump: dict[str, Any] = {}
        for raw_key, kind, values in entries:
            key = raw_key.decode()
            decoded = [v.decode() for v in values]
            if kind == b"hash":
                dump[key] = dict(zip(decoded[::2], decoded[1::2], strict=True))
            elif kind in (b"zset", b"list"):
                dump[key] = decoded
            else:
                dump[key] = decoded[0]
        description = json.loads(dump.get(self.keys.world, "null") or "null")
        if description is None:
            return None
        store = self.new_store()
        store.load_dump(dump)
        store.go_live(epoch, int(version), last_id)
        return store, description

    def drop_everything(self) -> None:
        """Delete every key of this prefix (tests; ``make`` targets that start over)."""
        keys = list(self.redis.scan_iter(match=f"{self.keys.prefix}*", count=1000))
        for start in range(0, len(keys), _BATCH):
            self.redis.unlink(*keys[start : start + _BATCH])

    def has_world(self) -> bool:
        epoch = self.redis.get(self.keys.epoch)
        return epoch is not None

    def close(self) -> None:
        self.locks.close()
        self.redis.close()
