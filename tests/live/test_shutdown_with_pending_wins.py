"""Shutdown and restart on the real server: SIGTERM during a wallet outage loses no win.

The wallet is the reference wallet (``examples.wallet``, idempotent per
``trans_guid`` as spec 6.10 asks) on a real port, behind an outage switch:
its ``win`` callbacks can be answered HTTP 500 - some after the win was applied
(the answer is lost), some before - and the wallet can stop listening
altogether.  Wins meanwhile wait on the simulator's retry queue; SIGTERM
writes them to the state file (``SCORPIO_SIM_STATE_FILE``), the next start
resumes them, and once the wallet is back each is delivered: applied once by
the wallet, recorded once as a Win row.

Retry profile: ``default`` gives a win 1 + 3 attempts 2-4 s apart, so an
outage longer than about 10 s turns it into "Win Error" - kept in the state
file too, but delivered only by a replay.  The resumed-delivery test runs the
``extended`` profile (1 + 50) with short retry delays (0.3-0.5 s, to keep it
fast): 50 attempts outlast the outage and the restart.  The Win Error test
runs ``default`` with 0.1-0.2 s delays, so the retries run out before SIGTERM.
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from examples.wallet.wallet import DEFAULT_TOKEN, create_app
from tests.conftest import SEAMLESS_TOKEN
from tests.live.conftest import LiveServer, free_port, start_server, stop_group

pytestmark = pytest.mark.live

BET, WIN = 1, 2
STAKE = Decimal(100)
OPENING = Decimal(50_000)


class OutageWallet:
    """The reference wallet on a loopback port, with an outage switch and a record of every win.

    ``mode``: ``up`` answers everything; ``wins_500`` answers every ``win`` HTTP 500,
    alternately after applying it (the answer is lost) and without applying it;
    ``stop()`` closes the port (connections are refused) and ``start()`` reopens it.
    ``applied[guid]`` counts the wins the wallet applied (its own answer was result 0);
    ``received[guid]`` counts every delivery of that win.
    """

    def __init__(self, accounts: dict[str, Decimal], token: str = DEFAULT_TOKEN) -> None:
        self.app = create_app(token=token, accounts=accounts)
        self.ledger = self.app.extensions["wallet_ledger"]
        self.mode = "up"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/callback"
        self.received: Counter[str] = Counter()
        self.applied: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._outage_wins = 0
        self._server = None
        self.start()

    def __call__(self, environ: dict[str, Any], start_response) -> list[bytes]:
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        body = json.loads(raw or b"{}")
        is_win = body.get("command") == "win"
        guid = (body.get("data") or {}).get("trans_guid", "")
        with self._lock:
            if is_win:
                self.received[guid] += 1
            apply_first = True
            if is_win and self.mode == "wins_500":
                self._outage_wins += 1
                apply_first = self._outage_wins % 2 == 1
        if not apply_first:
            return self._fail(start_response)
        environ["wsgi.input"] = io.BytesIO(raw)
        answer: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> None:
            answer.update(status=status, headers=headers)

        content = b"".join(self.app(environ, capture))
        if is_win and json.loads(content).get("result") == 0:
            with self._lock:
                self.applied[guid] += 1
        if is_win and self.mode == "wins_500":
            return self._fail(start_response)  # applied, but the answer is lost
        start_response(answer["status"], answer["headers"])
        return [content]

    @staticmethod
    def _fail(start_response) -> list[bytes]:
        start_response("500 Internal Server Error", [("Content-Type", "text/html")])
        return [b"<html><body>500 Internal Server Error</body></html>"]

    def start(self) -> None:
        self._server = make_server("127.0.0.1", self.port, self, threaded=True)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per callback
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening: the simulator's callbacks now fail to connect."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def balance(self, account: str) -> Decimal:
        with self.ledger.lock:
            return self.ledger.accounts[account].balance


def start_with(tmp_path: Path, name: str, **env: str) -> LiveServer:
    """The live server with extra ``SCORPIO_SIM_*`` settings (they pass through ``make run``)."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        return start_server(tmp_path / f"{name}.log")
    finally:
        for key, value in saved.items():
            if value is None:
                del os.environ[key]
            else:
                os.environ[key] = value


def control_json(server: LiveServer, method: str, path: str, body: Any = None) -> Any:
    """``/control`` answer's JSON; the response (and its kept-alive connection) is not kept,
    which would make gunicorn linger 2 s over it at SIGTERM."""
    answer = server.control(method, path, body)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def admin(server: LiveServer, method: str, path: str, body: Any = None) -> Any:
    answer = requests.request(
        method, f"{server.base_url}/admin/api/{path}", json=body, headers=server.control_headers, timeout=10
    )
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def seamless_rows(server: LiveServer) -> list[dict]:
    rows: list[dict] = []
    while True:
        page = admin(server, "GET", f"agents/demo_seamless/transactions?limit=2000&offset={len(rows)}")
        rows += page["list"]
        if len(rows) >= page["total"]:
            return rows


