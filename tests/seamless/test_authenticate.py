"""``user/create`` in seamless mode: the synchronous ``authenticate`` callback (spec 5.4, 6, 13.1)."""

from __future__ import annotations

import socket

from tests.conftest import CALLBACK_TOKEN

from .conftest import json_reply


def test_user_create_sends_authenticate_with_the_exact_header_spelling(v4_seamless, seamless_agent, wallet):
    answer = v4_seamless("user/create", {"name": "player_one"})
    assert answer.code == 0
    (call,) = wallet.calls
    assert call.header("Callback-Token") == CALLBACK_TOKEN
    assert call.header("Content-Type") == "application/json"
    assert call.header("Accept") == "application/json"


def test_authenticate_body_carries_command_check_and_both_timestamps(v4_seamless, seamless_agent, wallet):
    v4_seamless("user/create", {"name": "player_one"})
    body = wallet.calls[0].body
    assert body["command"] == "authenticate"
    assert body["check"] == "21"
    assert body["data"] == {"account": "player_one"}
    assert isinstance(body["timestamp"], str) and body["timestamp"].isdigit()
    assert body["request_timestamp"] == body["timestamp"]


def test_user_create_remembers_the_reported_balance_for_user_info(v4_seamless, seamless_agent, wallet):
    wallet.reply = lambda body: json_reply({"result": 0, "status": "OK", "data": {"balance": 2650.5}})
    created = v4_seamless("user/create", {"name": "player_one"})
    info = v4_seamless("user/info", {"user_code": created.data["user_code"]})
    assert info.data == {"name": "player_one", "balance": 2650.5}


def test_numeric_strings_in_the_reply_are_accepted(v4_seamless, seamless_agent, wallet):
    wallet.reply = lambda body: json_reply({"result": "0", "status": "OK", "data": {"balance": "12000"}})
    created = v4_seamless("user/create", {"name": "player_one"})
    assert created.code == 0
    assert v4_seamless("user/info", {"user_code": created.data["user_code"]}).data["balance"] == 12000


def test_failed_check_reply_gives_1015_and_creates_nothing(v4_seamless, seamless_agent, wallet, sim):
    users_before = sim.world.store.user_count()
    wallet.reply = lambda body: json_reply({"result": 21, "status": "ERROR"})
    answer = v4_seamless("user/create", {"name": "unknown_player"})
    assert answer.body == {"code": 1015, "message": "CALLBACK_ERROR"}
    assert sim.world.store.user_count() == users_before


def test_non_200_reply_gives_1015(v4_seamless, seamless_agent, wallet):
    wallet.reply = lambda body: (500, b"<html>Internal Server Error</html>")
    assert v4_seamless("user/create", {"name": "player_one"}).code == 1015


def test_success_without_balance_is_unusable_and_gives_1015(v4_seamless, seamless_agent, wallet):
    wallet.reply = lambda body: json_reply({"result": 0, "status": "OK"})
    assert v4_seamless("user/create", {"name": "player_one"}).code == 1015


def test_empty_array_reply_gives_1015(v4_seamless, seamless_agent, wallet):
    wallet.reply = lambda body: json_reply([])
    assert v4_seamless("user/create", {"name": "player_one"}).code == 1015


def test_unreachable_wallet_gives_1015(v4_seamless, sim):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    agent = sim.world.hierarchy.get("demo_seamless")
    sim.world.hierarchy.apply_settings(agent, {"callback_url": f"http://127.0.0.1:{port}/callback"})
    assert v4_seamless("user/create", {"name": "player_one"}).code == 1015


def test_existing_user_is_authenticated_with_the_stored_spelling(v4_seamless, seamless_agent, wallet):
    first = v4_seamless("user/create", {"name": "Mixed_Case"})
    again = v4_seamless("user/create", {"name": "mixed_case"})
    assert again.data == {"user_code": first.data["user_code"], "is_new_user": False}
    assert [c.body["data"]["account"] for c in wallet.calls] == ["Mixed_Case", "Mixed_Case"]


def test_fixture_player_test1234_exists_in_seamless_mode(v4_seamless, seamless_agent, wallet, sim):
    answer = v4_seamless("user/create", {"name": "test1234"})
    assert answer.data["is_new_user"] is False
