"""``/control/traffic`` and ``python -m simulator traffic`` (control-api.md): start, watch, stop, reset."""

from __future__ import annotations

import json
import socket
import time

import pytest

from simulator.__main__ import main
from simulator.control.traffic_api import EXTENSION

SHORT = {"agent": "demo", "players": 2, "rounds_per_second": 20, "duration_s": 0.5, "bet": 100}
LONG = {**SHORT, "duration_s": 60}


@pytest.fixture(autouse=True)
def _stop_runs(app):
    yield
    runs = app.extensions.get(EXTENSION)
    if runs is not None:
        runs.stop_all(timeout=10)


def wait_done(client, run_id: int, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report = client.get(f"/control/traffic/{run_id}").get_json()
        if report["state"] in ("done", "failed"):
            return report
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not end")


def test_start_answers_201_with_the_run_id(client):
    answer = client.post("/control/traffic", json=SHORT)
    assert answer.status_code == 201
    assert answer.get_json() == {"id": 1}


def test_a_finished_run_reports_its_figures_and_reconciles(client):
    # Ten players: a round slowed by a busy machine leaves others to keep the pace.
    run_id = client.post("/control/traffic", json={**SHORT, "players": 10}).get_json()["id"]
    report = wait_done(client, run_id)
    assert report["state"] == "done"
    assert report["rate"] == {"target": 20.0, "achieved": pytest.approx(20, rel=0.1)}
    assert 9 <= report["rounds"]["attempted"] <= 10  # 20/s for 0.5 s, never more
    assert report["reconciliation"]["ok"] is True
    assert {c["name"] for c in report["reconciliation"]["checks"]} >= {"ledger_audit", "balances"}


def test_get_shows_progress_while_running(client):
    run_id = client.post("/control/traffic", json=LONG).get_json()["id"]
    time.sleep(0.3)
    report = client.get(f"/control/traffic/{run_id}").get_json()
    assert report["state"] == "running" and report["phase"] == "play"
    assert report["rounds"]["attempted"] >= 1
    assert report["reconciliation"]["ok"] is None


def test_delete_stops_the_run(client):
    run_id = client.post("/control/traffic", json=LONG).get_json()["id"]
    time.sleep(0.2)
    answer = client.delete(f"/control/traffic/{run_id}")
    assert answer.status_code == 200
    assert answer.get_json()["state"] in ("stopping", "done")
    report = wait_done(client, run_id)
    assert report["stop_reason"] == "stopped"
    assert report["reconciliation"]["ok"] is True


def test_reset_stops_a_running_run(client):
    run_id = client.post("/control/traffic", json=LONG).get_json()["id"]
    time.sleep(0.2)
    client.post("/control/reset")
    report = wait_done(client, run_id)
    assert report["state"] == "failed" and report["stop_reason"] == "reset"


def test_list_shows_every_run(client):
    first = client.post("/control/traffic", json=SHORT).get_json()["id"]
    second = client.post("/control/traffic", json=SHORT).get_json()["id"]
    listed = client.get("/control/traffic").get_json()
    assert [run["id"] for run in listed] == [first, second]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({**SHORT, "players": 1001}, "players: [players] must be between 1 and 1000"),
        ({**SHORT, "rounds_per_second": 0}, "rounds_per_second: [rounds_per_second] must be greater than 0"),
        ({**SHORT, "duration_s": 3601}, "duration_s: [duration_s] must be at most 3600"),
        ({**SHORT, "speed": 2}, "speed: Unknown field."),
        ({"players": 2}, "agent: Missing data for required field."),
        ({**SHORT, "accounts": ["bad name"]}, "accounts: 0: The accounts field may only contain"),
        ({**SHORT, "game_code": "vs20fruitsw"}, "give both provider_id and game_code, or neither"),
    ],
)
def test_bad_bodies_are_400(client, body, message):
    answer = client.post("/control/traffic", json=body)
    assert answer.status_code == 400
    assert answer.get_json()["error"].startswith(message)


def test_unknown_agent_is_404(client):
    answer = client.post("/control/traffic", json={**SHORT, "agent": "nobody"})
    assert answer.status_code == 404
    assert answer.get_json() == {"error": "no agent named 'nobody'"}


def test_unknown_game_is_404(client):
    answer = client.post("/control/traffic", json={**SHORT, "provider_id": 1, "game_code": "no_such_game"})
    assert answer.status_code == 404


def test_deposits_the_agent_cannot_cover_are_409(client):
    answer = client.post("/control/traffic", json={**SHORT, "players": 100, "deposit": 20000})
    assert answer.status_code == 409
    assert "has 1000000 points" in answer.get_json()["error"]


def test_a_fifth_running_run_is_409(client):
    for _ in range(4):
        assert client.post("/control/traffic", json={**LONG, "rounds_per_second": 1}).status_code == 201
    answer = client.post("/control/traffic", json=SHORT)
    assert answer.status_code == 409
    assert "traffic runs are running already" in answer.get_json()["error"]


def test_unknown_run_is_404(client):
    assert client.get("/control/traffic/99").status_code == 404
    assert client.delete("/control/traffic/99").get_json() == {"error": "no traffic run 99"}


def test_the_routes_are_in_the_openapi_document(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert set(paths["/control/traffic"]) == {"get", "post"}
    assert set(paths["/control/traffic/{run_id}"]) == {"get", "delete"}


# -- the command line, against a live in-process server ---------------------------------------


def traffic(*args: str) -> list[str]:
    return ["traffic", "--agent", "demo", "--players", "2", "--rate", "20", "--duration", "0.5", *args]


def test_the_command_prints_the_report_and_exits_0_when_it_reconciles(scorpio, capsys):
    code = main([*traffic("--url", scorpio.base_url, "--interval", "0.1")])
    out, err = capsys.readouterr()
    assert code == 0
    assert "reconciliation: OK" in out
    assert "rate         " in out
    assert err.startswith("traffic: run ") and "[run " in err


def test_the_command_prints_json_on_request(scorpio, capsys):
    code = main([*traffic("--url", scorpio.base_url, "--interval", "0.1", "--json", "--quiet")])
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert code == 0 and err == ""
    assert report["state"] == "done" and report["reconciliation"]["ok"] is True


def test_the_command_exits_2_when_the_simulator_refuses(scorpio, capsys):
    code = main(["traffic", "--url", scorpio.base_url, "--agent", "nobody", "--quiet"])
    assert code == 2
    assert "answered 404: no agent named 'nobody'" in capsys.readouterr().err


def test_the_command_exits_2_when_nothing_listens(capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main([*traffic("--url", f"http://127.0.0.1:{port}")]) == 2
    assert "cannot reach the simulator" in capsys.readouterr().err


def test_the_command_exits_1_when_the_run_does_not_reconcile(scorpio, capsys):
    # seamless players the wallet (none listens) cannot authenticate: the run fails at setup
    code = main(
        ["traffic", "--url", scorpio.base_url, "--agent", "demo_seamless", "--quiet", "--interval", "0.1"]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "failed (setup)" in out
