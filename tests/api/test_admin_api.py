"""The back-office JSON API, ``/admin/api`` (control-api.md), through Flask's test client."""

from __future__ import annotations

import pytest

from simulator import create_app
from tests.conftest import DEMO_TOKEN, DEMO_USER, V4, make_settings

SETTING_KEYS = {
    "allowed_ips",
    "callback_url",
    "callback_token",
    "callback_dialect",
    "rtp",
    "min_bet",
    "max_bet",
    "max_win",
    "bonus_call_enabled",
    "call_min",
    "approved",
    "disabled",
    "currency",
    "providers",
}
TREE_KEYS = {"name", "kind", "parent", "currency", "points", "mode", "approved", "disabled", "children"}
#: Every route of ``simulator/backoffice/admin_api.py``: (method, path, body, status with the token).
ADMIN_ROUTES = [
    ("GET", "/admin/api/agents", None, 200),
    ("POST", "/admin/api/agents", {"name": "x1", "kind": "agent", "parent": "demo"}, 201),
    ("GET", "/admin/api/agents/demo", None, 200),
    ("PATCH", "/admin/api/agents/demo", {"rtp": 90}, 200),
    ("POST", "/admin/api/agents/demo/api-token", None, 200),
    ("POST", "/admin/api/points/transfer", {"from": "demo_operator", "to": "demo", "amount": 1}, 200),
    ("GET", "/admin/api/agents/demo/point-transactions", None, 200),
    ("GET", "/admin/api/agents/demo/users", None, 200),
]
#: Every route of ``simulator/control/api.py`` but the open health check.
CONTROL_ROUTES = [
    ("POST", "/control/reset", {}, 200),
    ("GET", "/control/clock", None, 200),
    ("POST", "/control/clock", {"freeze": True}, 200),
    ("GET", "/control/maintenance", None, 200),
    ("POST", "/control/maintenance", {"scope": "platform", "on": True}, 200),
    ("POST", "/control/faults", {"target": "api", "effect": {"code": 1018}}, 201),
    ("GET", "/control/faults", None, 200),
    ("DELETE", "/control/faults/1", None, 404),  # a fresh app has no rule 1: past the guard
    ("DELETE", "/control/faults", None, 204),
    ("GET", "/control/journal", None, 200),
    ("DELETE", "/control/journal", None, 204),
]


def _agent(client, name: str) -> dict:
    response = client.get(f"/admin/api/agents/{name}")
    assert response.status_code == 200
    return response.get_json()


def _points(client, name: str) -> int | float:
    return _agent(client, name)["points"]


def _error(response, status: int) -> str:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]
    return body["error"]


# -- the tree ------------------------------------------------------------------
def test_the_tree_has_one_root_with_the_documented_shape(client):
    [root] = client.get("/admin/api/agents").get_json()
    assert set(root) == TREE_KEYS
    assert {k: root[k] for k in TREE_KEYS - {"children", "points"}} == {
        "name": "scorpio_broker",
        "kind": "broker",
        "parent": None,
        "currency": 1,
        "mode": "transfer",
        "approved": True,
        "disabled": False,
    }


def test_the_tree_nests_operator_and_agents(client):
    [root] = client.get("/admin/api/agents").get_json()
    [operator] = root["children"]
    assert (operator["name"], operator["parent"]) == ("demo_operator", "scorpio_broker")
    agents = {c["name"]: c for c in operator["children"]}
    assert {name: (a["mode"], a["points"], a["children"]) for name, a in agents.items()} == {
        "demo": ("transfer", 1000000, []),
        "demo_seamless": ("seamless", 1000000, []),
    }


# -- creating agents --------------------------------------------------------------
def test_creating_an_agent_answers_201_with_its_tokens(client):
    response = client.post(
        "/admin/api/agents", json={"name": "casino2", "kind": "agent", "parent": "demo_operator"}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"name", "api_token", "callback_token"}
    assert body["name"] == "casino2"
    assert _agent(client, "casino2")["api_token"] == body["api_token"]


def test_a_created_agents_token_works_on_v4(client):
    body = client.post(
        "/admin/api/agents", json={"name": "casino2", "kind": "agent", "parent": "demo"}
    ).get_json()
    answer = V4(client, body["api_token"])("agent/info")
    assert (answer.code, answer.data["name"], answer.data["balance"]) == (0, "casino2", 0)


