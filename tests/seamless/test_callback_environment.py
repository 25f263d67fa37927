"""The callback client reads proxies and the CA bundle from the environment once per host, and
sends a callback through ``requests`` only when a proxy (or a mounted adapter) must carry it."""

from __future__ import annotations

import pytest

from simulator.seamless import client, wire


@pytest.fixture
def fresh_proxies():
    wire._proxies_for.cache_clear()
    yield
    wire._proxies_for.cache_clear()


def test_proxies_come_from_the_environment(monkeypatch, fresh_proxies):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    assert wire.environment_proxies("http://wallet.example:9000/cb")["http"] == "http://proxy.example:3128"
    assert wire.environment_proxies("http://127.0.0.1:8090/callback") == {}


def test_the_session_does_not_read_the_environment_on_every_call():
    sim_client = client.CallbackClient(clock=None, log=None, faults=lambda agent, target: [])  # type: ignore[arg-type]
    assert sim_client._proxied.session.trust_env is False


def test_a_wallet_behind_a_proxy_is_called_through_requests(monkeypatch, fresh_proxies):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert wire.route_for("http://wallet.example:9000/cb") is None


def test_a_wallet_outside_the_proxy_is_called_directly(monkeypatch, fresh_proxies):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    route = wire.route_for("http://127.0.0.1:9000/cb")
    assert route is not None and route.origin == ("http", "127.0.0.1", 9000)


def test_a_url_with_credentials_is_called_through_requests(fresh_proxies):
    assert wire.route_for("http://user:secret@127.0.0.1:9000/cb") is None


def test_a_mounted_adapter_carries_its_urls(fresh_proxies):
    sim_client = client.CallbackClient(clock=None, log=None, faults=lambda agent, target: [])  # type: ignore[arg-type]
    sim_client.mount("http://wallet.test/", object())
    assert sim_client._route("http://wallet.test/callback") is None
    assert sim_client._route("http://127.0.0.1:9000/callback") is not None
