"""Scenario 3, seamless rounds per second against a wallet that answers after 0, 20 and 50 ms.

Agent ``demo_seamless`` calls the stub wallet (``bench.stub_wallet``).  N
client threads each play their own player's rounds through ``POST
/control/play`` (the game page's round path), ``ROUNDS_PER_CALL`` rounds per
call, back to back for the scenario's duration.  Every round makes three
callbacks in turn: ``bet``, ``win`` and the ``balance`` the game refreshes.

Reference, Little's law: N rounds in flight, each taking at least the
wallet's three delays plus the simulator's own time for a round, give at
most ``N / (3 x delay + r0)`` rounds per second, where ``r0`` is the mean
time of one round with one player and a wallet that answers at once,
measured first in the same run (it includes the loopback round trips of
the three callbacks).  Falling short of the bound means rounds wait for
something other than the wallet: the CPU (2 cores shared by the simulator,
the wallet and the clients), the GIL, or a lock.

``r0`` itself is judged against the round's physical floor (issue 17, item 5;
:mod:`bench.round_floor`): the same three exchanges, same bodies and headers,
from one thread through ``http.client``, against the same wallet, measured in
slices alternating with r0's so that other work on the machine weighs on both
alike.  ``r0 / floor`` is what the simulator's own work multiplies a round by.
The players talk to the simulator through ``http.client`` too: they are the
harness, and their own cost per call should weigh on r0 as little as possible.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from .. import round_floor
from ..context import Context
from ..results import Result, ratio_at_least, ratio_at_most
from ..servers import SEAMLESS_TOKEN, Server, SimApi, start_stub_wallet

NAME = "seamless"
TITLE = "3 seamless"
DELAYS_MS = (0, 20, 50)
CONCURRENCY = (1, 10, 50)
ROUNDS_PER_CALL = 10
#: The issues' targets at 20 ms wallet latency, per number of players: >= 0.8 x the bound with
#: 10 (issue 7), >= 0.6 x with 50 (issue 17, item 6).
TARGET_DELAY_MS = 20
TARGET_RATIOS = {10: 0.8, 50: 0.6}
#: Issue 17, item 5: a round costs at most 1.6 x its physical floor.
FLOOR_RATIO = 1.6
#: r0 and the floor are measured in this many alternate slices of the cell's duration.
FLOOR_SLICES = 5
#: The cells profiled (``--profile``): (wallet delay in ms, players).
PROFILED = {(0, 1), (TARGET_DELAY_MS, max(CONCURRENCY))}
GAME = {"agent": "demo_seamless", "provider_id": 1, "game_code": "vs20fruitsw", "bet": 100}
CALLBACKS_PER_ROUND = 3


@dataclass
class Rounds:
    players: int
    settled: int
    other: int
    elapsed_s: float
    errors: list[str]

    @property
    def rate(self) -> float:
        return self.settled / self.elapsed_s if self.elapsed_s else 0.0

    def plus(self, other: Rounds) -> Rounds:
        """Two runs of the same players, one after the other, as one."""
        return Rounds(
            self.players,
            self.settled + other.settled,
            self.other + other.other,
            self.elapsed_s + other.elapsed_s,
            self.errors + other.errors,
        )


def little_bound(players: int, delay_s: float, overhead_s: float) -> float:
    """At most ``players`` rounds in flight, each lasting ``3 x delay + overhead`` seconds."""
    return players / (CALLBACKS_PER_ROUND * delay_s + overhead_s)


def _create_players(api: SimApi, count: int) -> list[int]:
    codes = []
    for number in range(count):
        answer = api.v4("user/create", {"name": f"bench_player_{number:03d}"}, token=SEAMLESS_TOKEN).json()
        if answer.get("code") != 0:
            raise RuntimeError(f"user/create answered {answer}")
        codes.append(answer["data"]["user_code"])
    return codes


def _play(base_url: str, user_code: int, rounds: int, session: requests.Session) -> list[dict]:
    answer = session.post(
        f"{base_url}/control/play", json={**GAME, "user_code": user_code, "rounds": rounds}, timeout=60
    )
    answer.raise_for_status()
    return answer.json()


class Player:
    """One player's keep-alive connection for ``/control/play``, through ``http.client``.

    The player is the harness, not what is measured: ``requests`` took about 1 ms a call
    here (a tenth of a round at 10 rounds a call), with the simulator waiting meanwhile.
    """

    def __init__(self, base_url: str, user_code: int) -> None:
        url = urlsplit(base_url)
        self._conn = http.client.HTTPConnection(url.hostname or "", url.port or 80, timeout=60)
        self._body = json.dumps({**GAME, "user_code": user_code, "rounds": ROUNDS_PER_CALL}).encode()

    def play(self) -> list[dict]:
        self._conn.request("POST", "/control/play", self._body, {"Content-Type": "application/json"})
        answer = self._conn.getresponse()
        content = answer.read()
        if answer.status != 200:
            raise RuntimeError(f"/control/play answered HTTP {answer.status}: {content[:200]!r}")
        return json.loads(content)

    def close(self) -> None:
        self._conn.close()


def play_for(base_url: str, players: list[int], seconds: float) -> Rounds:
    """Each player's thread plays back to back until ``seconds`` have passed; the last call finishes."""
    barrier = threading.Barrier(len(players) + 1)
    counts = {"settled": 0, "other": 0}
    errors: list[str] = []
    lock = threading.Lock()
    finished: list[float] = []
    start_box: list[float] = []

    def player(code: int) -> None:
        client = Player(base_url, code)
        barrier.wait()
        deadline = start_box[0] + seconds
        settled = other = 0
        try:
            while time.perf_counter() < deadline:
                for result in client.play():
                    if result.get("status") == "settled":
                        settled += 1
                    else:
                        other += 1
        except Exception as exc:  # report, do not hang the run
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            with lock:
                counts["settled"] += settled
                counts["other"] += other
                finished.append(time.perf_counter())
            client.close()

    threads = [threading.Thread(target=player, args=(code,), daemon=True) for code in players]
    for thread in threads:
        thread.start()
    start_box.append(time.perf_counter())
    barrier.wait()
    for thread in threads:
        thread.join(seconds + 120)
    elapsed = max(finished, default=start_box[0]) - start_box[0]
    return Rounds(len(players), counts["settled"], counts["other"], elapsed, errors)