def test_points_given_at_creation_are_taken_from_the_parent(client):
    client.post(
        "/admin/api/agents", json={"name": "casino2", "kind": "agent", "parent": "demo", "points": 2500}
    )
    assert (_points(client, "casino2"), _points(client, "demo")) == (2500, 997500)


def test_a_new_agent_appears_under_its_parent_in_the_tree(client):
    client.post("/admin/api/agents", json={"name": "op2", "kind": "operator", "parent": "scorpio_broker"})
    [root] = client.get("/admin/api/agents").get_json()
    assert [c["name"] for c in root["children"]] == ["demo_operator", "op2"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x1", "kind": "agent", "parent": "demo", "colour": "red"},
        {"name": "x1", "kind": "casino", "parent": "demo"},
        {"name": "x1", "kind": "agent", "parent": "scorpio_broker"},
        {"name": "x1", "kind": "operator", "parent": "demo"},
        {"name": "x1", "kind": "agent"},
        {"name": "x", "kind": "agent", "parent": "demo"},
        {"name": "bad name", "kind": "agent", "parent": "demo"},
        {"kind": "agent", "parent": "demo"},
        {"name": "x1", "kind": "agent", "parent": "demo", "points": -1},
        {"name": "x1", "kind": "agent", "parent": "demo", "points": "lots"},
        {"name": "x1", "kind": "agent", "parent": "demo", "currency": 99},
    ],
)
def test_creating_with_bad_input_is_400(client, body):
    _error(client.post("/admin/api/agents", json=body), 400)
    assert client.get("/admin/api/agents/x1").status_code == 404


def test_creating_under_an_unknown_parent_is_404(client):
    _error(client.post("/admin/api/agents", json={"name": "x1", "kind": "agent", "parent": "ghost"}), 404)


def test_creating_with_more_points_than_the_parent_holds_is_409(client):
    response = client.post(
        "/admin/api/agents", json={"name": "x1", "kind": "agent", "parent": "demo", "points": 1000001}
    )
    _error(response, 409)
    assert _points(client, "demo") == 1000000


def test_creating_a_duplicate_name_in_another_case_is_409(client):
    _error(
        client.post("/admin/api/agents", json={"name": "DEMO", "kind": "agent", "parent": "demo_operator"}),
        409,
    )


def test_a_malformed_json_body_is_400(client):
    _error(client.post("/admin/api/agents", data="{oops", content_type="application/json"), 400)


def test_a_json_array_body_is_400(client):
    _error(client.post("/admin/api/agents", json=[]), 400)


# -- reading and changing an agent ------------------------------------------------
def test_an_agent_shows_every_setting_and_its_tokens(client):
    agent = _agent(client, "demo")
    assert set(agent) >= SETTING_KEYS
    assert agent["api_token"] == DEMO_TOKEN
    assert (agent["name"], agent["kind"], agent["parent"], agent["mode"]) == (
        "demo",
        "agent",
        "demo_operator",
        "transfer",
    )
    assert (agent["rtp"], agent["min_bet"], agent["max_bet"], agent["call_min"]) == (95, 100, 100000, 1000)


def test_an_unknown_agent_is_404(client):
    assert "ghost" in _error(client.get("/admin/api/agents/ghost"), 404)


def test_agents_are_addressed_case_insensitively(client):
    assert _agent(client, "DEMO")["name"] == "demo"


def test_patch_changes_settings_and_answers_the_agent(client):
    response = client.patch("/admin/api/agents/demo", json={"max_win": 50000, "bonus_call_enabled": False})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["max_win"], body["bonus_call_enabled"], body["name"]) == (50000, False, "demo")
    assert _agent(client, "demo")["max_win"] == 50000


def test_patch_with_an_unknown_key_is_400_and_changes_nothing(client):
    _error(client.patch("/admin/api/agents/demo", json={"rtp": 80, "colour": "red"}), 400)
    assert _agent(client, "demo")["rtp"] == 95


def test_patch_of_an_unknown_agent_is_404(client):
    _error(client.patch("/admin/api/agents/ghost", json={"rtp": 80}), 404)


