"""Fault rules on ``api`` targets: ``times``, ``after`` and ``probability`` through HTTP (control-api.md)."""

from __future__ import annotations

import pytest

from tests.conftest import DEMO_TOKEN, DEMO_USER

USER_INFO = {"user_code": DEMO_USER}
BUSY = {"code": 1018}


def _fault(client, rule: dict) -> int:
    response = client.post("/control/faults", json=rule)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _rules(client) -> list[dict]:
    return client.get("/control/faults").get_json()


def _codes(v4, calls: int, path: str = "agent/info") -> list[int]:
    return [v4(path).code for _ in range(calls)]


def test_times_2_answers_the_code_exactly_twice_then_normally(client, v4):
    _fault(client, {"target": "api", "effect": {"code": 1001}, "times": 2})
    assert _codes(v4, 4) == [1001, 1001, 0, 0]


def test_a_rule_with_times_stays_listed_until_it_has_fired_that_often(client, v4):
    _fault(client, {"target": "api", "effect": BUSY, "times": 2})
    v4("agent/info")
    assert [(rule["matched"], rule["fired"]) for rule in _rules(client)] == [(1, 1)]
    v4("agent/info")
    assert _rules(client) == []


def test_after_3_answers_the_first_3_calls_normally_then_fires(client, v4):
    _fault(client, {"target": "api", "effect": BUSY, "after": 3})
    assert _codes(v4, 5) == [0, 0, 0, 1018, 1018]


def test_after_and_times_fire_only_the_calls_in_between(client, v4):
    _fault(client, {"target": "api", "effect": BUSY, "after": 1, "times": 2})
    assert _codes(v4, 4) == [0, 1018, 1018, 0]
    assert _rules(client) == []


def test_matched_and_fired_are_counted_separately(client, v4):
    _fault(client, {"target": "api", "effect": BUSY, "after": 2, "times": 5})
    _codes(v4, 4)
    [rule] = _rules(client)
    assert (rule["matched"], rule["fired"], rule["times"], rule["after"]) == (4, 2, 5, 2)


def test_an_agent_rule_is_not_used_up_by_another_agents_calls(client, v4, v4_seamless):
    _fault(client, {"agent": "demo", "target": "api", "effect": BUSY, "after": 1, "times": 1})
    assert _codes(v4_seamless, 3) == [0, 0, 0]
    assert [(rule["matched"], rule["fired"]) for rule in _rules(client)] == [(0, 0)]
    assert _codes(v4, 3) == [0, 1018, 0]


def test_a_path_rule_is_not_used_up_by_other_paths(client, v4):
    _fault(client, {"target": "api:/v4/user/info", "effect": BUSY, "after": 1, "times": 1})
    assert _codes(v4, 3, "agent/info") == [0, 0, 0]
    assert [v4("user/info", USER_INFO).code for _ in range(3)] == [0, 1018, 0]


def test_a_latency_rule_with_after_and_times_delays_only_the_calls_in_between(client, v4):
    _fault(client, {"target": "api:/v4/agent/info", "effect": {"latency_ms": 40}, "after": 1, "times": 1})
    _codes(v4, 3)
    slow = client.get("/control/journal?min_duration_ms=40&order=asc").get_json()
    everything = client.get("/control/journal?order=asc").get_json()
    assert [row["time"] for row in slow] == [everything[1]["time"]]
    assert [row["code"] for row in everything] == [0, 0, 0]


def test_a_drop_rule_with_after_and_times_drops_only_the_calls_in_between(client):
    _fault(client, {"target": "api", "effect": {"drop": True}, "after": 1, "times": 1})
    statuses = [
        client.post("/v4/agent/info", headers={"Authorization": f"Bearer {DEMO_TOKEN}"}).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 444, 200]


def _sequence(client, v4, seed: int | None, calls: int = 40) -> list[bool]:
    """Which of ``calls`` calls a ``probability: 0.5`` rule answered 1018, after a reset with ``seed``."""
    client.post("/control/reset", json={} if seed is None else {"seed": seed})
    _fault(client, {"target": "api", "effect": BUSY, "probability": 0.5})
    return [code == 1018 for code in _codes(v4, calls)]


