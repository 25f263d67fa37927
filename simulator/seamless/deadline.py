"""Deadlines for whole callback exchanges (issue 15): connect, send and the full reply.

``requests`` applies its timeout to each socket read, so a wallet dripping its reply one
byte a second kept a ``bet`` open for as long as it liked.  Here every exchange has one
deadline: the connections the pool uses announce their socket to the exchange running in
their thread, and one watchdog thread shuts that socket down when the deadline passes; the
blocked read returns at once and the exchange is reported as timed out.

The pool's connection classes are swapped in by :class:`DeadlineAdapter`, for direct
connections and those through an HTTP(S) proxy alike.  Since issue 17 only the callbacks that
still go through ``requests`` use it (:mod:`.proxied`); the lean :mod:`.transport` bounds each
of its own steps.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class Exchange:
    """One request and its reply, due by ``deadline`` (``time.monotonic()``)."""

    __slots__ = ("deadline", "expired", "done", "_sock", "_lock")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self.done = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return max(self.deadline - time.monotonic(), 0.0)

    def attach(self, sock: socket.socket | None) -> None:
        """The socket this exchange is using now; shut at once if the deadline already passed."""
        with self._lock:
            self._sock = sock
            if self.expired:
                _shut(sock)

    def expire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
            _shut(self._sock)


def _shut(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One thread for every exchange in flight: expires each at its deadline."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Exchange]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, exchange: Exchange) -> None:
        with self._wake:
            heapq.heappush(self._heap, (exchange.deadline, next(self._order), exchange))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="callback-deadlines", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                exchange = heapq.heappop(self._heap)[2]
            exchange.expire()


_watchdog = _Watchdog()
_current = threading.local()


@contextlib.contextmanager
def exchange_within(seconds: float) -> Iterator[Exchange]:
    """Run one exchange in this thread within ``seconds``; its connections attach themselves."""
    exchange = Exchange(time.monotonic() + seconds)
    _current.exchange = exchange
    _watchdog.watch(exchange)
    try:
        yield exchange
    finally:
        with exchange._lock:
            exchange.done = True
        _current.exchange = None


def _attach(sock: socket.socket | None) -> None:
    exchange = getattr(_current, "exchange", None)
    if exchange is not None and sock is not None:
        exchange.attach(sock)


class _Attaching:
    """Announce the socket on connect and on every request (a kept-alive connection is reused)."""

    sock: Any

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _attach(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> Any:
        _attach(self.sock)
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Attaching, HTTPConnection):
    pass


class _HTTPSConnection(_Attaching, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections attach to the exchange of their thread."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager
