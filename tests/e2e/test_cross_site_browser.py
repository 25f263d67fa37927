"""A page of another site cannot write to the simulator from a developer's browser (issue 15).

The simulator runs as ``make run`` leaves it: on loopback, no admin token.  A page served from
another loopback origin posts a points transfer and a fault rule the way a page can without
a CORS pre-flight - ``fetch`` with ``mode: "no-cors"``, a ``text/plain`` body - and also
tries a JSON ``fetch`` (which the browser pre-flights).  Before, the transfer moved 999 points
and the fault rule was added.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from .conftest import free_port

pytestmark = pytest.mark.e2e

ATTACK = """<!doctype html>
<title>loading</title>
<script>
const transfer = JSON.stringify({{"from": "demo_operator", "to": "demo", "amount": 999}});
const rule = JSON.stringify({{"agent": "demo", "target": "api", "effect": {{"code": 1018}}}});
Promise.allSettled([
  fetch("{sim}/admin/api/points/transfer", {{method: "POST", mode: "no-cors", body: transfer}}),
  fetch("{sim}/control/faults", {{method: "POST", mode: "no-cors", body: rule}}),
  fetch("{sim}/admin/api/points/transfer",
        {{method: "POST", headers: {{"Content-Type": "application/json"}}, body: transfer}}),
]).then(() => {{ document.title = "sent"; }});
</script>
"""


@pytest.fixture
def attacker(live) -> Iterator[str]:
    """Another origin (another loopback port) serving the attacking page."""
    page = ATTACK.format(sim=live.base_url)
    port = free_port()
    server = make_server(
        "127.0.0.1", port, lambda environ, start: Response(page, mimetype="text/html")(environ, start)
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_a_page_of_another_origin_moves_no_points_and_adds_no_fault_rule(browser, live, attacker):
    points = requests.get(f"{live.base_url}/admin/api/agents/demo", timeout=10).json()["points"]
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(attacker)
        page.wait_for_function("document.title === 'sent'")
    finally:
        context.close()
    assert requests.get(f"{live.base_url}/admin/api/agents/demo", timeout=10).json()["points"] == points
    assert requests.get(f"{live.base_url}/control/faults", timeout=10).json() == []
