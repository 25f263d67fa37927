"""The in-flight limit shared by every worker and host through Redis (spec 3.1 step 5, OP-6, issue 9).

With several gunicorn workers, or several hosts, on one Redis, the 50 requests
an agent may have in flight are counted across all of them, as the real
service counts them.  A counter would leak: a worker killed mid-request never
gives its slot back.  So each slot is a *lease* with an expiry:

* one sorted set per key, ``{prefix}inflight:{key}``; a member is a lease id
  ``"{worker_id}:{n}"``, its score the lease's expiry in milliseconds of the
  Redis server's clock (``TIME``), so hosts whose clocks disagree still agree
  on what has expired;
* ``acquire`` is one Lua script: drop the expired members, count the rest,
  add a lease when the count is under the limit - atomic, so concurrent
  workers never overshoot;
* ``release`` removes one of this worker's own leases for the key;
* a daemon heartbeat renews this worker's outstanding leases every third of
  the lease time, so a long request (a seamless callback waiting on a slow
  wallet) keeps its slot; a dead worker stops renewing and its slots come
  back once its leases expire.

Drop-in for :class:`simulator.limits.InflightLimiter`: ``limit``,
``acquire``, ``release``, ``in_flight``, ``close``.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass

import redis

from .redis_wire import Script, Wire, forks

log = logging.getLogger(__name__)

#: What every script below starts with: the Redis server's clock in ms, and taking a lease.
_LIB = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- Drop expired leases, then add ours when fewer than the limit remain.  1 = granted, 0 = refused.
local function take(key, limit, lease, id)
  local now = now_ms()
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZCARD', key) >= tonumber(limit) then return 0 end
  redis.call('ZADD', key, now + tonumber(lease), id)
  redis.call('PEXPIRE', key, lease)
  return 1
end
"""

_ACQUIRE = _LIB + "return take(KEYS[1], ARGV[1], ARGV[2], ARGV[3])"

#: Push the expiry of the given leases that are still alive; an expired or released one stays gone,
#: since its slot may already belong to another request.  Returns how many were renewed.
_RENEW = (
    _LIB
    + """
local now = now_ms()
local lease = tonumber(ARGV[1])
local renewed = 0
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) > now then
    redis.call('ZADD', KEYS[1], 'XX', now + lease, ARGV[i])
    renewed = renewed + 1
  end
end
if renewed > 0 then
  redis.call('PEXPIRE', KEYS[1], lease)
end
return renewed
"""
)

#: Leases not yet expired, whichever worker holds them.
_COUNT = _LIB + "return redis.call('ZCOUNT', KEYS[1], '(' .. now_ms(), '+inf')"

#: A /v4 request's start in one round trip (see :meth:`RedisInflightLimiter.admit`): the current
#: world's epoch and the shared parts' version, the agent of the token in that world, and a lease
#: on the in-flight slot (``ARGV[3]``, or the agent's own when empty) if the agent is known.
_ADMIT = (
    _LIB
    + """
local prefix = ARGV[1]
local epoch = redis.call('GET', prefix .. 'epoch')
local ctl = redis.call('GET', prefix .. 'ctl') or '0'
if not epoch then return {false, ctl} end
local world = prefix .. 'w:' .. epoch .. ':'
local id = redis.call('HGET', world .. 'token', ARGV[2])
if not id then return {epoch, ctl} end
local slot = ARGV[3]
if slot == '' then slot = 'agent:' .. id end
local granted = take(prefix .. 'inflight:' .. slot, ARGV[4], ARGV[5], ARGV[6])
return {epoch, ctl, slot, granted, redis.call('HGETALL', world .. 'agent:' .. id)}
"""
)


