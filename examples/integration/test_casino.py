"""Integrator-style tests: ``CasinoBackend`` against the simulator via the ``scorpio`` fixture.

The fixture comes from the ``scorpio-sim`` package's pytest plugin (entry point
``pytest11``); nothing here imports the simulator's internals.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from examples.integration.casino import CasinoBackend, ScorpioError


@pytest.fixture
def casino(scorpio) -> CasinoBackend:
    return CasinoBackend(scorpio.base_url, scorpio.demo_token, retry_delay=0)


def test_a_player_tops_up_plays_and_cashes_out(scorpio, casino):
    user = casino.register_player("alice_01")
    assert casino.top_up(user, 1000) == Decimal(1000)
    url = casino.launch(user, 1, "vs20fruitsw")
    assert requests.get(url, timeout=10).status_code == 200

    scorpio.client.force_outcomes("demo", "alice_01", [0, 3])
    rounds = scorpio.client.play("demo", user, bet=100, rounds=2)
    assert [(r["status"], Decimal(str(r["win"]))) for r in rounds] == [
        ("settled", Decimal(0)),
        ("settled", Decimal(300)),
    ]
    assert casino.cash_out(user) == Decimal(1100)  # 1000 - 100 + 0 - 100 + 300
    assert casino.balance(user) == Decimal(0)


def test_a_busy_platform_is_retried_once(scorpio, casino):
    user = casino.register_player("bob_01")
    scorpio.client.add_fault(agent="demo", target="api:/v4/wallet/deposit", effect={"code": 1018}, times=1)
    assert casino.top_up(user, 500) == Decimal(500)
    codes = [entry["code"] for entry in scorpio.client.journal(path="/v4/wallet/deposit")]
    assert sorted(codes) == [0, 1018]


def test_a_platform_busy_twice_is_an_error(scorpio, casino):
    user = casino.register_player("bob_02")
    scorpio.client.add_fault(agent="demo", target="api:/v4/wallet/deposit", effect={"code": 1018}, times=2)
    with pytest.raises(ScorpioError) as failure:
        casino.top_up(user, 500)
    assert failure.value.code == 1018


def test_withdrawing_more_than_the_balance_is_a_clear_error(casino):
    user = casino.register_player("carol_01")
    casino.top_up(user, 100)
    with pytest.raises(ScorpioError, match="code 2006") as failure:
        casino.withdraw(user, 101)
    assert failure.value.code == 2006
    assert casino.balance(user) == Decimal(100)


def test_a_server_outside_the_allow_list_is_refused(scorpio, casino):
    scorpio.client.patch_agent("demo", allowed_ips="203.0.113.7")
    with pytest.raises(ScorpioError) as failure:
        casino.register_player("dave_01")
    assert failure.value.code == 1020


def test_each_test_starts_from_the_fixture_state(scorpio):
    assert scorpio.client.agent("demo")["allowed_ips"] == ""
    assert scorpio.client.faults() == []
    assert scorpio.client.journal() == []
