"""The guards of every ``/v4`` call, in the spec's order (spec 3.1), and ``X-Sim-Result``."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from simulator import create_app
from tests.conftest import DEMO_TOKEN, DEMO_USER, SEAMLESS_TOKEN, V4, make_settings

ENDPOINT_CALLS = [
    ("agent/info", {}),
    ("agent/rtp", {"rtp": 90}),
    ("user/create", {"name": "guarded"}),
    ("user/info", {"user_code": DEMO_USER}),
    ("wallet/deposit", {"user_code": DEMO_USER, "amount": 10}),
    ("wallet/withdraw", {"user_code": DEMO_USER, "amount": 10}),
    ("wallet/withdraw-all", {"user_code": DEMO_USER}),
    ("game/providers", {"lang": 1}),
    ("game/games", {"provider_id": 1, "lang": 1}),
    ("game/all", {}),
]


def _demo(sim):
    return sim.world.hierarchy.get("demo")


def _slot(sim) -> str:
    return f"agent:{_demo(sim).agent_id}"


def _allow(sim, ips: str) -> None:
    sim.world.hierarchy.apply_settings(_demo(sim), {"allowed_ips": ips})


def _disable(sim) -> None:
    sim.world.hierarchy.apply_settings(_demo(sim), {"disabled": True})


def _platform_maintenance(client, on: bool = True) -> None:
    response = client.post("/control/maintenance", json={"scope": "platform", "on": on})
    assert response.status_code == 200


def _fill_slots(sim) -> None:
    for _ in range(sim.limiter.limit):
        assert sim.limiter.acquire(_slot(sim))


# -- 1007 token present ------------------------------------------------------------


def test_missing_authorization_header_is_1007(v4):
    answer = v4("agent/info", token="")
    assert answer.status == 200
    assert answer.body == {"code": 1007, "message": "TOKEN_NOT_FOUND"}


@pytest.mark.parametrize(
    "header", [f"Basic {DEMO_TOKEN}", DEMO_TOKEN, f"Token {DEMO_TOKEN}", f"Bearer{DEMO_TOKEN}"]
)
def test_authorization_without_bearer_prefix_is_1007(v4, header):
    assert v4("agent/info", headers={"Authorization": header}).code == 1007


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer    ", ""])
def test_empty_bearer_token_is_1007(v4, header):
    assert v4("agent/info", headers={"Authorization": header}).code == 1007


# -- 1009 token known ----------------------------------------------------------------


def test_unknown_token_is_1009(v4):
    answer = v4("agent/info", token="00000000-0000-0000-0000-000000000000")
    assert answer.body == {"code": 1009, "message": "TOKEN_INVALID"}


def test_token_comparison_is_case_sensitive(v4):
    assert v4("agent/info", token=DEMO_TOKEN.upper()).code == 1009


def test_token_with_an_extra_character_is_1009(v4):
    assert v4("agent/info", token=DEMO_TOKEN + "0").code == 1009


def test_reissued_token_invalidates_the_old_one(v4, client):
    new_token = client.post("/admin/api/agents/demo/api-token").get_json()["api_token"]
    assert v4("agent/info").code == 1009
    assert v4("agent/info", token=new_token).code == 0


def test_invalid_token_with_malformed_json_is_1009(v4):
    assert v4("user/info", token="not-a-token", raw=b"{oops").code == 1009


def test_missing_token_with_malformed_json_is_1007(v4):
    assert v4("user/info", token="", raw=b"{oops").code == 1007


# -- 2001 agent usable -----------------------------------------------------------------


def test_disabled_agent_is_2001(v4, sim):
    _disable(sim)
    assert v4("agent/info").body == {"code": 2001, "message": "AGENT_NOT_FOUND"}


def test_disabled_agent_with_bad_body_gets_2001_not_1002(v4, sim):
    _disable(sim)
    assert v4("user/info", raw=b"{oops").code == 2001


def test_disabled_agent_with_blocked_ip_gets_2001_not_1020(v4, sim):
    _disable(sim)
    _allow(sim, "10.0.0.1")
    assert v4("agent/info").code == 2001


def test_disabling_one_agent_leaves_the_others_working(v4_seamless, sim):
    _disable(sim)
    assert v4_seamless("agent/info").code == 0


def test_reenabled_agent_works_again(v4, sim):
    _disable(sim)
    sim.world.hierarchy.apply_settings(_demo(sim), {"disabled": False})
    assert v4("agent/info").code == 0


# -- 1020 IP allow-list ----------------------------------------------------------------


def test_empty_allow_list_allows_every_ip(v4):
    assert v4("agent/info", remote_addr="198.51.100.9").code == 0


def test_ip_missing_from_the_allow_list_is_1020(v4, sim):
    _allow(sim, "10.0.0.1")
    answer = v4("agent/info", remote_addr="10.0.0.2")
    assert answer.body == {"code": 1020, "message": "IP_NOT_ALLOWED"}


def test_a_call_refused_for_its_ip_is_journaled_under_its_agent(v4, sim):
    _allow(sim, "10.0.0.1")
    v4("agent/info", remote_addr="10.0.0.2")
    assert [(e["agent"], e["code"]) for e in sim.journal.query(code=1020)] == [("demo", 1020)]


def test_ip_in_the_allow_list_passes(v4, sim):
    _allow(sim, "10.0.0.1")
    assert v4("agent/info", remote_addr="10.0.0.1").code == 0


@pytest.mark.parametrize("ips", ["10.0.0.1 10.0.0.2", "10.0.0.1\n10.0.0.2", "10.0.0.1\r\n10.0.0.2\n"])
def test_allow_list_entries_are_separated_by_spaces_or_newlines(v4, sim, ips):
    _allow(sim, ips)
    assert v4("agent/info", remote_addr="10.0.0.2").code == 0
    assert v4("agent/info", remote_addr="10.0.0.1").code == 0
    assert v4("agent/info", remote_addr="10.0.0.3").code == 1020


def test_allow_list_accepts_ipv6_addresses(v4, sim):
    _allow(sim, "10.0.0.1 2001:db8::1")
    assert v4("agent/info", remote_addr="2001:db8::1").code == 0


def test_ipv6_addresses_match_in_any_spelling(v4, sim):
    _allow(sim, "2001:DB8:0:0:0:0:0:1")
    assert v4("agent/info", remote_addr="2001:db8::1").code == 0


def test_other_ipv6_address_is_1020(v4, sim):
    _allow(sim, "2001:db8::1")
    assert v4("agent/info", remote_addr="2001:db8::2").code == 1020


def test_ipv4_mapped_ipv6_peer_matches_its_ipv4_entry(v4, sim):
    _allow(sim, "10.0.0.1")
    answer = v4("agent/info", remote_addr="::ffff:10.0.0.1")
    assert answer.code == 0
    assert answer.data["client_ip"] == "10.0.0.1"


def test_ipv4_mapped_ipv6_entry_matches_an_ipv4_peer(v4, sim):
    _allow(sim, "::ffff:10.0.0.1")
    assert v4("agent/info", remote_addr="10.0.0.1").code == 0


def test_unknown_client_ip_with_an_allow_list_is_1020(v4, sim):
    _allow(sim, "10.0.0.1")
    assert v4("agent/info", remote_addr="").code == 1020


def test_x_forwarded_for_is_ignored_without_trusted_proxies(v4, sim):
    _allow(sim, "203.0.113.7")
    answer = v4("agent/info", headers={"X-Forwarded-For": "203.0.113.7"}, remote_addr="10.9.9.9")
    assert answer.code == 1020


def test_client_ip_is_the_tcp_peer_without_trusted_proxies(v4):
    answer = v4("agent/info", headers={"X-Forwarded-For": "203.0.113.7"}, remote_addr="10.9.9.9")
    assert answer.data["client_ip"] == "10.9.9.9"


def test_ip_blocked_agent_in_maintenance_gets_1020_not_1(v4, sim, client):
    _allow(sim, "10.0.0.1")
    _platform_maintenance(client)
    assert v4("agent/info", remote_addr="10.0.0.2").code == 1020


class TestTrustedProxies:
    """``SCORPIO_SIM_TRUSTED_PROXIES`` (issue 15): the right-most address no trusted proxy wrote."""

    @pytest.fixture
    def settings(self):
        return make_settings(trusted_proxies="10.0.0.0/24, 2001:db8::5")

    def test_the_address_the_proxy_saw_is_the_client(self, v4):
        headers = {"X-Forwarded-For": "203.0.113.7"}
        assert v4("agent/info", headers=headers, remote_addr="10.0.0.6").data["client_ip"] == "203.0.113.7"

    def test_an_address_a_client_wrote_before_the_proxys_is_ignored(self, v4):
        headers = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
        assert v4("agent/info", headers=headers, remote_addr="10.0.0.6").data["client_ip"] == "203.0.113.7"

    def test_a_chain_of_trusted_proxies_is_walked_from_the_right(self, v4):
        headers = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7, 10.0.0.5"}
        assert v4("agent/info", headers=headers, remote_addr="10.0.0.6").data["client_ip"] == "203.0.113.7"

    def test_a_claimed_allowed_address_does_not_pass_the_allow_list(self, v4, sim):
        """Was: the left-most address was believed, so any client could claim an allowed one."""
        _allow(sim, "203.0.113.7")
        headers = {"X-Forwarded-For": "203.0.113.7, 198.51.100.9"}
        answer = v4("agent/info", headers=headers, remote_addr="10.0.0.6")
        assert answer.code == 1020

    def test_the_forwarded_client_is_checked_against_the_allow_list(self, v4, sim):
        _allow(sim, "203.0.113.7")
        headers = {"X-Forwarded-For": "203.0.113.7, 10.0.0.5"}
        assert v4("agent/info", headers=headers, remote_addr="10.0.0.6").code == 0

    def test_the_header_from_a_peer_that_is_no_trusted_proxy_is_ignored(self, v4, sim):
        _allow(sim, "203.0.113.7")
        answer = v4("agent/info", headers={"X-Forwarded-For": "203.0.113.7"}, remote_addr="10.0.1.6")
        assert answer.code == 1020

    def test_when_every_hop_is_a_trusted_proxy_the_left_most_is_the_client(self, v4):
        headers = {"X-Forwarded-For": "10.0.0.1, 10.0.0.5"}
        assert v4("agent/info", headers=headers, remote_addr="10.0.0.6").data["client_ip"] == "10.0.0.1"

    def test_an_entry_that_is_no_address_stops_at_the_last_trusted_hop(self, v4):
        headers = {"X-Forwarded-For": "203.0.113.7, <script>, 10.0.0.5"}
        assert v4("agent/info", headers=headers, remote_addr="10.0.0.6").data["client_ip"] == "10.0.0.5"

    def test_a_trusted_ipv6_proxy_forwards_its_client(self, v4):
        headers = {"X-Forwarded-For": "2001:db8::77"}
        answer = v4("agent/info", headers=headers, remote_addr="2001:db8::5")
        assert answer.data["client_ip"] == "2001:db8::77"

    def test_a_trusted_proxy_seen_as_an_ipv4_mapped_address_is_trusted(self, v4):
        headers = {"X-Forwarded-For": "203.0.113.7"}
        answer = v4("agent/info", headers=headers, remote_addr="::ffff:10.0.0.6")
        assert answer.data["client_ip"] == "203.0.113.7"

    def test_without_forwarded_header_the_peer_is_the_client(self, v4):
        assert v4("agent/info", remote_addr="10.0.0.8").data["client_ip"] == "10.0.0.8"


class TestPerIpScopeBehindAProxy:
    @pytest.fixture
    def settings(self):
        return make_settings(trusted_proxies="10.0.0.6", inflight_scope="ip", inflight_limit=0)

    def test_a_claimed_address_does_not_move_a_client_to_another_ip_slot(self, v4):
        """The per-IP 1018 scope counts the address the proxy saw, whatever the client claims."""
        headers = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
        answer = v4("agent/info", headers=headers, remote_addr="10.0.0.6")
        assert answer.code == 1018
        assert v4("agent/info", remote_addr="10.0.0.6").code == 1018


# -- 1018 in-flight limit -----------------------------------------------------------------


def test_zero_in_flight_limit_is_1018(v4, sim):
    sim.limiter.limit = 0
    assert v4("agent/info").body == {"code": 1018, "message": "SERVER_IS_BUSY"}


def test_request_over_50_in_flight_is_1018(v4, sim):
    assert sim.limiter.limit == 50
    _fill_slots(sim)
    assert v4("agent/info").code == 1018


def test_request_with_49_in_flight_passes(v4, sim):
    for _ in range(49):
        sim.limiter.acquire(_slot(sim))
    assert v4("agent/info").code == 0
    assert sim.limiter.in_flight(_slot(sim)) == 49


def test_refused_request_takes_no_slot(v4, sim):
    _fill_slots(sim)
    v4("agent/info")
    assert sim.limiter.in_flight(_slot(sim)) == 50


def test_freed_slot_lets_the_next_request_through(v4, sim):
    _fill_slots(sim)
    sim.limiter.release(_slot(sim))
    assert v4("agent/info").code == 0


def test_limit_is_per_agent(v4_seamless, sim):
    _fill_slots(sim)
    assert v4_seamless("agent/info").code == 0


def test_ip_block_precedes_1018(v4, sim):
    _allow(sim, "10.0.0.1")
    sim.limiter.limit = 0
    assert v4("agent/info", remote_addr="10.0.0.2").code == 1020


def test_1018_precedes_maintenance(v4, sim, client):
    _platform_maintenance(client)
    sim.limiter.limit = 0
    assert v4("agent/info").code == 1018


def test_1018_precedes_validation(v4, sim):
    sim.limiter.limit = 0
    assert v4("user/info", raw=b"{oops").code == 1018


def test_invalid_token_is_answered_before_the_limit(v4, sim):
    sim.limiter.limit = 0
    assert v4("agent/info", token="nope").code == 1009


def test_excess_request_is_refused_while_requests_in_flight_keep_running(monkeypatch):
    app = create_app(make_settings(inflight_limit=3))
    sim = app.extensions["scorpio"]
    release = threading.Event()
    lookup = sim.world.users.lookup

    def held_lookup(*args, **kwargs):
        assert release.wait(10)
        return lookup(*args, **kwargs)

    monkeypatch.setattr(sim.world.users, "lookup", held_lookup)
    with ThreadPoolExecutor(3) as pool:
        held = [pool.submit(V4(app.test_client()), "user/info", {"user_code": DEMO_USER}) for _ in range(3)]
        deadline = time.monotonic() + 10
        while sim.limiter.in_flight(_slot(sim)) < 3 and time.monotonic() < deadline:
            time.sleep(0.001)
        excess = V4(app.test_client())("agent/info")
        release.set()
        codes = [future.result().code for future in held]
    assert excess.code == 1018
    assert codes == [0, 0, 0]
    assert sim.limiter.in_flight(_slot(sim)) == 0


def test_configured_in_flight_limit_applies():
    app = create_app(make_settings(inflight_limit=2))
    sim = app.extensions["scorpio"]
    v4 = V4(app.test_client())
    sim.limiter.acquire(_slot(sim))
    assert v4("agent/info").code == 0
    sim.limiter.acquire(_slot(sim))
    assert v4("agent/info").code == 1018


class TestInflightPerIp:
    @pytest.fixture
    def settings(self):
        return make_settings(inflight_scope="ip")

    def test_full_ip_slots_are_1018(self, v4, sim):
        for _ in range(50):
            sim.limiter.acquire("10.0.0.1")
        assert v4("agent/info", remote_addr="10.0.0.1").code == 1018

    def test_other_ip_of_the_same_agent_passes(self, v4, sim):
        for _ in range(50):
            sim.limiter.acquire("10.0.0.1")
        assert v4("agent/info", remote_addr="10.0.0.2").code == 0


def test_slot_is_released_after_successes_and_errors(v4, sim):
    calls = [
        ("agent/info", {}),
        ("user/info", {"user_code": 499999999}),
        ("user/info", {}),
        ("wallet/deposit", {"user_code": DEMO_USER, "amount": 10**9}),
        ("wallet/withdraw", {"user_code": DEMO_USER, "amount": 10**9}),
        ("game/games", {"provider_id": 999, "lang": 1}),
        ("agent/rtp", {"rtp": 10}),
    ]
    for _ in range(10):
        for path, body in calls:
            v4(path, body)
        v4("user/info", raw=b"{oops")
        v4("agent/info", raw=b" " * (64 * 1024 + 1))
        v4("agent/info", headers={"X-Sim-Result": "1001"})
    assert sim.limiter.in_flight(_slot(sim)) == 0


def test_slot_is_released_after_an_unexpected_exception(v4, sim, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(sim.world.users, "lookup", explode)
    for _ in range(60):
        assert v4("user/info", {"user_code": DEMO_USER}).code == 1001
    assert sim.limiter.in_flight(_slot(sim)) == 0


def test_unexpected_exception_is_an_enveloped_1001(v4, sim, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(sim.world.users, "lookup", explode)
    answer = v4("user/info", {"user_code": DEMO_USER})
    assert answer.status == 200
    assert answer.body == {"code": 1001, "message": "INTERNAL_SERVER_ERROR"}


# -- 1 platform maintenance -------------------------------------------------------------


@pytest.mark.parametrize(("path", "body"), ENDPOINT_CALLS)
def test_platform_maintenance_is_1_for_every_endpoint(v4, client, path, body):
    _platform_maintenance(client)
    assert v4(path, body).body == {"code": 1, "message": "UNDER_MAINTENANCE"}


def test_platform_maintenance_applies_to_every_agent(v4_seamless, client):
    _platform_maintenance(client)
    assert v4_seamless("agent/info").code == 1


def test_maintenance_precedes_validation(v4, client):
    _platform_maintenance(client)
    assert v4("user/info", raw=b"{oops").code == 1


def test_maintenance_has_no_side_effect(v4, sim, client):
    _platform_maintenance(client)
    points = _demo(sim).points
    v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 10})
    assert _demo(sim).points == points


def test_invalid_token_in_maintenance_is_1009(v4, client):
    _platform_maintenance(client)
    assert v4("agent/info", token="nope").code == 1009


def test_maintenance_off_restores_service(v4, client):
    _platform_maintenance(client)
    _platform_maintenance(client, on=False)
    assert v4("agent/info").code == 0


def test_provider_maintenance_is_not_platform_maintenance(v4, client):
    client.post("/control/maintenance", json={"scope": "provider:1", "on": True})
    assert v4("agent/info").code == 0


# -- X-Sim-Result (control-api.md) --------------------------------------------------------


def test_x_sim_result_answers_that_code(v4):
    answer = v4("agent/info", headers={"X-Sim-Result": "1018"})
    assert answer.body == {"code": 1018, "message": "SERVER_IS_BUSY"}


def test_x_sim_result_deposit_leaves_balances_unchanged(v4, sim):
    points, balance = _demo(sim).points, sim.world.store.user(DEMO_USER).balance
    count = len(sim.world.store.transactions_of(_demo(sim).agent_id))
    answer = v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 100}, headers={"X-Sim-Result": "2005"})
    assert answer.body == {"code": 2005, "message": "POINT_NOT_ENOUGH"}
    assert (_demo(sim).points, sim.world.store.user(DEMO_USER).balance) == (points, balance)
    assert len(sim.world.store.transactions_of(_demo(sim).agent_id)) == count


def test_x_sim_result_user_create_creates_nobody(v4, sim):
    users = sim.world.store.user_count()
    assert v4("user/create", {"name": "forced"}, headers={"X-Sim-Result": "1015"}).code == 1015
    assert sim.world.store.user_count() == users


def test_x_sim_result_runs_after_the_token_guard(v4):
    assert v4("agent/info", token="nope", headers={"X-Sim-Result": "2005"}).code == 1009


def test_x_sim_result_runs_after_body_validation(v4):
    answer = v4("user/info", {}, headers={"X-Sim-Result": "2002"})
    assert answer.code == 1002
    assert answer.data == [{"field": "user_code", "message": "The user_code field is required."}]


def test_x_sim_result_runs_after_maintenance(v4, client):
    _platform_maintenance(client)
    assert v4("agent/info", headers={"X-Sim-Result": "2002"}).code == 1


def test_forced_validation_error_carries_a_field_list(v4):
    answer = v4("agent/info", headers={"X-Sim-Result": "1002"})
    assert answer.body == {
        "code": 1002,
        "message": "VALIDATION_ERROR",
        "data": [{"field": "X-Sim-Result", "message": "answered by the X-Sim-Result header"}],
    }


@pytest.mark.parametrize("value", ["abc", "0", "9999", "", "2005x"])
def test_invalid_x_sim_result_is_1002(v4, value):
    answer = v4("agent/info", headers={"X-Sim-Result": value})
    assert answer.code == 1002
    assert answer.data[0]["field"] == "X-Sim-Result"


def test_x_sim_result_is_ignored_when_control_is_off():
    app = create_app(make_settings(control=False))
    v4 = V4(app.test_client())
    assert v4("agent/info", headers={"X-Sim-Result": "2005"}).code == 0


def test_seamless_token_reaches_its_own_agent(v4_seamless):
    assert v4_seamless("agent/info").data["name"] == "demo_seamless"


def test_each_token_selects_its_agent(v4):
    assert v4("agent/info", token=SEAMLESS_TOKEN).data["name"] == "demo_seamless"
