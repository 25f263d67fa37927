"""Security settings from the environment (issue 15): trusted proxies and the old TRUST_PROXY switch."""

from __future__ import annotations

import pytest

from simulator.config import Settings


def test_trusted_proxies_default_to_none():
    assert Settings.from_env({}).trusted_proxies == ""


def test_trusted_proxies_take_addresses_and_networks():
    env = {"SCORPIO_SIM_TRUSTED_PROXIES": "10.0.0.5, 192.168.0.0/16 2001:db8::/32"}
    assert Settings.from_env(env).trusted_proxies == "10.0.0.5, 192.168.0.0/16 2001:db8::/32"


def test_a_trusted_proxy_that_is_no_address_stops_the_start():
    with pytest.raises(
        ValueError, match="SCORPIO_SIM_TRUSTED_PROXIES: not an IP address or network: 'proxy'"
    ):
        Settings.from_env({"SCORPIO_SIM_TRUSTED_PROXIES": "10.0.0.5 proxy"})


@pytest.mark.parametrize("value", ["on", "1", "true", "yes"])
def test_trust_proxy_on_stops_the_start_and_names_its_replacement(value):
    """It trusted X-Forwarded-For from any peer; guessing which peers were meant would not be safe."""
    with pytest.raises(ValueError, match="SCORPIO_SIM_TRUSTED_PROXIES=10.0.0.5"):
        Settings.from_env({"SCORPIO_SIM_TRUST_PROXY": value})


@pytest.mark.parametrize("value", ["off", "0", "false", ""])
def test_trust_proxy_off_is_still_accepted(value):
    assert Settings.from_env({"SCORPIO_SIM_TRUST_PROXY": value}).trusted_proxies == ""
