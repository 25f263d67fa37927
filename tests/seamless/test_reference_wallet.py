"""The reference wallet of ``examples/wallet`` (spec 6.6-6.10, both dialects of 6.3)."""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

from examples.wallet import wallet as wallet_module
from examples.wallet.wallet import create_app
from tests.conftest import CALLBACK_TOKEN

REPO_ROOT = Path(__file__).resolve().parents[2]

# The spec's own example bodies (6.4), laid out as the spec prints them.
# fmt: off
V4_BET = {
    "command": "bet", "timestamp": "1771772046", "check": "21,22,41,31",
    "data": {"gplay_id": "8949111", "account": "test1234",
             "trans_guid": "403001468-1-vs10emotiwins-336097135023-1771772046312",
             "time_stamp": 1771772046312, "round_id": "336097135023", "provider_id": 1,
             "game_code": "vs10emotiwins", "game_type": "slot", "amount": 0.9, "type": 1, "call_id": 0},
}
V4_CANCEL = {
    "command": "cancel", "timestamp": "1771772049", "check": "21,22,41,43",
    "data": {"gplay_id": "8949111", "account": "test1234",
             "trans_guid": "403001468-1-vs10emotiwins-336097135023-1771772049001",
             "cancel_trans_guid": "403001468-1-vs10emotiwins-336097135023-1771772046312",
             "time_stamp": 1771772049001, "round_id": "336097135023", "provider_id": 1,
             "game_code": "vs10emotiwins", "game_type": "slot", "amount": 0.9, "type": 16},
}
LEGACY_BET = {
    "command": "bet", "timestamp": "1600000001", "check": "21,22,41,31",
    "data": {"account": "test1234", "trans_id": 1676358190, "call_id": 0, "round_id": "818395446",
             "provider_id": 1, "game_code": "vswaysdogs", "game_name": "The Dog House Megaways",
             "game_type": "Slots", "amount": 1000, "type": 1},
}
# fmt: on
BET_GUID = V4_BET["data"]["trans_guid"]
CANCEL_GUID = V4_CANCEL["data"]["trans_guid"]
WIN_GUID = "403001468-1-vs10emotiwins-336097135023-1771772047500"


