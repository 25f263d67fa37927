"""A restart with ``SCORPIO_SIM_STATE_FILE``: SIGTERM saves the state, the next start restores it.

The server is started exactly as ``make run`` starts it; the state file is
written by gunicorn's ``worker_exit`` hook after the graceful stop.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.live.conftest import LiveServer, start_server, stop_group

pytestmark = pytest.mark.live

SEAMLESS_USER = 400000026


class FlakyWallet:
    """Accepts everything but the first ``win``, which it answers with HTTP 500."""

    def __init__(self) -> None:
        self.wins: list[dict] = []
        self.balance = 100000
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/callback"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        wallet = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                command, data = body.get("command"), body.get("data", {})
                status = 200
                if command == "win":
                    wallet.wins.append(body)
                    if len(wallet.wins) == 1:
                        status = 500
                    else:
                        wallet.balance += data.get("amount", 0)
                elif command == "bet":
                    wallet.balance -= data.get("amount", 0)
                reply = json.dumps(
                    {
                        "result": 0,
                        "status": "OK",
                        "data": {"account": data.get("account"), "balance": wallet.balance},
                    }
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def wallet() -> Iterator[FlakyWallet]:
    wallet = FlakyWallet()
    yield wallet
    wallet.close()


def start_with_state(tmp_path: Path, state: Path, name: str) -> LiveServer:
    os.environ["SCORPIO_SIM_STATE_FILE"] = str(state)
    try:
        return start_server(tmp_path / f"{name}.log")
    finally:
        del os.environ["SCORPIO_SIM_STATE_FILE"]


def test_sigterm_saves_the_state_and_the_next_start_restores_it(tmp_path, wallet):
    state = tmp_path / "state.json"
    server = start_with_state(tmp_path, state, "first")
    try:
        created = server.v4("user/create", {"name": "restart01"}).json()["data"]
        server.v4("wallet/deposit", {"user_code": created["user_code"], "amount": 25000})
        played = server.control(
            "POST",
            "play",
            {
                "agent": "demo",
                "user_code": created["user_code"],
                "provider_id": 1,
                "game_code": "vs20fruitsw",
                "bet": 100,
                "rounds": 5,
            },
        ).json()
        patched = requests_patch(server, "demo_seamless", {"callback_url": wallet.url})
        assert patched.status_code == 200, patched.text
        seamless = server.control(
            "POST",
            "play",
            {
                "agent": "demo_seamless",
                "user_code": SEAMLESS_USER,
                "provider_id": 1,
                "game_code": "vs20fruitsw",
                "bet": 100,
                "rounds": 1,
            },
        ).json()
        assert seamless[0]["status"] == "win_pending"
        before = {
            "user": server.v4("user/info", {"user_code": created["user_code"]}).json()["data"],
            "agent": server.v4("agent/info").json()["data"],
            "history": server_get(server, "/admin/api/agents/demo/transactions?limit=1000"),
        }
    finally:
        stop_group(server.proc)  # SIGTERM: the worker drains, then saves
    assert state.is_file(), server.log()[-2000:]
    saved = json.loads(state.read_text())
    # The retry is due 2-4 s after the failed win, about when the stop's last save happens: a
    # win the wallet accepted before that save is recorded in it (nothing pending); one it got
    # during or after that save is still pending in the file and is sent again after the restart
    # (the same trans_guid: the wallet treats it as the duplicate it is).
    pending = [(job["command"], job["state"]) for job in saved["retries"]]
    assert pending in ([], [("win", "pending")]), server.log()[-3000:]
    if not pending:
        assert len(wallet.wins) == 2
    again = start_with_state(tmp_path, state, "second")
    try:
        assert again.v4("user/info", {"user_code": created["user_code"]}).json()["data"] == before["user"]
        assert again.v4("agent/info").json()["data"] == before["agent"]
        assert server_get(again, "/admin/api/agents/demo/transactions?limit=1000") == before["history"]
        assert played[-1]["balance"] == before["user"]["balance"]
        # A pending win is retried by the restarted simulator (2-4 s later) and settles the round.
        wins_before_restart = len(wallet.wins)
        deadline = time.monotonic() + 15
        while pending and len(wallet.wins) <= max(wins_before_restart, 1) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(wallet.wins) >= 2
        assert {win["data"]["trans_guid"] for win in wallet.wins} == {wallet.wins[0]["data"]["trans_guid"]}
        rows = server_get(again, "/admin/api/agents/demo_seamless/transactions?type=2")["list"]
        round_id = seamless[0]["round_id"]
        deadline = time.monotonic() + 5
        while not any(r["round_id"] == round_id for r in rows) and time.monotonic() < deadline:
            time.sleep(0.1)
            rows = server_get(again, "/admin/api/agents/demo_seamless/transactions?type=2")["list"]
        assert any(r["round_id"] == round_id for r in rows)
    finally:
        stop_group(again.proc)


def server_get(server: LiveServer, path: str) -> object:
    import requests

    answer = requests.get(f"{server.base_url}{path}", headers=server.control_headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def requests_patch(server: LiveServer, agent: str, body: dict):
    import requests

    return requests.patch(
        f"{server.base_url}/admin/api/agents/{agent}", json=body, headers=server.control_headers, timeout=10
    )
