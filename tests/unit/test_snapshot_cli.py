"""``python -m simulator snapshot``: take, restore, save and inspect against a running simulator."""

from __future__ import annotations

import json

import pytest

from simulator.__main__ import main
from simulator.testing import SimClientError


def test_take_writes_a_snapshot_file(scorpio, tmp_path, capsys):
    out = tmp_path / "before.json"
    assert main(["snapshot", "take", "--url", scorpio.base_url, "--out", str(out)]) == 0
    assert json.loads(out.read_text())["format"] == "scorpio-sim-snapshot"
    assert f"written to {out}" in capsys.readouterr().out


def test_restore_puts_a_taken_snapshot_back(scorpio, tmp_path, capsys):
    out = tmp_path / "before.json"
    main(["snapshot", "take", "--url", scorpio.base_url, "--out", str(out)])
    scorpio.client.create_agent("made_after")
    assert main(["snapshot", "restore", str(out), "--url", scorpio.base_url]) == 0
    assert "restored" in capsys.readouterr().out
    with pytest.raises(SimClientError) as gone:
        scorpio.client.agent("made_after")
    assert gone.value.status == 404


def test_inspect_checks_a_file_offline(scorpio, tmp_path, capsys):
    out = tmp_path / "before.json"
    main(["snapshot", "take", "--url", scorpio.base_url, "--out", str(out)])
    capsys.readouterr()
    assert main(["snapshot", "inspect", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["money_conserved"] is True
    assert "demo" in {a["name"] for a in summary["agents"]}


def test_inspect_names_what_is_wrong_with_a_damaged_file(scorpio, tmp_path, capsys):
    out = tmp_path / "before.json"
    main(["snapshot", "take", "--url", scorpio.base_url, "--out", str(out)])
    data = json.loads(out.read_text())
    data["store"]["users"][0]["balance"] = "999999999"
    out.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["snapshot", "inspect", str(out)]) == 1
    assert "does not conserve money" in capsys.readouterr().out


def test_save_without_a_state_file_is_an_error(scorpio, capsys):
    assert main(["snapshot", "save", "--url", scorpio.base_url]) == 2
    assert "SCORPIO_SIM_STATE_FILE" in capsys.readouterr().err


def test_an_unreachable_simulator_is_exit_code_2(tmp_path, capsys):
    assert main(["snapshot", "take", "--url", "http://127.0.0.1:9", "--out", str(tmp_path / "x.json")]) == 2
    assert "cannot reach the simulator" in capsys.readouterr().err
