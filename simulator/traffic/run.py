"""One traffic run: virtual players of an agent play at a steady total rate, then the money is reconciled.

Threads: the run's own thread sets players up, paces rounds (:class:`Pacer`)
onto a worker pool - one round at a time per player, as a real player plays -
then drains pending wins and cancels and reconciles; a collector thread reads
the run's callbacks from the callback log.  Pacing uses the monotonic clock,
never the simulator's (which tests may freeze); history times stay on the
simulator's clock.  The run stops at ``duration_s``, on :meth:`stop`, or by
itself when the simulator's world is replaced (``/control/reset``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from ..codes import ResultCode, SimError
from ..domain.rounds import RoundFailed
from ..money import ZERO
from . import reconcile
from .collector import CallbackCollector
from .figures import Figures
from .pacing import Pacer
from .plan import Prepared
from .players import SetupFailed, VirtualPlayer, set_up

log = logging.getLogger("simulator.traffic")

#: Refusals after which a player stops playing (a real player would too).
RETIRING = {
    ResultCode.BALANCE_NOT_ENOUGH: "out of balance",
    ResultCode.PERMISSION_ERROR: "session ended or player blocked",
    ResultCode.AGENT_NOT_FOUND: "agent disabled",
}
MAX_ROUND_WORKERS = 256
MAX_SETUP_WORKERS = 32
COLLECT_EVERY_S = 0.2


class WorldReset(Exception):
    """The simulator was reset: the run's world, players and history are gone."""


