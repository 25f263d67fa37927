"""Wallets that attack the platform (issue 15): a reply dripped a byte at a time, and huge replies.

Every command's timeout (2 s for ``bet`` and ``balance``, 4 s for the others; spec 6.9) is a
deadline for the whole exchange - connect, send, the full reply - and a reply is read up to
1 MiB only: past that it is a garbage reply, and memory stays flat.  Everything goes through
the public APIs: the agent's callback URL is set with ``/admin/api``, rounds are played with
``/control/play`` and the outcome is read from the callback log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from simulator.seamless.client import MAX_REPLY_BYTES

SEAMLESS_USER = 400000026
PLAY = {"agent": "demo_seamless", "user_code": SEAMLESS_USER, "provider_id": 1, "game_code": "vs20fruitsw"}
REPO_ROOT = Path(__file__).resolve().parents[2]
#: Seconds between two bytes of a dripped reply: a whole reply takes far longer than any deadline.
DRIP_PAUSE = 0.25


def _point_at(client: Any, url: str) -> None:
    response = client.patch("/admin/api/agents/demo_seamless", json={"callback_url": url})
    assert response.status_code == 200, response.get_json()


def _callbacks(client: Any, command: str) -> list[dict[str, Any]]:
    return client.get(f"/admin/api/agents/demo_seamless/callbacks?command={command}").get_json()


class DripWallet:
    """Answers every command at once with balance 1000, but drips the ``bet`` reply a byte at a
    time - the whole of it (``headers=True``) or its body only - and counts what it got out."""

    def __init__(self, headers: bool) -> None:
        self.drip_headers = headers
        self.bytes_dripped = 0
        self.stopped = threading.Event()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        wallet = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                reply = json.dumps({"result": 0, "status": "OK", "data": {"balance": 1000}}).encode()
                head = (
                    f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(reply)}\r\n\r\n"
                ).encode()
                if body["command"] != "bet":
                    self.wfile.write(head + reply)
                    return
                if not wallet.drip_headers:
                    self.wfile.write(head)
                dripped = (head if wallet.drip_headers else b"") + reply
                try:
                    for byte in dripped:
                        if wallet.stopped.wait(DRIP_PAUSE):
                            return
                        self.wfile.write(bytes([byte]))
                        wallet.bytes_dripped += 1
                except OSError:
                    pass  # the platform hung up at its deadline
                self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture(params=["headers", "body"])
def drip_wallet(request, client) -> Iterator[DripWallet]:
    wallet = DripWallet(headers=request.param == "headers")
    server = ThreadingHTTPServer(("127.0.0.1", 0), wallet.handler())
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    _point_at(client, f"http://127.0.0.1:{server.server_address[1]}/callback")
    try:
        yield wallet
    finally:
        wallet.stopped.set()
        server.shutdown()
        server.server_close()


def test_a_dripped_bet_reply_times_out_and_the_bet_is_cancelled_forward(client, drip_wallet):
    """Was: the 2 s applied to each read, so a reply dripped over 12 s was recorded as ok."""
    (round_,) = client.post("/control/play", json={**PLAY, "bet": 100, "rounds": 1}).get_json()
    (bet,) = _callbacks(client, "bet")
    assert (bet["outcome"], bet["error"]) == ("unclear", "timed out")
    assert round_["status"] == "refunded"
    reply_size = len(json.dumps({"result": 0, "status": "OK", "data": {"balance": 1000}}))
    assert drip_wallet.bytes_dripped < reply_size  # hung up on long before the reply was whole


@pytest.fixture
def hostile_wallet(client) -> Iterator[str]:
    """The 100 MB wallet in its own process (its memory must not count in ours)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.seamless.hostile_wallet", "--megabytes", "100"],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(proc.stdout.readline())
        _point_at(client, f"http://127.0.0.1:{port}/callback")
        yield f"http://127.0.0.1:{port}/callback"
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """The highest resident set size of this process while the block runs, sampled every 2 ms."""

    def __enter__(self) -> PeakRss:
        self.start = self.peak = _rss_bytes()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.002):
            self.peak = max(self.peak, _rss_bytes())

    def __exit__(self, *exc: Any) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads the RSS from /proc")
def test_ten_replies_of_100_mb_keep_memory_within_50_mb(client, v4_seamless, hostile_wallet):
    """Was: a 400 MB reply to callback-test took the worker from 79 MB to a 1.4 GB peak."""
    v4_seamless("agent/callback-test")  # warm up: imports, the connection pool, the log
    with PeakRss() as rss:
        for _ in range(10):
            assert v4_seamless("agent/callback-test").code == 0  # an HTTP answer came: the URL works
    assert rss.peak - rss.start <= 50 << 20, f"RSS grew by {(rss.peak - rss.start) >> 20} MB"
    replies = _callbacks(client, "authenticate")[:10]
    assert {(r["outcome"], r["error"]) for r in replies} == {
        ("unclear", f"reply larger than {MAX_REPLY_BYTES} bytes: not read past that")
    }


def test_a_reply_declaring_more_than_1_mib_is_not_read(client, v4_seamless, wallet):
    wallet.reply = lambda body: (200, b" " * (MAX_REPLY_BYTES + 1))
    _point_at(client, wallet.url)
    assert v4_seamless("agent/callback-test").code == 0
    (reply,) = _callbacks(client, "authenticate")
    assert reply["outcome"] == "unclear"
    assert reply["error"] == f"reply larger than {MAX_REPLY_BYTES} bytes: not read past that"


def test_a_reply_of_exactly_1_mib_is_read(client, v4_seamless, wallet):
    padding = MAX_REPLY_BYTES - len(b'{"result":0,"data":{"balance":5},"p":""}')
    wallet.reply = lambda body: (200, b'{"result":0,"data":{"balance":5},"p":"' + b"x" * padding + b'"}')
    _point_at(client, wallet.url)
    assert v4_seamless("agent/callback-test").code == 0
    (reply,) = _callbacks(client, "authenticate")
    assert (reply["outcome"], reply["error"]) == ("ok", "")
