"""pytest plugin (entry point ``pytest11``): the simulator in-process on a free loopback port.

``scorpio_sim`` (session scope) builds the app once and serves it with werkzeug
in a background thread; ``scorpio`` (function scope) resets it to the fixture
state (``POST /control/reset``) before each test and hands out a
:class:`ScorpioHandle`.  Only fixtures are defined here, nothing autouse, so a
suite that does not ask for them pays nothing.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from .client import DEMO_TOKEN, SEAMLESS_TOKEN, SimClient


@dataclass
class ScorpioServer:
    """The running simulator: its URL, the Flask app, how long start-up took, and the
    in-process :class:`simulator.runtime.Simulator` (for white-box checks)."""

    base_url: str
    app: Any
    startup_seconds: float
    sim: Any


@dataclass
class ScorpioHandle:
    """What a test gets: the URL, a client, and the fixture agents' API tokens."""

    server: ScorpioServer
    client: SimClient
    demo_token: str = DEMO_TOKEN
    seamless_token: str = SEAMLESS_TOKEN

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def v4_url(self) -> str:
        return f"{self.server.base_url}/v4"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _quiet_handler() -> type:
    from werkzeug.serving import WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        """No access log: a test's captured log shows the test's own records."""

        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    return QuietHandler


@pytest.fixture(scope="session")
def scorpio_sim() -> Iterator[ScorpioServer]:
    """One simulator for the session, served on ``127.0.0.1:<free port>``."""
    from werkzeug.serving import make_server

    # Imported when a test first asks for the simulator: the plugin loads in every pytest run.
    from simulator import create_app
    from simulator.config import Settings
    from simulator.http import simulator_of

    started = time.perf_counter()
    port = _free_port()
    app = create_app(Settings(bind=f"127.0.0.1:{port}"))
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_quiet_handler())
    thread = threading.Thread(target=server.serve_forever, name="scorpio-sim", daemon=True)
    thread.start()
    running = ScorpioServer(f"http://127.0.0.1:{port}", app, time.perf_counter() - started, simulator_of(app))
    try:
        yield running
    finally:
        server.shutdown()
        thread.join(timeout=10)
        running.sim.retries.stop()


@pytest.fixture
def scorpio(scorpio_sim: ScorpioServer) -> Iterator[ScorpioHandle]:
    """The session's simulator, reset to its fixture state before this test."""
    client = SimClient(scorpio_sim.base_url)
    client.reset()
    try:
        yield ScorpioHandle(scorpio_sim, client)
    finally:
        client.session.close()
