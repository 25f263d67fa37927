"""Shared fixtures: a fresh simulator per test, and a small ``/v4`` caller."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from typing import Any

import pytest

from simulator import create_app
from simulator.config import Settings

DEMO_TOKEN = "ed45553e-1702-4342-a70d-09bf7ff7f568"
SEAMLESS_TOKEN = "3c1d5e02-5a8f-4d0b-9a64-7f2e1b6c9d40"
CALLBACK_TOKEN = "eadd5a04-4720-4a10-ae60-b11cd01cc3aa"
#: The first fixture player of ``demo`` (``test1234``); funded by the fixtures.
DEMO_USER = 400000001
#: The transaction object of spec 5.20, in the spec's order.
ROW_KEYS = [
    "trans_id",
    "user_code",
    "round_id",
    "trans_type",
    "provider_id",
    "provider_name",
    "game_code",
    "game_name",
    "category",
    "prebalance",
    "trans_amount",
    "balance",
    "regdate",
    "time_stamp",
]


@dataclass
class V4Answer:
    status: int
    body: dict[str, Any]
    headers: Any

    @property
    def code(self) -> int:
        return self.body["code"]

    @property
    def data(self) -> Any:
        return self.body.get("data")


class V4:
    """Calls ``/v4/<path>`` through Flask's test client with an agent's token."""

    def __init__(self, client: Any, token: str = DEMO_TOKEN) -> None:
        self.client = client
        self.token = token

    def __call__(
        self,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | str | None = None,
        method: str = "POST",
        remote_addr: str = "127.0.0.1",
    ) -> V4Answer:
        all_headers = {"Authorization": f"Bearer {token or self.token}", "Accept": "application/json"}
        if token == "":
            del all_headers["Authorization"]
        all_headers.update(headers or {})
        kwargs: dict[str, Any] = {"headers": all_headers, "environ_base": {"REMOTE_ADDR": remote_addr}}
        if raw is not None:
            kwargs["data"] = raw
            kwargs["content_type"] = "application/json"
        elif body is not None:
            kwargs["json"] = body
        response = self.client.open(f"/v4/{path}", method=method, **kwargs)
        return V4Answer(response.status_code, response.get_json(), response.headers)


#: ``pytest --store=redis`` runs the in-process suite on the Redis backend (issue 9): the URL of
#: the session's redis-server (each test process's own), set by ``pytest_configure``; "memory"
#: otherwise.
STORE = {"url": "memory"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store",
        choices=("memory", "redis"),
        default="memory",
        help="state backend of the in-process simulators: memory (default) or redis "
        "(a redis-server is started on a free loopback port for the session)",
    )


def _runs_no_test(config: pytest.Config) -> bool:
    """pytest-xdist's controller (``-n``): its worker processes run the tests, each with a
    redis-server of its own."""
    processes = getattr(config.option, "numprocesses", None)
    return not hasattr(config, "workerinput") and processes not in (None, 0)


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--store", "memory") == "redis" and not _runs_no_test(config):
        from simulator.testing.redis_server import RedisServer

        server = RedisServer().start()
        config.scorpio_redis = server  # type: ignore[attr-defined]
        STORE["url"] = server.url
        # Servers the live tests start (`make run`) inherit it; tests/live/conftest.py gives
        # each its own key prefix.
        os.environ["SCORPIO_SIM_STORE"] = server.url


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests of several workers on Redis run in the Redis stage only (``make test-redis``)."""
    if config.getoption("--store", "memory") == "redis":
        return
    kept = [item for item in items if item.get_closest_marker("redis_stage") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


def pytest_unconfigure(config: pytest.Config) -> None:
    server = getattr(config, "scorpio_redis", None)
    if server is not None:
        from simulator.runtime import OPEN

        for sim in list(OPEN):  # their Redis heartbeats and pollers stop before the server does
            sim.close()
        server.stop()


_prefixes = itertools.count(1)


def make_settings(**overrides: Any) -> Settings:
    """Settings of a test's simulator; on Redis, a key prefix of its own, so it starts from the fixtures."""
    if STORE["url"] != "memory" and "store" not in overrides:
        overrides["store"] = STORE["url"]
        overrides.setdefault("store_prefix", f"test{next(_prefixes)}:")
    return Settings(**overrides)


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def app(settings: Settings):
    app = create_app(settings)
    yield app
    sim = app.extensions["scorpio"]
    sim.backend.drop_everything()
    sim.close()


@pytest.fixture
def sim(app):
    return app.extensions["scorpio"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def v4(client) -> V4:
    return V4(client)


@pytest.fixture
def v4_seamless(client) -> V4:
    return V4(client, SEAMLESS_TOKEN)


@pytest.fixture
def other(client) -> V4:
    """A second transfer-mode agent, ``other``, created through the back office."""
    response = client.post(
        "/admin/api/agents",
        json={"name": "other", "kind": "agent", "parent": "demo_operator", "points": 1000},
    )
    assert response.status_code == 201
    return V4(client, response.get_json()["api_token"])
