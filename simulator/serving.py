"""The gthread worker: a deadline for reading each request (issue 15), and fewer waits per request (issue 17).

gunicorn's gthread worker gives a connection a thread as soon as its first byte arrives, and
the thread then reads the headers with a blocking socket and no time limit: 260 clients
sending their headers a byte at a time held all 256 threads, and every new client waited as
long as they went on.  Here a client has ``SCORPIO_SIM_REQUEST_TIMEOUT`` seconds (10 by
default), from the moment its connection is queued for a thread, to send its whole request;
past that, the read ends as if the client had hung up and the connection is closed.  A
thread that picks up a connection whose time is already over lets it go at once, so a flood
of slow clients costs the others one deadline at most.

Only reads are bounded: the time the application takes, and writing the response, are not.

Under load, what a request costs the worker is mostly waiting: every system call lets go of
the GIL, and the thread then waits among the busy ones to get it back - on this kind of
machine a switch of threads costs more than the simulator's own work for a ``user/info``.
gthread made about thirteen such calls per ``user/info`` at 50 connections (counted with
strace); here there are three: the read of the request (:class:`DeadlineSocket`), one write
of the answer (:class:`OneWriteResponse`) and, on the event loop's thread, the re-arming of
the connection (:class:`OneShotSelector`) - plus a share of one wake-up of that thread
(:class:`WakeOnceMethodQueue`).  What goes over the wire, and when a
connection is kept or closed, are gunicorn's.

``gunicorn.conf.py`` uses this class for ``SCORPIO_SIM_WORKER_CLASS=gthread`` (the default),
for the simulator and for the bench's bare-Flask reference alike.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import math
import os
import queue
import select
import selectors
import socket
import threading
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.workers.gthread import PollableMethodQueue, ThreadWorker

DEFAULT_REQUEST_TIMEOUT = 10.0


class DeadlineSocket:
    """A client socket whose reads end at ``deadline`` (``time.monotonic()``), returning ``b""``
    like a closed connection.

    The OS socket stays non-blocking for good; the worker still sees the socket it expects -
    blocking, or with the timeout it sets - because ``recv``, ``send``, ``sendall`` and
    ``sendfile`` wait with ``poll`` when the socket is not ready, and ``setblocking`` and
    ``settimeout`` only record the mode.  Why (issue 17): gthread switches every kept-alive
    socket to blocking and back for each request, and bounding a read with ``settimeout``
    costs two more switches and a ``poll``; each of those is a system call during which the
    thread lets go of the GIL and then waits to get it back among the busy threads.  Here a
    read whose bytes have arrived - the usual case, since a connection is handed to a thread
    when it is readable - is one ``recv``.  Everything else is the socket's own.
    """

    __slots__ = ("_sock", "_timeout", "deadline", "expired")

    def __init__(self, sock: socket.socket) -> None:
        self._timeout = sock.gettimeout()
        sock.setblocking(False)
        self._sock = sock
        self.deadline: float | None = None
        self.expired = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def fileno(self) -> int:
        return self._sock.fileno()

    def setblocking(self, flag: bool) -> None:
        self._timeout = None if flag else 0.0

    def settimeout(self, value: float | None) -> None:
        if value is not None:
            value = float(value)
            if value < 0:
                raise ValueError("Timeout value out of range")
        self._timeout = value

    def gettimeout(self) -> float | None:
        return self._timeout

    def recv(self, size: int, flags: int = 0) -> bytes:
        deadline = self.deadline
        if deadline is not None and deadline <= time.monotonic():
            self.expired = True
            return b""
        try:
            return self._sock.recv(size, flags)
        except BlockingIOError:
            if self._timeout == 0.0:
                raise
        return self._recv_when_ready(size, flags)

    def _recv_when_ready(self, size: int, flags: int) -> bytes:
        """Wait for bytes until the deadline (then ``b""``) or the timeout (then TimeoutError)."""
        timeout_at = None if self._timeout is None else time.monotonic() + self._timeout
        while True:
            deadline = self.deadline
            now = time.monotonic()
            if deadline is not None and deadline <= now and (timeout_at is None or deadline <= timeout_at):
                self.expired = True
                return b""
            if timeout_at is not None and timeout_at <= now:
                raise TimeoutError("timed out")
            ends = min((t for t in (deadline, timeout_at) if t is not None), default=None)
            _wait(self._sock, select.POLLIN, None if ends is None else ends - now)
            try:
                return self._sock.recv(size, flags)
            except BlockingIOError:
                continue

    def send(self, data: bytes, flags: int = 0) -> int:
        while True:
            try:
                return self._sock.send(data, flags)
            except BlockingIOError:
                if self._timeout == 0.0:
                    raise
            self._wait_writable(None if self._timeout is None else time.monotonic() + self._timeout)

    def sendall(self, data: bytes, flags: int = 0) -> None:
        try:
            sent = self._sock.send(data, flags)
        except BlockingIOError:
            sent = 0
        if sent != len(data):
            self._send_rest(memoryview(data).cast("B")[sent:], flags)

    def _send_rest(self, rest: memoryview, flags: int) -> None:
        """What a blocking ``sendall`` does once the socket's buffer is full: wait and send on."""
        if self._timeout == 0.0 and rest:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        timeout_at = None if self._timeout is None else time.monotonic() + self._timeout
        while rest:
            self._wait_writable(timeout_at)
            try:
                rest = rest[self._sock.send(rest, flags) :]
            except BlockingIOError:
                continue

    def _wait_writable(self, timeout_at: float | None) -> None:
        if timeout_at is not None and timeout_at <= time.monotonic():
            raise TimeoutError("timed out")
        _wait(self._sock, select.POLLOUT, None if timeout_at is None else timeout_at - time.monotonic())

    def sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        """``socket.sendfile`` needs the OS socket in the mode the worker believes it is in."""
        self._sock.settimeout(self._timeout)
        try:
            return self._sock.sendfile(file, offset, count)
        finally:
            self._sock.setblocking(False)