def test_probability_gives_the_same_sequence_after_a_reset_with_the_same_seed(client, v4):
    first = _sequence(client, v4, 11)
    _sequence(client, v4, 12)
    assert _sequence(client, v4, 11) == first


def test_probability_gives_another_sequence_with_another_seed(client, v4):
    assert _sequence(client, v4, 11) != _sequence(client, v4, 12)


def test_probability_after_a_plain_reset_replays_the_sequence_of_a_fresh_start(client, v4):
    _fault(client, {"target": "api", "effect": BUSY, "probability": 0.5})
    fresh = [code == 1018 for code in _codes(v4, 40)]
    assert _sequence(client, v4, None) == fresh


def test_probability_half_fires_about_half_of_200_calls(client, v4):
    fired = sum(_sequence(client, v4, 7, calls=200))
    # Binomial(200, 0.5): 60..140 is more than 5.6 standard deviations either side.
    assert 60 <= fired <= 140
    [rule] = _rules(client)
    assert (rule["matched"], rule["fired"]) == (200, fired)


def test_probability_counts_towards_times_only_when_it_fires(client, v4):
    client.post("/control/reset", json={"seed": 7})
    _fault(client, {"target": "api", "effect": BUSY, "probability": 0.5, "times": 3})
    codes = _codes(v4, 60)
    assert codes.count(1018) == 3
    assert _rules(client) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("times", 0),
        ("times", -1),
        ("times", 1.5),
        ("times", True),
        ("times", "2"),
        ("after", -1),
        ("after", 1.5),
        ("after", True),
        ("probability", 0),
        ("probability", -0.5),
        ("probability", 1.5),
        ("probability", "x"),
        ("probability", True),
    ],
)
def test_a_bad_limit_is_400_naming_the_key(client, key, value):
    response = client.post("/control/faults", json={"target": "api", "effect": BUSY, key: value})
    assert response.status_code == 400
    assert f"'{key}'" in response.get_json()["error"]
    assert _rules(client) == []


@pytest.mark.parametrize(
    ("target", "effect"),
    [("api:/v4/user/infos", BUSY), ("api:/v4/user/info/", BUSY), ("callback:bett", {"skip": True})],
)
def test_a_rule_for_a_target_that_does_not_exist_is_400(client, target, effect):
    response = client.post("/control/faults", json={"target": target, "effect": effect})
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("'target': there is no ")


def test_a_probability_rule_draws_the_same_whatever_other_rules_see(client, v4, v4_seamless):
    """Each rule has its own seeded draw, so traffic covered by another rule (another agent, a
    background callback retry) cannot shift which of this rule's calls fire."""

    def demo_sequence(interleave: bool) -> list[bool]:
        client.post("/control/reset", json={"seed": 11})
        _fault(client, {"agent": "demo", "target": "api", "effect": BUSY, "probability": 0.5})
        _fault(client, {"agent": "demo_seamless", "target": "api", "effect": BUSY, "probability": 0.5})
        sequence = []
        for _ in range(30):
            if interleave:
                v4_seamless("agent/info")
            sequence.append(v4("agent/info").code == 1018)
        return sequence

    assert demo_sequence(interleave=True) == demo_sequence(interleave=False)


def test_a_rule_for_an_endpoint_the_api_lacks_is_refused_naming_the_path(client):
    response = client.post("/control/faults", json={"target": "api:/v4/user/infos", "effect": BUSY})
    assert response.status_code == 400
    assert response.get_json() == {"error": "'target': there is no endpoint /v4/user/infos"}
    assert _rules(client) == []


def test_a_rule_for_an_endpoint_the_api_has_is_kept(client, v4):
    _fault(client, {"target": "api:/v4/user/info", "effect": BUSY, "times": 1})
    assert [v4("agent/info").code, v4("user/info", USER_INFO).code] == [0, 1018]
