"""Where the simulator's services come from: one process, or Redis shared by workers (issue 14).

:func:`simulator.backend_factory.open_backend` picks the backend once, from ``SCORPIO_SIM_STORE``;
:class:`~simulator.runtime.Simulator` asks it for every service whose
implementation differs (the store, the clock, the journal, the callback log, the
fault rules, the in-flight limiter, the request gate, the retry queue, the
callback stamps, the shared secrets) and for the world's life cycle (load,
publish, catch up), and never asks which backend it has.

- :class:`LocalBackend`: everything in this process; a world is never shared,
  so loading finds none and publishing has nothing to do.
- :class:`~simulator.redis_backend.RedisServices`: every service shared through
  Redis, so any number of workers on any number of hosts serve one simulator.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from .access.admission import LocalGate
from .clock import Clock
from .config import Settings
from .domain.rounds import ForcedOutcomes
from .domain.store import Store
from .harness.faults import FaultBook
from .harness.journal import Journal
from .limits import InflightLimiter
from .seamless.client import CallbackClient
from .seamless.log import CallbackLog
from .seamless.protocol import StampAllocator
from .seamless.retry import RetryJob, RetryQueue
from .store.memory import MemoryStore

if TYPE_CHECKING:
    from .domain.catalogue import Catalogue
    from .runtime import Simulator, World

#: Turns a retry job's stored form back into a job of the current world (None: it is gone).
Rebuild = Callable[[dict[str, Any]], RetryJob | None]


class Backend(Protocol):
    """What differs between one process and workers sharing Redis (see the module docstring)."""

    def new_store(self) -> Store:
        """An empty store for a world being built or restored (not yet published)."""
        ...

    def clock(self) -> Clock: ...

    def journal(self, size: int) -> Journal: ...

    def callback_log(self, size: int) -> CallbackLog: ...

    def fault_book(self, seed: int) -> FaultBook: ...

    def forced_outcomes(self, store: Store, catalogue: Catalogue) -> ForcedOutcomes:
        """A world's queued outcomes (its catalogue's maintenance is bound to the world too)."""
        ...

    def limiter(self, settings: Settings) -> Any: ...

    def gate(self, sim: Simulator) -> Any:
        """How a /v4 call starts and ends (:mod:`simulator.access.admission`)."""
        ...

    def retry_queue(
        self, callbacks: CallbackClient, seed: int, delay: tuple[float, float], rebuild: Rebuild
    ) -> Any: ...

    def stamps(self) -> StampAllocator: ...

    def first_drawn(self, name: str, draw: str) -> str:
        """A value every worker must share that one of them draws: the first draw."""
        ...

    def share_link_secret(self, secret: bytes) -> None:
        """A restored round-link secret becomes every worker's."""
        ...

    def load(self) -> tuple[Store, dict[str, Any]] | None:
        """The world other workers already share, with its description; None when there is none."""
        ...

    def publish(self, world: World, description: dict[str, Any], replace: bool) -> bool:
        """Make a newly built world the shared one; False when ``replace`` is off and one exists."""
        ...

    def state(self) -> tuple[str | None, int]:
        """The shared world's epoch (None: none shared) and the shared parts' version."""
        ...

    def pull_parts(self) -> None:
        """Reload the shared parts (clock, fault rules, forced outcomes, maintenance)."""
        ...

    def catching_up(self, inner: Any, sim: Simulator) -> Any:
        """The WSGI app, wrapped so that a request starts on the latest world and parts."""
        ...

    def drop_everything(self) -> None:
        """Delete all shared state (tests, and ``make`` targets that start over)."""
        ...

    def close(self) -> None: ...


class LocalBackend(Backend):
    """Every service in this process (``SCORPIO_SIM_STORE=memory``)."""

    def new_store(self) -> Store:
        return MemoryStore()

    def clock(self) -> Clock:
        return Clock()

    def journal(self, size: int) -> Journal:
        return Journal(size)

    def callback_log(self, size: int) -> CallbackLog:
        return CallbackLog(size)

    def fault_book(self, seed: int) -> FaultBook:
        return FaultBook(seed)

    def forced_outcomes(self, store: Store, catalogue: Catalogue) -> ForcedOutcomes:
        return ForcedOutcomes()

    def limiter(self, settings: Settings) -> InflightLimiter:
        return InflightLimiter(settings.inflight_limit)

    def gate(self, sim: Simulator) -> LocalGate:
        return LocalGate(sim)

    def retry_queue(
        self, callbacks: CallbackClient, seed: int, delay: tuple[float, float], rebuild: Rebuild
    ) -> RetryQueue:
        return RetryQueue(callbacks, seed, delay)

    def stamps(self) -> StampAllocator:
        return StampAllocator()

    def first_drawn(self, name: str, draw: str) -> str:
        return draw

    def share_link_secret(self, secret: bytes) -> None:
        """Nothing to share: the secret lives in this process only."""

    def load(self) -> None:
        return None

    def publish(self, world: World, description: dict[str, Any], replace: bool) -> bool:
        return True

    def state(self) -> tuple[str | None, int]:
        return None, 0

    def pull_parts(self) -> None:
        """Nothing to reload: the parts live in this process only."""

    def catching_up(self, inner: Any, sim: Simulator) -> Any:
        return inner

    def drop_everything(self) -> None:
        """Nothing shared to delete: a new store starts empty."""

    def close(self) -> None:
        """Nothing to let go of."""


def link_secret(backend: Backend) -> bytes:
    """The key that signs round-page links: drawn here, or the first worker's on Redis."""
    return bytes.fromhex(backend.first_drawn("link_secret", secrets.token_hex(32)))
