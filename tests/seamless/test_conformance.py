"""The wallet conformance runner (spec 6.12): the reference wallet passes, broken wallets fail by name."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from examples.wallet.wallet import create_app as reference_wallet
from simulator.seamless.conformance import Report, run_conformance
from tests.conftest import CALLBACK_TOKEN
from tests.seamless import broken_wallets

REPO_ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "R1", "R2", "R3", "R4", "R5", "R6", "C1"]


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """``app`` on a free loopback port; yields its callback URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/callback"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def reference_url() -> Iterator[str]:
    with served(reference_wallet(token=CALLBACK_TOKEN)) as url:
        yield url


def run_against(app: Flask, dialect: str = "v4") -> Report:
    with served(app) as url:
        return run_conformance(url, CALLBACK_TOKEN, dialect=dialect)


def statuses(report: Report) -> dict[str, str]:
    return {s.scenario_id: s.status for s in report.scenarios}


def failures(report: Report, scenario_id: str) -> list[str]:
    return next(s.failures for s in report.scenarios if s.scenario_id == scenario_id)


def cli(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "simulator", "conformance", *args]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("dialect", ["v4", "legacy"])
def test_reference_wallet_passes_every_scenario(reference_url: str, dialect: str) -> None:
    report = run_conformance(reference_url, CALLBACK_TOKEN, dialect=dialect)
    assert statuses(report) == dict.fromkeys(SCENARIOS, "PASS")
    assert report.ok
    assert report.counts == {"PASS": 15, "WARN": 0, "FAIL": 0, "total": 15}


def test_a_second_run_against_the_same_wallet_does_not_collide(reference_url: str) -> None:
    run_conformance(reference_url, CALLBACK_TOKEN)
    assert run_conformance(reference_url, CALLBACK_TOKEN).ok


def test_report_keeps_every_request_and_reply(reference_url: str) -> None:
    report = run_conformance(reference_url, CALLBACK_TOKEN).to_dict()
    s3 = next(s for s in json.loads(json.dumps(report))["scenarios"] if s["id"] == "S3")
    assert [e["step"] for e in s3["exchanges"]] == [
        "balance before",
        "bet 100",
        "the same bet again",
        "win 200",
        "status of the bet",
        "balance at the end",
    ]
    repeated = s3["exchanges"][2]
    assert repeated["request"] == s3["exchanges"][1]["request"]
    assert repeated["result"] == 41
    assert json.loads(repeated["reply"])["result"] == 41


def test_repeated_bet_applied_twice_fails_naming_idempotency() -> None:
    report = run_against(broken_wallets.no_idempotency())
    assert failures(report, "S3") == [
        "6.10 idempotency: a repeated bet (same trans_guid) was applied twice: balance 99800 instead of 99900"
    ]
    assert not report.ok


def test_repeated_win_applied_twice_fails_naming_idempotency() -> None:
    report = run_against(broken_wallets.no_idempotency(), "legacy")
    assert failures(report, "S6") == [
        "6.10 idempotency: a repeated win (same trans_id) was applied twice: balance 100100 instead of 99900"
    ]
    assert failures(report, "R1") == [
        "6.10 idempotency: two identical bets (same trans_id) sent at once were both applied: "
        "balance 99800 instead of 99900"
    ]


def test_cancel_without_refund_fails_naming_the_cancel_rule() -> None:
    report = run_against(broken_wallets.no_refund())
    assert failures(report, "S7") == [
        "6.10 cancel: cancelling a bet must give the stake back: balance 100100 instead of 100200"
    ]
    assert statuses(report)["S3"] == "PASS"


def test_success_without_balance_is_an_unusable_reply() -> None:
    report = run_against(broken_wallets.no_balance())
    assert failures(report, "S1") == [
        "6.8 usable reply: authenticate for 'test1234' got no usable reply: "
        "success reply without a numeric data.balance"
    ]
    assert statuses(report)["S3"] == "FAIL"


def test_an_empty_array_reply_is_an_unusable_reply() -> None:
    report = run_against(broken_wallets.list_replies())
    assert failures(report, "S1") == [
        "6.8 usable reply: authenticate for 'test1234' got no usable reply: "
        "reply is a JSON list, not an object"
    ]
    assert report.counts["FAIL"] == 15


def test_a_wallet_accepting_any_token_fails_only_the_token_scenario() -> None:
    report = run_against(broken_wallets.any_token())
    assert failures(report, "S8") == [
        "6.1 callback security: a callback with a wrong Callback-Token answered result 0 instead of 100"
    ]
    assert report.counts == {"PASS": 14, "WARN": 0, "FAIL": 1, "total": 15}