def _wait(sock: socket.socket, event: int, seconds: float | None) -> None:
    """Until ``sock`` is ready for ``event`` (or has failed or hung up), at most ``seconds``."""
    poller = select.poll()
    poller.register(sock, event)
    poller.poll(None if seconds is None else max(seconds, 0.0) * 1000)


class OneWriteResponse(wsgi.Response):
    """gunicorn's response, whose head goes out in the same write as the first bytes of its body.

    gunicorn sends the status line and headers with one ``sendall`` and each piece of the body
    with another: two system calls, two waits for the GIL, for a ``/v4`` answer that is one
    piece.  Here, while :meth:`write` sends the first piece of a body of known length, the head
    is kept (:meth:`send_headers`) and sent with that piece (:meth:`_emit_body`).  The bytes and
    their order are gunicorn's; the head is never held past the ``write`` that produced it.
    """

    _hold_head = False
    _head: bytes | None = None

    def write(self, arg: bytes) -> None:
        self._hold_head = not self.headers_sent and not self.chunked and not self._omits_body
        try:
            super().write(arg)
        finally:
            self._hold_head = False
            head, self._head = self._head, None
            if head is not None:  # no body bytes came with it (an empty piece, a refused one)
                util.write(self.sock, head)

    def send_headers(self) -> None:
        if not self._hold_head:
            return super().send_headers()
        if self.headers_sent:
            return None
        lines = self.default_headers()
        lines.extend(f"{name}: {value}\r\n" for name, value in self.headers)
        self._head = util.to_bytestring("".join(lines) + "\r\n", "latin-1")
        self.headers_sent = True
        return None

    def _emit_body(self, data: bytes) -> None:
        head, self._head = self._head, None
        util.write(self.sock, data if head is None else head + data, self.chunked)


class WakeOnceMethodQueue(PollableMethodQueue):
    """gthread's queue of work for its event loop (a finished request's connection, mostly),
    waking the loop once for everything queued until it runs, not once per item.

    gthread writes a byte to a pipe for each item - a system call, and a wait for the GIL,
    per request - and the loop reads them back.  Here the first item queued since the loop
    last looked writes the byte and the others only join the queue; the loop runs what was
    queued when it woke, and anything queued after it looked has woken it again.
    """

    def __init__(self) -> None:
        super().__init__()
        self._woken = False

    def defer(self, callback: Any, *args: Any) -> None:
        self._queue.put(partial(callback, *args))
        if not self._woken:
            self._woken = True
            with contextlib.suppress(OSError):  # the pipe is full: the loop has bytes to wake it already
                os.write(self._write_fd, b"\x00")

    def run_callbacks(self, _fileobj: Any, max_callbacks: int = 50) -> None:
        with contextlib.suppress(OSError):
            os.read(self._read_fd, 4096)
        self._woken = False  # from here, a new item wakes the loop again
        for _ in range(self._queue.qsize()):
            try:
                callback = self._queue.get_nowait()
            except queue.Empty:
                break
            callback()


