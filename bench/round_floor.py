"""The physical floor of a seamless round (issue 17, item 5): its three callbacks and nothing else.

A round cannot take less than its three HTTP exchanges with the wallet - ``bet``, ``win``,
``balance``, one after the other.  The floor is their cost alone, measured in the same run as
``r0`` and against the same stub wallet: one Python thread sends the very requests the
simulator sent for its last round (the bodies from its callback log, the ``Callback-Token``
from the agent's settings, the header set of :mod:`simulator.seamless.wire`) through one
keep-alive ``http.client.HTTPConnection``, round after round, reading each reply whole.  No
JSON work, no log, no bookkeeping: ``r0 / floor`` is what the simulator's own work multiplies
the round by.
"""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from simulator.seamless.wire import FIXED_HEADERS

from .servers import SimApi

AGENT = "demo_seamless"
COMMANDS = ("bet", "win", "balance")


@dataclass(frozen=True)
class RoundRequests:
    """What one round sent: the path, and the three requests' headers and bodies, in order."""

    host: str
    port: int
    path: str
    #: Per request, every header in the simulator's order, ``Content-Length`` last (given, so
    #: that ``http.client`` does not put its own right after the request line).
    headers: tuple[dict[str, str], ...]
    bodies: tuple[bytes, ...]


def last_round(api: SimApi) -> RoundRequests:
    """The last round's ``bet``, ``win`` and ``balance`` as the simulator sent them."""
    agent = api.admin("GET", f"agents/{AGENT}")
    entries = api.admin("GET", f"agents/{AGENT}/callbacks?limit=3")  # newest first
    commands = tuple(entry["command"] for entry in reversed(entries))
    if commands != COMMANDS:
        raise RuntimeError(f"the last callbacks were {commands}, not a round's {COMMANDS}")
    bodies = tuple(
        json.dumps(entry["request"], separators=(",", ":")).encode() for entry in reversed(entries)
    )
    return requests_for(agent["callback_url"], agent["callback_token"], bodies)


def requests_for(callback_url: str, token: str, bodies: tuple[bytes, ...]) -> RoundRequests:
    """These bodies with the headers the simulator sends them with, in its order."""
    url = urlsplit(callback_url)
    headers = {"Host": url.netloc, **dict(FIXED_HEADERS)}
    headers |= {"Callback-Token": token, "Content-Type": "application/json"}
    each = tuple({**headers, "Content-Length": str(len(body))} for body in bodies)
    return RoundRequests(url.hostname or "", url.port or 80, url.path or "/", each, bodies)


@dataclass(frozen=True)
class Floor:
    rounds: int
    elapsed_s: float

    @property
    def round_s(self) -> float:
        return self.elapsed_s / self.rounds if self.rounds else float("nan")

    def plus(self, other: Floor) -> Floor:
        return Floor(self.rounds + other.rounds, self.elapsed_s + other.elapsed_s)


def measure(requests: RoundRequests, seconds: float, warmup: int = 20) -> Floor:
    """Rounds of the three exchanges back to back for ``seconds``, after ``warmup`` rounds."""
    conn = http.client.HTTPConnection(requests.host, requests.port, timeout=10)

    def one_round() -> None:
        for body, headers in zip(requests.bodies, requests.headers, strict=True):
            conn.request("POST", requests.path, body, headers)
            reply = conn.getresponse()
            reply.read()
            if reply.status != 200:
                raise RuntimeError(f"the stub wallet answered HTTP {reply.status}")

    try:
        for _ in range(warmup):
            one_round()
        rounds, started = 0, time.perf_counter()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            one_round()
            rounds += 1
        return Floor(rounds, time.perf_counter() - started)
    finally:
        conn.close()
