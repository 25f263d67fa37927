"""The Node.js (Express) and PHP integrations of ``examples/`` against a live simulator (issue 16, item 12):
the transfer-mode flow end to end, and each seamless wallet passing the conformance runner in both
dialects and serving real seamless rounds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from tests.conftest import CALLBACK_TOKEN
from tests.examples.conftest import (
    NODE_EXAMPLE,
    PHP_EXAMPLE,
    SEAMLESS_PLAYER,
    Simulator,
    conformance,
    free_port,
    run_flow,
    served,
)

STACKS = ["node", "php"]


def flow_command(stack: str, request: pytest.FixtureRequest) -> list[str]:
    if stack == "node":
        return [request.getfixturevalue("node"), str(NODE_EXAMPLE / "src" / "flow.js")]
    return [request.getfixturevalue("php"), str(PHP_EXAMPLE / "flow.php")]


@contextmanager
def wallet(stack: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The stack's seamless wallet on a free port, with test1234 at 100,000; its callback URL."""
    port = free_port()
    log = tmp_path / f"{stack}-wallet.log"
    if stack == "node":
        command = [
            request.getfixturevalue("node"),
            str(NODE_EXAMPLE / "src" / "wallet.js"),
            "--port",
            str(port),
        ]
        with served(command, port, log) as url:
            yield url
    else:
        command = [request.getfixturevalue("php"), "-S", f"127.0.0.1:{port}", str(PHP_EXAMPLE / "wallet.php")]
        env = {"WALLET_STATE": str(tmp_path / "wallet.json"), "WALLET_TOKEN": CALLBACK_TOKEN}
        with served(command, port, log, env) as url:
            yield url


def accounts(url: str) -> dict:
    return requests.get(url.replace("/callback", "/accounts"), timeout=10).json()


@pytest.mark.parametrize("stack", STACKS)
def test_the_transfer_flow_creates_deposits_launches_reads_the_history_and_withdraws_all(
    stack: str, simulator: Simulator, request: pytest.FixtureRequest
) -> None:
    done = run_flow(
        flow_command(stack, request),
        simulator,
        "--name",
        f"{stack}_flow_01",
        "--deposit",
        "5000",
        "--play",
        "3",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    user_code = result["user_code"]
    assert simulator.v4("user/info", {"user_code": user_code})["name"] == f"{stack}_flow_01"
    assert result["deposit_balance"] == 5000
    assert result["game_url"].startswith(f"{simulator.base_url}/play/")
    wins = sum(Decimal(str(r["win"])) for r in result["rounds"])
    assert [r["bet"] for r in result["rounds"]] == [100, 100, 100]
    assert [row["trans_type"] for row in result["history"]] == [4, 1, 2, 1, 2, 1, 2]
    assert {row["round_id"] for row in result["history"][1:]} == {r["round_id"] for r in result["rounds"]}
    assert (
        Decimal(str(result["withdrawn"]))
        == Decimal(str(result["balance_before_withdrawal"]))
        == 5000 - 300 + wins
    )
    assert result["balance_after"] == 0


@pytest.mark.parametrize("stack", STACKS)
def test_a_refused_call_ends_the_flow_with_the_code(
    stack: str, simulator: Simulator, request: pytest.FixtureRequest
) -> None:
    done = run_flow(flow_command(stack, request), simulator, "--name", f"{stack}_flow_02", "--deposit", "0")
    assert done.returncode == 1
    assert "/v4/wallet/deposit failed with code 1002" in done.stderr


@pytest.mark.parametrize("dialect", ["v4", "legacy"])
@pytest.mark.parametrize("stack", STACKS)
def test_the_wallet_passes_the_conformance_runner(
    stack: str, dialect: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with wallet(stack, request, tmp_path) as url:
        done = conformance(url, dialect)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "15 scenarios: 15 PASS, 0 WARN, 0 FAIL" in done.stdout
        assert accounts(url)["accounts"]["test1234"] == {"balance": 100000, "blocked": False}


@pytest.mark.parametrize("dialect", ["v4", "legacy"])
@pytest.mark.parametrize("stack", STACKS)
def test_the_wallet_serves_seamless_rounds_of_the_simulator(
    stack: str, dialect: str, simulator: Simulator, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with wallet(stack, request, tmp_path) as url:
        simulator.admin(
            "PATCH", "/admin/api/agents/demo_seamless", {"callback_url": url, "callback_dialect": dialect}
        )
        body = {
            "agent": "demo_seamless",
            "user_code": SEAMLESS_PLAYER,
            "provider_id": 1,
            "game_code": "vs20fruitsw",
        }
        rounds = simulator.admin("POST", "/control/play", {**body, "bet": 250, "rounds": 5})
        assert [r["status"] for r in rounds] == ["settled"] * 5
        wins = sum(Decimal(str(r["win"])) for r in rounds)
        held = accounts(url)
        assert Decimal(str(held["accounts"]["test1234"]["balance"])) == 100000 - 5 * 250 + wins
        assert sorted(tx["command"] for tx in held["transactions"]) == ["bet"] * 5 + ["win"] * 5
        assert Decimal(str(rounds[-1]["balance"])) == 100000 - 5 * 250 + wins


def callback(url: str, body: object, token: str = CALLBACK_TOKEN) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(url, data=data, headers={"Callback-Token": token}, timeout=10)


@pytest.mark.parametrize("stack", STACKS)
def test_an_unreadable_callback_is_answered_99_with_http_200(
    stack: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with wallet(stack, request, tmp_path) as url:
        for body in (b"{not json", [], {"command": "jackpot", "data": {}}):
            answer = callback(url, body)
            assert (answer.status_code, answer.json()["result"]) == (200, 99)


@pytest.mark.parametrize("stack", STACKS)
def test_decimal_amounts_are_kept_exactly(stack: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """0.1 + 0.2 is 0.3 here: amounts are counted in ten-thousandths, never added as floats."""
    with wallet(stack, request, tmp_path) as url:
        requests.post(
            url.replace("/callback", "/accounts"), json={"account": "cents", "balance": 0}, timeout=10
        )
        data = {
            "account": "cents",
            "round_id": "1",
            "provider_id": 1,
            "game_code": "g",
            "type": 2,
            "call_id": 0,
        }
        for number, amount in enumerate((0.1, "0.2", 1.0005)):
            win = {
                "command": "win",
                "check": "21,22,41",
                "data": {**data, "trans_guid": f"w{number}", "amount": amount},
            }
            assert callback(url, win).json()["result"] == 0
        answer = callback(url, {"command": "balance", "check": "21,22", "data": {"account": "cents"}})
        assert answer.text.replace(" ", "") == '{"result":0,"status":"OK","data":{"balance":1.3005}}'
