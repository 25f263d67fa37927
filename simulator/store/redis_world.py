"""Whole worlds on Redis: which world is current, publishing a new one, and the shared parts.

A *world* is what ``/control/reset`` replaces.  Each world's keys live under a
prefix of its own, ``<prefix>w:<epoch>:``; a world is built (from fixtures or
a snapshot) under a fresh epoch while the current one keeps serving, then
published by pointing ``<prefix>epoch`` at it - one ``SET``, so every worker
switches at its next request and nothing ever mixes two worlds.  The old
world's keys are deleted a little later, once requests already running on it
have finished.

Beside the world sit the *shared parts* of :mod:`.redis_shared` (the clock,
fault rules, forced outcomes, maintenance).  Each is one JSON value; changing
one bumps ``<prefix>ctl`` so the other workers reload the parts at their next
request.  A request reads the epoch and that counter in one round trip
(:meth:`RedisBackend.state`).  Nothing here takes a lock: publishing is one
``MULTI`` (the old epoch read and the new one set together), and a part
changes in an optimistic transaction (:meth:`.SharedPart.change`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import threading
from typing import Any

from .redis_store import RedisStore

#: Seconds a replaced world's keys are kept for requests that were running on it.
RETIRE_AFTER_S = 10.0
#: Keys deleted per round trip.
_BATCH = 1000
#: A world's description or a shared part as compact JSON (dates and Decimals as text).
_to_json = json.JSONEncoder(separators=(",", ":"), default=str).encode


class RedisBackend:
    """One simulator's connection to Redis: its worlds and its shared parts."""

    def __init__(self, url: str, prefix: str = "scorpio:") -> None:
        import redis

        self.url = url
        #: The client; typed Any: redis-py types every reply as "Awaitable | Any".
        self.redis: Any = redis.Redis.from_url(url)
        self.prefix = prefix
        #: Names this worker (host, pid and a random part), e.g. as the owner of retry jobs.
        self.origin = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        #: Shared parts beside the world by name (see redis_shared), reloaded when ``ctl`` moves.
        self.parts: dict[str, Any] = {}
        self._epoch_key = f"{prefix}epoch"
        self._ctl_key = f"{prefix}ctl"

    def world_prefix(self, epoch: str) -> str:
        return f"{self.prefix}w:{epoch}:"

    def _store(self, epoch: str) -> RedisStore:
        store = RedisStore(self.redis, self.world_prefix(epoch))
        store.epoch = epoch
        return store

    def new_store(self) -> RedisStore:
        """An empty world under a fresh epoch, not yet published."""
        store = self._store(secrets.token_hex(8))
        store.initialise()
        return store

    def state(self) -> tuple[str | None, int]:
        """The current world's epoch and the shared parts' version: one round trip."""
        epoch, ctl = self.redis.mget(self._epoch_key, self._ctl_key)
        return (epoch.decode() if epoch else None), int(ctl or 0)

    # -- worlds ---------------------------------------------------------------------------
    def publish_store(self, store: RedisStore, description: dict[str, Any], replace: bool = True) -> bool:
        """Make ``store``'s world the current one.

        With ``replace=False`` (a worker starting) nothing changes when another
        worker published a world first: False, ``store``'s keys are deleted, and
        the caller loads that world.  Publishing is atomic without a lock: the
        epoch is read and set in one ``MULTI`` (``SET NX`` when not replacing),
        so of two workers publishing at once each retires what it replaced.
        """
        self.redis.set(store.key("desc"), _to_json(description))
        if not replace:
            if not self.redis.set(self._epoch_key, store.epoch, nx=True):
                self._delete_world(store.epoch)
                return False
            return True
        pipe = self.redis.pipeline(transaction=True)
        pipe.get(self._epoch_key)
        pipe.set(self._epoch_key, store.epoch)
        old, _ = pipe.execute()
        if old is not None and old.decode() != store.epoch:
            self._retire(old.decode())
        return True

    def load(self) -> tuple[RedisStore, dict[str, Any]] | None:
        """The current world and its description; None when Redis holds none yet."""
        epoch = self.redis.get(self._epoch_key)
        if epoch is None:
            return None
        store = self._store(epoch.decode())
        description = self.redis.get(store.key("desc"))
        if description is None:
            return None
        return store, json.loads(description)

    def _retire(self, epoch: str) -> None:
        """Delete a replaced world's keys once the requests still running on it are done."""
        timer = threading.Timer(RETIRE_AFTER_S, self._delete_world, args=(epoch,))
        timer.daemon = True
        timer.start()

    def _delete_world(self, epoch: str) -> None:
        with contextlib.suppress(Exception):  # Redis gone (a test's server stopped): keys and all
            self._delete_matching(f"{self.world_prefix(epoch)}*")

    def _delete_matching(self, pattern: str) -> None:
        batch = []
        for key in self.redis.scan_iter(match=pattern, count=_BATCH):
            batch.append(key)
            if len(batch) >= _BATCH:
                self.redis.unlink(*batch)
                batch = []
        if batch:
            self.redis.unlink(*batch)

    def drop_everything(self) -> None:
        """Delete every key of this prefix (tests; ``make`` targets that start over)."""
        self._delete_matching(f"{self.prefix}*")

    # -- shared parts ---------------------------------------------------------------------
    def share(self, pipe: Any, key: str, state: Any) -> None:
        """Queue a part's new copy on ``pipe`` (a ``MULTI``), and the version bump that tells the
        other workers to reload the parts."""
        pipe.set(key, _to_json(state))
        pipe.incr(self._ctl_key)

    def pull_parts(self) -> None:
        for part in list(self.parts.values()):
            part.pull()

    def close(self) -> None:
        self.redis.close()