def _default_worker_id() -> str:
    """Unique per process and start: host and pid for the reader, a random part against pid reuse."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"


_ADMIT_SCRIPT = Script(_ADMIT)


@dataclass(frozen=True, slots=True)
class Admission:
    """What :meth:`RedisInflightLimiter.admit` found: the current world's ``epoch`` (None: no
    world yet), the shared parts' ``version``, the token's agent as its Redis hash fields (None:
    no agent has that token), and the in-flight ``slot`` taken for the request (None unless
    ``granted``)."""

    epoch: str | None
    version: int
    agent_fields: list[bytes] | None
    slot: str | None
    granted: bool


class RedisInflightLimiter:
    """Per-key in-flight limit counted in Redis, with leases renewed by a heartbeat thread."""

    def __init__(
        self,
        limit: int,
        client: redis.Redis | str,
        *,
        prefix: str = "scorpio:",
        lease: float = 15.0,
        worker_id: str | None = None,
    ) -> None:
        if lease <= 0:
            raise ValueError("the lease must be a positive number of seconds")
        self.limit = limit
        self.prefix = prefix
        self.lease = lease
        self._lease_ms = max(1, round(lease * 1000))
        self._own_client = isinstance(client, str)
        self._redis = redis.Redis.from_url(client) if isinstance(client, str) else client
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._renew = self._redis.register_script(_RENEW)
        self._count = self._redis.register_script(_COUNT)
        self._wire = Wire.of(self._redis)
        self._fixed_worker_id = worker_id
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._start_process()

    def _start_process(self) -> None:
        """Per-process state: after a fork the child has its own id, no leases and no heartbeat yet."""
        self._pid = os.getpid()
        self._forks = forks()
        self.worker_id = self._fixed_worker_id or _default_worker_id()
        self._serial = itertools.count(1)
        self._leases: dict[str, list[str]] = {}
        self._heartbeat: threading.Thread | None = None

    def _key(self, key: str) -> str:
        return f"{self.prefix}inflight:{key}"

    def acquire(self, key: str) -> bool:
        """Take a slot of ``key`` if fewer than ``limit`` are held across all workers."""
        with self._lock:
            if self._pid != os.getpid():
                self._start_process()
            self._ensure_heartbeat()
            lease_id = f"{self.worker_id}:{next(self._serial)}"
        granted = self._acquire(keys=[self._key(key)], args=[self.limit, self._lease_ms, lease_id])
        if not granted:
            return False
        with self._lock:
            self._leases.setdefault(key, []).append(lease_id)
        return True

    def admit(self, token_digest: str, slot: str) -> Admission:
        """A /v4 request's start in one round trip (``_ADMIT``): see :class:`Admission`.

        ``slot`` is the in-flight key to count (the client's IP when the scope is
        ``ip``), or ``""`` for the agent's own.
        """
        if self._forks != forks() or self._heartbeat is None:  # a fork is rare: no getpid() per call
            with self._lock:
                if self._pid != os.getpid():
                    self._start_process()
                self._ensure_heartbeat()
        lease_id = f"{self.worker_id}:{next(self._serial)}"  # next() of a count is atomic
        found = self._wire.script(
            _ADMIT_SCRIPT, self.prefix, token_digest, slot, self.limit, self._lease_ms, lease_id
        )
        epoch = found[0].decode() if found[0] else None
        if len(found) < 5:
            return Admission(epoch, int(found[1]), None, None, False)
        if found[3] == 1:
            held = found[2].decode()
            with self._lock:
                self._leases.setdefault(held, []).append(lease_id)
            return Admission(epoch, int(found[1]), found[4], held, True)
        return Admission(epoch, int(found[1]), found[4], None, False)

    def release(self, key: str) -> None:
        """Give back one of this worker's slots of ``key``.

        Called from a ``finally``, so a Redis error is logged rather than raised:
        the lease then simply expires.
        """
        command = self.release_command(key)
        if command is None:
            return
        try:
            self._redis.zrem(*command[1:])
        except redis.RedisError as exc:
            log.warning("in-flight slot %s of %s not released (%s); its lease expires", command[2], key, exc)

    def release_command(self, key: str) -> tuple[str, str, str] | None:
        """Take back one of this worker's leases of ``key``: the ``ZREM`` that gives its slot back,
        for the caller to send (the end of a /v4 call sends it with the journal entry)."""
        with self._lock:
            held = self._leases.get(key)
            if not held:
                return None
            lease_id = held.pop()
            if not held:
                del self._leases[key]
        return ("ZREM", self._key(key), lease_id)

    def in_flight(self, key: str) -> int:
        """Slots of ``key`` held now by all workers together."""
        return int(self._count(keys=[self._key(key)]))

    def close(self) -> None:
        """Stop renewing; leases still held expire unless released.  Idempotent."""
        self._closed.set()
        heartbeat = self._heartbeat
        if heartbeat is not None and heartbeat is not threading.current_thread():
            heartbeat.join(timeout=self.lease)
        if self._own_client:
            self._redis.close()

    def _ensure_heartbeat(self) -> None:
        if self._heartbeat is None and not self._closed.is_set():
            self._heartbeat = threading.Thread(
                target=self._renew_loop, name=f"inflight-heartbeat-{self.worker_id}", daemon=True
            )
            self._heartbeat.start()

    def _renew_loop(self) -> None:
        while not self._closed.wait(self.lease / 3):
            try:
                self.renew()
            except redis.RedisError as exc:
                log.warning("in-flight leases not renewed (%s); retrying in %.1f s", exc, self.lease / 3)

    def renew(self) -> int:
        """Extend every outstanding lease of this worker by a full lease time; how many were renewed."""
        with self._lock:
            held = {key: list(ids) for key, ids in self._leases.items() if ids}
        if not held:
            return 0
        pipe = self._redis.pipeline(transaction=False)
        for key, ids in held.items():
            self._renew(keys=[self._key(key)], args=[self._lease_ms, *ids], client=pipe)
        return sum(int(n) for n in pipe.execute())
