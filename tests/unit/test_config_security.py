"""Security settings (issue 15): trusted proxies, the old TRUST_PROXY switch, and protection that
follows the addresses the server really listens on."""

from __future__ import annotations

import runpy
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from simulator import create_app, listeners
from simulator.config import Settings
from tests.conftest import make_settings

GUNICORN_CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


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


@pytest.mark.parametrize(
    ("address", "local"),
    [
        ("127.0.0.1:8080", True),
        ("127.8.9.10:8080", True),
        ("[::1]:8080", True),
        ("[::ffff:127.0.0.1]:8080", True),
        ("localhost:8080", True),
        ("unix:/run/sim.sock", True),
        ("0.0.0.0:8080", False),
        ("[::]:8080", False),
        ("10.0.0.5:8080", False),
        ("sim.example:8080", False),
        (listeners.UNKNOWN, False),
    ],
)
def test_a_listener_is_local_only_on_loopback_or_a_unix_socket(address, local):
    assert listeners.is_local(address) is local


def test_a_socket_bound_to_every_interface_is_described_with_its_port():
    with socket.socket() as sock:  # bound, never listening: nothing can connect
        sock.bind(("0.0.0.0", 0))
        assert listeners.describe(sock) == f"0.0.0.0:{sock.getsockname()[1]}"


def test_the_real_listener_decides_over_scorpio_sim_bind():
    settings = Settings(bind="127.0.0.1:8080", listen=("127.0.0.1:8080", "0.0.0.0:9090"))
    assert settings.loopback_only is False
    assert settings.base_url == "http://127.0.0.1:8080"


def test_the_base_url_follows_the_real_listener():
    assert Settings(bind="127.0.0.1:8080", listen=("0.0.0.0:9090",)).base_url == "http://127.0.0.1:9090"


def test_listen_is_never_read_from_the_environment():
    assert Settings.from_env({"SCORPIO_SIM_LISTEN": "127.0.0.1:1"}).listen == ()


def test_an_app_listening_on_every_interface_generates_an_admin_token():
    app = create_app(make_settings(bind="127.0.0.1:8080", listen=("0.0.0.0:8080",)))
    try:
        assert len(app.config["SCORPIO_ADMIN_TOKEN"]) >= 32
        assert app.test_client().get("/control/snapshot").status_code == 401
    finally:
        app.extensions["scorpio"].close()


def test_an_app_whose_listeners_are_unknown_is_protected():
    """Loaded by another server than gunicorn with the project's config, nothing announced them."""
    app = create_app(make_settings(listen=(listeners.UNKNOWN,)))
    try:
        assert app.config["SCORPIO_ADMIN_TOKEN"]
    finally:
        app.extensions["scorpio"].close()


def test_the_gunicorn_post_fork_hook_announces_the_workers_sockets(monkeypatch):
    monkeypatch.setattr(listeners, "_announced", None)
    hooks = runpy.run_path(str(GUNICORN_CONF))
    with socket.socket() as exposed, socket.socket(socket.AF_INET6) as local:
        exposed.bind(("0.0.0.0", 0))
        local.bind(("::1", 0))
        hooks["post_fork"](None, SimpleNamespace(sockets=[exposed, local]))
        assert listeners.announced() == (
            f"0.0.0.0:{exposed.getsockname()[1]}",
            f"[::1]:{local.getsockname()[1]}",
        )


def test_the_request_timeout_defaults_to_10_seconds():
    from simulator.serving import request_timeout

    assert request_timeout({}) == 10.0
    assert request_timeout({"SCORPIO_SIM_REQUEST_TIMEOUT": "2.5"}) == 2.5


@pytest.mark.parametrize("value", ["soon", "0", "-1"])
def test_a_request_timeout_that_is_no_positive_number_stops_the_start(value):
    from simulator.serving import request_timeout

    with pytest.raises(ValueError, match="SCORPIO_SIM_REQUEST_TIMEOUT"):
        request_timeout({"SCORPIO_SIM_REQUEST_TIMEOUT": value})


def test_a_read_past_the_deadline_ends_like_a_closed_connection():
    from simulator.serving import DeadlineSocket

    left, right = socket.socketpair()
    with left, right:
        wrapped = DeadlineSocket(left)
        right.sendall(b"GET")
        wrapped.deadline = 0.0  # long past
        assert (wrapped.recv(10), wrapped.expired) == (b"", True)


def test_a_read_within_the_deadline_gets_the_bytes_and_leaves_the_socket_blocking_to_the_worker():
    import time

    from simulator.serving import DeadlineSocket

    left, right = socket.socketpair()
    with left, right:
        wrapped = DeadlineSocket(left)
        right.sendall(b"GET")
        wrapped.deadline = time.monotonic() + 30
        assert (wrapped.recv(10), wrapped.expired) == (b"GET", False)
        assert wrapped.gettimeout() is None
