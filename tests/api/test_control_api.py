"""The test-control API, ``/control`` (control-api.md), through Flask's test client."""

from __future__ import annotations

import time

import pytest

from simulator import __version__, create_app
from tests.conftest import DEMO_TOKEN, DEMO_USER, V4, make_settings

USER_INFO = {"user_code": DEMO_USER}
JOURNAL_KEYS = {"time", "agent", "path", "client_ip", "body", "code", "duration_ms"}


def _fault(client, rule: dict) -> int:
    response = client.post("/control/faults", json=rule)
    assert response.status_code == 201
    return response.get_json()["id"]


def _error(response, status: int) -> str:
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]
    return body["error"]


def _names(client) -> list[str]:
    return [row["name"] for row in client.get("/admin/api/agents/demo/users").get_json()]


# -- health -------------------------------------------------------------------------
def test_health_answers_ok_and_the_version(client):
    response = client.get("/control/health")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok", "version": __version__})


# -- reset --------------------------------------------------------------------------
def test_reset_answers_the_fixtures_and_seed(client, settings):
    body = client.post("/control/reset", json={}).get_json()
    assert body == {"fixtures": str(settings.fixtures_dir), "seed": settings.seed}


def test_reset_undoes_a_deposit(client, v4):
    before = v4("user/info", USER_INFO).data["balance"]
    assert v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 500}).code == 0
    client.post("/control/reset")
    assert v4("user/info", USER_INFO).data["balance"] == before
    assert v4("agent/info").data["balance"] == 1000000


def test_reset_undoes_a_new_agent(client):
    client.post("/admin/api/agents", json={"name": "casino2", "kind": "agent", "parent": "demo"})
    client.post("/control/reset")
    assert client.get("/admin/api/agents/casino2").status_code == 404


def test_reset_clears_the_fault_rules(client, v4):
    _fault(client, {"target": "api", "effect": {"code": 1018}})
    client.post("/control/reset")
    assert client.get("/control/faults").get_json() == []
    assert v4("agent/info").code == 0


def test_reset_clears_the_journal(client, v4):
    v4("agent/info")
    client.post("/control/reset")
    assert client.get("/control/journal").get_json() == []


def test_reset_clears_the_clock_offset_and_unfreezes(client):
    client.post("/control/clock", json={"freeze": True, "set": "2030-06-01T00:00:00Z"})
    client.post("/control/reset")
    state = client.get("/control/clock").get_json()
    assert state["frozen"] is False
    assert not state["now"].startswith("2030")


def test_reset_clears_maintenance(client, v4):
    client.post("/control/maintenance", json={"scope": "platform", "on": True})
    client.post("/control/reset")
    assert v4("agent/info").code == 0


def test_reset_with_the_same_seed_gives_the_same_players(client):
    before = _names(client)
    client.post("/control/reset", json={})
    assert _names(client) == before


def test_reset_with_another_seed_gives_other_player_names(client):
    before = _names(client)
    assert client.post("/control/reset", json={"seed": 7}).get_json()["seed"] == 7
    after = _names(client)
    assert (after[0], len(after)) == ("test1234", 25)
    assert after[1:] != before[1:]


def test_reset_without_a_seed_returns_to_the_default_seed(client):
    before = _names(client)
    client.post("/control/reset", json={"seed": 7})
    client.post("/control/reset", json={})
    assert _names(client) == before


def test_reset_with_a_missing_fixtures_path_is_400(client, tmp_path):
    assert "catalogue.json" in _error(client.post("/control/reset", json={"fixtures": str(tmp_path)}), 400)


def test_a_failed_reset_keeps_the_current_world(client, v4, tmp_path):
    v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 500})
    client.post("/control/reset", json={"fixtures": str(tmp_path)})
    assert v4("agent/info").data["balance"] == 999500


@pytest.mark.parametrize("body", [{"seed": "7"}, {"seed": True}, {"seed": 1.5}, {"fixtures": 5}])
def test_reset_with_a_bad_value_is_400(client, body):
    _error(client.post("/control/reset", json=body), 400)


