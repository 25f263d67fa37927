"""Slow clients cannot lock others out (issue 15, item 10).

300 connections send their request headers a byte at a time - more than the worker's 256
threads.  Each must be dropped once it has had ``SCORPIO_SIM_REQUEST_TIMEOUT`` seconds (2 here,
10 by default) to send its whole request, so a new ``agent/info`` is answered within that
deadline plus a second.  Before, gthread gave each of them a thread for as long as they kept
dripping, and every new client waited until they stopped.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from tests.live.conftest import DEMO_TOKEN, start_server, stop_group

pytestmark = pytest.mark.live

SLOW_CLIENTS = 300
DEADLINE_S = 2
#: A header that never ends: each tick sends one more byte of it.
DRIP = b"POST /v4/agent/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 10_000


class Drippers:
    """Slow clients on one thread: every ``pause`` seconds each open connection sends one byte."""

    def __init__(self, port: int, count: int, pause: float = 0.5, limit_s: float = 30.0) -> None:
        self.socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
        self.closed = [False] * count
        self.pause, self.limit_s = pause, limit_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        ends = time.monotonic() + self.limit_s
        position = 0
        while not self.stop.is_set() and time.monotonic() < ends and not all(self.closed):
            for index, sock in enumerate(self.socks):
                if self.closed[index]:
                    continue
                try:
                    sock.sendall(DRIP[position : position + 1])
                except OSError:
                    self.closed[index] = True
            position += 1
            self.stop.wait(self.pause)

    def __enter__(self) -> Drippers:
        for sock in self.socks:
            sock.sendall(DRIP[:1])
        self.thread.start()
        return self

    def dropped(self) -> int:
        """Connections the server has closed (a read sees the end at once)."""
        count = 0
        for sock in self.socks:
            sock.setblocking(False)
            try:
                count += sock.recv(1) == b""
            except BlockingIOError:
                pass
            except OSError:
                count += 1
        return count

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        for sock in self.socks:
            sock.close()


@pytest.fixture
def server(tmp_path):
    live = start_server(tmp_path / "server.log", {"SCORPIO_SIM_REQUEST_TIMEOUT": str(DEADLINE_S)})
    try:
        yield live
    finally:
        stop_group(live.proc)


def test_300_slow_clients_do_not_lock_out_a_new_agent_info(server):
    port = int(server.base_url.rsplit(":", 1)[1])
    with Drippers(port, SLOW_CLIENTS) as drippers:
        time.sleep(0.5)  # every slow client has been handed to a thread (or queued for one)
        answer = requests.post(
            f"{server.base_url}/v4/agent/info",
            json={},
            headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
            timeout=DEADLINE_S + 1,
        )
        assert answer.json()["code"] == 0
        deadline = time.monotonic() + 10
        while drippers.dropped() < SLOW_CLIENTS and time.monotonic() < deadline:
            time.sleep(0.2)
        assert drippers.dropped() == SLOW_CLIENTS
    assert "no whole request within 2 s" in server.log()