class OneShotSelector(selectors.BaseSelector):
    """gthread's poller, arming a client connection for one event instead of adding and removing it.

    gthread removes a kept-alive connection from its epoll when the connection has a request,
    and adds it back when the answer is sent: two system calls per request on the event
    loop's thread, each a wait for the GIL that every connection's next request queues
    behind.  Here a :class:`DeadlineSocket` is registered with ``EPOLLONESHOT``, which the
    kernel disarms by itself when it reports the connection; ``unregister`` forgets it
    without a system call, and registering it again re-arms it with one.  A closed socket
    leaves the epoll by itself; should its descriptor come back as another socket, the
    re-arm finds no entry and adds one.  Every other file (the listeners, the wake-up pipe)
    is registered as usual.

    A :class:`selectors.BaseSelector` of its own over :func:`select.epoll` (Linux, where the
    simulator is served), built on public interfaces only.
    """

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._keys: dict[int, selectors.SelectorKey] = {}
        #: Descriptors of client sockets the kernel may still hold, disarmed.
        self._parked: set[int] = set()

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        if not events or events & ~(selectors.EVENT_READ | selectors.EVENT_WRITE):
            raise ValueError(f"Invalid events: {events!r}")
        fd = _descriptor(fileobj)
        if fd in self._keys:
            raise KeyError(f"{fileobj!r} (FD {fd}) is already registered")
        key = selectors.SelectorKey(fileobj, fd, events, data)
        mask = (select.EPOLLIN if events & selectors.EVENT_READ else 0) | (
            select.EPOLLOUT if events & selectors.EVENT_WRITE else 0
        )
        if _one_shot(key):
            mask |= select.EPOLLONESHOT
        parked = fd in self._parked
        self._parked.discard(fd)
        try:
            if parked:
                self._epoll.modify(fd, mask)
            else:
                self._epoll.register(fd, mask)
        except FileNotFoundError:  # parked, then closed, and the descriptor reused
            self._epoll.register(fd, mask)
        except FileExistsError:  # a parked socket's descriptor, registered by another object
            self._epoll.modify(fd, mask)
        self._keys[fd] = key
        return key

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        key = self._keys.pop(_descriptor(fileobj))
        if _one_shot(key):
            self._parked.add(key.fd)
        else:
            with contextlib.suppress(OSError):  # already closed: the kernel forgot it by itself
                self._epoll.unregister(key.fd)
        return key

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:
            seconds = -1.0
        elif timeout <= 0:
            seconds = 0.0
        else:  # epoll counts in milliseconds: round up, or a short wait would not wait at all
            seconds = math.ceil(timeout * 1e3) * 1e-3
        try:
            reported = self._epoll.poll(seconds, max(len(self._keys), 1))
        except InterruptedError:
            return []
        ready = []
        for fd, mask in reported:
            key = self._keys.get(fd)
            if key is None:
                continue
            events = (selectors.EVENT_READ if mask & ~select.EPOLLOUT else 0) | (
                selectors.EVENT_WRITE if mask & ~select.EPOLLIN else 0
            )
            ready.append((key, events & key.events))
        return ready

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        """The registered files and their keys, as of this call."""
        return {key.fileobj: key for key in self._keys.values()}

    def close(self) -> None:
        self._epoll.close()
        self._keys.clear()
        self._parked.clear()


def _descriptor(fileobj: Any) -> int:
    """The descriptor of a file object or of a plain descriptor number, as :mod:`selectors` finds it."""
    fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
    if not isinstance(fd, int) or fd < 0:
        raise ValueError(f"Invalid file descriptor: {fd!r}")
    return fd


