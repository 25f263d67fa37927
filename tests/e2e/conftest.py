"""Browser tests: the simulator on a free loopback port, driven by Debian's Chromium.

Playwright (the PyPI package) only drives the browser; the browser itself is
``/usr/bin/chromium`` from Debian, installed by ``make browser``, never by
``playwright install``.  A missing browser fails the tests loudly instead of
skipping them, so a CI job without Chromium cannot pass by accident.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from simulator import create_app
from tests.conftest import DEMO_TOKEN, make_settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RESULTS = Path(__file__).resolve().parents[2] / "test-results"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveSimulator:
    base_url: str
    app: Any

    @property
    def sim(self) -> Any:
        return self.app.extensions["scorpio"]

    def v4(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A ``/v4`` call over HTTP with the demo agent's token; returns ``data`` of a code-0 answer."""
        response = requests.post(
            f"{self.base_url}/v4/{path}",
            json=body,
            headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
            timeout=10,
        )
        envelope = response.json()
        assert envelope["code"] == 0, f"/v4/{path} answered {envelope}"
        return envelope["data"]


@pytest.fixture
def live() -> Iterator[LiveSimulator]:
    """A fresh simulator per test, served by werkzeug (threaded) in a background thread."""
    port = free_port()
    app = create_app(make_settings(bind=f"127.0.0.1:{port}"))
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-simulator", daemon=True)
    thread.start()
    try:
        yield LiveSimulator(f"http://127.0.0.1:{port}", app)
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. "
            "Install it with `make browser` (apt-get install chromium).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Tab:
    """A browser page plus what it logged: console errors and requests leaving the simulator."""

    page: Any
    console_errors: list[str]
    foreign_requests: list[str]


@pytest.fixture
def tab(browser: Any, live: LiveSimulator) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    tab = Tab(page, [], [])

    def on_console(message: Any) -> None:
        if message.type == "error":
            tab.console_errors.append(message.text)

    def on_request(request: Any) -> None:
        if not request.url.startswith((live.base_url, "data:")):
            tab.foreign_requests.append(request.url)

    page.on("console", on_console)
    page.on("request", on_request)
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def results_dir() -> Path:
    RESULTS.mkdir(exist_ok=True)
    return RESULTS
