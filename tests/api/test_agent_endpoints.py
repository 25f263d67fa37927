"""``agent/info`` and ``agent/rtp`` (spec 5.1, 5.2, OP-9)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import DEMO_USER


def _demo(sim):
    return sim.world.hierarchy.get("demo")


# -- agent/info ----------------------------------------------------------------------


def test_agent_info_describes_the_agent(v4):
    answer = v4("agent/info")
    assert answer.body == {
        "code": 0,
        "message": "OK",
        "data": {
            "name": "demo",
            "currency": 1,
            "balance": 1000000,
            "win_ratio": 95,
            "rtp": 95,
            "whitelist": [],
            "client_ip": "127.0.0.1",
        },
    }


def test_agent_info_of_the_seamless_agent(v4_seamless):
    data = v4_seamless("agent/info").data
    assert (data["name"], data["currency"], data["balance"]) == ("demo_seamless", 1, 1000000)


def test_agent_info_lists_the_allow_list(v4, sim):
    sim.world.hierarchy.apply_settings(_demo(sim), {"allowed_ips": "127.0.0.1\n10.0.0.1 2001:db8::1"})
    assert v4("agent/info").data["whitelist"] == ["127.0.0.1", "10.0.0.1", "2001:db8::1"]


def test_agent_info_shows_the_caller_ip(v4):
    assert v4("agent/info", remote_addr="198.51.100.23").data["client_ip"] == "198.51.100.23"


def test_agent_info_balance_is_the_agent_points(v4):
    v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 2500.75})
    assert v4("agent/info").data["balance"] == 997499.25


def test_agent_info_currency_is_the_agent_currency(v4, sim):
    sim.world.hierarchy.apply_settings(_demo(sim), {"currency": 2})
    assert v4("agent/info").data["currency"] == 2


def test_agent_info_shows_rtp_under_both_names(v4, sim):
    sim.world.hierarchy.apply_settings(_demo(sim), {"rtp": Decimal("87.5")})
    data = v4("agent/info").data
    assert (data["win_ratio"], data["rtp"]) == (87.5, 87.5)


# -- agent/rtp ---------------------------------------------------------------------------


@pytest.mark.parametrize("rtp", [75, 80, 90.25, 95])
def test_agent_rtp_sets_the_rtp(v4, rtp):
    assert v4("agent/rtp", {"rtp": rtp}).code == 0
    data = v4("agent/info").data
    assert (data["rtp"], data["win_ratio"]) == (rtp, rtp)


def test_agent_rtp_success_has_no_data_key(v4):
    answer = v4("agent/rtp", {"rtp": 80})
    assert answer.body == {"code": 0, "message": "OK"}
    assert "data" not in answer.body


def test_agent_rtp_zero_restores_the_platform_default(v4, sim):
    v4("agent/rtp", {"rtp": 80})
    assert v4("agent/rtp", {"rtp": 0}).code == 0
    assert _demo(sim).settings.rtp == 95
    assert v4("agent/info").data["rtp"] == 95


@pytest.mark.parametrize("rtp", [74, 74.9999, 96, 95.0001, -1, 1, 100])
def test_agent_rtp_out_of_range_is_1002(v4, sim, rtp):
    v4("agent/rtp", {"rtp": 80})
    answer = v4("agent/rtp", {"rtp": rtp})
    assert answer.code == 1002
    assert answer.data[0]["field"] == "rtp"
    assert _demo(sim).settings.rtp == 80


def test_agent_rtp_below_75_names_the_rule(v4):
    answer = v4("agent/rtp", {"rtp": 74})
    assert answer.data == [
        {"field": "rtp", "message": "[rtp] must be between 75 and 95, or 0 for the platform default"}
    ]


def test_agent_rtp_above_95_names_the_rule(v4):
    assert v4("agent/rtp", {"rtp": 96}).data == [{"field": "rtp", "message": "[rtp] must be at most 95"}]


def test_agent_rtp_missing_is_1002(v4):
    answer = v4("agent/rtp", {})
    assert answer.code == 1002
    assert answer.data == [{"field": "rtp", "message": "The rtp field is required."}]


def test_agent_rtp_that_is_not_a_number_is_1002(v4):
    answer = v4("agent/rtp", {"rtp": "high"})
    assert answer.code == 1002
    assert answer.data == [{"field": "rtp", "message": "The rtp field must be a number."}]


def test_agent_rtp_disabled_for_the_agent_is_1010(v4, sim):
    sim.world.hierarchy.apply_settings(_demo(sim), {"rtp_api_enabled": False})
    answer = v4("agent/rtp", {"rtp": 80})
    assert answer.body == {"code": 1010, "message": "PERMISSION_ERROR"}
    assert _demo(sim).settings.rtp == 95


def test_agent_rtp_disabled_still_validates_first(v4, sim):
    sim.world.hierarchy.apply_settings(_demo(sim), {"rtp_api_enabled": False})
    assert v4("agent/rtp", {"rtp": 50}).code == 1002


def test_agent_rtp_changes_only_the_calling_agent(v4, sim):
    v4("agent/rtp", {"rtp": 80})
    assert sim.world.hierarchy.get("demo_seamless").settings.rtp == 95