# -- clock ----------------------------------------------------------------------------
def test_the_clock_runs_by_default(client):
    state = client.get("/control/clock").get_json()
    assert set(state) == {"now", "frozen"}
    assert state["frozen"] is False
    assert state["now"].endswith("Z")


def test_a_frozen_clock_answers_the_same_time_twice(client):
    frozen = client.post("/control/clock", json={"freeze": True}).get_json()
    assert frozen["frozen"] is True
    time.sleep(0.01)
    assert client.get("/control/clock").get_json() == frozen


def test_set_moves_the_clock_to_that_time(client):
    client.post("/control/clock", json={"freeze": True})
    state = client.post("/control/clock", json={"set": "2030-01-02T03:04:05Z"}).get_json()
    assert state == {"now": "2030-01-02T03:04:05Z", "frozen": True}


def test_set_without_a_timezone_means_utc(client):
    client.post("/control/clock", json={"freeze": True})
    assert (
        client.post("/control/clock", json={"set": "2030-01-02T03:04:05"}).get_json()["now"]
        == "2030-01-02T03:04:05Z"
    )


def test_advance_moves_a_frozen_clock_by_exactly_that_many_seconds(client):
    client.post("/control/clock", json={"freeze": True, "set": "2030-01-02T03:04:05Z"})
    assert client.post("/control/clock", json={"advance": 90}).get_json()["now"] == "2030-01-02T03:05:35Z"


def test_advance_accepts_fractions_of_a_second(client):
    client.post("/control/clock", json={"freeze": True, "set": "2030-01-02T03:04:05Z"})
    assert (
        client.post("/control/clock", json={"advance": 0.5}).get_json()["now"]
        == "2030-01-02T03:04:05.500000Z"
    )


def test_unfreezing_keeps_the_clock_where_it_was_set(client):
    client.post("/control/clock", json={"freeze": True, "set": "2030-01-02T03:04:05Z"})
    state = client.post("/control/clock", json={"freeze": False}).get_json()
    assert state["frozen"] is False
    assert state["now"].startswith("2030-01-02T03:04:")


def test_the_journal_uses_the_simulators_clock(client, v4):
    client.post("/control/clock", json={"freeze": True, "set": "2030-01-02T03:04:05Z"})
    v4("agent/info")
    assert client.get("/control/journal").get_json()[0]["time"] == "2030-01-02T03:04:05+00:00"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"freeze": "yes"},
        {"advance": -1},
        {"advance": "60"},
        {"advance": True},
        {"set": "next tuesday"},
        {"set": "1969-12-31T23:59:59Z"},
        {"set": "9999-12-31T23:59:59Z"},
        {"advance": 10**12},
    ],
)
def test_a_bad_clock_move_is_400_and_changes_nothing(client, body):
    client.post("/control/clock", json={"freeze": True, "set": "2030-01-02T03:04:05Z"})
    _error(client.post("/control/clock", json=body), 400)
    assert client.get("/control/clock").get_json() == {"now": "2030-01-02T03:04:05Z", "frozen": True}


@pytest.mark.parametrize("raw", ['{"advance": 1e400}', '{"advance": NaN}', '{"advance": Infinity}'])
def test_a_non_finite_advance_is_400_and_v4_keeps_working(client, v4, raw):
    _error(client.post("/control/clock", data=raw, content_type="application/json"), 400)
    assert client.get("/control/clock").status_code == 200
    assert v4("agent/info").code == 0


# -- maintenance ------------------------------------------------------------------------
def test_platform_maintenance_answers_code_1_on_v4(client, v4):
    response = client.post("/control/maintenance", json={"scope": "platform", "on": True})
    assert response.get_json() == {"platform": True, "providers": [], "games": []}
    answer = v4("agent/info")
    assert (answer.status, answer.code) == (200, 1)


def test_platform_maintenance_off_restores_v4(client, v4):
    client.post("/control/maintenance", json={"scope": "platform", "on": True})
    client.post("/control/maintenance", json={"scope": "platform", "on": False})
    assert v4("agent/info").code == 0