def pending_wins(server: LiveServer) -> list[dict]:
    return [
        job
        for job in admin(server, "GET", "agents/demo_seamless/pending-callbacks")
        if job["command"] == "win"
    ]


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def play_seamless_rounds(server: LiveServer, wallet: OutageWallet, players: dict[str, list[float]]) -> dict:
    """Create the players, force their outcomes, play their rounds at once: ``{round_id: (name, win)}``."""
    patched = admin(server, "PATCH", "agents/demo_seamless", {"callback_url": wallet.url})
    assert patched["mode"] == "seamless"
    codes = {}
    for name, multipliers in players.items():
        created = server.v4("user/create", {"name": name}, token=SEAMLESS_TOKEN).json()
        assert created["code"] == 0, created
        codes[name] = created["data"]["user_code"]
        forced = {"agent": "demo_seamless", "account": name, "next": [{"multiplier": m} for m in multipliers]}
        assert control_json(server, "POST", "outcomes", forced)["pending"] == len(multipliers)
    wallet.mode = "wins_500"

    def play(name: str) -> list[dict]:
        body = {
            "agent": "demo_seamless",
            "user_code": codes[name],
            "provider_id": 1,
            "game_code": "vs20fruitsw",
            "bet": int(STAKE),
            "rounds": len(players[name]),
        }
        return [dict(r, name=name) for r in control_json(server, "POST", "play", body)]

    with ThreadPoolExecutor(len(players)) as pool:
        results = [r for rounds in pool.map(play, players) for r in rounds]
    assert [r["status"] for r in results] == ["win_pending"] * len(results), results
    return {r["round_id"]: (r["name"], Decimal(str(r["win"]))) for r in results}


@pytest.fixture
def wallet_factory() -> Iterator:
    wallets: list[OutageWallet] = []

    def make(accounts: dict[str, Decimal]) -> OutageWallet:
        wallets.append(OutageWallet(accounts))
        return wallets[-1]

    yield make
    for wallet in wallets:
        wallet.stop()


def test_wins_pending_through_an_outage_and_a_sigterm_are_delivered_once_after_the_restart(
    tmp_path, wallet_factory
):
    players = {f"outage{n}": [0, 1.5, 2, 7] for n in range(6)}  # 24 rounds, one win of 0 each
    wallet = wallet_factory(dict.fromkeys(players, OPENING))
    state = tmp_path / "state.json"
    env = {
        "SCORPIO_SIM_STATE_FILE": str(state),
        "SCORPIO_SIM_RETRY_PROFILE": "extended",
        "SCORPIO_SIM_RETRY_DELAY_MIN": "0.3",
        "SCORPIO_SIM_RETRY_DELAY_MAX": "0.5",
    }
    first = start_with(tmp_path, "first", **env)
    try:
        points_before = admin(first, "GET", "agents/demo_seamless")["points"]
        rounds = play_seamless_rounds(first, wallet, players)
        # The outage goes on: every win is retried at least once more, then the wallet stops listening.
        wait_for(
            lambda: len(wallet.received) == 24 and min(wallet.received.values()) >= 2,
            10,
            "a retry of each win",
        )
        wallet.stop()
        time.sleep(0.6)  # the next retries find no one listening
        assert {job["state"] for job in pending_wins(first)} == {"pending"}
        assert len(pending_wins(first)) == 24
    finally:
        stop_group(first.proc)  # SIGTERM during the outage: the worker drains, then saves
    assert "saved the state to" in first.log(), first.log()[-2000:]
    saved = json.loads(state.read_text())
    jobs = [job for job in saved["retries"] if job["command"] == "win"]
    assert sorted(job["round_id"] for job in jobs) == sorted(rounds)
    assert {job["state"] for job in jobs} == {"pending"} and min(job["attempts"] for job in jobs) >= 2
    guids = {job["round_id"]: job["body"]["data"]["trans_guid"] for job in jobs}
    assert set(guids.values()) == set(wallet.received)
    applied_before_sigterm = sum(wallet.applied.values())
    assert 0 < applied_before_sigterm < 24  # some wins reached the wallet, their answers did not

    second = start_with(tmp_path, "second", **env)
    try:
        assert len(pending_wins(second)) == 24
        rows = seamless_rows(second)
        assert sorted(r["round_id"] for r in rows if r["trans_type"] == BET) == sorted(rounds)
        assert [r for r in rows if r["trans_type"] == WIN] == []
        time.sleep(0.6)  # resumed retries meet the outage too
        assert len(pending_wins(second)) == 24
        wallet.mode = "up"
        wallet.start()  # the wallet is back, same port, same books
        wait_for(lambda: pending_wins(second) == [], 20, "every pending win to be delivered")

        rows = seamless_rows(second)
        for round_id, (_, win) in rounds.items():
            mine = [
                (r["trans_type"], Decimal(str(r["trans_amount"]))) for r in rows if r["round_id"] == round_id
            ]
            assert mine == [(BET, STAKE), (WIN, win)], (round_id, mine)
            assert wallet.applied[guids[round_id]] == 1, round_id  # delivered once, whatever the re-sends
            assert wallet.received[guids[round_id]] >= 2
        assert sum(wallet.applied.values()) == 24
        for name, multipliers in players.items():
            won = sum(STAKE * Decimal(str(m)) for m in multipliers)
            assert wallet.balance(name) == OPENING - STAKE * len(multipliers) + won, name
        # OP-3: the bets took points, the wins gave them back, each exactly once.
        total_won = sum(win for _, win in rounds.values())
        points = Decimal(str(admin(second, "GET", "agents/demo_seamless")["points"]))
        assert points == Decimal(str(points_before)) - STAKE * 24 + total_won
        assert control_json(second, "GET", "snapshot")["retries"] == []
    finally:
        stop_group(second.proc)