def test_patch_accepts_allowed_ips_separated_by_spaces_and_newlines(client):
    response = client.patch("/admin/api/agents/demo", json={"allowed_ips": "10.0.0.1 10.0.0.2\n::1"})
    assert response.get_json()["allowed_ips"] == "10.0.0.1 10.0.0.2\n::1"


def test_allowed_ips_take_effect_on_v4(client, v4):
    client.patch("/admin/api/agents/demo", json={"allowed_ips": "10.0.0.1"})
    assert v4("agent/info", remote_addr="10.0.0.2").code == 1020
    assert v4("agent/info", remote_addr="10.0.0.1").code == 0


@pytest.mark.parametrize("value", ["not-an-ip", "10.0.0.1 10.0.0.256", "10.0.0.0/8"])
def test_patch_with_an_invalid_allowed_ip_is_400(client, value):
    _error(client.patch("/admin/api/agents/demo", json={"allowed_ips": value}), 400)
    assert _agent(client, "demo")["allowed_ips"] == ""


@pytest.mark.parametrize(
    "url", ["ftp://wallet.example/cb", "wallet.example/cb", "http://", "javascript:alert(1)"]
)
def test_patch_with_a_callback_url_that_is_not_http_is_400(client, url):
    _error(client.patch("/admin/api/agents/demo", json={"callback_url": url}), 400)
    assert _agent(client, "demo")["mode"] == "transfer"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8090/cb\r\nX-Injected: 1",
        "http://127.0.0.1:8090/cb\n",
        "http://127.0.0.1:8090/c\tb",
        "http://127.0.0.1:8090/cb\x00",
        "http://127.0.0.1:8090/cb\x7f",
    ],
)
def test_patch_with_a_control_character_in_the_callback_url_is_400(client, url):
    """Issue 15: ``urlparse`` drops CR, LF and TAB, so such a URL passed as http and was kept."""
    error = _error(client.patch("/admin/api/agents/demo", json={"callback_url": url}), 400)
    assert error == "callback_url: must not contain control characters (CR, LF, TAB, ...)"
    assert _agent(client, "demo")["callback_url"] == ""


def test_setting_a_callback_url_switches_the_mode_to_seamless(client):
    body = client.patch(
        "/admin/api/agents/demo", json={"callback_url": "https://wallet.example/cb"}
    ).get_json()
    assert (body["callback_url"], body["mode"]) == ("https://wallet.example/cb", "seamless")


def test_emptying_the_callback_url_switches_the_mode_to_transfer(client):
    body = client.patch("/admin/api/agents/demo_seamless", json={"callback_url": ""}).get_json()
    assert body["mode"] == "transfer"


def test_after_switching_mode_old_users_are_2002_on_v4(client, v4):
    client.patch("/admin/api/agents/demo", json={"callback_url": "http://127.0.0.1:9/cb"})
    assert v4("user/info", {"user_code": DEMO_USER}).code == 2002


def test_rtp_0_restores_the_platform_default_95(client):
    client.patch("/admin/api/agents/demo", json={"rtp": 80})
    assert client.patch("/admin/api/agents/demo", json={"rtp": 0}).get_json()["rtp"] == 95


@pytest.mark.parametrize(
    "body",
    [
        {"rtp": 74},
        {"rtp": 96},
        {"callback_dialect": "v5"},
        {"currency": 99},
        {"providers": [999]},
        {"approved": "maybe"},
        {"min_bet": -1},
    ],
)
def test_patch_with_an_invalid_value_is_400(client, body):
    _error(client.patch("/admin/api/agents/demo", json=body), 400)


def test_patch_disabled_makes_the_agent_2001_on_v4(client, v4):
    client.patch("/admin/api/agents/demo", json={"disabled": True})
    assert v4("agent/info").code == 2001


# -- tokens ------------------------------------------------------------------------
def test_a_reissued_api_token_is_returned_and_shown(client):
    response = client.post("/admin/api/agents/demo/api-token")
    assert response.status_code == 200
    token = response.get_json()["api_token"]
    assert token != DEMO_TOKEN
    assert _agent(client, "demo")["api_token"] == token