def test_provider_maintenance_shows_status_2_in_game_providers(client, v4):
    client.post("/control/maintenance", json={"scope": "provider:1", "on": True})
    statuses = {p["provider_id"]: p["status"] for p in v4("game/providers", {"lang": 1}).data}
    assert statuses[1] == 2
    assert {s for pid, s in statuses.items() if pid != 1} == {1}


def test_provider_maintenance_leaves_other_endpoints_working(client, v4):
    client.post("/control/maintenance", json={"scope": "provider:1", "on": True})
    assert v4("agent/info").code == 0


def test_game_maintenance_is_listed_in_the_state(client):
    response = client.post("/control/maintenance", json={"scope": "game:1:vs20fruitsw", "on": True})
    assert response.get_json() == {"platform": False, "providers": [], "games": ["1:vs20fruitsw"]}
    assert client.get("/control/maintenance").get_json()["games"] == ["1:vs20fruitsw"]


@pytest.mark.parametrize(
    "body",
    [
        {"scope": "galaxy", "on": True},
        {"scope": "provider:999", "on": True},
        {"scope": "provider:abc", "on": True},
        {"scope": "game:1:no_such_game", "on": True},
        {"scope": "platform"},
        {"scope": "platform", "on": "yes"},
        {"on": True},
    ],
)
def test_a_bad_maintenance_request_is_400(client, body):
    _error(client.post("/control/maintenance", json=body), 400)
    assert client.get("/control/maintenance").get_json() == {"platform": False, "providers": [], "games": []}


# -- fault rules ------------------------------------------------------------------------
def test_adding_a_fault_answers_201_with_its_id(client):
    response = client.post("/control/faults", json={"target": "api", "effect": {"code": 1018}})
    assert (response.status_code, response.get_json()) == (201, {"id": 1})


def test_faults_are_listed_with_how_often_they_fired(client, v4):
    _fault(client, {"agent": "demo", "target": "api:/v4/user/info", "effect": {"code": 1018}, "after": 1})
    v4("user/info", USER_INFO)
    v4("user/info", USER_INFO)
    v4("agent/info")
    assert client.get("/control/faults").get_json() == [
        {
            "id": 1,
            "agent": "demo",
            "target": "api:/v4/user/info",
            "effect": {"code": 1018},
            "times": None,
            "after": 1,
            "probability": 1.0,
            "matched": 2,
            "fired": 1,
        }
    ]


def test_deleting_one_fault_answers_204_and_removes_only_it(client):
    _fault(client, {"target": "api", "effect": {"code": 1018}})
    _fault(client, {"target": "api", "effect": {"drop": True}})
    response = client.delete("/control/faults/1")
    assert (response.status_code, response.data) == (204, b"")
    assert [rule["id"] for rule in client.get("/control/faults").get_json()] == [2]


def test_deleting_an_unknown_fault_is_404(client):
    _error(client.delete("/control/faults/99"), 404)


def test_deleting_all_faults_answers_204(client, v4):
    _fault(client, {"target": "api", "effect": {"code": 1018}})
    _fault(client, {"target": "api", "effect": {"code": 1}})
    assert client.delete("/control/faults").status_code == 204
    assert client.get("/control/faults").get_json() == []
    assert v4("agent/info").code == 0


def test_a_code_fault_on_one_path_answers_that_code_there(client, v4):
    _fault(client, {"target": "api:/v4/user/info", "effect": {"code": 1018}})
    answer = v4("user/info", USER_INFO)
    assert (answer.status, answer.body) == (200, {"code": 1018, "message": "SERVER_IS_BUSY"})


def test_a_code_fault_on_one_path_leaves_other_paths_alone(client, v4):
    _fault(client, {"target": "api:/v4/user/info", "effect": {"code": 1018}})
    assert v4("agent/info").code == 0


def test_a_code_fault_on_api_covers_every_path(client, v4):
    _fault(client, {"target": "api", "effect": {"code": 1001}})
    assert (v4("agent/info").code, v4("user/info", USER_INFO).code) == (1001, 1001)


