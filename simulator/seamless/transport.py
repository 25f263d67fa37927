"""Callbacks sent straight to a wallet: pooled HTTP/1.1 keep-alive over plain sockets (issue 17).

A callback is one small JSON POST and one small JSON reply.  Through ``requests`` it cost
about 580 us of CPU (its session, adapter and urllib3 layers, and ``email``'s header parser),
four times ``http.client`` and twelve times one ``sendall`` and a small reply parser; with
three callbacks a round that was most of a seamless round's CPU.  So a callback to a wallet
reached without a proxy goes through this module, which sends the very bytes ``requests``
sent (:mod:`.wire` builds them), in one ``sendall``, and reads the reply with
:mod:`.framing`.

Every step waits at most the time left before the exchange's deadline (connect, send, each
read), so the whole exchange ends by the deadline even when a wallet drips its reply (issue
15), with no watchdog thread.  An idle connection the wallet closed is noticed before it is
reused (it reads as ready), like urllib3's pool does; a request is never sent twice.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from .framing import RawReply, read_reply

_RECV = 65536
#: How far past its deadline an exchange may end: the price of not resetting the socket's
#: timeout before every read (see :class:`Connection`).
SLACK = 0.001


class DeadlinePassed(TimeoutError):
    """The exchange's deadline passed before the reply was whole."""


class Origin(NamedTuple):
    """Where a callback URL's connections go: ``scheme``, ``host`` (no brackets) and ``port``."""

    scheme: str
    host: str
    port: int


class Connection:
    """One socket to a wallet and the bytes received past the last reply read.

    Each blocking step waits at most the time left before the deadline.  Setting a socket's
    timeout is a system call (and lets go of the GIL, which 50 busy threads must then win
    back), so it is set again only when the one set last could overrun the deadline by more
    than :data:`SLACK` seconds: once per exchange for the usual reply that arrives at once.
    """

    __slots__ = ("origin", "sock", "_buffer", "_timeout_set_at", "_poller")

    def __init__(self, origin: Origin, sock: socket.socket) -> None:
        self.origin = origin
        self.sock = sock
        self._buffer = b""
        self._timeout_set_at = -1e9
        self._poller: select.poll | None = None

    def _bound(self, deadline: float) -> None:
        """Make the next blocking step end by ``deadline`` (give or take :data:`SLACK`)."""
        now = time.monotonic()
        left = deadline - now
        if left <= 0:
            raise DeadlinePassed("timed out")
        # The timeout set at ``_timeout_set_at`` ends a step started now by deadline + (now - then).
        if now - self._timeout_set_at > SLACK:
            self.sock.settimeout(left)
            self._timeout_set_at = now

    def dropped(self) -> bool:
        """An idle connection that reads as ready was closed (or sent garbage): not reusable."""
        if self._buffer:
            return True
        pending = getattr(self.sock, "pending", None)  # TLS bytes already decrypted
        if pending is not None and pending():
            return True
        try:  # poll, not select: no limit on the descriptor's number
            if self._poller is None:
                self._poller = select.poll()
                self._poller.register(self.sock, select.POLLIN)
            return bool(self._poller.poll(0))
        except (OSError, ValueError):
            return True

    def send(self, data: bytes, deadline: float) -> None:
        self._timeout_set_at = -1e9  # this exchange's deadline, not the last one's
        self._bound(deadline)
        self.sock.sendall(data)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    # -- reading ----------------------------------------------------------------------------
    def _fill(self, deadline: float) -> bool:
        """Read what the wallet sent next; False at the end of the stream."""
        self._bound(deadline)
        data = self.sock.recv(_RECV)
        if not data:
            return False
        self._buffer += data
        return True

    def read_until(self, marker: bytes, limit: int, deadline: float) -> bytes:
        """The bytes up to and including ``marker``; ``ConnectionError`` past ``limit`` or at EOF."""
        start = 0
        while True:
            end = self._buffer.find(marker, start)
            if end >= 0:
                end += len(marker)
                found, self._buffer = self._buffer[:end], self._buffer[end:]
                return found
            if len(self._buffer) > limit:
                raise ConnectionError("reply head too long")
            start = max(len(self._buffer) - len(marker) + 1, 0)
            if not self._fill(deadline):
                raise ConnectionError("the wallet closed the connection before the reply was whole")

    def buffered(self) -> int:
        return len(self._buffer)

    def take(self, size: int) -> bytes:
        """``size`` bytes already received (see :meth:`buffered`)."""
        piece, self._buffer = self._buffer[:size], self._buffer[size:]
        return piece

    def read_some(self, most: int, deadline: float) -> bytes:
        """Up to ``most`` bytes (at least one); ``b""`` at the end of the stream."""
        if not self._buffer and not self._fill(deadline):
            return b""
        piece, self._buffer = self._buffer[:most], self._buffer[most:]
        return piece


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlinePassed("timed out")
    return left


