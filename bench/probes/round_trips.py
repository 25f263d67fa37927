"""Redis round trips and commands per ``/v4`` call on the Redis store (scenario 8, issue 14).

``python -m bench.probes.round_trips`` starts a ``redis-server``
(``simulator.testing.redis_server.RedisServer``; ``--url`` uses a running one
instead), builds the simulator in this process on it (``create_app`` with
``Settings(store=<url>, store_prefix="rt:")``) and calls it through Flask's
test client, as the tests do: ``user/info``, ``agent/info``,
``wallet/deposit`` and ``wallet/withdraw`` (of 100, player 400000001 of agent
demo).  Each is warmed up, then called ``--calls`` times; the figures are
averages per call:

- **round trips**, counted in the client: every
  ``redis.connection.AbstractConnection.send_packed_command`` made by the
  request's own thread is one request-reply exchange with Redis.  A pipeline
  (``MULTI`` ... ``EXEC`` included) and a script (``EVALSHA``) are sent in one
  such call, so each counts once; a connection's handshake or health check,
  were there one, would count too, since it is a real exchange.  Round trips
  of other threads (the store's heartbeats) during the calls are counted apart
  (``background round trips``): they are not on the request's path;
- **commands** executed by ``redis-server``: the delta of ``INFO
  commandstats`` over the calls, without the probe's own ``INFO``.  Commands
  run inside a script are counted there as well as the script's ``EVALSHA``, so
  ``commands`` is top-level commands + commands in scripts; both parts are
  given.  Commands of the heartbeats in that window (``bg RT``) are in it:
  a few hundredths per call.  This is the figure ``redis-benchmark``'s operations per second
  divide (bench/README.md, scenario 8, "A projection");
- **worker CPU** per call: the calling thread's CPU time (``time.thread_time``)
  - the whole in-process request, Flask's test client included, no HTTP
  parsing, no gunicorn;
- **redis-server CPU** per call: the delta of ``INFO cpu`` (user + system)
  over the calls, divided by the calls.  Coarse (Redis' own housekeeping
  is in it), but it includes the socket I/O that ``commandstats`` leaves out.

It prints a table, or with ``--json`` one JSON object (what
``bench/scenarios/redis.py`` reads); the round trips of the last call of each
kind are listed, command by command, with ``--show``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import redis
import redis.connection

DEMO_TOKEN = "ed45553e-1702-4342-a70d-09bf7ff7f568"
DEMO_PLAYER = 400000001
PREFIX = "rt:"
AMOUNT = 100
#: (label, path, body): the calls measured, in this order (a withdrawal after the deposits it spends).
CALLS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("user/info", "/v4/user/info", {"user_code": DEMO_PLAYER}),
    ("agent/info", "/v4/agent/info", {}),
    ("wallet/deposit", "/v4/wallet/deposit", {"user_code": DEMO_PLAYER, "amount": AMOUNT}),
    ("wallet/withdraw", "/v4/wallet/withdraw", {"user_code": DEMO_PLAYER, "amount": AMOUNT}),
)


# --- counting in the client -------------------------------------------------------------------


@dataclass
class Exchange:
    """One request-reply exchange: the thread that made it and the commands it carried."""

    thread: int
    commands: list[list[bytes]]


class RoundTripCounter:
    """Wraps ``AbstractConnection.send_packed_command``: one call is one round trip.

    Every send is recorded while :attr:`recording` is set, with the sending
    thread, so the request's own round trips (the caller's thread: Flask's test
    client runs the request there) are told from the heartbeats' ones.
    """

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self.recording = False
        self._guard = threading.Lock()
        self._original: Callable[..., Any] | None = None

    def install(self) -> None:
        cls = redis.connection.AbstractConnection
        original = self._original = cls.send_packed_command
        counter = self

        def send_packed_command(conn: Any, command: Any, check_health: bool = True) -> Any:
            if counter.recording:
                exchange = Exchange(threading.get_ident(), parse_commands(command))
                with counter._guard:
                    counter.exchanges.append(exchange)
            return original(conn, command, check_health)

        cls.send_packed_command = send_packed_command  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            redis.connection.AbstractConnection.send_packed_command = self._original  # type: ignore[method-assign]
            self._original = None

    @contextmanager
    def window(self) -> Iterator[list[Exchange]]:
        """Record the exchanges of a block; yields the list they land in."""
        with self._guard:
            self.exchanges = []
        self.recording = True
        try:
            yield self.exchanges
        finally:
            self.recording = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The probe's own ``INFO`` calls are not the simulator's."""
        was, self.recording = self.recording, False
        try:
            yield
        finally:
            self.recording = was


