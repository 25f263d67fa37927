"""Background saves of the state file and the response gate of a stopping worker (issue 15)."""

from __future__ import annotations

import threading
import time

import pytest

from simulator import create_app
from simulator.config import Settings
from simulator.state.autosave import AutoSaver, ResponseGate, drain_seconds
from tests.conftest import DEMO_TOKEN, DEMO_USER, V4, make_settings


@pytest.fixture
def state_file(tmp_path):
    return tmp_path / "state.json"


def _restored_balance(state_file) -> int:
    """What a simulator started on the file sees (memory store: the file is what it loads)."""
    app = create_app(Settings(state_file=str(state_file)))
    try:
        return V4(app.test_client())("user/info", {"user_code": DEMO_USER}).data["balance"]
    finally:
        app.extensions["scorpio"].close()


def test_the_save_interval_defaults_to_5_seconds():
    assert Settings.from_env({}).save_interval == 5.0


def test_a_negative_save_interval_stops_the_start():
    with pytest.raises(ValueError, match="SCORPIO_SIM_SAVE_INTERVAL"):
        Settings.from_env({"SCORPIO_SIM_SAVE_INTERVAL": "-1"})


def test_the_saver_writes_what_was_acknowledged_within_its_interval(state_file):
    app = create_app(make_settings(state_file=str(state_file)))
    sim = app.extensions["scorpio"]
    saver = AutoSaver(sim, 0.05).start()
    try:
        v4 = V4(app.test_client(), DEMO_TOKEN)
        before = v4("user/info", {"user_code": DEMO_USER}).data["balance"]
        assert v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 700}).code == 0
        acknowledged = time.time()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (
            state_file.is_file() and state_file.stat().st_mtime > acknowledged + 0.2
        ):
            time.sleep(0.02)
    finally:
        saver.stop()
        sim.close()
    assert _restored_balance(state_file) == before + 700


def test_no_saver_runs_without_a_state_file_or_with_an_interval_of_0(state_file):
    app = create_app(make_settings())
    try:
        assert AutoSaver(app.extensions["scorpio"], 0.05).start().enabled is False
    finally:
        app.extensions["scorpio"].close()
    app = create_app(make_settings(state_file=str(state_file)))
    try:
        assert AutoSaver(app.extensions["scorpio"], 0).start().enabled is False
    finally:
        app.extensions["scorpio"].close()
    assert not state_file.exists()


@pytest.mark.parametrize(("graceful", "drain"), [(30, 20), (6, 4), (3, 1), (1, 1)])
def test_a_stopping_worker_keeps_a_third_of_the_graceful_timeout_for_the_last_save(graceful, drain):
    assert drain_seconds(graceful) == drain


def _answer_in_thread(gate: ResponseGate) -> tuple[threading.Thread, list]:
    sent: list = []

    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"done"]

    gate.app = app
    thread = threading.Thread(target=lambda: sent.append(list(gate({}, lambda *a: None))), daemon=True)
    thread.start()
    return thread, sent


def test_an_open_gate_lets_responses_through():
    thread, sent = _answer_in_thread(ResponseGate(lambda e, s: []))
    thread.join(timeout=5)
    assert sent == [[b"done"]]


def test_a_closed_gate_never_sends_a_response_finished_after_the_last_save():
    gate = ResponseGate(lambda e, s: [])
    gate.close()
    thread, sent = _answer_in_thread(gate)
    thread.join(timeout=0.3)
    assert thread.is_alive() and sent == []