# -- the pool ---------------------------------------------------------------------------------
class Connections:
    """Idle keep-alive connections per origin, newest reused first.

    At most ``per_origin`` are kept per wallet, and only for the ``origins`` wallets called
    last (as urllib3 kept 16 pools): an agent whose callback URL changed, or a run of
    conformance tests against many wallets, leaves no sockets open for good.
    """

    def __init__(
        self,
        tls: Callable[[], ssl.SSLContext] = ssl.create_default_context,
        per_origin: int = 256,
        origins: int = 16,
    ) -> None:
        self._tls_factory = tls
        self._tls: ssl.SSLContext | None = None  # made at the first https connection
        self._per_origin = per_origin
        self._origins = origins
        self._idle: OrderedDict[Origin, list[Connection]] = OrderedDict()
        self._lock = threading.Lock()

    def post(self, origin: Origin, request: bytes, deadline: float, limit: int) -> RawReply:
        """Send ``request`` (head and body) and read the reply, within ``deadline``."""
        conn = self._checkout(origin) or self._connect(origin, deadline)
        try:
            conn.send(request, deadline)
            reply, keep = read_reply(conn, deadline, limit)
        except BaseException:
            conn.close()
            raise
        if keep:
            self._checkin(conn)
        else:
            conn.close()
        return reply

    def _checkout(self, origin: Origin) -> Connection | None:
        while True:
            with self._lock:
                idle = self._idle.get(origin)
                conn = idle.pop() if idle else None
            if conn is None or not conn.dropped():
                return conn
            conn.close()

    def _checkin(self, conn: Connection) -> None:
        closing = [conn]
        with self._lock:
            idle = self._idle.get(conn.origin)
            if idle is None:
                idle = self._idle[conn.origin] = []
                if len(self._idle) > self._origins:
                    closing += self._idle.popitem(last=False)[1]  # the wallet called least recently
            else:
                self._idle.move_to_end(conn.origin)
            if len(idle) < self._per_origin:
                idle.append(conn)
                closing.remove(conn)
        for stale in closing:
            stale.close()

    def _connect(self, origin: Origin, deadline: float) -> Connection:
        sock = socket.create_connection((origin.host, origin.port), timeout=_left(deadline))
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if origin.scheme == "https":
                if self._tls is None:
                    self._tls = self._tls_factory()
                sock.settimeout(_left(deadline))
                sock = self._tls.wrap_socket(sock, server_hostname=origin.host)
        except BaseException:
            sock.close()
            raise
        return Connection(origin, sock)

    def close(self) -> None:
        """Close every idle connection (connections in use close when their exchange ends)."""
        with self._lock:
            idle = [conn for conns in self._idle.values() for conn in conns]
            self._idle.clear()
        for conn in idle:
            conn.close()

    def idle_count(self, origin: Origin) -> int:
        with self._lock:
            return len(self._idle.get(origin, ()))
