"""``redis`` is an optional extra (issue 16): the in-memory store runs without it, the Redis store says how
to get it, and the project's own install files ask for it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from simulator.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Plays a round trip on the in-memory store in a Python where ``import redis`` fails.
WITHOUT_REDIS = """
import sys
sys.modules["redis"] = None  # any `import redis` now raises ImportError
from simulator import create_app
from simulator.config import Settings
app = create_app(Settings())
answer = app.test_client().post(
    "/v4/agent/info", json={}, headers={"Authorization": "Bearer ed45553e-1702-4342-a70d-09bf7ff7f568"}
)
print(answer.get_json()["code"], answer.get_json()["data"]["name"])
"""


def test_redis_is_an_optional_extra_not_a_dependency():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith(("redis", "hiredis"))]
    # The client, and its C reply parser (a third of a Redis request's CPU without it).
    assert project["optional-dependencies"]["redis"] == ["redis>=5,<8", "hiredis>=2.3,<4"]


def test_make_install_and_the_dockerfile_install_the_redis_extra():
    assert "-e '.[test,redis]'" in (REPO_ROOT / "Makefile").read_text()
    assert 'pip install ".[gevent,redis]"' in (REPO_ROOT / "Dockerfile").read_text()


def test_the_memory_store_serves_without_the_redis_package():
    run = subprocess.run(
        [sys.executable, "-c", WITHOUT_REDIS], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["0", "demo"]


def test_a_redis_store_without_the_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ValueError) as refused:
        Settings.from_env({"SCORPIO_SIM_STORE": "redis://127.0.0.1:6379/0"})
    assert str(refused.value) == (
        "SCORPIO_SIM_STORE names a Redis server, but the redis package is not installed: "
        "pip install 'scorpio-sim[redis]' (`make install` installs it)"
    )