class TrafficRun:
    def __init__(self, run_id: int, sim: Any, prepared: Prepared) -> None:
        self.run_id = run_id
        self.sim = sim
        self.world = sim.world
        self.prepared = prepared
        self.plan = prepared.plan
        self.players = [VirtualPlayer(n, name) for n, name in enumerate(prepared.names, start=1)]
        self.figures = Figures()
        self.state = "running"
        self.phase = "setup"
        self.stop_reason: str | None = None
        self.error: str | None = None
        self.reconciliation: dict[str, Any] | None = None
        self.pending_retries = 0
        self.withdrawn = ZERO
        self.started_at = sim.clock.now()
        self.ended_at = None
        #: History rows with a larger trans_id were written during the run.
        self._first_trans_id = 0
        self._play_started: float | None = None
        self._play_ended: float | None = None
        self._stop = threading.Event()
        self._done = threading.Event()
        self._collecting_done = threading.Event()
        self._state_lock = threading.Lock()
        self._idle: deque[VirtualPlayer] = deque()
        self._idle_changed = threading.Condition()
        self._thread = threading.Thread(target=self._main, name=f"scorpio-traffic-{run_id}", daemon=True)
        self.collector: CallbackCollector | None = None

    # -- control ------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop playing now (DELETE); the run still drains and reconciles, then ends ``done``."""
        with self._state_lock:
            if self._done.is_set():
                return
            self._stop.set()
            if self.state == "running":
                self.state = "stopping"
        with self._idle_changed:
            self._idle_changed.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def _world_gone(self) -> bool:
        return self.sim.world is not self.world

    # -- the run ------------------------------------------------------------------------
    def _main(self) -> None:
        agent = self.prepared.agent
        self.collector = CallbackCollector(
            self.sim.callback_log,
            agent.agent_id,
            set(self.prepared.names),
            self.sim.settings.callback_log_size,
            self.figures.callback,
        )
        collecting = threading.Thread(
            target=self._collect, name=f"scorpio-traffic-{self.run_id}-log", daemon=True
        )
        collecting.start()
        state = "failed"
        try:
            self._setup()
            self._play()
            self._finish()
            state = "done"
        except WorldReset:
            self.stop_reason = "reset"
            self.error = "the simulator was reset during the run; its players and history are gone"
            self.reconciliation = reconcile.summary(
                [reconcile.Check("world", False, "the run's world still exists", [self.error])]
            )
        except SetupFailed as failed:
            self.stop_reason, self.error = "setup", self._setup_hint(str(failed))
            self._give_back()
        except Exception as exc:  # a broken run must still end and say why
            log.exception("traffic run %s failed", self.run_id)
            self.stop_reason, self.error = "error", f"{type(exc).__name__}: {exc}"
        finally:
            self._collecting_done.set()
            collecting.join(timeout=5)
            self._poll_callbacks()  # the last callbacks (final balances) are in the report
            with self._state_lock:
                self.ended_at = self.sim.clock.now()
                self.phase, self.state = "finished", state
                self._done.set()

    def _setup_hint(self, message: str) -> str:
        if self.prepared.seamless and "CALLBACK_ERROR" in message:
            return (
                f"{message} - the wallet must know every account the players use: give 'accounts' "
                "with names it knows, or create the accounts in it first"
            )
        return message

    def _setup(self) -> None:
        agent = self.prepared.agent
        store = self.world.store
        self._first_trans_id = max((tx.trans_id for tx in store.transactions_of(agent.agent_id)), default=0)
        for name in sorted(set(self.prepared.names)):
            existing = store.user_by_name(agent.agent_id, agent.mode, name)
            tally = self.figures.tally(name)
            tally.created = existing is None
            if not self.prepared.seamless:  # a new user starts at 0
                tally.start_balance = existing.balance if existing else ZERO
        with ThreadPoolExecutor(min(len(self.players), MAX_SETUP_WORKERS), "scorpio-traffic-setup") as pool:
            list(pool.map(self._set_up_one, self.players))
        if self.prepared.seamless:
            for tally in self.figures.accounts.values():
                # as the wallet reported it when the account's last session opened, before any round
                tally.start_balance = store.user(tally.user_code).last_balance

    def _set_up_one(self, player: VirtualPlayer) -> None:
        if self._world_gone():
            raise WorldReset()
        if self._stop.is_set():
            return
        try:
            set_up(self.world, self.prepared, player)
        finally:
            if player.user is not None:
                with self.figures.lock:
                    tally = self.figures.tally(player.name)
                    tally.user_code = player.user.user_code
                    tally.deposited += player.deposited

    def _play(self) -> None:
        self.phase = "play"
        ready = [p for p in self.players if p.session is not None]
        self._idle.extend(ready)
        self._active = len(ready)
        start = time.monotonic()
        self._play_started = start
        end = start + self.plan.duration_s
        pacer = Pacer(self.plan.rounds_per_second, start)
        workers = min(len(ready) or 1, MAX_ROUND_WORKERS)
        with ThreadPoolExecutor(workers, f"scorpio-traffic-{self.run_id}") as pool:
            while True:
                if self._world_gone():
                    self._stop.set()
                    raise WorldReset()
                now = time.monotonic()
                if self._stop.is_set():
                    self.stop_reason = "stopped"
                    break
                if now >= end:
                    self.stop_reason = "duration"
                    break
                wait = pacer.wait_for(now)
                if wait > 0:
                    self._stop.wait(min(wait, end - now, 0.25))
                    continue
                player = self._next_idle(min(end - now, 0.25))
                if player is None:
                    if self._active == 0:
                        self.stop_reason = "no players left to play"
                        break
                    continue
                pacer.take(time.monotonic())
                with self.figures.lock:
                    self.figures.attempted += 1
                pool.submit(self._one_round, player)
            self._play_ended = time.monotonic()
        # leaving the pool waits for the rounds in flight: bounded by the callback timeouts

    def _next_idle(self, timeout: float) -> VirtualPlayer | None:
        with self._idle_changed:
            if not self._idle and not self._stop.is_set() and self._active:
                self._idle_changed.wait(timeout)
            return self._idle.popleft() if self._idle else None

    def _one_round(self, player: VirtualPlayer) -> None:
        figures = self.figures
        try:
            round_ = self.world.rounds.play(player.session, self.prepared.bet)
        except RoundFailed as failed:
            figures.round_refunded(player.name, failed.round)
        except SimError as refused:
            figures.round_refused(refused.code.name)
            if refused.code in RETIRING:
                player.retired = RETIRING[refused.code]
        except Exception as exc:
            log.exception("traffic run %s: a round of %s failed", self.run_id, player.name)
            figures.round_error(f"{player.name}: {type(exc).__name__}: {exc}")
        else:
            figures.round_played(player.name, round_)
        finally:
            with self._idle_changed:
                if player.retired:
                    self._active -= 1
                else:
                    self._idle.append(player)
                self._idle_changed.notify()

    # -- the end -----------------------------------------------------------------------
    def _run_retries(self) -> list:
        accounts = set(self.prepared.names)
        agent_id = self.prepared.agent.agent_id
        return [
            job
            for job in self.sim.retries.pending()
            if job.agent.agent_id == agent_id and job.body.get("data", {}).get("account") in accounts
        ]

    def _finish(self) -> None:
        self.phase = "drain"
        deadline = time.monotonic() + self.plan.drain_s
        while True:
            if self._world_gone():
                raise WorldReset()
            left = self.figures.resolve_pending(lambda r: self.world.store.round(r.agent_id, r.round_id))
            self.pending_retries = len(self._run_retries())
            if (not left and not self.pending_retries) or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        self.phase = "reconcile"
        finals = self._final_balances()
        self.reconciliation = reconcile.summary(self._checks(finals))
        self._give_back()

    def _final_balances(self) -> dict[str, Decimal | None]:
        finals: dict[str, Decimal | None] = {}
        for player in self.players:
            if player.session is None or player.name in finals:
                continue
            if self.prepared.seamless:  # a balance callback: what the wallet holds now
                finals[player.name] = self.world.rounds.refresh_balance(player.session)
            else:  # the balance now, not the one of the record read before the deposit
                finals[player.name] = self.world.ledger.balance_of(player.user)
        return finals

    def _checks(self, finals: dict[str, Decimal | None]) -> list[reconcile.Check]:
        figures = self.figures
        with figures.lock:
            tallies = [t for t in figures.accounts.values() if t.user_code]
            pending, win_error = len(figures.pending), figures.win_error
            errors, samples = figures.errors, list(figures.error_samples)
        codes = {t.user_code for t in tallies}
        rows = list(self.world.store.transactions_of(self.prepared.agent.agent_id))
        totals = reconcile.history_totals(rows, codes, self._first_trans_id)
        checks = [
            reconcile.check_rounds_final(pending, win_error, self.pending_retries),
            reconcile.check_history(tallies, totals),
            reconcile.check_balances(tallies, finals, self.prepared.seamless),
        ]
        if not self.prepared.seamless:
            checks.append(reconcile.check_history_movement(tallies, finals, totals))
        checks += [
            reconcile.check_audit(self.world.ledger.audit(), codes),
            reconcile.check_errors(errors, samples),
        ]
        return checks

    def _give_back(self) -> None:
        """Transfer mode: the agent gets its points back - all of a user the run made, else the deposit."""
        if self.prepared.seamless or self._world_gone():
            return
        agent = self.prepared.agent
        for tally in list(self.figures.accounts.values()):
            if not tally.user_code or tally.deposited <= 0:
                continue
            user = self.world.store.user(tally.user_code)
            amount = user.balance if tally.created else min(user.balance, tally.deposited)
            if amount > 0:
                self.world.ledger.withdraw(agent, user, amount)
                self.withdrawn += amount

    # -- callbacks -----------------------------------------------------------------------
    def _collect(self) -> None:
        while not self._collecting_done.wait(COLLECT_EVERY_S):
            self._poll_callbacks()

    def _poll_callbacks(self) -> None:
        if self.collector is not None and not self._world_gone():
            self.collector.poll()

    # -- the report ----------------------------------------------------------------------
    def elapsed_s(self) -> float:
        if self._play_started is None:
            return 0.0
        end = self._play_ended if self._play_ended is not None else time.monotonic()
        return max(0.0, end - self._play_started)
