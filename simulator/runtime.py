"""The running simulator: one object holding the current world and its services.

``World`` is everything ``/control/reset`` replaces (store, catalogue, ledger,
tree, users); ``Simulator`` adds what lives across resets (settings, clock,
journal, fault rules, the in-flight limiter, the callback client).  Views read
``sim.world`` once per request, so a reset swaps worlds atomically and a request
already running finishes on the world it started with.
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .backend_factory import open_backend
from .backends import Backend, link_secret
from .config import Settings
from .domain.bonus import BonusCalls
from .domain.catalogue import Catalogue
from .domain.enums import WalletMode
from .domain.freerounds import FreeRounds
from .domain.hierarchy import Hierarchy
from .domain.history import History, Purged
from .domain.ledger import Ledger
from .domain.rounds import ForcedOutcomes, Rounds, TransferWallet
from .domain.rtp import RtpEngine
from .domain.sessions import Sessions
from .domain.store import Store
from .domain.users import Users
from .fixtures import load_catalogue, load_players, load_tree, plan_players
from .memtrim import TRIM_AFTER_ROWS, release_freed_memory
from .reporting import format_time, timezone_named
from .seamless.client import CallbackClient
from .seamless.retry import RetryJob
from .seamless.wallet import SeamlessWallet
from .state import snapshot


@dataclass
class World:
    store: Store
    catalogue: Catalogue
    ledger: Ledger
    hierarchy: Hierarchy
    users: Users
    sessions: Sessions
    rounds: Rounds
    forced: ForcedOutcomes
    fixtures_dir: Path
    seed: int
    bonus: BonusCalls
    free_rounds: FreeRounds
    engine: RtpEngine
    seamless: SeamlessWallet


#: Simulators not yet closed (a test session closes the ones its tests left open).
OPEN: weakref.WeakSet[Simulator] = weakref.WeakSet()


class Simulator:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        OPEN.add(self)
        #: Where the services come from: this process, or Redis (``SCORPIO_SIM_STORE``).
        self.backend: Backend = open_backend(settings)
        backend = self.backend
        self.clock = backend.clock()
        self.journal = backend.journal(settings.journal_size)
        self.callback_log = backend.callback_log(settings.callback_log_size)
        self.faults = backend.fault_book(settings.seed)
        self.limiter = backend.limiter(settings)
        #: How a /v4 call starts and ends (its guards, its slot, its journal entry).
        self.gate = backend.gate(self)
        self.callbacks = CallbackClient(
            self.clock, self.callback_log, lambda agent, target: self.faults.fire(agent, target)
        )
        delay = (settings.retry_delay_min, settings.retry_delay_max)
        self.retries = backend.retry_queue(self.callbacks, settings.seed, delay, self._rebuild_job)
        self.report_zone = timezone_named(settings.report_tz)
        self.stamps = backend.stamps()
        #: Signs round-page links (the same key on every worker).
        self.link_secret = link_secret(backend)
        backend.pull_parts()  # the clock and fault rules as the other workers left them
        self._reset_lock = threading.Lock()
        self._stopping = threading.Event()
        #: The shared parts' version this worker last loaded (Redis; see ``refresh``).
        self._parts_version = -1
        self._parts_lock = threading.Lock()
        #: True when this worker started on a world Redis already held (not one it built).
        self.joined_world = False
        self.world = self._join_or_build(settings.fixtures_dir, settings.seed)

    def _rebuild_job(self, data: dict[str, Any]) -> RetryJob | None:
        """A retry job from Redis bound to this worker's world; None when the world lacks it.

        Before the world exists this raises (``AttributeError``), which tells the queue
        to try again later.
        """
        world = self.refresh()
        agent = world.store.agent_by_name(str(data["agent"]))
        if agent is None:
            return None
        try:
            return world.seamless.resume_job(
                agent, data["command"], data["round_id"], data["body"], data["attempts"]
            )
        except (KeyError, ValueError):
            return None

    def new_store(self) -> Store:
        """An empty store of the configured backend (a world being built or restored)."""
        return self.backend.new_store()

    def _join_or_build(self, fixtures_dir: Path, seed: int) -> World:
        """At start: the world other workers already share, else a fresh one from the fixtures.

        Workers starting together may all find Redis empty; the first to publish
        wins and the others load its world, so no worker serves a world that is
        then replaced.
        """
        for _ in range(3):
            loaded = self.backend.load()
            if loaded is not None:
                self.joined_world = True
                return self._world_from(*loaded)
            world = self._build_world(fixtures_dir, seed, publish=False)
            if self._publish(world, from_fixtures=True, replace=False):
                return world
        raise RuntimeError("the shared world in Redis keeps disappearing while this worker starts")

    def _build_world(self, fixtures_dir: Path, seed: int, publish: bool = True) -> World:
        """A fresh world from a fixture set: catalogue, agent tree and Faker players."""
        store = self.new_store()
        catalogue = load_catalogue(fixtures_dir)
        world = self.assemble_world(store, catalogue, fixtures_dir, seed)
        plan = plan_players(fixtures_dir, seed)
        load_tree(fixtures_dir, world.hierarchy, plan)
        load_players(plan, world.hierarchy, world.users, world.ledger)
        if publish:
            self._publish(world, from_fixtures=True)
        return world

    def _publish(self, world: World, from_fixtures: bool, replace: bool = True) -> bool:
        """Make a newly built world the shared one (Redis; in one process there is nothing to do).

        A fixture world's catalogue is the fixture directory's (every worker reads it
        there, as it would at start); a restored one travels whole.
        """
        description = {
            "seed": world.seed,
            "fixtures": str(world.fixtures_dir),
            "catalogue": None if from_fixtures else snapshot.catalogue_state(world.catalogue),
        }
        return self.backend.publish(world, description, replace)

    def _world_from(self, store: Store, description: dict[str, Any]) -> World:
        fixtures_dir = Path(description["fixtures"])
        if description["catalogue"] is None:
            catalogue = load_catalogue(fixtures_dir)
        else:
            catalogue = snapshot.load_catalogue_state(description["catalogue"])
        world = self.assemble_world(store, catalogue, fixtures_dir, int(description["seed"]))
        self.backend.pull_parts()
        return world

    def refresh(self) -> World:
        """The current world (Redis: another worker may have reset or restored it) with the
        shared parts as the other workers left them.

        Called at the start of each request: one round trip on Redis, none in memory.
        """
        return self.adopt(*self.backend.state())

    def adopt(self, epoch: str | None, version: int) -> World:
        """The world of ``epoch`` with the shared parts of ``version`` (Redis), as read by this
        request: reload the parts when they moved, switch worlds after a reset elsewhere."""
        backend = self.backend
        world = self.world
        if version != self._parts_version:
            with self._parts_lock:  # the other threads wait for the parts, not run without them
                if version != self._parts_version:
                    backend.pull_parts()
                    self._parts_version = version
        if epoch is not None and epoch != world.store.epoch:
            with self._reset_lock:
                if self.world is world:
                    loaded = backend.load()
                    if loaded is not None:
                        self.world = self._world_from(*loaded)
        return self.world

    def assemble_world(self, store: Store, catalogue: Catalogue, fixtures_dir: Path, seed: int) -> World:
        """The services of a world around its state (a fixture load or a snapshot fills the store)."""
        ledger = Ledger(store, self.clock)
        hierarchy = Hierarchy(store, ledger, self.clock)
        users = Users(store, self.clock, self.callbacks.authenticate)
        sessions = Sessions(store, self.clock, catalogue, users, self.callbacks.authenticate)
        forced = self.backend.forced_outcomes(store, catalogue)
        bonus = BonusCalls(store, self.clock, catalogue)
        free_rounds = FreeRounds(store, self.clock, catalogue, users)
        engine = RtpEngine(seed, store.next_card)  # one card sequence per stream for every worker
        transfer = TransferWallet(ledger)
        seamless = SeamlessWallet(
            store,
            self.clock,
            catalogue,
            ledger,
            self.callbacks,
            self.retries,
            self.stamps,
            self.settings.seamless_points,
            self.settings.retry_profile,
        )
        rounds = Rounds(
            store,
            self.clock,
            catalogue,
            engine,
            forced,
            lambda agent: transfer if agent.mode == WalletMode.TRANSFER else seamless,
            lambda agent, target: self.faults.fire(agent, target),
            seed,
            bonus,
            free_rounds,
        )
        return World(
            store,
            catalogue,
            ledger,
            hierarchy,
            users,
            sessions,
            rounds,
            forced,
            fixtures_dir,
            seed,
            bonus,
            free_rounds,
            engine,
            seamless,
        )

    def format_time(self, moment: datetime) -> str:
        """``"yyyy-MM-dd HH:mm:ss"`` in the reporting timezone (spec 2.3)."""
        return format_time(moment, self.report_zone)

    def start_housekeeping(self, interval: float = 30.0) -> threading.Thread:
        """Purge aged-out history in the background, so retention runs continuously (spec 10).

        History reads purge their own agent first anyway; this keeps memory flat
        for agents that never read their history.  Used by the server, not by
        in-process tests, which drive retention with the controlled clock.
        """

        def run() -> None:
            while not self._stopping.wait(interval):
                try:
                    self.purge_history()
                except Exception:  # keep the housekeeper alive whatever one pass meets
                    logging.getLogger("simulator").exception("history purge failed")

        thread = threading.Thread(target=run, name="scorpio-housekeeping", daemon=True)
        thread.start()
        return thread

    def purge_history(self) -> Purged:
        """One retention pass over every agent; a large one gives the freed memory back to the OS."""
        purged = History(self.world.store, self.clock).purge()
        if purged.transactions + purged.rounds + purged.round_stats >= TRIM_AFTER_ROWS:
            release_freed_memory()
        return purged

    def stop_housekeeping(self) -> None:
        self._stopping.set()

    def close(self) -> None:
        """Stop background threads and let go of Redis (its locks' and leases' heartbeats)."""
        OPEN.discard(self)
        self.stop_housekeeping()
        self.retries.stop()
        self.limiter.close()
        self.backend.close()

    def reset(self, fixtures: str | None = None, seed: int | None = None) -> World:
        """Back to a fixture state; clears faults, journal and the clock offset (control-api.md)."""
        with self._reset_lock:
            fixtures_dir = Path(fixtures) if fixtures else self.settings.fixtures_dir
            seed = self.settings.seed if seed is None else seed
            # Fixture rows are stamped with the reset clock; a bad fixture set must
            # leave the running state (clock included) untouched.
            before = self.clock.state()
            self.clock.reset()
            try:
                world = self._build_world(fixtures_dir, seed)
            except Exception:
                self.clock.restore(before)
                raise
            self.faults = self.backend.fault_book(seed)
            self.faults.share()  # every worker's rules go too
            self.journal.clear()
            self.callback_log.clear()
            self.retries.clear()
            self.world = world
            return world

    # -- snapshots ------------------------------------------------------------------------
    def snapshot(self, timeout: float | None = None) -> dict[str, Any]:
        """The whole state as JSON values (``GET /control/snapshot``, the state file)."""
        return snapshot.capture(self, snapshot.QUIET_TIMEOUT if timeout is None else timeout)

    def restore(self, data: Any) -> World:
        """Replace the whole state with a snapshot's; a bad snapshot raises and changes nothing."""
        restored = snapshot.build(self, data)
        with self._reset_lock:
            self._publish(restored.world, from_fixtures=False)
            snapshot.install(self, restored)
            self.backend.share_link_secret(self.link_secret)
        return restored.world
