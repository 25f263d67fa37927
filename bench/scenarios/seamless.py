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
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import requests

from ..context import Context
from ..results import Result, ratio_at_least
from ..servers import SEAMLESS_TOKEN, Server, SimApi, start_stub_wallet

NAME = "seamless"
TITLE = "3 seamless"
DELAYS_MS = (0, 20, 50)
CONCURRENCY = (1, 10, 50)
ROUNDS_PER_CALL = 10
#: The issue's target: >= 0.8 x the bound at 20 ms wallet latency.
TARGET_DELAY_MS, TARGET_RATIO = 20, 0.8
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


def play_for(base_url: str, players: list[int], seconds: float) -> Rounds:
    """Each player's thread plays back to back until ``seconds`` have passed; the last call finishes."""
    barrier = threading.Barrier(len(players) + 1)
    counts = {"settled": 0, "other": 0}
    errors: list[str] = []
    lock = threading.Lock()
    finished: list[float] = []
    start_box: list[float] = []

    def player(code: int) -> None:
        session = requests.Session()
        barrier.wait()
        deadline = start_box[0] + seconds
        settled = other = 0
        try:
            while time.perf_counter() < deadline:
                for result in _play(base_url, code, ROUNDS_PER_CALL, session):
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
            session.close()

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
    for delay_ms in DELAYS_MS:
        wallet = start_stub_wallet(ctx.out, delay_ms)
        try:
            codes = _prepare(ctx, wallet, most)
            for players in CONCURRENCY:
                result = measured[(delay_ms, players)] = play_for(sim.base_url, codes[:players], ctx.duration)
                ctx.log(
                    f"seamless wallet {delay_ms} ms, {players} players: {result.rate:,.1f} rounds/s"
                    + (f", {len(result.errors)} errors: {result.errors[0]}" if result.errors else "")
                )
            if ctx.profile and delay_ms == TARGET_DELAY_MS:
                _profile(ctx, sim, codes)
        finally:
            wallet.stop()
    return _rows(measured)


def _profile(ctx: Context, sim: Server, codes: list[int]) -> None:
    ctx.record_profile(
        f"seamless rounds, wallet {TARGET_DELAY_MS} ms, {len(codes)} players",
        "profile-seamless",
        lambda seconds: play_for(sim.base_url, codes, seconds),
    )


def _rows(measured: dict[tuple[int, int], Rounds]) -> list[Result]:
    base = measured.get((0, 1))
    overhead = base.elapsed_s / base.settled if base and base.settled else None
    rows = []
    if overhead is not None:
        rows.append(Result(TITLE, "r0: one round, 1 player, wallet 0 ms", overhead * 1000, "ms"))
    for (delay_ms, players), result in measured.items():
        target = ratio_at_least(TARGET_RATIO) if delay_ms == TARGET_DELAY_MS and players > 1 else None
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
