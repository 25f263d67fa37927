"""The state file (``SCORPIO_SIM_STATE_FILE``): a snapshot kept on disk across restarts.

Loaded when the simulator starts, written when it shuts down (gunicorn's
``worker_exit`` hook runs after SIGTERM's graceful stop) and on demand
(``POST /control/snapshot/save``, ``python -m simulator snapshot save``).

Writes are atomic: the snapshot is streamed into a temporary file in the same
directory, flushed and fsynced, then renamed over the state file (and the
directory fsynced), so a crash or a kill at any moment leaves either the
previous file or the new one - never half of one.  Leftover temporary files of
a killed save are removed at the next start.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..money import json_default

if TYPE_CHECKING:
    from ..runtime import Simulator

log = logging.getLogger("simulator.state")

#: Temporary files of a save are named ``.<state file name>.<random>.tmp`` next to it.
_TMP_SUFFIX = ".tmp"
_save_lock = threading.Lock()


class StateFileError(ValueError):
    """The state file cannot be read or used; the message names the file and the problem."""


@dataclass(frozen=True)
class Saved:
    path: Path
    bytes: int
    seconds: float


def write_json(handle: IO[str], data: Any) -> None:
    """Stream ``data`` as JSON into ``handle`` chunk by chunk (no second copy in memory)."""
    encoder = json.JSONEncoder(default=json_default, ensure_ascii=False, separators=(",", ":"))
    for chunk in encoder.iterencode(data):
        handle.write(chunk)


def write_atomically(path: Path, data: Any) -> int:
    """Write ``data`` as JSON to ``path`` so that ``path`` is never half-written; returns its size."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TMP_SUFFIX, dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            write_json(handle, data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(directory)
    return path.stat().st_size


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Delete what a killed save left behind next to ``path``; returns the removed files."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    removed = []
    for leftover in directory.glob(f".{path.name}.*{_TMP_SUFFIX}"):
        try:
            leftover.unlink()
            removed.append(leftover)
        except OSError:
            continue
    return removed


def read(path: Path) -> Any:
    """The snapshot in a state file (numbers with fractions as exact decimals)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise StateFileError(f"cannot read the state file {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        raise StateFileError(f"the state file {path} is not valid JSON: {exc}") from None


def save(sim: Simulator, path: Path | None = None, timeout: float | None = None) -> Saved:
    """Snapshot the simulator into its state file (or ``path``), atomically."""
    target = Path(path) if path is not None else sim.settings.state_path
    if target is None:
        raise StateFileError("no state file is configured (set SCORPIO_SIM_STATE_FILE)")
    started = time.monotonic()
    with _save_lock:  # a shutdown save and an on-demand save never interleave
        size = write_atomically(target, sim.snapshot(timeout))
    return Saved(target, size, time.monotonic() - started)


def load_at_start(sim: Simulator) -> bool:
    """Restore the state file if there is one; True when it was loaded.

    A state file that exists but cannot be restored stops the start: starting
    from the fixtures instead would overwrite the user's state at shutdown.
    """
    path = sim.settings.state_path
    if path is None:
        return False
    for leftover in remove_stale_temporaries(path):
        log.warning("removed %s, left by a save that did not finish", leftover)
    if not path.exists():
        log.info("state file %s does not exist yet; starting from the fixtures", path)
        return False
    if sim.joined_world:
        # On Redis the shared world outlives every worker: a worker joining it (another
        # worker's start, or a restart while Redis kept the state) must not roll it back.
        log.info("state file %s not loaded: this worker joined the world Redis already holds", path)
        return False
    started = time.monotonic()
    data = read(path)
    try:
        sim.restore(data)
    except ValueError as exc:
        raise StateFileError(f"the state file {path} cannot be restored: {exc}") from None
    log.info("restored the state from %s in %.2f s", path, time.monotonic() - started)
    return True


def save_at_exit(sim: Simulator) -> Saved | None:
    """The shutdown save (gunicorn ``worker_exit``); logs instead of raising."""
    if sim.settings.state_path is None:
        return None
    try:
        saved = save(sim)
    except Exception:
        log.exception("could not save the state to %s at shutdown", sim.settings.state_path)
        return None
    log.info("saved the state to %s (%d bytes, %.2f s)", saved.path, saved.bytes, saved.seconds)
    return saved
