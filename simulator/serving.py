"""The gthread worker with a deadline for reading each request (issue 15).

gunicorn's gthread worker gives a connection a thread as soon as its first byte arrives, and
the thread then reads the headers with a blocking socket and no time limit: 260 clients
sending their headers a byte at a time held all 256 threads, and every new client waited as
long as they went on.  Here a client has ``SCORPIO_SIM_REQUEST_TIMEOUT`` seconds (10 by
default), from the moment its connection is queued for a thread, to send its whole request;
past that, the read ends as if the client had hung up and the connection is closed.  A
thread that picks up a connection whose time is already over lets it go at once, so a flood
of slow clients costs the others one deadline at most.

Only reads are bounded: the time the application takes, and writing the response, are not.
``gunicorn.conf.py`` uses this class for ``SCORPIO_SIM_WORKER_CLASS=gthread`` (the default).
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

DEFAULT_REQUEST_TIMEOUT = 10.0


class DeadlineSocket:
    """A client socket whose ``recv`` ends at ``deadline`` (``time.monotonic()``), returning
    ``b""`` like a closed connection; everything else is the socket's own."""

    __slots__ = ("_sock", "deadline", "expired")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.deadline: float | None = None
        self.expired = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def recv(self, size: int, *flags: int) -> bytes:
        if self.deadline is None:
            return self._sock.recv(size, *flags)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            self.expired = True
            return b""
        self._sock.settimeout(remaining)
        try:
            return self._sock.recv(size, *flags)
        except TimeoutError:
            self.expired = True
            return b""
        finally:
            self._sock.settimeout(None)  # blocking again, as the worker threads expect


def request_timeout(environ: Any = os.environ) -> float:
    raw = environ.get("SCORPIO_SIM_REQUEST_TIMEOUT", "")
    try:
        value = float(raw) if raw.strip() else DEFAULT_REQUEST_TIMEOUT
    except ValueError:
        raise ValueError(f"SCORPIO_SIM_REQUEST_TIMEOUT must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"SCORPIO_SIM_REQUEST_TIMEOUT must be above 0, got {raw!r}")
    return value


class DeadlineThreadWorker(ThreadWorker):
    """gthread, with :class:`DeadlineSocket` on every plain-HTTP client connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_timeout = request_timeout()

    def enqueue_req(self, conn: Any) -> None:
        """The request's clock starts when its connection waits for a thread: on accept, and
        when a kept-alive or deferred connection has data again."""
        if not self.cfg.is_ssl and not isinstance(conn.sock, DeadlineSocket):
            conn.sock = DeadlineSocket(conn.sock)
        if isinstance(conn.sock, DeadlineSocket):
            conn.sock.deadline = time.monotonic() + self.request_timeout
            conn.sock.expired = False
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        keepalive = super().handle(conn)
        sock = conn.sock
        if isinstance(sock, DeadlineSocket) and sock.expired:
            self.log.info("dropped %s: no whole request within %.0f s", _peer(conn), self.request_timeout)
            return False
        return keepalive

    def _keepalive_after(self, conn: Any, keepalive: Any) -> Any:
        """The request has been answered: draining what is left of its body has its own bound."""
        if isinstance(conn.sock, DeadlineSocket) and not conn.sock.expired:
            conn.sock.deadline = None
        return super()._keepalive_after(conn, keepalive)


def _peer(conn: Any) -> str:
    client = conn.client
    if isinstance(client, tuple) and len(client) >= 2:
        return f"{client[0]}:{client[1]}"
    return str(client)
