"""Every service of the simulator shared through Redis (``SCORPIO_SIM_STORE=redis://...``).

The Redis side of :mod:`simulator.backends`: one connection per worker, through
which the worlds (:mod:`simulator.store.redis_world`), the shared parts
(:mod:`simulator.store.redis_shared`), the journal, the callback log, the retry
queue, the in-flight limiter and the request gate of every worker meet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .access.admission import RedisGate
from .backends import Backend
from .config import Settings
from .domain.store import Store
from .seamless.client import CallbackClient
from .seamless.redis_log import RedisCallbackLog
from .seamless.redis_retry import RedisRetryQueue
from .store import redis_shared as shared
from .store.redis_journal import RedisJournal
from .store.redis_limiter import RedisInflightLimiter
from .store.redis_wire import Wire
from .store.redis_world import RedisBackend

if TYPE_CHECKING:
    from .backends import Rebuild
    from .domain.catalogue import Catalogue
    from .runtime import Simulator, World


class RedisServices(RedisBackend, Backend):
    """A :class:`~simulator.backends.Backend` whose services every worker shares."""

    def clock(self) -> shared.SharedClock:
        return shared.SharedClock(self)

    def journal(self, size: int) -> RedisJournal:
        """Every worker's entries, in the order Redis received them."""
        return RedisJournal(self.redis, self.prefix, size)

    def callback_log(self, size: int) -> RedisCallbackLog:
        return RedisCallbackLog(self.redis, self.prefix, size)

    def fault_book(self, seed: int) -> shared.SharedFaultBook:
        return shared.SharedFaultBook(seed, self)

    def forced_outcomes(self, store: Store, catalogue: Catalogue) -> shared.SharedForcedOutcomes:
        epoch = lambda: store.epoch  # type: ignore[attr-defined]  # noqa: E731 - set once published
        catalogue.shared = shared.SharedMaintenance(self, catalogue, epoch)
        return shared.SharedForcedOutcomes(self, epoch)

    def limiter(self, settings: Settings) -> RedisInflightLimiter:
        """Leases on this connection, so a request's end is one pipeline with its journal entry."""
        return RedisInflightLimiter(settings.inflight_limit, self.redis, prefix=self.prefix)

    def gate(self, sim: Simulator) -> RedisGate:
        return RedisGate(sim, Wire.of(self.redis))

    def retry_queue(
        self, callbacks: CallbackClient, seed: int, delay: tuple[float, float], rebuild: Rebuild
    ) -> RedisRetryQueue:
        """Any worker delivers a pending win or cancel; a dead worker's jobs go to another."""
        return RedisRetryQueue(
            callbacks, seed, delay, redis=self.redis, prefix=self.prefix, origin=self.origin, rebuild=rebuild
        )

    def stamps(self) -> shared.SharedStamps:
        return shared.SharedStamps(self)

    def first_drawn(self, name: str, draw: str) -> str:
        key = f"{self.prefix}ctl:{name}"
        self.redis.set(key, draw, nx=True)
        return str(self.redis.get(key).decode())

    def share_link_secret(self, secret: bytes) -> None:
        self.redis.set(f"{self.prefix}ctl:link_secret", secret.hex())

    def publish(self, world: World, description: dict[str, Any], replace: bool) -> bool:
        """The world's store becomes the shared one, then its forced outcomes and maintenance."""
        if not self.publish_store(world.store, description, replace):  # type: ignore[arg-type]
            return False
        world.forced.share()  # type: ignore[attr-defined]
        world.catalogue.shared.share()
        return True

    def catching_up(self, inner: Any, sim: Simulator) -> Any:
        """Every request starts on the current world with the current shared parts (a /v4 call
        learns both in its admission script; any other request reads them first)."""

        def application(environ: dict[str, Any], start_response: Any) -> Any:
            if not environ.get("PATH_INFO", "").startswith("/v4/"):
                sim.refresh()
            return inner(environ, start_response)

        return application