def parse_commands(packed: Any) -> list[list[bytes]]:
    """The commands in what redis-py sends: RESP arrays of bulk strings, one after the other."""
    if isinstance(packed, (bytes, bytearray, memoryview, str)):
        packed = [packed]
    data = b"".join(p.encode() if isinstance(p, str) else bytes(p) for p in packed)
    commands: list[list[bytes]] = []
    pos = 0
    try:
        while pos < len(data) and data[pos : pos + 1] == b"*":
            end = data.index(b"\r\n", pos)
            count = int(data[pos + 1 : end])
            pos = end + 2
            args = []
            for _ in range(count):
                end = data.index(b"\r\n", pos)
                size = int(data[pos + 1 : end])
                args.append(data[end + 2 : end + 2 + size])
                pos = end + 2 + size + 2
            commands.append(args)
    except ValueError:  # not RESP as expected: still one exchange, of unknown content
        commands.append([b"?"])
    return commands


def script_names() -> dict[bytes, str]:
    """SHA1 of each Lua script the simulator's loaded modules define -> where it is defined.

    A module-level string that calls ``redis.call``, or such a string in a
    module-level dict (``SCRIPTS["debit"]``): what an ``EVALSHA`` runs, by name.
    """
    names: dict[bytes, str] = {}
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("simulator.") or module is None:
            continue
        short = module_name.rsplit(".", 1)[-1]
        for attr, value in list(vars(module).items()):
            found = [(attr, value)] if isinstance(value, str) else []
            if isinstance(value, dict):
                found = [(f"{attr}[{k!r}]", v) for k, v in value.items() if isinstance(v, str)]
            for name, source in found:
                if "redis.call" in source:
                    names[hashlib.sha1(source.encode()).hexdigest().encode()] = f"{short}.{name}"
    return names


def describe(commands: list[list[bytes]], scripts: dict[bytes, str], prefix: str = PREFIX) -> str:
    """``EVALSHA redis_limiter._ACQUIRE inflight:agent:3`` / ``MULTI | RPUSH journal | ...``, short."""
    parts = []
    for args in commands:
        name = args[0].decode(errors="replace").upper()
        key = b""
        if name == "EVALSHA" and len(args) > 2:
            name += " " + scripts.get(args[1], args[1][:8].decode(errors="replace"))
            key = args[3] if len(args) > 3 and args[2] != b"0" else b""
        elif name not in ("MULTI", "EXEC", "PING") and len(args) > 1:
            key = args[1]
        text = key.decode(errors="replace")
        text = re.sub(rf"^{re.escape(prefix)}(w:[^:]+:)?", "", text)
        parts.append(f"{name} {text[:40]}".rstrip())
    return " | ".join(parts)


# --- counting in the server -------------------------------------------------------------------

#: Commands the probe itself sends around each batch.
_OWN_COMMANDS = {"info"}


def command_stats(client: redis.Redis) -> Counter[str]:
    """Calls per command so far, from ``INFO commandstats`` (``cmdstat_evalsha`` -> ``evalsha``)."""
    stats = client.info("commandstats")
    return Counter(
        {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items() if value}
    )


def redis_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


# --- the measurement --------------------------------------------------------------------------


@dataclass
class CallFigures:
    """Per-call averages of one ``/v4`` call over ``calls`` calls."""

    call: str
    calls: int
    round_trips: float
    #: Commands redis-server executed: top-level + inside scripts.
    commands: float
    top_level_commands: float
    script_commands: float
    worker_cpu_us: float
    redis_cpu_us: float
    wall_us: float
    background_round_trips: int
    #: Server-side calls per command name (per call), e.g. {"evalsha": 1.0, "rpush": 1.0}.
    by_command: dict[str, float] = field(default_factory=dict)
    #: The round trips of the last call, one string each.
    last_call: list[str] = field(default_factory=list)
    failures: int = 0


