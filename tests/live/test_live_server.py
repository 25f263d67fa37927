"""The real server (``make run``: gunicorn + gunicorn.conf.py) over real sockets.

The in-process suites use Flask's test client; these check what only a running
server shows: the start-up banner, HTTP statuses through gunicorn, and the
50-in-flight limit with genuinely concurrent connections.
"""

from __future__ import annotations

import http.client
import json
import threading
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest

from .conftest import DEMO_TOKEN, LiveServer

pytestmark = pytest.mark.live

SEAMLESS_TOKEN = "3c1d5e02-5a8f-4d0b-9a64-7f2e1b6c9d40"
DEMO_USER = 400000001
NUMBER = (int, float)
GAME_KEYS = {
    "provider_id",
    "game_code",
    "game_name",
    "locale_name",
    "game_image",
    "game_image_narrow",
    "launch_enable",
    "category",
    "reg_date",
}


def ok(answer) -> Any:
    """Assert HTTP 200, a JSON envelope with code 0 and message OK; return ``data``."""
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    assert body["code"] == 0, body
    assert body["message"] == "OK", body
    return body.get("data")


def check_game(item: dict[str, Any]) -> None:
    assert set(item) >= GAME_KEYS, item
    assert isinstance(item["provider_id"], int)
    assert isinstance(item["game_code"], str) and item["game_code"]
    assert isinstance(item["launch_enable"], bool)
    assert item["game_image"].startswith("http")
    assert len(item["reg_date"]) == len("2022-05-20 09:23:46") and item["reg_date"][10] == " "


def test_every_listed_endpoint_answers_over_http(live: LiveServer) -> None:
    info = ok(live.v4("agent/info", {}))
    assert info["name"] == "demo"
    assert isinstance(info["currency"], int)
    assert isinstance(info["balance"], NUMBER)
    assert info["rtp"] == info["win_ratio"]
    assert isinstance(info["whitelist"], list)
    assert info["client_ip"] == "127.0.0.1"
    points = Decimal(str(info["balance"]))

    answer = live.v4("agent/rtp", {"rtp": 90})
    assert ok(answer) is None and set(answer.json()) == {"code", "message"}
    assert ok(live.v4("agent/info"))["rtp"] == 90  # empty body accepted too (spec 2.1)

    created = ok(live.v4("user/create", {"name": "live_player"}))
    assert isinstance(created["user_code"], int) and created["is_new_user"] is True
    again = ok(live.v4("user/create", {"name": "LIVE_player"}))
    assert again == {"user_code": created["user_code"], "is_new_user": False}

    user = ok(live.v4("user/info", {"user_code": DEMO_USER}))
    assert user["name"] == "test1234" and isinstance(user["balance"], NUMBER)
    balance = Decimal(str(user["balance"]))

    deposit = ok(live.v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 250}))
    assert Decimal(str(deposit["amount"])) == 250
    assert Decimal(str(deposit["balance"])) == balance + 250
    withdraw = ok(live.v4("wallet/withdraw", {"user_code": DEMO_USER, "amount": 100}))
    assert Decimal(str(withdraw["amount"])) == 100
    assert Decimal(str(withdraw["balance"])) == balance + 150
    assert Decimal(str(ok(live.v4("agent/info"))["balance"])) == points - 150

    emptied = ok(live.v4("wallet/withdraw-all", {"user_code": DEMO_USER}))
    assert Decimal(str(emptied["balance"])) == 0
    assert Decimal(str(emptied["amount"])) == balance + 150
    assert Decimal(str(ok(live.v4("agent/info"))["balance"])) == points + balance
    assert Decimal(str(ok(live.v4("user/info", {"user_code": DEMO_USER}))["balance"])) == 0

    providers = ok(live.v4("game/providers", {"lang": 1}))
    assert isinstance(providers, list) and providers
    for provider in providers:
        assert set(provider) >= {"provider_id", "provider_name", "locale_name", "status"}
        assert isinstance(provider["provider_id"], int) and provider["status"] in (1, 2)

    provider_id = providers[0]["provider_id"]
    games = ok(live.v4("game/games", {"provider_id": provider_id, "lang": 1}))
    assert isinstance(games, list) and games
    for game in games:
        check_game(game)
        assert game["provider_id"] == provider_id

    everything = ok(live.v4("game/all", {}))
    assert isinstance(everything, list)
    for game in everything:
        check_game(game)
    codes = {(g["provider_id"], g["game_code"]) for g in everything}
    assert {(g["provider_id"], g["game_code"]) for g in games} <= codes
    assert {g["provider_id"] for g in everything} <= {p["provider_id"] for p in providers}


def test_routing_errors_are_enveloped(live: LiveServer) -> None:
    wrong_method = live.v4("agent/info", method="GET")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Content-Type"].startswith("application/json")
    assert wrong_method.json() == {"code": 1003, "message": "SERVICE_EXCEPTION"}

    unknown = live.v4("agent/no-such-endpoint", {})
    assert unknown.status_code == 404
    assert unknown.headers["Content-Type"].startswith("application/json")
    assert unknown.json() == {"code": 1003, "message": "SERVICE_EXCEPTION"}


def test_banner_lists_the_fixture_agents_and_tokens(live: LiveServer) -> None:
    log = live.log()
    lines = {line.split()[0]: line for line in log.splitlines() if "API token" in line}
    assert DEMO_TOKEN in lines.get("demo", ""), log[-2000:]
    assert SEAMLESS_TOKEN in lines.get("demo_seamless", ""), log[-2000:]
    assert live.base_url in log


def _concurrent_agent_info(live: LiveServer, count: int) -> list[int | str]:
    """``count`` agent/info calls, one connection each, released together; their codes."""
    parts = urlsplit(live.base_url)
    body = json.dumps({})
    headers = {
        "Authorization": f"Bearer {DEMO_TOKEN}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    barrier = threading.Barrier(count)
    results: list[int | str] = ["not run"] * count

    def call(index: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
        try:
            connection.connect()
            barrier.wait(timeout=15)
            connection.request("POST", "/v4/agent/info", body, headers)
            response = connection.getresponse()
            payload = response.read()
            results[index] = json.loads(payload)["code"] if response.status == 200 else response.status
        except Exception as exc:  # reported in the assertion, not lost in a thread
            results[index] = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "calls still running after 30 s"
    return results


def test_inflight_limit_with_latency_fault(live: LiveServer) -> None:
    fault = live.control("POST", "faults", {"agent": "demo", "target": "api", "effect": {"latency_ms": 500}})
    assert fault.status_code == 201, fault.text
    fault_id = fault.json()["id"]

    codes = _concurrent_agent_info(live, 60)
    summary = {code: codes.count(code) for code in set(codes)}
    assert summary == {0: 50, 1018: 10}, summary

    rules = {rule["id"]: rule for rule in live.control("GET", "faults").json()}
    assert rules[fault_id]["fired"] == 50  # the refused ten never reached the fault

    # Every slot came back: one more call, then a full batch of 50, all succeed.
    assert ok(live.v4("agent/info"))["name"] == "demo"
    codes = _concurrent_agent_info(live, 50)
    assert codes == [0] * 50, {code: codes.count(code) for code in set(codes)}