def _prepare(ctx: Context, wallet: Server, players: int) -> list[int]:
    api = ctx.api()
    api.reset()
    api.admin("PATCH", "agents/demo_seamless", {"callback_url": f"{wallet.base_url}/callback"})
    codes = _create_players(api, players)
    session = requests.Session()
    for code in codes:  # launch + open the session (authenticate, balance) before measuring
        _play(ctx.simulator().base_url, code, 1, session)
    return codes


def run(ctx: Context) -> list[Result]:
    sim = ctx.simulator()
    most = max(CONCURRENCY)
    measured: dict[tuple[int, int], Rounds] = {}
    floor: round_floor.Floor | None = None
    for delay_ms in DELAYS_MS:
        wallet = start_stub_wallet(ctx.out, delay_ms)
        try:
            codes = _prepare(ctx, wallet, most)
            for players in CONCURRENCY:
                if delay_ms == 0 and players == 1:
                    result, floor = _r0_and_floor(ctx, codes[0])
                else:
                    result = play_for(sim.base_url, codes[:players], ctx.duration)
                measured[(delay_ms, players)] = result
                ctx.log(
                    f"seamless wallet {delay_ms} ms, {players} players: {result.rate:,.1f} rounds/s"
                    + (f", {len(result.errors)} errors: {result.errors[0]}" if result.errors else "")
                )
                if ctx.profile and (delay_ms, players) in PROFILED:
                    _profile(ctx, sim, codes[:players], delay_ms)
        finally:
            wallet.stop()
    return _rows(measured, floor)


def _r0_and_floor(ctx: Context, code: int) -> tuple[Rounds, round_floor.Floor]:
    """r0's cell and the physical floor, in alternate slices against the same wallet.

    Other work on the machine comes and goes; alternating slices share it out
    evenly between the two, so their ratio does not depend on when it came.
    """
    base_url = ctx.simulator().base_url
    _play(base_url, code, 1, requests.Session())  # a round whose callbacks the floor copies
    round_requests = round_floor.last_round(ctx.api())
    slice_s = ctx.duration / FLOOR_SLICES
    rounds = Rounds(1, 0, 0, 0.0, [])
    floor = round_floor.Floor(0, 0.0)
    for _ in range(FLOOR_SLICES):
        rounds = rounds.plus(play_for(base_url, [code], slice_s))
        floor = floor.plus(round_floor.measure(round_requests, slice_s))
    ctx.log(f"seamless floor (3 exchanges, http.client, 1 thread): {floor.round_s * 1000:.3f} ms a round")
    return rounds, floor


def _profile(ctx: Context, sim: Server, codes: list[int], delay_ms: int) -> None:
    ctx.record_profile(
        f"seamless rounds, wallet {delay_ms} ms, {len(codes)} players",
        f"profile-seamless-{delay_ms}ms-{len(codes)}",
        lambda seconds: play_for(sim.base_url, codes, seconds),
    )


def _rows(measured: dict[tuple[int, int], Rounds], floor: round_floor.Floor | None = None) -> list[Result]:
    base = measured.get((0, 1))
    overhead = base.elapsed_s / base.settled if base and base.settled else None
    rows = []
    if overhead is not None:
        rows.append(Result(TITLE, "r0: one round, 1 player, wallet 0 ms", overhead * 1000, "ms"))
    if floor is not None:
        floor_ms = floor.round_s * 1000
        rows.append(Result(TITLE, "floor: bet, win, balance alone (http.client, 1 thread)", floor_ms, "ms"))
        rows.append(
            Result(
                TITLE,
                "round cost ÷ floor (r0 against the floor)",
                overhead * 1000 if overhead is not None else None,
                "ms",
                "floor",
                floor_ms,
                ratio_at_most(FLOOR_RATIO),
            )
        )
    for (delay_ms, players), result in measured.items():
        wanted = TARGET_RATIOS.get(players) if delay_ms == TARGET_DELAY_MS else None
        target = ratio_at_least(wanted) if wanted is not None else None
        note = ""
        if result.errors or result.other:
            note = f"{result.other} rounds not settled, {len(result.errors)} client errors"
        figure = f"rounds/s, wallet {delay_ms} ms, {players} players"
        if delay_ms == 0 and players > 1:  # N / r0 is no bound: these rows show the CPU's capacity
            rows.append(Result(TITLE, f"{figure} (CPU capacity)", result.rate, "rounds/s", note=note))
            continue
        bound = little_bound(players, delay_ms / 1000, overhead) if overhead else None
        rows.append(
            Result(TITLE, figure, result.rate, "rounds/s", "N / (3 x delay + r0)", bound, target, note)
        )
    return rows
