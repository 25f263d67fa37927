"""Scenario 3's rows (issue 17): the round's cost against its floor, and the Little's-law targets.

No network except :func:`test_the_floor_sends_what_the_simulator_sent`, which runs the floor
against a local socket to see the very bytes it sends.
"""

from __future__ import annotations

import socket
import threading

import pytest

from bench.round_floor import Floor, measure, requests_for
from bench.scenarios.seamless import Rounds, _rows
from simulator.seamless.wire import route_for

TOKEN = "3c1d5e02-5a8f-4d0b-9a64-7f2e1b6c9d40"


def measured(**rates: float) -> dict[tuple[int, int], Rounds]:
    """Cells ``d<delay>_p<players>=<rounds per second>``, each over one second."""
    cells = {}
    for name, rate in rates.items():
        delay, players = (int(part[1:]) for part in name.split("_"))
        cells[(delay, players)] = Rounds(players, int(rate), 0, 1.0, [])
    return cells


def row(rows, figure_start: str):  # noqa: ANN001, ANN201 - Result rows
    return next(r for r in rows if r.figure.startswith(figure_start))


def test_round_cost_is_judged_against_the_floor_at_most_1_6():
    rows = _rows(measured(d0_p1=1000), Floor(2000, 1.0))  # r0 1 ms, floor 0.5 ms
    cost = row(rows, "round cost ÷ floor")
    assert (cost.value, cost.reference_value, cost.ratio) == pytest.approx((1.0, 0.5, 2.0))
    assert (cost.target.text, cost.met) == ("<= 1.6 x ref", False)


def test_round_cost_within_1_6_floors_meets_the_target():
    rows = _rows(measured(d0_p1=1000), Floor(1600, 1.0))  # r0 1 ms, floor 0.625 ms
    assert row(rows, "round cost ÷ floor").met is True


def test_fifty_players_at_20_ms_need_0_6_of_the_bound():
    rows = _rows(measured(d0_p1=1000, d20_p50=480))  # bound 50 / 61 ms = 820
    fifty = row(rows, "rounds/s, wallet 20 ms, 50 players")
    assert (fifty.target.text, fifty.met) == (">= 0.6 x ref", False)


def test_ten_players_at_20_ms_still_need_0_8_of_the_bound():
    rows = _rows(measured(d0_p1=1000, d20_p10=140))  # bound 10 / 61 ms = 164
    assert row(rows, "rounds/s, wallet 20 ms, 10 players").target.text == ">= 0.8 x ref"


def test_without_a_floor_there_is_no_cost_row():
    assert not [r for r in _rows(measured(d0_p1=1000)) if r.figure.startswith("round cost")]


def test_the_floor_sends_what_the_simulator_sent():
    """The floor's three requests through http.client are the simulator's bytes (wire.Route)."""
    received: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    bodies = (b'{"command":"bet"}', b'{"command":"win"}', b'{"command":"balance"}')
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"

    def wallet() -> None:
        conn, _ = listener.accept()
        with conn:
            buffer = b""
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buffer += data
                while b"\r\n\r\n" in buffer:
                    head, _, rest = buffer.partition(b"\r\n\r\n")
                    length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                    if len(rest) < length:
                        break
                    received.append(head + b"\r\n\r\n" + rest[:length])
                    buffer = rest[length:]
                    conn.sendall(answer)

    threading.Thread(target=wallet, daemon=True).start()
    url = f"http://127.0.0.1:{port}/callback"
    measure(requests_for(url, TOKEN, bodies), 0.0, warmup=1)
    listener.close()
    route = route_for(url)
    assert route is not None
    assert received[:3] == [route.request(TOKEN, body) for body in bodies]
