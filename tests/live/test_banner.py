"""The start-up banner (issue 16): it names the API docs, and it is printed once however many
workers start - gunicorn's workers share the digest of the last banner printed (gunicorn.conf.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from simulator.testing.redis_server import RedisServer
from tests.live.conftest import LiveServer, log_tail, start_server, stop_group

pytestmark = pytest.mark.live

TITLE = "scorpio-sim: Scorpio Play v4 API simulator"
READY_TIMEOUT_S = 60.0


def wait_for_ready_workers(server: LiveServer, count: int) -> str:
    """The log once ``count`` workers said they are ready (each after its banner step)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        log = server.log()
        if log.count("Worker ready (pid: ") >= count:
            return log
        time.sleep(0.1)
    pytest.fail(f"{count} workers did not get ready\n{log_tail(server.log_path)}")


@pytest.fixture(scope="module")
def two_workers_on_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with RedisServer() as redis_server:
        env = {
            "SCORPIO_SIM_STORE": redis_server.url,
            "SCORPIO_SIM_STORE_PREFIX": "banner:",
            "SCORPIO_SIM_WORKERS": "2",
        }
        server = start_server(tmp_path_factory.mktemp("banner") / "server.log", env)
        try:
            yield server
        finally:
            stop_group(server.proc)


def test_the_banner_names_the_docs_and_the_openapi_document(live: LiveServer):
    log = wait_for_ready_workers(live, 1)
    assert f"  API docs      {live.base_url}/docs  (OpenAPI 3: {live.base_url}/openapi.json)" in log


def test_one_worker_prints_the_banner_once(live: LiveServer):
    assert wait_for_ready_workers(live, 1).count(TITLE) == 1


def test_two_workers_on_redis_print_the_banner_once(two_workers_on_redis: LiveServer):
    log = wait_for_ready_workers(two_workers_on_redis, 2)
    assert (log.count("Worker ready (pid: "), log.count(TITLE)) == (2, 1)


def test_the_banner_of_two_workers_lists_each_agent_once(two_workers_on_redis: LiveServer):
    log = wait_for_ready_workers(two_workers_on_redis, 2)
    demo_lines = [line for line in log.splitlines() if line.split()[:1] == ["demo"]]
    assert len(demo_lines) == 1
