"""The gthread worker's socket, response and poller (issue 17): the worker sees a blocking socket
while the OS socket stays non-blocking, an answer leaves in one write with gunicorn's own bytes,
a kept-alive connection is armed for one event instead of added to and removed from epoll,
requests run on a pool without a future each, a request's base environ is a copy, and a stopping
worker's drain ends on time."""

from __future__ import annotations

import logging
import os
import selectors
import socket
import threading
import time
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.http import wsgi
from gunicorn.http.wsgi import Response
from gunicorn.workers.gthread import ThreadWorker

from simulator.serving import (
    BaseEnvironOnce,
    DeadlineSocket,
    DeadlineThreadWorker,
    LeanPool,
    OneShotSelector,
    OneWriteResponse,
    Outcome,
    WakeOnceMethodQueue,
)


@pytest.fixture
def pair():
    left, right = socket.socketpair()
    with left, right:
        yield DeadlineSocket(left), right


def _later(seconds: float, action) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(seconds), action()))
    thread.start()
    return thread


def test_the_os_socket_stays_non_blocking_whatever_mode_the_worker_sets(pair):
    wrapped, _ = pair
    wrapped.setblocking(True)
    wrapped.settimeout(2.5)
    assert (wrapped.gettimeout(), wrapped._sock.gettimeout()) == (2.5, 0.0)
    wrapped.setblocking(False)
    assert wrapped.gettimeout() == 0.0


def test_a_blocking_read_waits_for_bytes_that_come_later(pair):
    wrapped, right = pair
    sender = _later(0.05, lambda: right.sendall(b"POST"))
    assert wrapped.recv(10) == b"POST"
    sender.join()


def test_a_read_with_no_bytes_ends_at_the_deadline_like_a_closed_connection(pair):
    wrapped, _ = pair
    wrapped.deadline = time.monotonic() + 0.05
    assert (wrapped.recv(10), wrapped.expired) == (b"", True)


def test_a_read_with_no_bytes_within_the_workers_timeout_raises_timeout(pair):
    wrapped, _ = pair
    wrapped.settimeout(0.05)
    with pytest.raises(TimeoutError):
        wrapped.recv(10)
    assert not wrapped.expired


def test_a_non_blocking_read_with_no_bytes_raises_would_block(pair):
    wrapped, _ = pair
    wrapped.setblocking(False)
    with pytest.raises(BlockingIOError):
        wrapped.recv(10)


def test_a_read_sees_the_peer_hang_up(pair):
    wrapped, right = pair
    right.shutdown(socket.SHUT_WR)
    assert (wrapped.recv(10), wrapped.expired) == (b"", False)


def test_sendall_sends_more_than_the_socket_buffer_holds(pair):
    wrapped, right = pair
    data = bytes(range(256)) * 16_384  # 4 MiB
    received = bytearray()

    def read_all() -> None:
        while len(received) < len(data):
            received.extend(right.recv(65536))

    reader = _later(0.05, read_all)
    wrapped.sendall(data)
    reader.join()
    assert bytes(received) == data


def test_sendall_with_a_timeout_gives_up_when_the_peer_reads_nothing(pair):
    wrapped, _ = pair
    wrapped.settimeout(0.05)
    with pytest.raises(TimeoutError):
        wrapped.sendall(b"x" * 16_000_000)


