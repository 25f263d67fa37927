"""A real local wallet server that records the callbacks it receives.

It is built on :mod:`http.server` because that keeps header names exactly as
sent, so tests can check the ``Callback-Token`` spelling (spec 13.1).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

#: ``reply(request_body) -> (status, body bytes)``
Replier = Callable[[dict[str, Any]], tuple[int, bytes]]


def json_reply(payload: Any, status: int = 200) -> tuple[int, bytes]:
    return status, json.dumps(payload).encode()


@dataclass
class RecordedCall:
    headers: list[tuple[str, str]]
    body: dict[str, Any]

    def header(self, name: str) -> str | None:
        """The value of a header matched case-sensitively."""
        return next((v for k, v in self.headers if k == name), None)


@dataclass
class Wallet:
    url: str
    calls: list[RecordedCall] = field(default_factory=list)
    reply: Replier = lambda body: json_reply(
        {"result": 0, "status": "OK", "data": {"account": body["data"]["account"], "balance": 100}}
    )


@pytest.fixture
def wallet() -> Iterator[Wallet]:
    state = Wallet(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            state.calls.append(RecordedCall(list(self.headers.items()), body))
            status, payload = state.reply(body)
            self.send_response(status)
            self.send_header("Content-Type", "text/html")  # like PHP handlers (13.1)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/callback"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def seamless_agent(sim, wallet):
    """``demo_seamless`` pointed at the local wallet."""
    agent = sim.world.hierarchy.get("demo_seamless")
    sim.world.hierarchy.apply_settings(agent, {"callback_url": wallet.url})
    return agent
