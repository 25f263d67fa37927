"""The real server for the live tests: ``make -s run`` on a free loopback port.

The simulator is started exactly as a developer starts it (the Makefile's ``run``
target, hence ``gunicorn.conf.py``), in its own session so the whole process
group - make, the gunicorn master and its worker - can be stopped together.
Other ``SCORPIO_SIM_*`` variables of the calling environment pass through, so
``SCORPIO_SIM_WORKER_CLASS=gevent pytest tests/live`` checks the gevent worker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0  # covers a first `make run` that has to pip-install the project
STOP_TIMEOUT_S = 10.0
DEMO_TOKEN = "ed45553e-1702-4342-a70d-09bf7ff7f568"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, read from /proc."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: ask the kernel whether anything is left
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ..." - comm may contain spaces and parentheses.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _wait_group_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _group_members(pgid):
            return True
        time.sleep(0.05)
    return not _group_members(pgid)


def stop_group(proc: subprocess.Popen, timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM to the whole group, SIGKILL after ``timeout``; reap make; nothing survives."""
    pgid = proc.pid  # start_new_session=True: make leads its own group
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait)
        if proc.poll() is not None and _wait_group_gone(pgid, wait):
            return
    raise AssertionError(f"processes of group {pgid} survived SIGKILL: {_group_members(pgid)}")


@dataclass
class LiveServer:
    base_url: str
    log_path: Path
    proc: subprocess.Popen

    @property
    def control_headers(self) -> dict[str, str]:
        token = os.environ.get("SCORPIO_SIM_ADMIN_TOKEN")
        return {"X-Admin-Token": token} if token else {}

    def control(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(
            method, f"{self.base_url}/control/{path}", json=body, headers=self.control_headers, timeout=10
        )

    def v4(self, path: str, body: Any = None, *, token: str = DEMO_TOKEN, method: str = "POST", **kw):
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        return requests.request(
            method, f"{self.base_url}/v4/{path}", json=body, headers=headers, timeout=10, **kw
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(log_path: Path, env: dict[str, str] | None = None) -> LiveServer:
    """``make -s run`` on a free port; ``env`` adds ``SCORPIO_SIM_*`` settings (workers, store)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = dict(env or {})
    if os.environ.get("SCORPIO_SIM_STORE", "memory") != "memory":  # pytest --store=redis
        env.setdefault("SCORPIO_SIM_STORE_PREFIX", f"live{port}:")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            ["make", "-s", "run"],
            cwd=REPO_ROOT,
            env={**os.environ, **env, "SCORPIO_SIM_BIND": f"127.0.0.1:{port}"},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LiveServer(base_url, log_path, proc)
    deadline = time.monotonic() + START_TIMEOUT_S
    problem = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            problem = f"`make -s run` exited with status {proc.returncode}"
            break
        try:
            answer = requests.get(f"{base_url}/control/health", timeout=1)
            if answer.status_code == 200 and answer.json().get("status") == "ok":
                return server
            problem = f"health answered HTTP {answer.status_code}: {answer.text[:200]}"
        except (requests.RequestException, ValueError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        time.sleep(0.1)
    else:
        problem = f"GET /control/health did not answer within {START_TIMEOUT_S:.0f} s (last: {problem})"
    stop_group(proc)
    pytest.fail(f"the simulator did not start: {problem}\n--- {log_path} (tail) ---\n{log_tail(log_path)}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    log_path = tmp_path_factory.mktemp("live") / "server.log"
    server = start_server(log_path)
    try:
        yield server
    finally:
        stop_group(server.proc)


@pytest.fixture
def live(live_server: LiveServer) -> LiveServer:
    """The live server, back at its fixture state (faults cleared) for this test."""
    answer = live_server.control("POST", "reset", {})
    assert answer.status_code == 200, answer.text
    return live_server