class Recorder:
    """A socket that keeps what each ``sendall`` sent."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.writes.append(bytes(data))


def _answer(response_class, method: str, status: str, headers: list[tuple[str, str]], pieces: list[bytes]):
    request = SimpleNamespace(version=(1, 1), method=method, should_close=lambda: False)
    sock = Recorder()
    response = response_class(request, sock, Config())
    response.start_response(status, headers)
    for piece in pieces:
        response.write(piece)
    response.close()
    return sock.writes


JSON = [("Content-Type", "application/json"), ("Content-Length", "11")]
CASES = {
    "one piece": ("POST", "200 OK", JSON, [b'{"code":0}\n']),
    "several pieces": ("POST", "200 OK", JSON, [b'{"code"', b":0}\n"]),
    "an empty first piece": ("POST", "200 OK", JSON, [b"", b'{"code":0}\n']),
    "no body": ("POST", "200 OK", [("Content-Length", "0")], []),
    "HEAD": ("HEAD", "200 OK", JSON, [b'{"code":0}\n']),
    "204": ("POST", "204 NO CONTENT", [], [b""]),
    "chunked": ("POST", "200 OK", [("Content-Type", "text/plain")], [b"abc", b"def"]),
    "more than announced": ("POST", "200 OK", [("Content-Length", "3")], [b"abcdef"]),
}


@pytest.mark.parametrize("case", CASES)
def test_an_answer_has_gunicorns_own_bytes(case, monkeypatch):
    monkeypatch.setattr("gunicorn.util.http_date", lambda *args: "Tue, 13 Jan 2026 12:00:00 GMT")
    ours, gunicorns = (b"".join(_answer(cls, *CASES[case])) for cls in (OneWriteResponse, Response))
    assert ours == gunicorns


def test_an_answer_of_one_piece_is_one_write():
    writes = _answer(OneWriteResponse, *CASES["one piece"])
    assert len(writes) == 1
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert writes[0].endswith(b'\r\n\r\n{"code":0}\n')


def _ready(selector: OneShotSelector, timeout: float = 0.05) -> list[object]:
    return [key.fileobj for key, _ in selector.select(timeout)]


@pytest.fixture
def selector():
    chosen = OneShotSelector()
    yield chosen
    chosen.close()


def test_a_connection_is_reported_once_until_it_is_registered_again(selector, pair):
    wrapped, right = pair
    selector.register(wrapped, selectors.EVENT_READ, "keep-alive")
    right.sendall(b"POST")
    assert _ready(selector) == [wrapped]
    selector.unregister(wrapped)  # gthread hands it to a thread; the bytes are still unread
    assert _ready(selector) == []
    selector.register(wrapped, selectors.EVENT_READ, "keep-alive")
    assert _ready(selector) == [wrapped]


def test_a_connection_closed_while_unregistered_leaves_its_descriptor_free_for_the_next(selector):
    first, first_peer = socket.socketpair()
    wrapped = DeadlineSocket(first)
    selector.register(wrapped, selectors.EVENT_READ)
    selector.unregister(wrapped)
    descriptor = first.fileno()
    first.close()
    first_peer.close()
    second, second_peer = socket.socketpair()
    if second.fileno() != descriptor:  # make the next connection get the very descriptor
        os.dup2(second.fileno(), descriptor)
        second.close()
        second = socket.socket(fileno=descriptor)
    with second, second_peer:
        reused = DeadlineSocket(second)
        selector.register(reused, selectors.EVENT_READ)
        second_peer.sendall(b"GET")
        assert _ready(selector) == [reused]


def test_other_files_are_reported_as_long_as_they_are_ready(selector):
    listener_like, peer = socket.socketpair()
    with listener_like, peer:
        selector.register(listener_like, selectors.EVENT_READ)
        peer.sendall(b"x")
        assert _ready(selector) == [listener_like]
        assert _ready(selector) == [listener_like]
        selector.unregister(listener_like)
        assert _ready(selector) == []


def _pipe_bytes(wakes: WakeOnceMethodQueue) -> int:
    try:
        return len(os.read(wakes.fileno(), 4096))
    except BlockingIOError:
        return 0


@pytest.fixture
def method_queue():
    chosen = WakeOnceMethodQueue()
    chosen.init()
    yield chosen
    chosen.close()


def test_work_queued_before_the_loop_runs_wakes_it_once_and_all_of_it_runs(method_queue):
    done: list[int] = []
    for n in range(5):
        method_queue.defer(done.append, n)
    assert _pipe_bytes(method_queue) == 1
    os.write(method_queue._write_fd, b"\x00")  # as if unread: the loop reads the pipe itself
    method_queue.run_callbacks(None)
    assert done == [0, 1, 2, 3, 4]


def test_work_queued_after_the_loop_ran_wakes_it_again(method_queue):
    done: list[str] = []
    method_queue.defer(done.append, "first")
    method_queue.run_callbacks(None)
    method_queue.defer(done.append, "second")
    assert _pipe_bytes(method_queue) == 1
    assert done == ["first"]


@pytest.fixture
def pool():
    chosen = LeanPool(4)
    yield chosen
    chosen.shutdown(wait=True)


def test_a_pool_runs_what_is_submitted_on_its_own_threads(pool):
    ran: list[str] = []
    done = threading.Event()
    pool.submit(lambda who: (ran.append(who), ran.append(threading.current_thread().name), done.set()), "job")
    assert done.wait(5)
    assert ran[0] == "job" and ran[1].startswith("gthread_")


def test_a_pool_runs_as_many_jobs_at_once_as_it_has_threads():
    pool = LeanPool(3)
    together = threading.Barrier(3, timeout=5)
    passed: list[bool] = []
    for _ in range(3):
        pool.submit(lambda: passed.append(together.wait() >= 0))
    pool.shutdown(wait=True)
    assert passed == [True, True, True]


def test_a_pool_never_starts_more_threads_than_its_limit():
    pool = LeanPool(2)
    release = threading.Event()
    for _ in range(6):
        pool.submit(release.wait, 5)
    started = len([t for t in threading.enumerate() if t.name.startswith("gthread_")])
    release.set()
    pool.shutdown(wait=True)
    assert started <= 2


def test_an_idle_thread_takes_the_next_job_instead_of_a_new_thread(pool):
    first = threading.Event()
    pool.submit(first.set)
    assert first.wait(5)
    time.sleep(0.05)  # the thread is back waiting for work
    second = threading.Event()
    pool.submit(second.set)
    assert second.wait(5)
    assert len(pool._threads) == 1


def test_shutdown_lets_queued_work_finish_and_ends_every_thread():
    pool = LeanPool(1)
    ran: list[int] = []
    for n in range(5):
        pool.submit(ran.append, n)
    pool.shutdown(wait=True)
    assert ran == [0, 1, 2, 3, 4]
    assert not any(thread.is_alive() for thread in pool._threads)


def test_a_pool_refuses_work_after_shutdown():
    pool = LeanPool(1)
    pool.shutdown(wait=True)
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(print)


def test_a_job_that_raises_is_logged_and_the_thread_serves_on(caplog):
    pool = LeanPool(1)  # one thread: the second job runs after the first one's log
    done = threading.Event()
    with caplog.at_level(logging.ERROR, logger="simulator.serving"):
        pool.submit(lambda: 1 / 0)
        pool.submit(done.set)
        assert done.wait(5)
    pool.shutdown(wait=True)
    assert "ZeroDivisionError" in caplog.text


def test_an_outcome_reads_like_gthreads_future():
    assert (Outcome(True).cancelled(), Outcome(True).result()) == (False, True)
    with pytest.raises(OSError, match="reset"):
        Outcome(error=OSError("reset")).result()


def test_the_base_environ_is_built_once_and_copied_for_each_request():
    built = []

    def build(cfg):
        built.append(cfg)
        return {"wsgi.errors": object(), "wsgi.multiprocess": cfg.workers > 1}

    base_environ = BaseEnvironOnce(build)
    first, second = base_environ(Config()), base_environ(Config())
    second["REQUEST_METHOD"] = "POST"
    shared = first["wsgi.errors"] is second["wsgi.errors"]
    assert (len(built), shared, "REQUEST_METHOD" in first) == (1, True, False)


def test_requests_after_the_first_ask_no_logger_of_the_logging_module(monkeypatch):
    base_environ = BaseEnvironOnce(wsgi.base_environ)
    base_environ(Config())
    asked, get_logger = [], logging.getLogger
    monkeypatch.setattr(logging, "getLogger", lambda *args: asked.append(args) or get_logger(*args))
    environ = base_environ(Config())
    assert (asked, environ["wsgi.version"]) == ([], (1, 0))


@pytest.fixture
def waits(monkeypatch):
    """A worker whose event loop's waits are recorded (their timeouts), at a clock the test sets."""
    asked: list[float] = []
    monkeypatch.setattr(
        ThreadWorker, "wait_for_and_dispatch_events", lambda _self, timeout: asked.append(timeout)
    )
    worker = DeadlineThreadWorker.__new__(DeadlineThreadWorker)
    worker.alive, worker._drain_ends = True, None
    worker.cfg = SimpleNamespace(graceful_timeout=4)
    clock = SimpleNamespace(now=100.0)
    # The worker module's clock only: other threads of the test process keep the real one.
    monkeypatch.setattr("simulator.serving.time", SimpleNamespace(monotonic=lambda: clock.now))

    def wait_at(now: float, timeout: float = 1.0) -> float:
        clock.now = now
        worker.wait_for_and_dispatch_events(timeout)
        return asked[-1]

    return worker, wait_at


def test_a_serving_worker_waits_as_long_as_gthread_asks(waits):
    _, wait_at = waits
    assert (wait_at(100.0), wait_at(103.7)) == (1.0, 1.0)


def test_a_stopping_worker_wakes_when_its_drain_ends_not_at_its_next_tick(waits):
    worker, wait_at = waits
    worker.alive = False
    # The drain began at the first wait after the stop: it ends 4 s later, at 104.
    assert [wait_at(100.0), wait_at(103.0), wait_at(103.6)] == pytest.approx([1.0, 1.0, 0.4])


def test_a_stopping_worker_past_its_drain_waits_a_millisecond_not_zero(waits):
    worker, wait_at = waits
    worker.alive = False
    wait_at(100.0)
    assert wait_at(104.5) == 0.001