def _one_shot(key: selectors.SelectorKey) -> bool:
    """A client connection waiting for its next request: armed for one report at a time."""
    return isinstance(key.fileobj, DeadlineSocket) and key.events == selectors.EVENT_READ


#: A pool's job: a function and its arguments.
_Job = tuple[Callable[..., object], tuple[Any, ...]]


class LeanPool:
    """gthread's thread pool, without a future per request.

    ``ThreadPoolExecutor.submit`` builds a ``Future`` (a ``Condition``, so a lock and a list of
    waiters) and takes a ``Semaphore`` for every request, and the future's callback runs under
    its lock: measured, about a tenth of the worker's time holding the GIL at 50 connections.
    gthread only needs to run ``handle`` on a thread and learn its result on the event loop's
    thread, which :meth:`DeadlineThreadWorker.enqueue_req` does with :class:`Outcome` and the
    method queue.  So here a job is a function and its arguments on a queue.

    Like ``ThreadPoolExecutor``: threads start when work comes and none is idle, up to
    ``max_workers``; :meth:`shutdown` lets queued work finish, and each thread ends after it;
    the threads are not daemons, so the process waits for the requests they are serving.
    """

    def __init__(self, max_workers: int, name: str = "gthread") -> None:
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        self.max_workers = max_workers
        self._name = name
        self._jobs: queue.SimpleQueue[tuple[Callable[..., object], tuple[Any, ...]] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []
        #: Threads waiting for a job that no :meth:`submit` has counted on yet.
        self._idle = 0
        self._lock = threading.Lock()
        self._shut = False

    def submit(self, fn: Callable[..., object], *args: Any) -> None:
        """Run ``fn(*args)`` on a pool thread; it must not raise (what it raises is logged)."""
        with self._lock:
            if self._shut:
                raise RuntimeError("cannot schedule new work after shutdown")
            self._jobs.put((fn, args))
            if self._idle:
                self._idle -= 1
                return
            if len(self._threads) >= self.max_workers:
                return
            thread = threading.Thread(target=self._work, name=f"{self._name}_{len(self._threads)}")
            self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, args = job
            try:
                fn(*args)
            except BaseException:  # the job's own bug: log it, keep the thread
                logging.getLogger(__name__).exception("job %r failed", fn)
            del job, fn, args  # no reference kept to the connection while waiting
            with self._lock:
                self._idle += 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No more work; each thread ends once the work queued before has run (and ``wait``
        waits for that).  ``cancel_futures`` is ``ThreadPoolExecutor``'s: the queued work is
        dropped instead."""
        with self._lock:
            self._shut = True
            threads = list(self._threads)
            if cancel_futures:
                with contextlib.suppress(queue.Empty):
                    while True:
                        self._jobs.get_nowait()
            for _ in threads:
                self._jobs.put(None)
        if wait:
            for thread in threads:
                thread.join()


class Outcome:
    """What a pool thread's ``handle`` gave, in the shape gthread's ``finish_request`` reads
    (``cancelled()``, ``result()``): the result, or the exception ``result()`` raises again."""

    __slots__ = ("_error", "_result")

    def __init__(self, result: Any = None, error: BaseException | None = None) -> None:
        self._result = result
        self._error = error

    def cancelled(self) -> bool:
        return False

    def result(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._result


def request_timeout(environ: Any = os.environ) -> float:
    raw = environ.get("SCORPIO_SIM_REQUEST_TIMEOUT", "")
    try:
        value = float(raw) if raw.strip() else DEFAULT_REQUEST_TIMEOUT
    except ValueError:
        raise ValueError(f"SCORPIO_SIM_REQUEST_TIMEOUT must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"SCORPIO_SIM_REQUEST_TIMEOUT must be above 0, got {raw!r}")
    return value


class BaseEnvironOnce:
    """gunicorn's ``wsgi.base_environ``, built once per worker and copied for each request.

    gunicorn builds a ``WSGIErrorsWrapper`` for every request, and its ``__init__`` calls
    ``logging.getLogger``, which takes the logging module's lock: measured (wall-clock
    profile of ``user/info`` at 50 connections), a sixth of the request threads' waiting
    was on that lock.  The wrapper only lists the streams of the ``gunicorn.error`` logger's
    handlers, which the worker sets up before it serves, and the rest of the base environ
    depends on the settings alone: the first request's base is copied for the others.
    """

    def __init__(self, build: Callable[[Any], dict[str, Any]]) -> None:
        self._build = build
        self._base: dict[str, Any] | None = None

    def __call__(self, cfg: Any) -> dict[str, Any]:
        if self._base is None:
            self._base = self._build(cfg)
        return dict(self._base)


class DeadlineThreadWorker(ThreadWorker):
    """gthread, with :class:`DeadlineSocket` on every plain-HTTP client connection, and the
    response, poller and wake-up queue above."""

    #: How often the event loop tells the master it is alive, and looks whether the master is.
    HEARTBEAT_S = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_timeout = request_timeout()
        self.method_queue = WakeOnceMethodQueue()
        self._plain_http = not self.cfg.is_ssl  # a property reading the settings: once, not per request
        self._next_beat = self._next_parent_look = 0.0
        self._drain_ends: float | None = None

    def get_thread_pool(self) -> LeanPool:  # type: ignore[override]
        return LeanPool(self.cfg.threads)

    def notify(self) -> None:
        """At most once per :data:`HEARTBEAT_S`, not once per turn of the event loop: each is a
        write to the worker's heartbeat file (a system call), and the master kills a worker only
        after ``timeout`` (120 s) without one."""
        now = time.monotonic()
        if now >= self._next_beat:
            self._next_beat = now + self.HEARTBEAT_S
            super().notify()

    def is_parent_alive(self) -> bool:
        """Asked after every turn of the event loop; looked at once per :data:`HEARTBEAT_S`
        (``os.getppid``, a system call): a worker whose master died notices within that."""
        now = time.monotonic()
        if now < self._next_parent_look:
            return True
        self._next_parent_look = now + self.HEARTBEAT_S
        return bool(super().is_parent_alive())

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        """Once the worker stops, each wait ends by the end of its drain (``graceful_timeout``
        from the stop).  gthread looks at that deadline only when its loop wakes, and an idle
        loop wakes once a second: the drain could run up to a second into the time
        ``drain_seconds`` keeps for the last save (``gunicorn.conf.py``), and that save - and
        which responses it holds back - would depend on when the loop happened to wake."""
        if not self.alive:
            now = time.monotonic()
            if self._drain_ends is None:
                self._drain_ends = now + self.cfg.graceful_timeout
            # 1 ms at least: should this end come a hair before gthread's own, the loop waits, not spins.
            timeout = min(timeout, max(self._drain_ends - now, 0.001))
        super().wait_for_and_dispatch_events(timeout)

    def init_process(self) -> None:
        """Every HTTP/1 answer of this worker process is a :class:`OneWriteResponse`: gthread
        builds it with ``wsgi.create``, whose response class is that module's ``Response``."""
        wsgi.Response = OneWriteResponse  # type: ignore[misc]
        wsgi.base_environ = BaseEnvironOnce(wsgi.base_environ)  # type: ignore[assignment]
        super().init_process()

    def run(self) -> None:
        """The event loop, on a :class:`OneShotSelector` (nothing is registered before it starts)."""
        self.poller.close()
        self.poller = OneShotSelector()
        super().run()

    def enqueue_req(self, conn: Any) -> None:
        """The request's clock starts when its connection waits for a thread: on accept, and
        when a kept-alive or deferred connection has data again."""
        if self._plain_http and not isinstance(conn.sock, DeadlineSocket):
            conn.sock = DeadlineSocket(conn.sock)
        if isinstance(conn.sock, DeadlineSocket):
            conn.sock.deadline = time.monotonic() + self.request_timeout
            conn.sock.expired = False
        self.tpool.submit(self._serve, conn)

    def _serve(self, conn: Any) -> None:
        """On a pool thread: the request, then its result back to the event loop (gthread's
        ``finish_request`` keeps the connection alive or closes it), as gthread's future did."""
        try:
            outcome = Outcome(self.handle(conn))
        except BaseException as exc:  # finish_request closes the connection
            outcome = Outcome(error=exc)
        self.method_queue.defer(self.finish_request, conn, outcome)

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
