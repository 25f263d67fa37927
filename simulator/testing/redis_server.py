"""A throw-away ``redis-server`` for tests and benchmarks (issue 9).

The Redis backend is tested against the real engine, not a fake: this starts
Debian's ``redis-server`` (``make redis-server`` installs it) on a free
loopback port, in a temporary directory, with persistence off so nothing
outlives the run.  It runs in its own process group, so :meth:`RedisServer.stop`
reaches it even if it forks, and a SIGKILL follows when SIGTERM is not enough.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import redis

INSTALL_HINT = "run `make redis-server` (installs Debian's redis-server package)"


class RedisServerMissing(RuntimeError):
    """``redis-server`` is not on PATH: the Redis tests cannot run, and must not pass by skipping."""


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class RedisServer:
    """One ``redis-server`` process: ``start()``, ``url``, ``flush()``, ``stop()`` (or a ``with`` block)."""

    def __init__(self, executable: str = "redis-server", host: str = "127.0.0.1") -> None:
        self.executable = executable
        self.host = host
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._client: redis.Redis | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``, what ``SCORPIO_SIM_STORE`` takes."""
        if self._process is None:
            raise RuntimeError("the redis-server is not running: call start() first")
        return f"redis://{self.host}:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Start the server and wait until it answers PING; a port taken in the meantime is retried."""
        path = shutil.which(self.executable)
        if path is None:
            raise RedisServerMissing(f"{self.executable} not found on PATH: {INSTALL_HINT}")
        self._dir = tempfile.TemporaryDirectory(prefix="scorpio-redis-")
        last_error = ""
        for _ in range(3):
            self.port = _free_port(self.host)
            last_error = self._launch(path, timeout)
            if not last_error:
                return self
        self.stop()
        raise RuntimeError(f"redis-server did not start on {self.host}: {last_error}")

    def _launch(self, path: str, timeout: float) -> str:
        """Spawn on ``self.port``; an empty string once it answers, else why it did not."""
        assert self._dir is not None
        log = Path(self._dir.name) / "redis.log"
        args = [
            path,
            *("--bind", self.host, "--port", str(self.port), "--dir", self._dir.name),
            *("--save", "", "--appendonly", "no", "--logfile", str(log), "--daemonize", "no"),
        ]
        self._process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True
        )
        self._client = redis.Redis(host=self.host, port=self.port, socket_timeout=2)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                if self._client.ping():
                    return ""
            except redis.ConnectionError:
                time.sleep(0.02)
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        self._kill()
        return f"no answer on port {self.port} within {timeout} s; log: {tail.strip() or '(empty)'}"

    def flush(self) -> None:
        """FLUSHALL: every test starts on an empty server."""
        if self._client is None:
            raise RuntimeError("the redis-server is not running: call start() first")
        self._client.flushall()

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM to the process group, SIGKILL after ``grace`` seconds; removes the directory."""
        self._kill(grace)
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def _kill(self, grace: float = 5.0) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
            try:
                process.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