def test_the_old_token_answers_1009_at_once_and_the_new_one_works(client, v4):
    token = client.post("/admin/api/agents/demo/api-token").get_json()["api_token"]
    assert v4("agent/info").code == 1009
    assert v4("agent/info", token=token).code == 0


def test_reissuing_the_token_of_an_unknown_agent_is_404(client):
    _error(client.post("/admin/api/agents/ghost/api-token"), 404)


# -- points ------------------------------------------------------------------------
def test_a_grant_answers_both_balances(client):
    response = client.post(
        "/admin/api/points/transfer", json={"from": "demo_operator", "to": "demo", "amount": 500}
    )
    assert response.status_code == 200
    operator_before = 5870000
    assert response.get_json() == {
        "kind": "grant",
        "amount": 500,
        "from": {"name": "demo_operator", "points": operator_before - 500},
        "to": {"name": "demo", "points": 1000500},
    }


def test_a_recall_answers_both_balances(client):
    response = client.post(
        "/admin/api/points/transfer", json={"from": "demo", "to": "demo_operator", "amount": 0.5}
    )
    assert response.get_json() == {
        "kind": "recall",
        "amount": 0.5,
        "from": {"name": "demo", "points": 999999.5},
        "to": {"name": "demo_operator", "points": 5870000.5},
    }


def test_a_granted_point_shows_in_agent_info(client, v4):
    client.post("/admin/api/points/transfer", json={"from": "demo_operator", "to": "demo", "amount": 500})
    assert v4("agent/info").data["balance"] == 1000500


def test_a_transfer_beyond_the_source_points_is_409_and_changes_nothing(client):
    response = client.post(
        "/admin/api/points/transfer", json={"from": "demo", "to": "demo_operator", "amount": 1000001}
    )
    _error(response, 409)
    assert (_points(client, "demo"), _points(client, "demo_operator")) == (1000000, 5870000)


@pytest.mark.parametrize(("source", "target"), [("scorpio_broker", "demo"), ("demo", "demo_seamless")])
def test_a_transfer_between_agents_that_are_not_parent_and_child_is_409(client, source, target):
    _error(client.post("/admin/api/points/transfer", json={"from": source, "to": target, "amount": 1}), 409)


def test_a_transfer_with_an_unknown_agent_is_404(client):
    _error(client.post("/admin/api/points/transfer", json={"from": "demo", "to": "ghost", "amount": 1}), 404)


@pytest.mark.parametrize(
    "body",
    [
        {"from": "demo_operator", "to": "demo", "amount": 0},
        {"from": "demo_operator", "to": "demo", "amount": -5},
        {"from": "demo_operator", "to": "demo", "amount": 0.00001},
        {"from": "demo_operator", "to": "demo"},
        {"from": "demo_operator", "to": "demo", "amount": 1, "note": "x"},
    ],
)
def test_a_transfer_with_bad_input_is_400(client, body):
    _error(client.post("/admin/api/points/transfer", json=body), 400)


def test_point_transactions_are_newest_first(client):
    client.post("/admin/api/points/transfer", json={"from": "demo_operator", "to": "demo", "amount": 500})
    client.post("/admin/api/points/transfer", json={"from": "demo", "to": "demo_operator", "amount": 200})
    rows = client.get("/admin/api/agents/demo/point-transactions").get_json()
    assert [(r["kind"], r["from"], r["to"], r["amount"]) for r in rows] == [
        ("recall", "demo", "demo_operator", 200),
        ("grant", "demo_operator", "demo", 500),
        ("grant", "demo_operator", "demo", 3130000),
    ]
    assert rows[0]["id"] > rows[1]["id"] > rows[2]["id"]
    assert (rows[0]["from_points"], rows[0]["to_points"]) == (1000300, 5869700)


def test_point_transactions_of_the_root_broker_include_its_issue(client):
    rows = client.get("/admin/api/agents/scorpio_broker/point-transactions").get_json()
    assert (rows[-1]["kind"], rows[-1]["from"], rows[-1]["to"], rows[-1]["amount"]) == (
        "issue",
        None,
        "scorpio_broker",
        100000000,
    )


