"""The running simulator: one object holding the current world and its services.

``World`` is everything ``/control/reset`` replaces (store, catalogue, ledger,
tree, users); ``Simulator`` adds what lives across resets (settings, clock,
journal, fault rules, the in-flight limiter, the callback client).  Views read
``sim.world`` once per request, so a reset swaps worlds atomically and a request
already running finishes on the world it started with.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from .clock import Clock
from .config import Settings
from .control.faults import FaultBook
from .control.journal import Journal
from .domain.catalogue import Catalogue
from .domain.hierarchy import Hierarchy
from .domain.ledger import Ledger
from .domain.users import Users
from .fixtures import load_catalogue, load_players, load_tree, plan_players
from .limits import InflightLimiter
from .seamless.client import CallbackClient
from .store import MemoryStore


@dataclass
class World:
    store: MemoryStore
    catalogue: Catalogue
    ledger: Ledger
    hierarchy: Hierarchy
    users: Users
    fixtures_dir: Path
    seed: int


class Simulator:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = Clock()
        self.journal = Journal(settings.journal_size)
        self.faults = FaultBook(settings.seed)
        self.limiter = InflightLimiter(settings.inflight_limit)
        self.callbacks = CallbackClient(self.clock)
        self._reset_lock = threading.Lock()
        self.world = self._build_world(settings.fixtures_dir, settings.seed)

    def _build_world(self, fixtures_dir: Path, seed: int) -> World:
        store = MemoryStore()
        ledger = Ledger(store, self.clock)
        hierarchy = Hierarchy(store, ledger, self.clock)
        users = Users(store, self.clock, self.callbacks.authenticate)
        catalogue = load_catalogue(fixtures_dir)
        plan = plan_players(fixtures_dir, seed)
        load_tree(fixtures_dir, hierarchy, plan)
        load_players(plan, hierarchy, users, ledger)
        return World(store, catalogue, ledger, hierarchy, users, fixtures_dir, seed)

    def reset(self, fixtures: str | None = None, seed: int | None = None) -> World:
        """Back to a fixture state; clears faults, journal and the clock offset (control-api.md)."""
        with self._reset_lock:
            fixtures_dir = Path(fixtures) if fixtures else self.settings.fixtures_dir
            seed = self.settings.seed if seed is None else seed
            self.clock.reset()
            world = self._build_world(fixtures_dir, seed)
            self.faults = FaultBook(seed)
            self.journal.clear()
            self.world = world
            return world
