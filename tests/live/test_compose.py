"""``compose.yaml`` runs the simulator with Redis and two workers, as the README's Redis section does
(issue 16).  No Docker engine here: the test reads the file and starts the commands it names - the
redis service's command, and the image's own command (the Dockerfile's ``CMD``) with the simulator
service's environment - on free loopback ports.  Where Docker exists, ``docker compose config``
checks the file too."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
import yaml

from .conftest import DEMO_TOKEN, REPO_ROOT, free_port, log_tail, stop_group

pytestmark = pytest.mark.live

COMPOSE = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
START_TIMEOUT_S = 60.0


def interpolated(value: str, environ: dict[str, str]) -> str:
    """Compose's ``${NAME:-default}`` and ``${NAME}``, the forms compose.yaml uses."""
    return re.sub(
        r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: environ.get(m.group(1)) or (m.group(2) or ""), value
    )


def dockerfile_cmd() -> list[str]:
    [line] = [line for line in (REPO_ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")]
    return json.loads(line[4:])


def readme_redis_command() -> str:
    section = (REPO_ROOT / "README.md").read_text().split("## Several workers on Redis", 1)[1]
    [command] = [line for line in section.splitlines() if line.startswith("SCORPIO_SIM_STORE=")]
    return command


def test_compose_runs_redis_and_the_simulator_built_from_the_dockerfile():
    assert set(SERVICES) == {"redis", "simulator"}
    assert SERVICES["simulator"]["build"] == "."
    assert SERVICES["simulator"]["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert SERVICES["redis"]["command"][0] == "redis-server"


def test_compose_has_the_workers_and_the_store_of_the_readme():
    environment = SERVICES["simulator"]["environment"]
    readme = dict(word.split("=", 1) for word in readme_redis_command().split() if "=" in word)
    assert environment["SCORPIO_SIM_WORKERS"] == readme["SCORPIO_SIM_WORKERS"] == "2"
    assert environment["SCORPIO_SIM_STORE"] == "redis://redis:6379/0"
    assert readme["SCORPIO_SIM_STORE"] == "redis://127.0.0.1:6379/0"


def test_compose_publishes_the_port_the_image_listens_on():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert "SCORPIO_SIM_BIND=0.0.0.0:8080" in dockerfile
    assert SERVICES["simulator"]["ports"] == ["127.0.0.1:8080:8080"]
    assert SERVICES["simulator"]["environment"]["SCORPIO_SIM_PUBLIC_URL"] == "http://127.0.0.1:8080"


def docker_compose_missing() -> bool:
    if shutil.which("docker") is None:
        return True
    version = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30, check=False)
    return version.returncode != 0


@pytest.mark.skipif(
    docker_compose_missing(), reason="no `docker compose` here (Docker with its compose plugin)"
)
def test_docker_compose_accepts_the_file():
    run = subprocess.run(
        ["docker", "compose", "config", "--quiet"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr


# -- the same commands, outside Docker ------------------------------------------------------
@pytest.fixture(scope="module")
def redis_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The redis service's command on a free loopback port (the container's network becomes loopback)."""
    port = free_port()
    workdir = tmp_path_factory.mktemp("compose-redis")
    command = [*SERVICES["redis"]["command"], "--port", str(port), "--bind", "127.0.0.1"]
    proc = subprocess.Popen(
        command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        client = redis.Redis(port=port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()
        yield port
    finally:
        stop_group(proc)
    assert list(workdir.iterdir()) == []  # --save "": nothing written


@pytest.fixture(scope="module")
def simulator_service(
    redis_service: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The image's command with the simulator service's environment; ``redis`` and the ports on loopback."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    environment = {
        name: interpolated(str(value), {}) for name, value in SERVICES["simulator"]["environment"].items()
    }
    environment["SCORPIO_SIM_STORE"] = environment["SCORPIO_SIM_STORE"].replace(
        "redis:6379", f"127.0.0.1:{redis_service}"
    )
    environment["SCORPIO_SIM_PUBLIC_URL"] = base_url
    env = {key: value for key, value in os.environ.items() if not key.startswith("SCORPIO_SIM_")}
    env.update(environment, SCORPIO_SIM_BIND=f"127.0.0.1:{port}")
    command = dockerfile_cmd()
    command[0] = str(Path(sys.executable).with_name(command[0]))  # the venv's gunicorn
    log_path = tmp_path_factory.mktemp("compose-simulator") / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while log_path.read_text(errors="replace").count("Worker ready (pid: ") < 2:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the simulator service did not start two workers\n{log_tail(log_path)}")
            time.sleep(0.1)
        yield {"base_url": base_url, "proc": proc, "log": log_path, "environment": environment}
    finally:
        stop_group(proc)


def test_compose_leaves_the_admin_token_to_the_environment(simulator_service):
    assert simulator_service["environment"]["SCORPIO_SIM_ADMIN_TOKEN"] == ""


def test_the_simulator_service_runs_two_workers(simulator_service):
    master = simulator_service["proc"].pid
    workers = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    assert len(workers) == 2


def test_the_simulator_service_prints_one_banner(simulator_service):
    log = simulator_service["log"].read_text(errors="replace")
    assert log.count("scorpio-sim: Scorpio Play v4 API simulator") == 1


def test_a_player_created_through_one_connection_is_seen_by_every_worker(simulator_service):
    base_url = simulator_service["base_url"]
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}"}
    created = requests.post(
        f"{base_url}/v4/user/create", json={"name": "compose_01"}, headers=headers, timeout=10
    )
    user_code = created.json()["data"]["user_code"]
    codes = set()
    for _ in range(20):  # a new connection each time: the workers take turns accepting them
        with requests.Session() as session:
            answer = session.post(
                f"{base_url}/v4/user/info", json={"user_code": user_code}, headers=headers, timeout=10
            )
            codes.add((answer.json()["code"], answer.json()["data"]["name"]))
    assert codes == {(0, "compose_01")}
