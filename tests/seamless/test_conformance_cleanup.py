"""A conformance run leaves the wallet's test account as it found it, and the refusals it asks for
are marked as such in the callback log and the API error log (issue 16, item 11)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest

from examples.wallet.wallet import create_app as reference_wallet
from simulator.seamless.conformance import run_conformance
from tests.conftest import CALLBACK_TOKEN
from tests.seamless import broken_wallets
from tests.seamless.test_conformance import served

#: (command, result) of every refusal a v4 run asks of a correct wallet.
EXPECTED_V4 = sorted(
    [
        ("bet", 41),  # S3 the same bet again
        ("bet", 31),  # S5 a bet above the balance
        ("win", 41),  # S6 the same win again
        ("cancel", 41),  # S7 the same cancel again
        ("authenticate", 100),  # S8 a wrong token
        ("bet", 100),
        ("bet", 41),  # R1 one of two identical bets
        ("cancel", 43),  # R2 a cancel of a transaction never sent
        ("status", 42),
        ("win", 41),  # R3 the late win again
        ("bet", 41),  # R4 the same zero bet and zero win again
        ("win", 41),
        ("authenticate", 21),  # R5 and R6 unknown accounts
        ("bet", 21),
        ("authenticate", 21),
        ("bet", 21),
    ]
)


def balance_of(app, account: str = "test1234") -> Decimal:
    return Decimal(str(app.test_client().get("/accounts").get_json()["accounts"][account]["balance"]))


@pytest.fixture
def wallet_app():
    return reference_wallet(token=CALLBACK_TOKEN)


@pytest.fixture
def wallet_url(wallet_app) -> Iterator[str]:
    with served(wallet_app) as url:
        yield url


@pytest.mark.parametrize("dialect", ["v4", "legacy"])
def test_a_run_leaves_the_test_account_at_the_balance_it_found(wallet_app, wallet_url, dialect) -> None:
    report = run_conformance(wallet_url, CALLBACK_TOKEN, dialect=dialect)
    assert report.ok
    assert balance_of(wallet_app) == 100000
    cleanup = report.scenarios[-1]
    assert (cleanup.scenario_id, cleanup.status) == ("C1", "PASS")
    assert cleanup.notes == ["the test account is back at 100000 (it was 100200)"]
    assert [e.step for e in cleanup.exchanges] == [
        "balance after the scenarios",
        "bet 200 (takes back what the run paid)",
        "win 0 (closes the clean-up round)",
        "balance after the clean-up",
    ]


def test_two_runs_in_a_row_start_from_the_same_balance(wallet_app, wallet_url) -> None:
    first = run_conformance(wallet_url, CALLBACK_TOKEN)
    second = run_conformance(wallet_url, CALLBACK_TOKEN)
    assert (
        first.to_dict()["counts"]
        == second.to_dict()["counts"]
        == {
            "PASS": 15,
            "WARN": 0,
            "FAIL": 0,
            "total": 15,
        }
    )
    assert balance_of(wallet_app) == 100000


def test_the_clean_up_pays_back_what_a_broken_wallet_lost() -> None:
    app = broken_wallets.no_refund()
    with served(app) as url:
        report = run_conformance(url, CALLBACK_TOKEN)
    cleanup = report.scenarios[-1]
    assert cleanup.status == "PASS"
    assert cleanup.notes == ["the test account is back at 100000 (it was 99900)"]
    assert [e.step for e in cleanup.exchanges][1:3] == [
        "bet 0 (opens the clean-up round)",
        "win 100 (pays back what the run took)",
    ]


def test_the_clean_up_does_nothing_when_the_balance_did_not_move() -> None:
    app = broken_wallets.wrapped(
        replace=lambda body, ledger: (
            {"result": 22, "status": "ERROR"} if body["command"] in ("bet", "win", "cancel") else None
        )
    )
    with served(app) as url:
        report = run_conformance(url, CALLBACK_TOKEN)
    cleanup = report.scenarios[-1]
    assert (cleanup.status, cleanup.notes) == ("PASS", ["the scenarios left the balance at 100000"])
    assert [e.step for e in cleanup.exchanges] == ["balance after the scenarios"]


# -- marked in the logs -------------------------------------------------------------------
def run_for_agent(client, url: str) -> dict:
    assert client.patch("/admin/api/agents/demo_seamless", json={"callback_url": url}).status_code == 200
    answer = client.post("/admin/api/agents/demo_seamless/conformance", json={})
    assert answer.status_code == 200
    return answer.get_json()


def test_every_refusal_a_run_asks_for_is_marked_expected_in_the_callback_log(client, wallet_url) -> None:
    assert run_for_agent(client, wallet_url)["ok"] is True
    logged = client.get("/admin/api/agents/demo_seamless/callbacks?limit=500").get_json()
    refused = [e for e in logged if e["outcome"] == "refused"]
    assert sorted((e["command"], e["result"]) for e in refused) == EXPECTED_V4
    assert all(e["expected_refusal"] for e in refused)
    assert not any(e["expected_refusal"] for e in logged if e["outcome"] != "refused")
    assert all(re.fullmatch(r"run \d+ (S\d|R\d|C1): .+", e["conformance"]) for e in logged)


def test_the_api_error_log_lists_expected_refusals_apart_from_failures(client, wallet_url) -> None:
    run_for_agent(client, wallet_url)
    page = client.get("/backoffice/agents/demo_seamless/api-errors").get_data(as_text=True)
    failed = page[page.index('id="failed-callbacks"') : page.index('id="expected-refusals"')]
    expected = page[page.index('id="expected-refusals"') :]
    assert "No failed callback logged." in failed
    assert expected.count("<tr data-entry-id=") == len(EXPECTED_V4)
    assert expected.count("expected refusal</span>") == len(EXPECTED_V4)


def test_the_callback_log_page_marks_expected_refusals_and_filters_them(client, wallet_url) -> None:
    run_for_agent(client, wallet_url)
    page = client.get("/backoffice/agents/demo_seamless/callbacks").get_data(as_text=True)
    assert page.count('data-expected="true"') == len(EXPECTED_V4)
    only = client.get("/backoffice/agents/demo_seamless/callbacks?outcome=expected").get_data(as_text=True)
    assert only.count("<tr data-entry-id=") == len(EXPECTED_V4)
    real = client.get("/backoffice/agents/demo_seamless/callbacks?outcome=refused").get_data(as_text=True)
    assert "No callbacks logged with these filters." in real


def test_a_refusal_the_run_did_not_ask_for_stays_a_failure(client, wallet_url) -> None:
    assert (
        client.patch("/admin/api/agents/demo_seamless", json={"callback_url": wallet_url}).status_code == 200
    )
    answer = client.post("/admin/api/agents/demo_seamless/conformance", json={"account": "nobody_here"})
    assert answer.get_json()["ok"] is False
    page = client.get("/backoffice/agents/demo_seamless/api-errors").get_data(as_text=True)
    failed = page[page.index('id="failed-callbacks"') : page.index('id="expected-refusals"')]
    assert re.search(r"authenticate<span class=\"muted test-run\">run \d+ S1: authenticate</span>", failed)


def test_the_marks_survive_a_snapshot_and_restore(client, wallet_url) -> None:
    run_for_agent(client, wallet_url)
    assert client.post("/control/restore", json=client.get("/control/snapshot").get_json()).status_code == 200
    logged = client.get("/admin/api/agents/demo_seamless/callbacks?limit=500").get_json()
    assert sum(e["expected_refusal"] for e in logged) == len(EXPECTED_V4)
