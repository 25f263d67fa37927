"""The in-memory state lives in one process: gunicorn with more than one worker refuses to start
(with the memory store; tests/live/test_redis_workers.py runs four on Redis)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live.conftest import REPO_ROOT, free_port

pytestmark = pytest.mark.live


@pytest.mark.parametrize("how", ["env", "flag"])
def test_more_than_one_worker_is_refused_with_the_reason(how):
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "--config", "gunicorn.conf.py"]
    # The refusal is the memory store's (several workers may share a Redis store).
    env = {**os.environ, "SCORPIO_SIM_BIND": f"127.0.0.1:{free_port()}", "SCORPIO_SIM_STORE": "memory"}
    if how == "env":
        env["SCORPIO_SIM_WORKERS"] = "2"
    else:
        command += ["--workers", "3"]
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30
    )
    assert done.returncode != 0
    assert "refusing to start" in done.stderr and "one process" in done.stderr
