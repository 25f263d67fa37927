"""The 50-in-flight limit per agent with real concurrency, in process (spec 3.1 step 5, OP-6)."""

from __future__ import annotations

import threading

from tests.conftest import DEMO_TOKEN, SEAMLESS_TOKEN


def _concurrent_agent_info(app, tokens: list[str]) -> list[int]:
    barrier = threading.Barrier(len(tokens))
    codes: list[int] = []
    lock = threading.Lock()

    def call(token: str) -> None:
        client = app.test_client()
        barrier.wait()
        answer = client.post("/v4/agent/info", headers={"Authorization": f"Bearer {token}"})
        with lock:
            codes.append(answer.get_json()["code"])

    threads = [threading.Thread(target=call, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return codes


def test_sixty_concurrent_calls_with_a_500_ms_latency_give_50_answers_and_ten_1018(app, client):
    client.post("/control/faults", json={"agent": "demo", "target": "api", "effect": {"latency_ms": 500}})
    codes = _concurrent_agent_info(app, [DEMO_TOKEN] * 60)
    assert (codes.count(0), codes.count(1018)) == (50, 10)


def test_the_limit_is_per_agent(app, client):
    client.post("/control/faults", json={"target": "api", "effect": {"latency_ms": 500}})
    codes = _concurrent_agent_info(app, [DEMO_TOKEN] * 50 + [SEAMLESS_TOKEN] * 10)
    assert codes.count(0) == 60


def test_slots_come_back_after_the_burst(app, client, sim):
    client.post("/control/faults", json={"agent": "demo", "target": "api", "effect": {"latency_ms": 300}})
    _concurrent_agent_info(app, [DEMO_TOKEN] * 60)
    agent = sim.world.hierarchy.get("demo")
    assert sim.limiter.in_flight(f"agent:{agent.agent_id}") == 0
