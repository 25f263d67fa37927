"""``PATCH /admin/api/agents/<name>/users/<user_code>`` and ``GET /admin/api/agents/<name>/transactions``
(control-api.md) through Flask's test client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from simulator import create_app
from simulator.domain.sessions import LaunchRequest
from tests.conftest import DEMO_USER, ROW_KEYS, V4, make_settings

START = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
OTHER_USER = DEMO_USER + 1
SLOT = (1, "vs20fruitsw")
PAGE_KEYS = ["total", "offset", "count", "list"]
TOKEN = "admin-secret"


def _error(response, status: int) -> str:
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]
    return body["error"]


def _play(sim, user_code: int = DEMO_USER, stake: int = 100, multiplier: Fraction = Fraction(2)):
    agent = sim.world.hierarchy.get("demo")
    launch = sim.world.sessions.launch(agent, LaunchRequest(user_code, *SLOT, 1))
    session = sim.world.sessions.open(launch.token)
    sim.world.forced.push(agent.agent_id, sim.world.store.user(user_code).name, [multiplier])
    return sim.world.rounds.play(session, Decimal(stake))


@pytest.fixture
def desk(sim, v4):
    """The demo agent's two first players emptied, then the clock frozen at START.

    The fixture rows are months older than START, so the first read purges them
    and each test sees only its own rows.
    """
    for user_code in (DEMO_USER, OTHER_USER):
        assert v4("wallet/withdraw-all", {"user_code": user_code}).code == 0
    sim.clock.freeze(True)
    sim.clock.set(START)
    return sim


def at(sim, seconds: float) -> None:
    sim.clock.set(START + timedelta(seconds=seconds))


def deposit(v4: V4, amount: int, user_code: int = DEMO_USER) -> None:
    assert v4("wallet/deposit", {"user_code": user_code, "amount": amount}).code == 0


def listing(client, query: str = "", agent: str = "demo") -> dict:
    response = client.get(f"/admin/api/agents/{agent}/transactions{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# -- block and unblock ----------------------------------------------------------------
def test_blocking_a_player_answers_its_row(client):
    response = client.patch(f"/admin/api/agents/demo/users/{DEMO_USER}", json={"active": False})
    assert response.status_code == 200
    assert response.get_json() == {
        "user_code": DEMO_USER,
        "name": "test1234",
        "mode": "transfer",
        "balance": 10100,
        "last_balance": 0,
        "active": False,
    }


def test_a_blocked_player_shows_inactive_in_the_users_list(client):
    client.patch(f"/admin/api/agents/demo/users/{DEMO_USER}", json={"active": False})
    rows = {u["user_code"]: u["active"] for u in client.get("/admin/api/agents/demo/users").get_json()}
    assert rows[DEMO_USER] is False
    assert rows[OTHER_USER] is True


def test_a_blocked_players_rounds_are_refused_and_record_nothing(client, sim):
    client.patch(f"/admin/api/agents/demo/users/{DEMO_USER}", json={"active": False})
    before = len(sim.world.store.transactions_of(sim.world.hierarchy.get("demo").agent_id))
    body = {"agent": "demo", "user_code": DEMO_USER, "provider_id": 1, "game_code": "vs20fruitsw", "bet": 100}
    [result] = client.post("/control/play", json=body).get_json()
    assert (result["status"], result["error"]) == ("refused", "PERMISSION_ERROR")
    assert len(sim.world.store.transactions_of(sim.world.hierarchy.get("demo").agent_id)) == before


def test_an_unblocked_player_plays_again(client):
    client.patch(f"/admin/api/agents/demo/users/{DEMO_USER}", json={"active": False})
    response = client.patch(f"/admin/api/agents/demo/users/{DEMO_USER}", json={"active": True})
    assert response.get_json()["active"] is True
    body = {"agent": "demo", "user_code": DEMO_USER, "provider_id": 1, "game_code": "vs20fruitsw", "bet": 100}
    [result] = client.post("/control/play", json=body).get_json()
    assert result["status"] == "settled"


@pytest.mark.parametrize("user_code", ["400999999", "abc", "-1", "٤٠٠٠٠٠٠٠١"])
def test_blocking_an_unknown_user_is_404(client, user_code):
    _error(client.patch(f"/admin/api/agents/demo/users/{user_code}", json={"active": False}), 404)


def test_blocking_another_agents_user_is_404(client, sim):
    other = sim.world.hierarchy.get("demo_seamless")
    [code] = [u.user_code for u in sim.world.store.users_of(other.agent_id)]
    _error(client.patch(f"/admin/api/agents/demo/users/{code}", json={"active": False}), 404)
    assert sim.world.store.user(code).active is True


def test_blocking_for_an_unknown_agent_is_404(client):
    _error(client.patch(f"/admin/api/agents/nobody/users/{DEMO_USER}", json={"active": False}), 404)


@pytest.mark.parametrize(
    "body",
    [{}, {"active": "false"}, {"active": 0}, {"active": None}, {"active": False, "name": "x"}],
)
def test_blocking_with_a_bad_body_is_400_and_changes_nothing(client, sim, body):
    _error(client.patch(f"/admin/api/agents/demo/users/{DEMO_USER}", json=body), 400)
    assert sim.world.store.user(DEMO_USER).active is True


def test_blocking_with_malformed_json_is_400(client):
    response = client.patch(
        f"/admin/api/agents/demo/users/{DEMO_USER}", data="{", content_type="application/json"
    )
    _error(response, 400)


def test_with_an_admin_token_blocking_needs_it():
    client = create_app(make_settings(admin_token=TOKEN)).test_client()
    path = f"/admin/api/agents/demo/users/{DEMO_USER}"
    _error(client.patch(path, json={"active": False}), 401)
    _error(client.get("/admin/api/agents/demo/transactions"), 401)
    assert client.patch(path, json={"active": False}, headers={"X-Admin-Token": TOKEN}).status_code == 200
    assert (
        client.get("/admin/api/agents/demo/transactions", headers={"X-Admin-Token": TOKEN}).status_code == 200
    )


# -- transactions: shape and order ----------------------------------------------------
def test_transactions_have_the_page_and_row_shape_of_spec_5_20(client, desk, v4):
    deposit(v4, 1000)
    at(desk, 5)
    _play(desk, stake=100, multiplier=Fraction(2))
    page = listing(client)
    assert list(page) == PAGE_KEYS
    assert (page["total"], page["offset"], page["count"]) == (3, 0, 3)
    assert [list(row) for row in page["list"]] == [ROW_KEYS] * 3
    deposit_row, bet, win = page["list"]
    assert {k: deposit_row[k] for k in ROW_KEYS if k != "trans_id"} == {
        "user_code": DEMO_USER,
        "round_id": "",
        "trans_type": 4,
        "provider_id": 0,
        "provider_name": "",
        "game_code": "",
        "game_name": "",
        "category": "",
        "prebalance": 0,
        "trans_amount": 1000,
        "balance": 1000,
        "regdate": "2027-06-01 12:00:00",
        "time_stamp": 1_811_851_200_000,
    }
    assert (bet["trans_type"], bet["prebalance"], bet["trans_amount"], bet["balance"]) == (1, 1000, 100, 900)
    assert (win["trans_type"], win["prebalance"], win["trans_amount"], win["balance"]) == (2, 900, 200, 1100)
    assert bet["round_id"] == win["round_id"] != ""
    assert (bet["provider_name"], bet["game_code"], bet["category"]) == (
        "Pragmatic Play",
        "vs20fruitsw",
        "Slots",
    )
    assert bet["regdate"] == "2027-06-01 12:00:05"


def test_transactions_are_the_same_objects_as_v4_and_oldest_first(client, desk, v4):
    deposit(v4, 1000)
    deposit(v4, 500, OTHER_USER)
    _play(desk)
    _play(desk, user_code=OTHER_USER, multiplier=Fraction(0))
    v4_rows = v4("game/transaction-id", {"last_id": 0, "limit": 2000}).data
    rows = listing(client)["list"]
    assert rows == v4_rows
    assert [r["trans_id"] for r in rows] == sorted(r["trans_id"] for r in rows)


def test_transactions_with_no_activity_are_an_empty_page(client, desk):
    assert listing(client) == {"total": 0, "offset": 0, "count": 0, "list": []}


def test_transactions_keep_their_reporting_timezone():
    app = create_app(make_settings(report_tz="Asia/Seoul"))
    client, sim = app.test_client(), app.extensions["scorpio"]
    sim.clock.freeze(True)
    sim.clock.set(START)
    deposit(V4(client), 100)
    [row] = listing(client, "?from=2027-06-01 21:00:00")["list"]
    assert row["regdate"] == "2027-06-01 21:00:00"
    assert listing(client, "?from=2027-06-01T12:00:01Z")["total"] == 0


def test_transactions_older_than_48_hours_are_gone(client, desk, v4):
    deposit(v4, 100)
    at(desk, 48 * 3600 - 1)
    deposit(v4, 200)
    assert listing(client)["total"] == 2
    at(desk, 48 * 3600 + 1)
    assert [r["trans_amount"] for r in listing(client)["list"]] == [200]


# -- transactions: filters and paging -------------------------------------------------
def test_transactions_filter_by_user_code(client, desk, v4):
    deposit(v4, 100)
    deposit(v4, 200, OTHER_USER)
    deposit(v4, 300)
    page = listing(client, f"?user_code={OTHER_USER}")
    assert (page["total"], [r["trans_amount"] for r in page["list"]]) == (1, [200])


def test_transactions_filter_by_one_type_or_several(client, desk, v4):
    deposit(v4, 1000)
    _play(desk)
    assert [r["trans_type"] for r in listing(client, "?type=1")["list"]] == [1]
    assert [r["trans_type"] for r in listing(client, "?type=4,2")["list"]] == [4, 2]


def test_transactions_filter_by_time_from_inclusive_to_exclusive(client, desk, v4):
    for second, amount in ((0, 100), (10, 200), (20, 300), (30, 400)):
        at(desk, second)
        deposit(v4, amount)
    page = listing(client, "?from=2027-06-01 12:00:10&to=2027-06-01 12:00:30")
    assert [r["trans_amount"] for r in page["list"]] == [200, 300]
    assert [r["trans_amount"] for r in listing(client, "?from=2027-06-01 12:00:20")["list"]] == [300, 400]
    assert [r["trans_amount"] for r in listing(client, "?to=2027-06-01 12:00:10")["list"]] == [100]


def test_transactions_have_no_one_hour_window_and_no_throttle(client, desk, v4):
    deposit(v4, 100)
    at(desk, 5 * 3600)
    deposit(v4, 200)
    for _ in range(3):
        assert listing(client, "?from=2027-06-01 00:00:00&to=2027-06-02 00:00:00")["total"] == 2


def test_transactions_page_with_offset_and_limit(client, desk, v4):
    for amount in range(1, 8):
        deposit(v4, amount)
    page = listing(client, "?offset=2&limit=3")
    assert (page["total"], page["offset"], page["count"]) == (7, 2, 3)
    assert [r["trans_amount"] for r in page["list"]] == [3, 4, 5]
    last = listing(client, "?offset=6&limit=3")
    assert (last["count"], [r["trans_amount"] for r in last["list"]]) == (1, [7])
    beyond = listing(client, "?offset=50")
    assert (beyond["total"], beyond["offset"], beyond["count"], beyond["list"]) == (7, 50, 0, [])


def test_transactions_default_to_100_rows(client, desk, v4):
    for _ in range(105):
        deposit(v4, 1)
    page = listing(client)
    assert (page["total"], page["offset"], page["count"]) == (105, 0, 100)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?limit=0", "limit"),
        ("?limit=2001", "limit"),
        ("?limit=ten", "limit"),
        ("?offset=-1", "offset"),
        ("?user_code=abc", "user_code"),
        ("?user_code=0", "user_code"),
        ("?type=3", "type"),
        ("?type=1,x", "type"),
        ("?from=yesterday", "from"),
        ("?to=2027-13-01 00:00:00", "to"),
        ("?from=2027-06-01 12:00:00&to=2027-06-01 12:00:00", "to"),
        ("?start_time=2027-06-01 12:00:00", "start_time"),
    ],
)
def test_transactions_with_a_bad_filter_are_400_naming_it(client, query, field):
    assert _error(client.get(f"/admin/api/agents/demo/transactions{query}"), 400).startswith(f"{field}:")


def test_transactions_of_an_unknown_agent_are_404(client):
    _error(client.get("/admin/api/agents/nobody/transactions"), 404)