def test_point_transactions_of_an_unknown_agent_are_404(client):
    _error(client.get("/admin/api/agents/ghost/point-transactions"), 404)


# -- users -------------------------------------------------------------------------
def test_users_lists_the_agents_players_in_user_code_order(client, sim):
    rows = client.get("/admin/api/agents/demo/users").get_json()
    assert len(rows) == 25
    assert [r["user_code"] for r in rows] == list(range(400000001, 400000026))
    first = sim.world.store.user(DEMO_USER)
    assert rows[0] == {
        "user_code": DEMO_USER,
        "name": "test1234",
        "mode": "transfer",
        "balance": int(first.balance),
        "last_balance": 0,
        "active": True,
    }


def test_users_show_a_deposit_made_through_v4(client, v4, sim):
    before = sim.world.store.user(DEMO_USER).balance
    v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 250})
    rows = client.get("/admin/api/agents/demo/users").get_json()
    assert rows[0]["balance"] == int(before) + 250


def test_users_of_an_unknown_agent_are_404(client):
    _error(client.get("/admin/api/agents/ghost/users"), 404)


# -- errors are JSON ---------------------------------------------------------------
def test_an_unknown_admin_path_is_a_json_404(client):
    _error(client.get("/admin/api/nothing-here"), 404)


def test_a_wrong_method_is_a_json_405(client):
    _error(client.delete("/admin/api/agents"), 405)


# -- protection ----------------------------------------------------------------------
@pytest.fixture
def locked_client():
    return create_app(make_settings(admin_token="s3cret")).test_client()


@pytest.mark.parametrize(("method", "path", "body", "status"), ADMIN_ROUTES + CONTROL_ROUTES)
def test_with_an_admin_token_every_request_without_it_is_401(locked_client, method, path, body, status):
    _error(locked_client.open(path, method=method, json=body), 401)


@pytest.mark.parametrize(("method", "path", "body", "status"), ADMIN_ROUTES + CONTROL_ROUTES)
def test_with_an_admin_token_a_wrong_token_is_401(locked_client, method, path, body, status):
    _error(locked_client.open(path, method=method, json=body, headers={"X-Admin-Token": "s3cret!"}), 401)


@pytest.mark.parametrize(("method", "path", "body", "status"), ADMIN_ROUTES + CONTROL_ROUTES)
def test_with_an_admin_token_the_right_token_is_let_in(locked_client, method, path, body, status):
    response = locked_client.open(path, method=method, json=body, headers={"X-Admin-Token": "s3cret"})
    assert response.status_code == status


@pytest.mark.parametrize("path", ["/admin/api/nothing-here", "/admin", "/control/nothing-here"])
def test_with_an_admin_token_unknown_paths_are_401_too(locked_client, path):
    _error(locked_client.get(path), 401)


def test_with_an_admin_token_unknown_paths_with_the_token_are_404(locked_client):
    _error(locked_client.get("/admin/api/nothing-here", headers={"X-Admin-Token": "s3cret"}), 404)


def test_with_an_admin_token_health_stays_open(locked_client):
    assert locked_client.get("/control/health").status_code == 200


def test_with_an_admin_token_v4_needs_no_admin_token(locked_client):
    assert V4(locked_client)("agent/info").code == 0


def test_a_non_loopback_bind_without_a_token_generates_one():
    app = create_app(make_settings(bind="0.0.0.0:8080"))
    token = app.config["SCORPIO_ADMIN_TOKEN"]
    assert len(token) >= 16
    client = app.test_client()
    _error(client.get("/admin/api/agents"), 401)
    _error(client.get("/control/clock"), 401)
    assert client.get("/admin/api/agents", headers={"X-Admin-Token": token}).status_code == 200


def test_two_non_loopback_apps_generate_different_tokens():
    first = create_app(make_settings(bind="0.0.0.0:8080")).config["SCORPIO_ADMIN_TOKEN"]
    second = create_app(make_settings(bind="0.0.0.0:8080")).config["SCORPIO_ADMIN_TOKEN"]
    assert first != second


def test_a_loopback_bind_without_a_token_is_open(client, app):
    assert app.config["SCORPIO_ADMIN_TOKEN"] == ""
    assert client.get("/admin/api/agents").status_code == 200
