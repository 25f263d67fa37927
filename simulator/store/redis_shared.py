"""The simulator's own state beside the world, shared through Redis: clock, fault rules,
forced outcomes, maintenance, callback stamps and the round-link secret (issue 9).

Each part keeps a local copy that requests read at memory speed, and a JSON
copy in Redis (``ctl:<part>``, or ``w:<epoch>:ctl:<part>`` for a part that
belongs to one world and goes with it at a reset).  A change is an optimistic
transaction (:meth:`SharedPart.change`): watch the copy, install it, change
it, and write it back with a bump of the parts' version in one ``MULTI``, so
every other worker reloads the parts at its next request, which reads that
version anyway; when another worker changed the part in between, the
transaction fails and the change runs again on theirs.  No worker ever waits
on another's lock.  Parts that are read on every request but change rarely
(the clock, the fault rules) therefore cost nothing until someone changes them.

A fault rule that fires changes its counters (``times``, ``after``,
``probability``'s draws): firing is such a change, so ``times: 3`` fires three
times across all workers, not three per worker.  When no rule is active
anywhere, firing reads nothing from Redis.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeVar

from ..clock import Clock
from ..domain.rounds import ForcedOutcomes
from ..harness.faults import FaultBook
from ..seamless.protocol import StampAllocator

if TYPE_CHECKING:
    from ..domain.catalogue import Catalogue
    from .redis_world import RedisBackend

T = TypeVar("T")

_STAMP = """
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local stamp = math.max(tonumber(ARGV[1]), last + 1)
redis.call('SET', KEYS[1], string.format('%d', stamp))
return string.format('%d', stamp)
"""


class SharedPart:
    """One named part: its Redis copy, and how a worker installs another's change.

    A part with an ``epoch`` belongs to that world and goes with it at a reset.
    The local lock keeps this worker's threads from changing (or reloading) the
    local copy at the same time; other workers are kept apart by the transaction.
    """

    def __init__(
        self,
        backend: RedisBackend,
        name: str,
        export: Callable[[], Any],
        install: Callable[[Any], None],
        epoch: Callable[[], str | None] | None = None,
    ) -> None:
        self.backend = backend
        self.name = name
        self.export = export
        self.install = install
        self._epoch = epoch or (lambda: None)
        self._local = threading.RLock()
        self._inside = False
        backend.parts[f"{'wctl' if epoch else 'ctl'}:{name}"] = self

    def change(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the latest copy and write the result back (see the module docstring):
        redis-py's ``transaction`` watches the key and runs the attempt again when it moved.

        A change made inside another of the same part is part of it (a second
        transaction on the key would fail the first's, again and again).
        """
        key = self._redis_key()

        def attempt(pipe: Any) -> T:
            self._install(pipe.get(key))  # watched: executed at once
            result = work()
            pipe.multi()
            self.backend.share(pipe, key, self.export())
            return result

        with self._local:
            if self._inside:
                return work()
            self._inside = True
            try:
                return self.backend.redis.transaction(attempt, key, value_from_callable=True)  # type: ignore[no-any-return]
            finally:
                self._inside = False

    def overwrite(self) -> None:
        """Make this worker's copy everyone's, whatever theirs was (a reset's fresh part)."""
        with self._local, self.backend.redis.pipeline(transaction=True) as pipe:
            self.backend.share(pipe, self._redis_key(), self.export())
            pipe.execute()

    def _redis_key(self) -> str:
        epoch = self._epoch()
        prefix = self.backend.world_prefix(epoch) if epoch else self.backend.prefix
        return f"{prefix}ctl:{self.name}"

    def pull(self) -> None:
        with self._local:
            self._install(self.backend.redis.get(self._redis_key()))

    def _install(self, raw: bytes | None) -> None:
        if raw is not None:
            self.install(json.loads(raw))


def _changing(base: Callable[..., T]) -> Callable[..., T]:
    """``base`` run as a change of the object's part (see :meth:`SharedPart.change`)."""

    def method(self: Any, *args: Any, **kwargs: Any) -> T:
        return self.part.change(lambda: base(self, *args, **kwargs))

    return method


class SharedClock(Clock):
    """The clock offset and freeze, the same on every worker (``/control/clock``)."""

    def __init__(self, backend: RedisBackend) -> None:
        super().__init__()
        self.part = SharedPart(backend, "clock", self._export, self._install)

    def _export(self) -> Any:
        offset, frozen_at = Clock.state(self)
        return {"offset": offset, "frozen_at": frozen_at}

    def _install(self, state: Any) -> None:
        Clock.restore(self, (float(state["offset"]), state["frozen_at"]))

    freeze = _changing(Clock.freeze)
    advance = _changing(Clock.advance)
    set = _changing(Clock.set)
    restore = _changing(Clock.restore)
    reset = _changing(Clock.reset)


class SharedFaultBook(FaultBook):
    """Fault rules and their counters, counted across all workers."""

    def __init__(self, seed: int, backend: RedisBackend) -> None:
        super().__init__(seed)
        self.part = SharedPart(backend, "faults", self.export_state, self._install)

    def _install(self, state: Any) -> None:
        FaultBook.install_state(self, self.parse_state(state))

    add = _changing(FaultBook.add)
    remove = _changing(FaultBook.remove)
    clear = _changing(FaultBook.clear)
    install_state = _changing(FaultBook.install_state)

    def fire(self, agent: str | None, target: str) -> list[dict[str, Any]]:
        if not self._rules:  # no rule anywhere (as of this worker's last catch-up)
            return []
        return self.part.change(lambda: FaultBook.fire(self, agent, target))

    def share(self) -> None:
        self.part.overwrite()


class SharedForcedOutcomes(ForcedOutcomes):
    """Queued multipliers of ``/control/outcomes``: pushed on one worker, played on any.

    ``load`` (a restore) stays local: the queues are shared once the world is published.
    """

    def __init__(self, backend: RedisBackend, epoch: Callable[[], str | None]) -> None:
        super().__init__()
        self.part = SharedPart(backend, "forced", self.export, self.load, epoch)

    push = _changing(ForcedOutcomes.push)

    def pop(self, agent_id: int, account: str) -> Fraction | None:
        if not any(self._queues.values()):  # nothing forced anywhere (as of this worker's last catch-up)
            return None
        return self.part.change(lambda: ForcedOutcomes.pop(self, agent_id, account))

    def share(self) -> None:
        """Write this world's queues (after the world is published)."""
        self.part.overwrite()


class SharedMaintenance:
    """Platform, provider and game maintenance of the current world's catalogue."""

    def __init__(self, backend: RedisBackend, catalogue: Catalogue, epoch: Callable[[], str | None]) -> None:
        self.catalogue = catalogue
        self.part = SharedPart(
            backend, "maintenance", catalogue.maintenance_state, catalogue.install_maintenance, epoch
        )

    def set(self, scope: str, on: bool) -> None:
        self.part.change(lambda: self.catalogue.apply_maintenance(scope, on))

    def share(self) -> None:
        self.part.overwrite()


class SharedStamps(StampAllocator):
    """Callback time stamps that never repeat across workers (spec 6.3): one Redis counter."""

    def __init__(self, backend: RedisBackend) -> None:
        super().__init__()
        self._redis = backend.redis
        self._key = f"{backend.prefix}ctl:stamp"
        self._next = backend.redis.register_script(_STAMP)

    def next(self, now_ms: int) -> int:
        return int(self._next(keys=[self._key], args=[now_ms]))

    def state(self) -> int:
        value = self._redis.get(self._key)
        return int(value) if value is not None else 0

    def restore(self, last: int) -> None:
        self._redis.set(self._key, last)