def measure(
    client: Any, admin: redis.Redis, counter: RoundTripCounter, calls: int, warmup: int
) -> list[CallFigures]:
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}"}
    me = threading.get_ident()
    figures = []
    scripts = script_names()
    for label, path, body in CALLS:
        for _ in range(warmup):
            client.post(path, json=body, headers=headers)
        with counter.paused():
            stats_before, cpu_before = command_stats(admin), redis_cpu(admin)
        failures = 0
        per_call: list[int] = []
        last: list[Exchange] = []
        with counter.window() as exchanges:
            started_cpu, started = time.thread_time(), time.perf_counter()
            for _ in range(calls):
                mark = len(exchanges)
                answer = client.post(path, json=body, headers=headers)
                if answer.status_code != 200 or (answer.get_json() or {}).get("code") != 0:
                    failures += 1
                mine = [e for e in exchanges[mark:] if e.thread == me]
                per_call.append(len(mine))
                last = mine
            worker_cpu, wall = time.thread_time() - started_cpu, time.perf_counter() - started
            recorded = list(exchanges)
        with counter.paused():
            stats_after, cpu_after = command_stats(admin), redis_cpu(admin)
        server = stats_after - stats_before
        for own in _OWN_COMMANDS:
            server.pop(own, None)
        top_level = sum(len(e.commands) for e in recorded)
        total = sum(server.values())
        figures.append(
            CallFigures(
                call=label,
                calls=calls,
                round_trips=sum(per_call) / calls,
                commands=total / calls,
                top_level_commands=top_level / calls,
                script_commands=max(0, total - top_level) / calls,
                worker_cpu_us=worker_cpu / calls * 1e6,
                redis_cpu_us=(cpu_after - cpu_before) / calls * 1e6,
                wall_us=wall / calls * 1e6,
                background_round_trips=sum(1 for e in recorded if e.thread != me),
                by_command={name: n / calls for name, n in sorted(server.items())},
                last_call=[describe(e.commands, scripts) for e in last],
                failures=failures,
            )
        )
    return figures


def probe(url: str | None = None, calls: int = 50, warmup: int = 5) -> dict[str, Any]:
    """Start (or use) a redis-server, build the simulator on it, measure; the figures as a dict."""
    from simulator.testing.redis_server import RedisServer

    server = None
    if url is None:
        server = RedisServer().start()
        url = server.url
    logging.getLogger("simulator").setLevel(logging.WARNING)
    counter = RoundTripCounter()
    counter.install()
    admin = redis.Redis.from_url(url, socket_timeout=5)
    sim = None
    try:
        from simulator import create_app
        from simulator.config import Settings

        app = create_app(Settings(store=url, store_prefix=PREFIX))
        sim = app.extensions["scorpio"]
        figures = measure(app.test_client(), admin, counter, calls, warmup)
        version = admin.info("server").get("redis_version", "?")
    finally:
        counter.uninstall()
        if sim is not None:
            backend = getattr(sim, "backend", None)
            drop = getattr(backend, "drop_everything", None)
            if callable(drop):
                drop()
            sim.close()
        admin.close()
        if server is not None:
            server.stop()
    return {"redis_version": version, "calls": calls, "figures": [asdict(f) for f in figures]}


def render(result: dict[str, Any], show: bool = False) -> str:
    head = ("call", "round trips", "commands", "(in scripts)", "worker CPU", "redis CPU", "wall", "bg RT")
    rows = [head]
    for f in result["figures"]:
        rows.append(
            (
                f["call"] + (f" ({f['failures']} not code 0)" if f["failures"] else ""),
                f"{f['round_trips']:.2f}",
                f"{f['commands']:.2f}",
                f"{f['script_commands']:.2f}",
                f"{f['worker_cpu_us']:.0f} us",
                f"{f['redis_cpu_us']:.0f} us",
                f"{f['wall_us']:.0f} us",
                str(f["background_round_trips"]),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(
        f"per call, averaged over {result['calls']} calls each after a warm-up; redis-server "
        f"{result['redis_version']}; round trips counted in the request's thread"
    )
    if show:
        for f in result["figures"]:
            lines.append(
                f"\n{f['call']}: server-side commands per call: "
                + ", ".join(f"{k} {v:g}" for k, v in f["by_command"].items())
            )
            lines.extend(f"  {n}. {text}" for n, text in enumerate(f["last_call"], 1))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running redis-server (default: start one on a free port)")
    parser.add_argument("--calls", type=int, default=50, help="measured calls of each kind (default 50)")
    parser.add_argument(
        "--warmup", type=int, default=5, help="unmeasured calls of each kind first (default 5)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--show", action="store_true", help="list the round trips of one call of each kind")
    args = parser.parse_args(argv)
    result = probe(args.url, args.calls, args.warmup)
    print(json.dumps(result) if args.json else render(result, args.show))
    return 0


if __name__ == "__main__":
    sys.exit(main())
