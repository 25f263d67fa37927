"""The running simulator: one object holding the current world and its services.

``World`` is everything ``/control/reset`` replaces (store, catalogue, ledger,
tree, users); ``Simulator`` adds what lives across resets (settings, clock,
journal, fault rules, the in-flight limiter, the callback client).  Views read
``sim.world`` once per request, so a reset swaps worlds atomically and a request
already running finishes on the world it started with.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .clock import Clock
from .config import Settings
from .control.faults import FaultBook
from .control.journal import Journal
from .domain.bonus import BonusCalls
from .domain.catalogue import Catalogue
from .domain.freerounds import FreeRounds
from .domain.hierarchy import Hierarchy
from .domain.history import History, Purged
from .domain.ledger import Ledger
from .domain.models import TRANSFER
from .domain.rounds import ForcedOutcomes, Rounds, TransferWallet
from .domain.rtp import RtpEngine
from .domain.sessions import Sessions
from .domain.users import Users
from .fixtures import load_catalogue, load_players, load_tree, plan_players
from .limits import InflightLimiter
from .memtrim import TRIM_AFTER_ROWS, release_freed_memory
from .reporting import format_time, timezone_named
from .seamless.client import CallbackClient
from .seamless.log import CallbackLog
from .seamless.protocol import StampAllocator
from .seamless.retry import RetryQueue
from .seamless.wallet import SeamlessWallet
from .state import snapshot
from .store import MemoryStore


@dataclass
class World:
    store: MemoryStore
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


class Simulator:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = Clock()
        self.journal = Journal(settings.journal_size)
        self.faults = FaultBook(settings.seed)
        self.limiter = InflightLimiter(settings.inflight_limit)
        self.callback_log = CallbackLog(settings.callback_log_size)
        self.callbacks = CallbackClient(
            self.clock, self.callback_log, lambda agent, target: self.faults.fire(agent, target)
        )
        self.retries = RetryQueue(
            self.callbacks, settings.seed, (settings.retry_delay_min, settings.retry_delay_max)
        )
        self.stamps = StampAllocator()
        self.report_zone = timezone_named(settings.report_tz)
        #: Signs round-page links (the rounds themselves live only as long as the process).
        self.link_secret = secrets.token_bytes(32)
        self._reset_lock = threading.Lock()
        self._stopping = threading.Event()
        self.world = self._build_world(settings.fixtures_dir, settings.seed)

    def _build_world(self, fixtures_dir: Path, seed: int) -> World:
        """A fresh world from a fixture set: catalogue, agent tree and Faker players."""
        store = MemoryStore()
        catalogue = load_catalogue(fixtures_dir)
        world = self.assemble_world(store, catalogue, fixtures_dir, seed)
        plan = plan_players(fixtures_dir, seed)
        load_tree(fixtures_dir, world.hierarchy, plan)
        load_players(plan, world.hierarchy, world.users, world.ledger)
        return world

    def assemble_world(
        self, store: MemoryStore, catalogue: Catalogue, fixtures_dir: Path, seed: int
    ) -> World:
        """The services of a world around its state (a fixture load or a snapshot fills the store)."""
        ledger = Ledger(store, self.clock)
        hierarchy = Hierarchy(store, ledger, self.clock)
        users = Users(store, self.clock, self.callbacks.authenticate)
        sessions = Sessions(store, self.clock, catalogue, users, self.callbacks.authenticate)
        forced = ForcedOutcomes()
        bonus = BonusCalls(store, self.clock, catalogue, ledger)
        free_rounds = FreeRounds(store, self.clock, catalogue, users)
        engine = RtpEngine(seed)
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
            lambda agent: transfer if agent.mode == TRANSFER else seamless,
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
            self.faults = FaultBook(seed)
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
            snapshot.install(self, restored)
        return restored.world
