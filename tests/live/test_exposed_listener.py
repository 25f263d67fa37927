"""Protection follows the addresses gunicorn really listens on (issue 15, item 1).

Started as ``gunicorn --config gunicorn.conf.py --bind 0.0.0.0:PORT`` (or with
``GUNICORN_CMD_ARGS="--bind ..."``, as Docker and orchestrators do) while ``SCORPIO_SIM_BIND``
says loopback, the simulator used to generate no admin token: ``/control/reset``,
``/control/snapshot`` and ``/admin/api`` answered anyone.  Each server here runs in a network
namespace of its own (``unshare --net``, see :mod:`tests.live.netns`), so listening on every
interface exposes nothing; its requests go to the namespace's loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.live.conftest import REPO_ROOT
from tests.live.netns import BANNER_TOKEN

pytestmark = pytest.mark.live

PORT = 8080
CALLS = [
    ("POST", "/control/reset", {}),
    ("GET", "/control/snapshot", {}),
    ("GET", "/admin/api/agents", {}),
    ("GET", "/control/health", {}),
]


def _can_unshare() -> bool:
    try:
        return subprocess.run(["unshare", "--net", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


needs_netns = pytest.mark.skipif(not _can_unshare(), reason="needs `unshare --net` (root)")


def serve_exposed(tmp_path, args: list[str], env: dict[str, str], calls=CALLS) -> dict:
    spec = {"args": args, "env": env, "calls": calls, "log": str(tmp_path / "server.log")}
    if os.environ.get("SCORPIO_SIM_STORE", "memory") != "memory":
        # pytest --store=redis: the namespace has no route to the session's Redis.
        spec["env"] = {**env, "SCORPIO_SIM_STORE": "memory"}
    done = subprocess.run(
        ["unshare", "--net", sys.executable, "-m", "tests.live.netns", json.dumps(spec)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert not result["problem"], result["problem"] + "\n" + result["log"][-2000:]
    return result


@needs_netns
@pytest.mark.parametrize("how", ["--bind", "GUNICORN_CMD_ARGS"])
def test_listening_on_every_interface_protects_admin_and_control(tmp_path, how):
    env = {"SCORPIO_SIM_BIND": "127.0.0.1:9"}  # says loopback; the real listener does not
    args = []
    if how == "--bind":
        args = ["--bind", f"0.0.0.0:{PORT}"]
    else:
        env["GUNICORN_CMD_ARGS"] = f"--bind 0.0.0.0:{PORT}"
    result = serve_exposed(tmp_path, args, env)
    reset, snapshot, agents, health = result["answers"]
    assert (reset["status"], snapshot["status"], agents["status"]) == (401, 401, 401)
    assert snapshot["json"] == {"error": "missing or wrong X-Admin-Token header"}
    assert health["status"] == 200
    assert f"listening on  0.0.0.0:{PORT}  (reachable from other hosts: token required)" in result["log"]


@needs_netns
def test_the_generated_token_printed_in_the_banner_opens_control(tmp_path):
    calls = [
        ("GET", "/control/snapshot", {"X-Admin-Token": "wrong"}),
        ("GET", "/control/snapshot", {"X-Admin-Token": BANNER_TOKEN}),
        ("GET", "/admin/api/agents", {"X-Admin-Token": BANNER_TOKEN}),
    ]
    result = serve_exposed(tmp_path, ["--bind", f"0.0.0.0:{PORT}"], {}, calls)
    wrong, snapshot, agents = result["answers"]
    assert (wrong["status"], snapshot["status"], agents["status"]) == (401, 200, 200)
    assert snapshot["json"]["format"] == "scorpio-sim-snapshot"


@needs_netns
def test_a_loopback_listener_stays_open_whatever_scorpio_sim_bind_says(tmp_path):
    """The other way round: SCORPIO_SIM_BIND names every interface, gunicorn listens on loopback."""
    result = serve_exposed(
        tmp_path,
        ["--bind", f"127.0.0.1:{PORT}"],
        {"SCORPIO_SIM_BIND": "0.0.0.0:9"},
        calls=[("GET", "/admin/api/agents", {})],
    )
    assert result["answers"][0]["status"] == 200
    assert f"listening on  127.0.0.1:{PORT}  (loopback only)" in result["log"]
    assert "X-Admin-Token" not in result["log"]