def test_a_code_fault_has_no_side_effect(client, v4):
    _fault(client, {"target": "api:/v4/wallet/deposit", "effect": {"code": 1018}})
    assert v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 500}).code == 1018
    assert v4("agent/info").data["balance"] == 1000000


def test_a_fault_for_one_agent_leaves_other_agents_alone(client, v4, v4_seamless):
    _fault(client, {"agent": "demo_seamless", "target": "api", "effect": {"code": 1018}})
    assert (v4("agent/info").code, v4_seamless("agent/info").code) == (0, 1018)


def test_latency_delays_the_answer_by_at_least_that_long(client, v4):
    _fault(client, {"target": "api:/v4/agent/info", "effect": {"latency_ms": 50}})
    started = time.perf_counter()
    answer = v4("agent/info")
    assert time.perf_counter() - started >= 0.05
    assert answer.code == 0


def test_latency_shows_in_the_journal_duration(client, v4):
    _fault(client, {"target": "api:/v4/agent/info", "effect": {"latency_ms": 50}})
    v4("agent/info")
    assert client.get("/control/journal").get_json()[0]["duration_ms"] >= 50


def test_drop_answers_an_empty_444_under_the_test_client(client):
    _fault(client, {"target": "api", "effect": {"drop": True}})
    response = client.post("/v4/agent/info", headers={"Authorization": f"Bearer {DEMO_TOKEN}"})
    assert (response.status_code, response.data) == (444, b"")


def test_a_fault_with_times_fires_that_often_then_expires(client, v4):
    _fault(client, {"target": "api", "effect": {"code": 1018}, "times": 2})
    assert [v4("agent/info").code for _ in range(3)] == [1018, 1018, 0]
    assert client.get("/control/faults").get_json() == []


def test_a_fault_with_after_skips_that_many_calls_first(client, v4):
    _fault(client, {"target": "api", "effect": {"code": 1018}, "after": 2})
    assert [v4("agent/info").code for _ in range(4)] == [0, 0, 1018, 1018]


def test_a_fault_with_a_probability_is_reproducible_after_a_reset(client, v4):
    def run() -> list[int]:
        client.post("/control/reset", json={"seed": 11})
        _fault(client, {"target": "api", "effect": {"code": 1018}, "probability": 0.5})
        return [v4("agent/info").code for _ in range(20)]

    first = run()
    assert first == run()
    assert set(first) == {0, 1018}


def test_a_fault_does_not_fire_for_a_call_refused_by_an_earlier_guard(client, v4):
    _fault(client, {"target": "api", "effect": {"code": 1018}})
    assert v4("agent/info", token="not-a-token").code == 1009
    assert client.get("/control/faults").get_json()[0]["matched"] == 0


@pytest.mark.parametrize(
    "rule",
    [
        {"target": "callback:bet", "effect": {"skip": False}},
        {"target": "callback:win", "effect": {"cancel_after_ok": True}},
        {"target": "api", "effect": {"code": 9999}},
        {"target": "api", "effect": {"latency_ms": -5}},
        {"target": "api", "effect": {"code": 1018}, "times": 0},
        {"target": "api", "effect": {"code": 1018}, "probability": 0},
        {"target": "api", "effect": {"code": 1018}, "colour": "red"},
        {"target": "nowhere", "effect": {"code": 1018}},
    ],
)
def test_a_bad_fault_rule_is_400(client, rule):
    _error(client.post("/control/faults", json=rule), 400)
    assert client.get("/control/faults").get_json() == []


def test_a_fault_rule_that_is_not_an_object_is_400(client):
    _error(client.post("/control/faults", json=[{"target": "api"}]), 400)


