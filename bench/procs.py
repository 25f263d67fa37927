"""Processes the bench starts: each in its own session, stopped as a whole group by its own id.

As ``tests/live/conftest.py`` does for the live tests: SIGTERM to the group,
SIGKILL after a grace period, and nothing left behind.  The bench never
signals a process it did not start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stat_fields(pid: int) -> list[str] | None:
    """``/proc/<pid>/stat`` after the command name: state, ppid, pgrp, ..."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2 :].split()


def _live_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group."""
    members = []
    for pid in _live_pids():
        fields = _stat_fields(pid)
        if fields and len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            members.append(pid)
    return members


def children_of(pid: int) -> list[int]:
    """Live direct children of ``pid`` (a gunicorn master's worker)."""
    kids = []
    for candidate in _live_pids():
        fields = _stat_fields(candidate)
        if fields and len(fields) > 1 and int(fields[1]) == pid and fields[0] != "Z":
            kids.append(candidate)
    return kids


def rss_bytes(pid: int) -> int | None:
    """Resident set size of a process, from ``/proc/<pid>/status``."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


@dataclass
class Proc:
    """A started process group: ``popen.pid`` leads it."""

    name: str
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"(no log: {exc})"

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM to the group, SIGKILL after ``timeout``; reaps the leader."""
        pgid = self.popen.pid
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=wait)
            deadline = time.monotonic() + wait
            while group_members(pgid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if self.popen.poll() is not None and not group_members(pgid):
                return


def spawn(name: str, argv: list[str], log_path: Path, cwd: Path, env: dict[str, str] | None = None) -> Proc:
    """Start ``argv`` in a new session with its output in ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        popen = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Proc(name, popen, log_path)


class StartError(RuntimeError):
    """A server did not become ready."""


def wait_ready(proc: Proc, ready: Callable[[], bool], timeout: float, poll: float = 0.01) -> float:
    """Poll ``ready()`` until it is true; returns the seconds waited.  Raises :class:`StartError`."""
    started = time.perf_counter()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if not proc.alive():
            raise StartError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.log_tail()}")
        if ready():
            return time.perf_counter() - started
        time.sleep(poll)
    raise StartError(f"{proc.name} was not ready after {timeout:.0f} s:\n{proc.log_tail()}")
