"""The callback client reads proxies and the CA bundle from the environment once per host."""

from __future__ import annotations

from simulator.seamless import client


def test_proxies_come_from_the_environment(monkeypatch):
    client._proxies_for.cache_clear()
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    assert client.environment_proxies("http://wallet.example:9000/cb")["http"] == "http://proxy.example:3128"
    assert client.environment_proxies("http://127.0.0.1:8090/callback") == {}
    client._proxies_for.cache_clear()


def test_the_session_does_not_read_the_environment_on_every_call():
    sim_client = client.CallbackClient(clock=None, log=None, faults=lambda agent, target: [])  # type: ignore[arg-type]
    assert sim_client._session.trust_env is False