def body(template: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of ``template`` with ``changes`` applied to its ``data`` (``command``/``check`` at the top)."""
    result = copy.deepcopy(template)
    for key in ("command", "check"):
        if key in changes:
            result[key] = changes.pop(key)
    result["data"].update(changes)
    return result


def v4_win(**changes: Any) -> dict[str, Any]:
    changes = {"trans_guid": WIN_GUID, "amount": 5, "type": 2, **changes}
    return body(V4_BET, command="win", check="21,22,41", **changes)


def legacy_win(**changes: Any) -> dict[str, Any]:
    changes = {"trans_id": 1676358191, "amount": 2500, "type": 2, **changes}
    return body(LEGACY_BET, command="win", check="21,22,41", **changes)


def legacy_cancel(trans_id: int) -> dict[str, Any]:
    return body(LEGACY_BET, command="cancel", check="21,22,42", trans_id=trans_id, type=16)


def v4_cancel_of(target: str, own: str = CANCEL_GUID) -> dict[str, Any]:
    return body(V4_CANCEL, trans_guid=own, cancel_trans_guid=target)


def v4_status(trans_guid: str) -> dict[str, Any]:
    return {
        "command": "status",
        "timestamp": "1771772050",
        "check": "21,42",
        "data": {"account": "test1234", "trans_guid": trans_guid},
    }


def legacy_status(trans_id: int) -> dict[str, Any]:
    return {
        "command": "status",
        "timestamp": "1600000009",
        "check": "21,42",
        "data": {"account": "test1234", "trans_id": trans_id},
    }


def ok(**data: Any) -> dict[str, Any]:
    return {"result": 0, "status": "OK", "data": data}


def refused(code: int, balance: Any = None) -> dict[str, Any]:
    """A failed check's reply; 31, 41, 42 and 43 carry the current balance (6.6)."""
    reply: dict[str, Any] = {"result": code, "status": "ERROR"}
    if balance is not None:
        reply["data"] = {"balance": balance}
    return reply


def simple(command: str, check: str, account: str = "test1234") -> dict[str, Any]:
    return {
        "command": command,
        "timestamp": "1771772046",
        "request_timestamp": "1771772046",
        "check": check,
        "data": {"account": account},
    }


class RefWallet:
    """The example app behind Flask's test client."""

    def __init__(self, **options: Any) -> None:
        self.client = create_app(**options).test_client()

    def call(self, payload: Any, token: str | None = CALLBACK_TOKEN, raw: bytes | None = None) -> Any:
        headers = {"Callback-Token": token} if token is not None else {}
        data = raw if raw is not None else json.dumps(payload)
        response = self.client.post("/callback", data=data, headers=headers, content_type="application/json")
        assert response.status_code == 200
        return json.loads(response.data)

    def balance(self, account: str = "test1234") -> Any:
        return self.client.get("/accounts").get_json()["accounts"][account]["balance"]


# --- transport and token ------------------------------------------------------------------------


def test_authenticate_answers_account_and_balance():
    assert RefWallet().call(simple("authenticate", "21")) == ok(account="test1234", balance=100000)


def test_balance_answers_the_balance():
    assert RefWallet().call(simple("balance", "21,22")) == ok(balance=100000)


def test_wrong_token_answers_100():
    assert RefWallet().call(simple("balance", "21,22"), token="wrong") == refused(100)


def test_missing_token_answers_100():
    assert RefWallet().call(simple("balance", "21,22"), token=None) == refused(100)


def test_wrong_token_moves_no_money():
    wallet = RefWallet()
    wallet.call(V4_BET, token="wrong")
    assert wallet.balance() == 100000


def test_invalid_json_answers_99_with_http_200():
    reply = RefWallet().call(None, raw=b"{not json")
    assert reply == {"result": 99, "status": "ERROR", "message": "body is not valid JSON"}


def test_unknown_command_answers_99():
    reply = RefWallet().call(simple("jackpot", "21"))
    assert reply == {"result": 99, "status": "ERROR", "message": "unknown command 'jackpot'"}


def test_body_that_is_not_an_object_answers_99():
    message = "body must be a JSON object with a 'data' object"
    assert RefWallet().call([]) == {"result": 99, "status": "ERROR", "message": message}


def test_whole_balance_is_sent_as_a_json_integer():
    response = RefWallet().client.post(
        "/callback", json=simple("balance", "21,22"), headers={"Callback-Token": CALLBACK_TOKEN}
    )
    assert b'"balance": 100000}' in response.data


# --- checks (6.6) -------------------------------------------------------------------------------


def test_unknown_account_fails_check_21():
    assert RefWallet().call(simple("authenticate", "21", "nobody")) == refused(21)


def test_blocked_account_fails_check_22():
    reply = RefWallet(blocked=["test1234"]).call(simple("balance", "21,22"))
    assert reply == refused(22)


def test_blocked_account_still_authenticates_because_the_check_is_only_21():
    assert RefWallet(blocked=["test1234"]).call(simple("authenticate", "21"))["result"] == 0


def test_bet_above_the_balance_fails_check_31_with_the_balance():
    wallet = RefWallet(accounts={"test1234": 100})
    reply = wallet.call(body(LEGACY_BET, amount=101))
    assert reply == refused(31, 100)


def test_bet_above_the_balance_changes_nothing():
    wallet = RefWallet(accounts={"test1234": 100})
    wallet.call(body(LEGACY_BET, amount=101))
    assert wallet.client.get("/accounts").get_json()["transactions"] == []


def test_checks_run_in_the_given_order():
    wallet = RefWallet(accounts={"test1234": 100}, blocked=["test1234"])
    assert wallet.call(body(LEGACY_BET, check="21,22,41,31", amount=101))["result"] == 22
    assert wallet.call(body(LEGACY_BET, check="31,22", amount=101))["result"] == 31


def test_missing_check_runs_the_commands_default_checks():
    wallet = RefWallet(accounts={"test1234": 100})
    payload = body(LEGACY_BET, amount=101)
    del payload["check"]
    assert wallet.call(payload)["result"] == 31


def test_short_check_string_still_detects_a_duplicate_bet():
    wallet = RefWallet()
    wallet.call(body(V4_BET, check="21"))
    assert wallet.call(body(V4_BET, check="21")) == refused(41, 99999.1)


def test_unknown_check_codes_are_skipped():
    assert RefWallet().call(simple("balance", "21,77,22"))["result"] == 0


# --- v4 bet and win -----------------------------------------------------------------------------


def test_v4_bet_debits_the_stake():
    assert RefWallet().call(V4_BET) == ok(balance=99999.1)


def test_v4_duplicate_bet_fails_41_with_the_unchanged_balance():
    wallet = RefWallet()
    wallet.call(V4_BET)
    assert wallet.call(V4_BET) == refused(41, 99999.1)


def test_v4_win_credits_the_amount():
    wallet = RefWallet()
    wallet.call(V4_BET)
    assert wallet.call(v4_win()) == ok(balance=100004.1)


def test_v4_duplicate_win_fails_41_with_the_unchanged_balance():
    wallet = RefWallet()
    wallet.call(v4_win())
    assert wallet.call(v4_win()) == refused(41, 100005)


def test_win_of_zero_is_stored_so_its_duplicate_fails_41():
    wallet = RefWallet()
    assert wallet.call(v4_win(amount=0)) == ok(balance=100000)
    assert wallet.call(v4_win(amount=0)) == refused(41, 100000)


def test_bonus_call_win_type_32_is_credited():
    reply = RefWallet().call(v4_win(type=32, call_id=7, amount=3000))
    assert reply == ok(balance=103000)


def test_bet_of_zero_is_accepted_and_stored():
    wallet = RefWallet()
    assert wallet.call(body(V4_BET, amount=0)) == ok(balance=100000)
    assert wallet.call(v4_status(BET_GUID))["data"]["trans_status"] == "OK"


def test_amount_as_a_numeric_string_is_accepted():
    assert RefWallet().call(body(V4_BET, amount="250.5"))["data"] == {"balance": 99749.5}


def test_decimal_amounts_stay_exact():
    wallet = RefWallet(accounts={"test1234": "0.3"})
    wallet.call(body(V4_BET, amount=0.1))
    reply = wallet.call(body(V4_BET, trans_guid="second-bet", amount=0.2))
    assert reply == ok(balance=0)


def test_negative_amount_answers_99():
    reply = RefWallet().call(body(V4_BET, amount=-1))
    assert reply == {"result": 99, "status": "ERROR", "message": "amount must be a number >= 0"}


def test_bet_without_a_transaction_id_answers_99():
    payload = copy.deepcopy(V4_BET)
    del payload["data"]["trans_guid"]
    reply = RefWallet(dialect="v4").call(payload)
    assert reply == {"result": 99, "status": "ERROR", "message": "trans_guid must be a non-empty string"}


# --- v4 cancel and status -----------------------------------------------------------------------


def test_v4_cancel_of_a_bet_refunds_the_stake():
    wallet = RefWallet()
    wallet.call(V4_BET)
    assert wallet.call(V4_CANCEL) == ok(balance=100000)


def test_v4_cancel_of_a_win_claws_it_back_into_a_negative_balance():
    wallet = RefWallet(accounts={"test1234": 0})
    wallet.call(v4_win(amount=50))
    wallet.call(body(V4_BET, amount=50))
    assert wallet.call(v4_cancel_of(WIN_GUID)) == ok(balance=-50)


def test_v4_cancel_of_an_unknown_transaction_fails_43():
    assert RefWallet().call(V4_CANCEL) == refused(43, 100000)


def test_v4_repeated_cancel_fails_41_without_a_second_refund():
    wallet = RefWallet()
    wallet.call(V4_BET)
    wallet.call(V4_CANCEL)
    assert wallet.call(V4_CANCEL) == refused(41, 100000)


def test_v4_new_cancel_of_an_already_cancelled_bet_succeeds_without_change():
    wallet = RefWallet()
    wallet.call(V4_BET)
    wallet.call(V4_CANCEL)
    reply = wallet.call(v4_cancel_of(BET_GUID, own="another-cancel"))
    assert reply == ok(balance=100000)


def test_v4_cancel_reverses_the_stored_amount_not_the_cancels_amount_field():
    wallet = RefWallet()
    wallet.call(V4_BET)
    assert wallet.call(body(V4_CANCEL, amount=500))["data"] == {"balance": 100000}


def test_v4_cancel_of_another_accounts_transaction_fails_43():
    wallet = RefWallet(accounts={"test1234": 100000, "other": 10})
    wallet.call(V4_BET)
    assert wallet.call(body(V4_CANCEL, account="other")) == refused(43, 10)


def test_v4_status_of_a_bet_is_ok():
    wallet = RefWallet()
    wallet.call(V4_BET)
    assert wallet.call(v4_status(BET_GUID)) == ok(account="test1234", trans_guid=BET_GUID, trans_status="OK")


def test_v4_status_of_a_cancelled_bet_is_canceled():
    wallet = RefWallet()
    wallet.call(V4_BET)
    wallet.call(V4_CANCEL)
    assert wallet.call(v4_status(BET_GUID))["data"]["trans_status"] == "CANCELED"


def test_v4_status_of_an_unknown_transaction_fails_42():
    reply = RefWallet().call(v4_status(BET_GUID))
    assert reply == refused(42, 100000)


# --- legacy dialect -----------------------------------------------------------------------------


def test_legacy_bet_debits_the_stake():
    assert RefWallet(dialect="legacy").call(LEGACY_BET) == ok(balance=99000)


def test_legacy_duplicate_bet_fails_41_with_the_unchanged_balance():
    wallet = RefWallet(dialect="legacy")
    wallet.call(LEGACY_BET)
    assert wallet.call(LEGACY_BET) == refused(41, 99000)


def test_legacy_win_credits_the_amount():
    wallet = RefWallet(dialect="legacy")
    wallet.call(LEGACY_BET)
    assert wallet.call(legacy_win()) == ok(balance=101500)


def test_legacy_duplicate_win_fails_41_with_the_unchanged_balance():
    wallet = RefWallet(dialect="legacy")
    wallet.call(legacy_win())
    assert wallet.call(legacy_win()) == refused(41, 102500)


def test_legacy_cancel_by_the_original_trans_id_refunds_the_bet():
    wallet = RefWallet(dialect="legacy")
    wallet.call(LEGACY_BET)
    assert wallet.call(legacy_cancel(1676358190)) == ok(balance=100000)


def test_legacy_cancel_of_a_win_claws_it_back_into_a_negative_balance():
    wallet = RefWallet(dialect="legacy", accounts={"test1234": 0})
    wallet.call(legacy_win())
    wallet.call(body(LEGACY_BET, amount=2500))
    assert wallet.call(legacy_cancel(1676358191)) == ok(balance=-2500)


def test_legacy_cancel_of_an_unknown_trans_id_fails_42():
    reply = RefWallet(dialect="legacy").call(legacy_cancel(1676358190))
    assert reply == refused(42, 100000)


def test_legacy_repeated_cancel_succeeds_again_without_a_second_refund():
    wallet = RefWallet(dialect="legacy")
    wallet.call(LEGACY_BET)
    wallet.call(legacy_cancel(1676358190))
    assert wallet.call(legacy_cancel(1676358190)) == ok(balance=100000)


def test_legacy_status_of_a_bet_is_ok():
    wallet = RefWallet(dialect="legacy")
    wallet.call(LEGACY_BET)
    assert wallet.call(legacy_status(1676358190)) == ok(trans_id=1676358190, trans_status="OK")


def test_legacy_status_of_a_cancelled_bet_is_canceled():
    wallet = RefWallet(dialect="legacy")
    wallet.call(LEGACY_BET)
    wallet.call(legacy_cancel(1676358190))
    assert wallet.call(legacy_status(1676358190)) == ok(trans_id=1676358190, trans_status="CANCELED")


def test_legacy_status_of_an_unknown_trans_id_fails_42():
    reply = RefWallet(dialect="legacy").call(legacy_status(1676358190))
    assert reply == refused(42, 100000)


# --- dialect selection --------------------------------------------------------------------------


def test_auto_dialect_reads_v4_and_legacy_bodies_side_by_side():
    wallet = RefWallet()
    assert wallet.call(V4_BET)["data"] == {"balance": 99999.1}
    assert wallet.call(LEGACY_BET)["data"] == {"balance": 98999.1}
    assert wallet.call(legacy_cancel(1676358190))["data"] == {"balance": 99999.1}
    assert wallet.call(V4_CANCEL)["data"] == {"balance": 100000}


def test_v4_wallet_refuses_a_legacy_bet_with_99():
    reply = RefWallet(dialect="v4").call(LEGACY_BET)
    assert reply == {"result": 99, "status": "ERROR", "message": "trans_guid must be a non-empty string"}


def test_legacy_wallet_refuses_a_v4_bet_with_99():
    reply = RefWallet(dialect="legacy").call(V4_BET)
    assert reply == {"result": 99, "status": "ERROR", "message": "trans_id must be an integer"}


# --- concurrency --------------------------------------------------------------------------------


def test_two_concurrent_identical_bets_are_applied_exactly_once(monkeypatch):
    # Widen the gap between "checks passed" and "money moved" so that, without the
    # wallet's lock, both bets would pass check 41 and both would be debited.
    checked_slowly = wallet_module.failed_check

    def slow_failed_check(ledger: Any, cb: Any) -> int:
        code = checked_slowly(ledger, cb)
        time.sleep(0.05)
        return code

    monkeypatch.setattr(wallet_module, "failed_check", slow_failed_check)
    app = create_app()
    barrier = threading.Barrier(2)
    results: list[int] = []

    def bet() -> None:
        client = app.test_client()
        barrier.wait()
        reply = client.post("/callback", json=LEGACY_BET, headers={"Callback-Token": CALLBACK_TOKEN})
        results.append(reply.get_json()["result"])

    threads = [threading.Thread(target=bet) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 41]
    assert app.test_client().get("/accounts").get_json()["accounts"]["test1234"]["balance"] == 99000


# --- the /accounts helper -----------------------------------------------------------------------


def test_post_accounts_creates_an_account():
    wallet = RefWallet()
    wallet.client.post("/accounts", json={"account": "alice", "balance": 250})
    assert wallet.call(simple("authenticate", "21", "alice"))["data"] == {"account": "alice", "balance": 250}


def test_post_accounts_blocks_an_account():
    wallet = RefWallet()
    wallet.client.post("/accounts", json={"account": "test1234", "blocked": True})
    assert wallet.call(V4_BET) == refused(22)


def test_get_accounts_lists_the_stored_transactions():
    wallet = RefWallet()
    wallet.call(V4_BET)
    wallet.call(V4_CANCEL)
    assert wallet.client.get("/accounts").get_json()["transactions"] == [
        {
            "id": BET_GUID,
            "command": "bet",
            "account": "test1234",
            "amount": 0.9,
            "status": "CANCELED",
            "cancels": None,
        },
        {
            "id": CANCEL_GUID,
            "command": "cancel",
            "account": "test1234",
            "amount": 0.9,
            "status": "OK",
            "cancels": BET_GUID,
        },
    ]


# --- the one command ----------------------------------------------------------------------------


def test_help_runs_from_the_repository_root():
    done = subprocess.run(
        [sys.executable, "-m", "examples.wallet", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0
    assert "--dialect {auto,v4,legacy}" in done.stdout


def test_the_one_command_serves_callbacks_with_the_given_accounts():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "examples.wallet", "--port", str(port), "--account", "alice=50"],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/callback"
        deadline = time.monotonic() + 15
        while True:
            try:
                reply = requests.post(
                    url,
                    json=simple("authenticate", "21", "alice"),
                    headers={"Callback-Token": CALLBACK_TOKEN},
                    timeout=2,
                )
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the wallet did not start"
                time.sleep(0.05)
        assert reply.json() == {"result": 0, "status": "OK", "data": {"account": "alice", "balance": 50}}
    finally:
        server.terminate()
        server.wait(timeout=10)
