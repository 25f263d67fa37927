"""The state file: atomic writes, stale temporaries, loading at start (``SCORPIO_SIM_STATE_FILE``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from simulator.config import Settings
from simulator.runtime import Simulator
from simulator.state.statefile import (
    StateFileError,
    load_at_start,
    read,
    remove_stale_temporaries,
    save,
    write_atomically,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def temporaries(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def test_an_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "state.json"
    write_atomically(path, {"n": 1})
    size = write_atomically(path, {"n": 2, "text": "한국어"})
    assert json.loads(path.read_text(encoding="utf-8")) == {"n": 2, "text": "한국어"}
    assert size == path.stat().st_size
    assert temporaries(path) == []


def test_a_failed_write_keeps_the_previous_file_and_removes_its_temporary(tmp_path):
    path = tmp_path / "state.json"
    write_atomically(path, {"n": 1})
    with pytest.raises(TypeError):
        write_atomically(path, {"n": object()})
    assert json.loads(path.read_text()) == {"n": 1}
    assert temporaries(path) == []


def test_stale_temporaries_of_a_killed_save_are_removed(tmp_path):
    path = tmp_path / "state.json"
    leftover = tmp_path / ".state.json.abc123.tmp"
    leftover.write_text('{"half": ')
    unrelated = tmp_path / ".other.json.abc.tmp"
    unrelated.write_text("keep")
    assert remove_stale_temporaries(path) == [leftover]
    assert unrelated.exists()


def test_no_state_file_configured_loads_nothing():
    sim = Simulator(Settings())
    assert load_at_start(sim) is False


def test_a_missing_state_file_starts_from_the_fixtures(tmp_path):
    sim = Simulator(Settings(state_file=str(tmp_path / "state.json")))
    assert load_at_start(sim) is False
    assert sim.world.store.agent_by_name("demo") is not None


def test_a_state_file_that_is_not_json_stops_the_start(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"format": "scorpio-sim-snapshot", ')
    with pytest.raises(StateFileError, match="not valid JSON"):
        load_at_start(Simulator(Settings(state_file=str(path))))


def test_a_state_file_that_cannot_be_restored_stops_the_start(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"format": "something else"}')
    with pytest.raises(StateFileError, match="cannot be restored: format"):
        load_at_start(Simulator(Settings(state_file=str(path))))


def test_a_saved_state_loads_into_a_new_simulator(tmp_path):
    path = tmp_path / "state.json"
    first = Simulator(Settings(state_file=str(path)))
    agent = first.world.hierarchy.get("demo")
    user, _ = first.world.users.create_or_get(agent, "saved01")
    first.world.ledger.deposit(agent, user, Decimal(1234))
    saved = save(first)
    assert saved.bytes == path.stat().st_size
    second = Simulator(Settings(state_file=str(path)))
    assert load_at_start(second) is True
    assert second.world.store.user(user.user_code).balance == 1234
    assert read(path)["store"]["users"]


KILLED_MID_SAVE = textwrap.dedent(
    """
    import sys, time
    from simulator.config import Settings
    from simulator.runtime import Simulator
    from simulator.state import statefile

    sim = Simulator(Settings(state_file=sys.argv[1]))
    real_write = statefile.write_json

    def slow_write(handle, data):
        # Write a part of the new snapshot, make sure it is on disk, then hang:
        # the test kills the process here, in the middle of the save.
        handle.write('{"format": "scorpio-sim-snapshot", "half": ')
        handle.flush()
        print("writing", flush=True)
        time.sleep(60)
        real_write(handle, data)

    statefile.write_json = slow_write
    statefile.save(sim)
    """
)


def test_killing_the_process_mid_save_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "state.json"
    previous = Simulator(Settings(state_file=str(path)))
    save(previous)
    before = path.read_bytes()

    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_SAVE, str(path)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "writing"
        partial = temporaries(path)
        assert len(partial) == 1 and partial[0].read_text().startswith('{"format"')
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()

    assert child.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    restarted = Simulator(Settings(state_file=str(path)))
    assert load_at_start(restarted) is True
    assert temporaries(path) == []