# -- journal ------------------------------------------------------------------------------
def test_the_journal_records_a_v4_call(client, v4):
    v4("user/info", USER_INFO, remote_addr="10.1.2.3")
    [entry] = client.get("/control/journal").get_json()
    assert set(entry) >= JOURNAL_KEYS
    assert {k: entry[k] for k in ("agent", "path", "client_ip", "body", "code")} == {
        "agent": "demo",
        "path": "/v4/user/info",
        "client_ip": "10.1.2.3",
        "body": '{"user_code": 400000001}',
        "code": 0,
    }
    assert entry["duration_ms"] >= 0


def test_the_journal_records_a_failed_call_with_its_code(client, v4):
    v4("user/info", {"user_code": 400999999})
    assert client.get("/control/journal").get_json()[0]["code"] == 2002


def test_the_journal_records_an_unknown_token_without_an_agent(client, v4):
    v4("agent/info", token="not-a-token")
    [entry] = client.get("/control/journal").get_json()
    assert (entry["agent"], entry["code"]) == (None, 1009)


def test_the_journal_is_newest_first(client, v4):
    v4("agent/info")
    v4("user/info", USER_INFO)
    assert [e["path"] for e in client.get("/control/journal").get_json()] == [
        "/v4/user/info",
        "/v4/agent/info",
    ]


def test_the_journal_filters_by_agent(client, v4, v4_seamless):
    v4("agent/info")
    v4_seamless("agent/info")
    rows = client.get("/control/journal?agent=demo_seamless").get_json()
    assert [e["agent"] for e in rows] == ["demo_seamless"]


def test_the_journal_filters_by_path(client, v4):
    v4("agent/info")
    v4("user/info", USER_INFO)
    v4("agent/info")
    rows = client.get("/control/journal?path=/v4/agent/info").get_json()
    assert [e["path"] for e in rows] == ["/v4/agent/info", "/v4/agent/info"]


def test_the_journal_filters_by_code(client, v4):
    v4("agent/info")
    v4("user/info", {"user_code": 400999999})
    rows = client.get("/control/journal?code=2002").get_json()
    assert [(e["path"], e["code"]) for e in rows] == [("/v4/user/info", 2002)]


def test_the_journal_limit_keeps_the_newest(client, v4):
    for _ in range(3):
        v4("agent/info")
    v4("user/info", USER_INFO)
    rows = client.get("/control/journal?limit=2").get_json()
    assert [e["path"] for e in rows] == ["/v4/user/info", "/v4/agent/info"]


def test_a_non_integer_journal_filter_is_400(client):
    _error(client.get("/control/journal?code=abc"), 400)


def test_deleting_the_journal_answers_204_and_empties_it(client, v4):
    v4("agent/info")
    response = client.delete("/control/journal")
    assert (response.status_code, response.data) == (204, b"")
    assert client.get("/control/journal").get_json() == []


def test_control_calls_are_not_journalled(client):
    client.get("/control/clock")
    assert client.get("/control/journal").get_json() == []


# -- per-request override ---------------------------------------------------------------------
def test_x_sim_result_answers_that_code(v4):
    assert v4("agent/info", headers={"X-Sim-Result": "1018"}).code == 1018


def test_x_sim_result_has_no_side_effect(v4):
    answer = v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 500}, headers={"X-Sim-Result": "1001"})
    assert answer.code == 1001
    assert v4("agent/info").data["balance"] == 1000000


# -- SCORPIO_SIM_CONTROL=off ---------------------------------------------------------------------
@pytest.fixture
def uncontrolled_client():
    return create_app(make_settings(control=False)).test_client()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/control/health"),
        ("POST", "/control/reset"),
        ("GET", "/control/journal"),
        ("POST", "/control/faults"),
    ],
)
def test_with_control_off_control_paths_are_404(uncontrolled_client, method, path):
    _error(uncontrolled_client.open(path, method=method, json={}), 404)


def test_with_control_off_x_sim_result_is_ignored(uncontrolled_client):
    answer = V4(uncontrolled_client)("agent/info", headers={"X-Sim-Result": "1018"})
    assert (answer.code, answer.data["name"]) == (0, "demo")


def test_with_control_off_the_admin_api_stays(uncontrolled_client):
    assert uncontrolled_client.get("/admin/api/agents").status_code == 200