def test_numeric_strings_are_warnings_not_failures() -> None:
    report = run_against(broken_wallets.string_numbers())
    assert report.ok
    assert statuses(report) == dict.fromkeys(SCENARIOS, "WARN")
    assert report.scenarios[2].warnings == [
        "6.7 numbers: numeric strings instead of JSON numbers in the replies to balance (result, "
        "data.balance), bet (result, data.balance), win (result, data.balance), status (result); "
        "the platform accepts them (13.1), integrators should answer numbers"
    ]


def test_an_unreachable_url_fails_every_scenario_after_two_attempts() -> None:
    report = run_conformance("http://127.0.0.1:9/callback", CALLBACK_TOKEN)
    assert report.counts["FAIL"] == 15
    assert sum(len(s.exchanges) for s in report.scenarios) == 2
    assert failures(report, "R6") == ["not run: the callback URL gave no HTTP answer in S1 and S2"]


def test_junit_report_is_valid_xml_with_one_testcase_per_scenario(tmp_path: Path) -> None:
    target = tmp_path / "conformance.xml"
    with served(broken_wallets.no_refund()) as url:
        completed = cli("--callback-url", url, "--token", CALLBACK_TOKEN, "--junit", str(target))
    assert completed.returncode == 1
    suite = ET.parse(target).getroot().find("testsuite")
    assert suite.get("tests") == "15"
    assert suite.get("failures") == str(len(suite.findall("testcase/failure")))
    cases = {case.get("name").split()[0]: case for case in suite.findall("testcase")}
    assert list(cases) == SCENARIOS
    assert cases["S7"].find("failure").get("message") == (
        "6.10 cancel: cancelling a bet must give the stake back: balance 100100 instead of 100200"
    )
    assert '"command":"cancel"' in cases["S7"].find("system-out").text
    assert cases["S1"].find("failure") is None


def test_cli_exits_0_against_the_reference_wallet(reference_url: str) -> None:
    completed = cli("--callback-url", reference_url, "--token", CALLBACK_TOKEN, "--dialect", "legacy")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "15 scenarios: 15 PASS, 0 WARN, 0 FAIL" in completed.stdout
    assert completed.stdout.endswith("RESULT: PASS\n")


def test_cli_verbose_shows_every_exchange(reference_url: str) -> None:
    completed = cli("--callback-url", reference_url, "--token", CALLBACK_TOKEN, "--verbose")
    assert completed.returncode == 0
    assert "[the same bet again] bet" in completed.stdout
    assert '< HTTP 200 {"result": 41' in completed.stdout


def test_cli_exits_1_against_a_broken_wallet() -> None:
    with served(broken_wallets.any_token()) as url:
        completed = cli("--callback-url", url, "--token", CALLBACK_TOKEN)
    assert completed.returncode == 1
    assert "FAIL  S8" in completed.stdout
    assert completed.stdout.endswith("RESULT: FAIL\n")


def test_cli_exits_2_on_a_usage_error() -> None:
    assert cli("--callback-url", "http://127.0.0.1:9/callback").returncode == 2
    assert cli("--callback-url", "ftp://x", "--token", "t").returncode == 2


def test_admin_conformance_runs_against_the_agents_wallet(client, sim, reference_url: str) -> None:
    agent = sim.world.hierarchy.get("demo_seamless")
    points = agent.points
    patched = client.patch("/admin/api/agents/demo_seamless", json={"callback_url": reference_url})
    assert patched.status_code == 200
    answer = client.post("/admin/api/agents/demo_seamless/conformance", json={})
    assert answer.status_code == 200
    report = answer.get_json()
    assert report["ok"] is True
    assert report["account"] == "test1234"
    assert report["counts"] == {"PASS": 15, "WARN": 0, "FAIL": 0, "total": 15}
    assert agent.points == points
    assert len(sim.world.store.transactions_of(agent.agent_id)) == 0
    logged = client.get("/admin/api/agents/demo_seamless/callbacks?limit=500").get_json()
    assert len(logged) == sum(len(s["exchanges"]) for s in report["scenarios"])


def test_admin_conformance_is_409_for_a_transfer_agent(client) -> None:
    answer = client.post("/admin/api/agents/demo/conformance", json={"account": "test1234"})
    assert answer.status_code == 409
    assert answer.get_json() == {"error": "agent 'demo' has no callback URL (transfer mode): nothing to test"}


def test_admin_conformance_refuses_an_account_that_is_not_a_string(client) -> None:
    answer = client.post("/admin/api/agents/demo_seamless/conformance", json={"account": 5})
    assert answer.status_code == 400
    assert answer.get_json() == {"error": "account: must be a non-empty string of at most 200 characters"}
