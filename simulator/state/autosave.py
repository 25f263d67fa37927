"""Saving the state file while serving (issue 15): every few seconds, and whatever SIGTERM meets.

- **Periodic saves.** With ``SCORPIO_SIM_STATE_FILE`` set, :class:`AutoSaver` writes the state
  file every ``SCORPIO_SIM_SAVE_INTERVAL`` seconds (5 by default; 0 turns it off), atomically
  as every save, so a SIGKILL or a crash loses at most that window (the Redis store loses
  nothing: its state is in Redis).
- **SIGTERM.** The state is saved as soon as the stop begins, and again when the worker has
  stopped serving.  gunicorn kills a worker whose requests outlast ``graceful_timeout``, and
  then no hook runs, so the worker's own drain is cut short first (:func:`drain_seconds`):
  the last save happens with the worker's time, not after it.  A request still running then
  may go on changing the state, so the :class:`ResponseGate` closes before that save: a
  response finished after it is never sent, so nothing acknowledged is missing from the file.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .statefile import save

if TYPE_CHECKING:
    from ..runtime import Simulator

log = logging.getLogger("simulator.state")

#: The default of ``SCORPIO_SIM_SAVE_INTERVAL``, seconds.
DEFAULT_INTERVAL = 5.0


def save_quietly(sim: Simulator, why: str) -> bool:
    """One save of the state file, logged; never raises (a save is retried at the next occasion)."""
    if sim.settings.state_path is None:
        return False
    try:
        saved = save(sim)
    except Exception:
        log.exception("could not save the state to %s (%s)", sim.settings.state_path, why)
        return False
    log.log(
        logging.DEBUG if why == "periodic" else logging.INFO,
        "saved the state to %s (%s; %d bytes, %.2f s)",
        saved.path,
        why,
        saved.bytes,
        saved.seconds,
    )
    return True


class AutoSaver:
    """A background thread saving the state file every ``interval`` seconds."""

    def __init__(self, sim: Simulator, interval: float) -> None:
        self.sim = sim
        self.interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.interval > 0 and self.sim.settings.state_path is not None

    def start(self) -> AutoSaver:
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="scorpio-autosave", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            save_quietly(self.sim, "periodic")

    def stop(self) -> None:
        """Stop saving; waits for a save in progress, so a final save never races it."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()


def drain_seconds(graceful_timeout: float) -> int:
    """How long a stopping worker waits for its requests: a third of gunicorn's graceful
    timeout (2 s at least) is kept for the last save, before the master kills the worker."""
    return max(1, int(graceful_timeout - max(2.0, graceful_timeout / 3)))


class ResponseGate:
    """WSGI middleware: once :meth:`close` is called, a finished request's response is held
    back for good instead of sent (the worker is about to save and exit)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self._closed = threading.Event()
        self._never = threading.Event()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def close(self) -> None:
        self._closed.set()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        result = self.app(environ, start_response)
        if self._closed.is_set():
            # What this request changed may be missing from the last save: no client may
            # believe it happened.  The thread waits for the process to end.
            close = getattr(result, "close", None)
            if close is not None:
                close()
            self._never.wait()
        return result