def test_a_win_error_is_kept_across_a_restart_and_a_replay_delivers_it_once(tmp_path, wallet_factory):
    players = {"werr0": [3, 0.5], "werr1": [2, 1]}
    wallet = wallet_factory(dict.fromkeys(players, OPENING))
    state = tmp_path / "state.json"
    env = {
        "SCORPIO_SIM_STATE_FILE": str(state),
        "SCORPIO_SIM_RETRY_PROFILE": "default",
        "SCORPIO_SIM_RETRY_DELAY_MIN": "0.1",
        "SCORPIO_SIM_RETRY_DELAY_MAX": "0.2",
    }
    first = start_with(tmp_path, "first", **env)
    try:
        rounds = play_seamless_rounds(first, wallet, players)
        wallet.stop()  # a long outage: 1 + 3 attempts run out
        wait_for(
            lambda: [job["state"] for job in pending_wins(first)] == ["win_error"] * 4, 10, "four Win Errors"
        )
    finally:
        stop_group(first.proc)
    saved = json.loads(state.read_text())
    assert [(job["state"], job["attempts"]) for job in saved["retries"]] == [("failed", 4)] * 4

    second = start_with(tmp_path, "second", **env)
    try:
        assert [(job["state"], job["attempts"]) for job in pending_wins(second)] == [("win_error", 4)] * 4
        wallet.mode = "up"
        wallet.start()
        time.sleep(0.5)  # a Win Error is not retried by itself
        assert [r for r in seamless_rows(second) if r["trans_type"] == WIN] == []
        # Replay each Win Error by the log entry of its last attempt (the back office's listing),
        # twice at once: two clicks, or a person and a test suite.
        failed = pending_wins(second)
        last_entry = {job["request"]["data"]["round_id"]: job["last_entry_id"] for job in failed}
        assert sorted(last_entry) == sorted(rounds) and None not in last_entry.values()

        def replay(entry_id: int) -> dict:
            return control_json(second, "POST", f"callbacks/{entry_id}/replay")

        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(replay, [entry_id for entry_id in last_entry.values() for _ in range(2)]))
        assert sum(reply["settled"] for reply in replies) >= 4
        assert pending_wins(second) == []
        rows = seamless_rows(second)
        for round_id, (_, win) in rounds.items():
            mine = [
                (r["trans_type"], Decimal(str(r["trans_amount"]))) for r in rows if r["round_id"] == round_id
            ]
            assert mine == [(BET, STAKE), (WIN, win)], (round_id, mine)
        assert sorted(wallet.applied.values()) == [1, 1, 1, 1]
        for name, multipliers in players.items():
            won = sum(STAKE * Decimal(str(m)) for m in multipliers)
            assert wallet.balance(name) == OPENING - STAKE * len(multipliers) + won
    finally:
        stop_group(second.proc)


def test_sigterm_finishes_the_request_in_flight_and_refuses_new_connections(tmp_path):
    server = start_server(tmp_path / "drain.log")
    port = int(server.base_url.rsplit(":", 1)[1])
    try:
        fault = {"agent": "demo", "target": "api:/v4/agent/info", "effect": {"latency_ms": 1500}}
        assert control_json(server, "POST", "faults", fault)["id"] > 0
        answers: list[tuple[int, int]] = []

        def call() -> None:
            answer = server.v4("agent/info")
            answers.append((answer.status_code, answer.json()["code"]))

        slow = threading.Thread(target=call)
        started = time.monotonic()
        slow.start()
        time.sleep(0.4)  # the request is now waiting on its 1.5 s latency fault
        os.killpg(server.proc.pid, signal.SIGTERM)
        time.sleep(0.3)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        slow.join(10)
        assert answers == [(200, 0)]
        assert time.monotonic() - started >= 1.5
        server.proc.wait(10)
        assert "Worker exiting" in server.log()
    finally:
        stop_group(server.proc)
