"""Security checks (issue 8): secrets compared in constant time, the client IP, protection of
``/admin`` and ``/control``, escaping, callback URL schemes, body limits, and no secret in the logs.

Constant time is checked by the function the code uses, never by timing.
"""

from __future__ import annotations

import hmac
import io
import logging
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from simulator import create_app
from simulator.banner import banner_text
from simulator.domain.round_links import round_token
from simulator.store.memory import MemoryStore, secret_key

from ..conftest import DEMO_TOKEN, DEMO_USER, V4, make_settings

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "security-admin-token-0123456789"
XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
GAME = {"provider_id": 1, "game_symbol": "vs20doghouse", "lang": 1}


@pytest.fixture
def compared(monkeypatch) -> list[tuple[Any, Any]]:
    """Every ``hmac.compare_digest`` call while the test runs (the real function still answers)."""
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    return calls


@pytest.fixture
def locked():
    """A simulator with an admin token."""
    return create_app(make_settings(admin_token=ADMIN_TOKEN))


def _as_text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _launch(client: Any, **extra: Any) -> str:
    """Open a game for ``test1234`` of ``demo``; answers the session secret."""
    answer = V4(client)("game/game-url", {"user_code": DEMO_USER, **GAME, **extra})
    launch = answer.data["game_url"].rsplit("/", 1)[1]
    return client.get(f"/play/{launch}").headers["Location"].rsplit("/", 1)[1]


# -- store internals: the subject is how each store keys its secret indexes --------------------
# The memory store keeps {SHA-256 digest: id} dicts; the Redis store hashes keyed by the digest's
# hex (``<world prefix>token``, ``<world prefix>secret``) and one ``launch:<digest hex>`` hash per
# launch.  Both are read back as {digest bytes: id}: a key that is not a hex digest fails there.
def _redis_index(store: Any, name: str) -> dict[bytes, int]:
    raw = store.redis.hgetall(f"{store.prefix}{name}")
    return {bytes.fromhex(key.decode()): int(value) for key, value in raw.items()}


def _token_index(store: Any) -> dict[bytes, int]:
    """API token digest -> agent_id, as the store holds it."""
    if isinstance(store, MemoryStore):
        return dict(store._agents_by_token)
    return _redis_index(store, "token")


def _secret_index(store: Any) -> dict[bytes, int]:
    """Game session secret digest -> gplay_id, as the store holds it."""
    if isinstance(store, MemoryStore):
        return dict(store._sessions_by_secret)
    return _redis_index(store, "secret")


def _launch_keys(store: Any) -> list[bytes]:
    """The keys the store files its launches under."""
    if isinstance(store, MemoryStore):
        return list(store.launch_tokens)
    prefix = f"{store.prefix}launch:"
    return [bytes.fromhex(key.decode()[len(prefix) :]) for key in store.redis.scan_iter(f"{prefix}*")]


def _spy_on_hashing(monkeypatch: Any) -> list[str]:
    """Every secret hashed from now on, by whichever module does it (the memory store, the Redis
    store, or the Redis request gate, which looks the token up in the same step as the in-flight slot)."""
    hashed: list[str] = []

    def spy(value: str) -> bytes:
        hashed.append(value)
        return secret_key(value)

    for name, module in list(sys.modules.items()):
        if name.startswith("simulator.") and getattr(module, "secret_key", None) is secret_key:
            monkeypatch.setattr(module, "secret_key", spy)
    return hashed


# -- constant-time comparison of secrets ------------------------------------------------------
def test_api_tokens_are_indexed_by_their_sha256_digest(sim):
    index = _token_index(sim.world.store)
    assert DEMO_TOKEN not in index
    assert all(isinstance(key, bytes) and len(key) == 32 for key in index)
    assert index[secret_key(DEMO_TOKEN)] == sim.world.hierarchy.get("demo").agent_id


def test_a_bearer_token_is_looked_up_by_its_digest(monkeypatch, v4):
    hashed = _spy_on_hashing(monkeypatch)
    assert v4("agent/info").code == 0
    assert v4("agent/info", token="x" + DEMO_TOKEN[1:]).code == 1009
    assert hashed == [DEMO_TOKEN, "x" + DEMO_TOKEN[1:]]


def test_a_reissued_token_replaces_the_old_digest(client, sim):
    new = client.post("/admin/api/agents/demo/api-token").get_json()["api_token"]
    index = _token_index(sim.world.store)
    assert secret_key(DEMO_TOKEN) not in index
    assert secret_key(new) in index
    assert V4(client, new)("agent/info").code == 0


def test_game_session_secrets_are_looked_up_by_their_digest(client, sim, monkeypatch):
    secret = _launch(client)
    index = _secret_index(sim.world.store)
    assert secret not in index
    assert all(isinstance(key, bytes) and len(key) == 32 for key in index)
    assert secret_key(secret) in index
    hashed = _spy_on_hashing(monkeypatch)
    assert client.get(f"/play/api/session/{secret}/state").status_code == 200
    assert hashed == [secret]


def test_launch_tokens_are_looked_up_by_their_digest(client, sim, monkeypatch):
    answer = V4(client)("game/game-url", {"user_code": DEMO_USER, **GAME})
    launch = answer.data["game_url"].rsplit("/", 1)[1]
    assert [t.token for t in sim.world.store.export().launch_tokens] == [launch]
    assert _launch_keys(sim.world.store) == [secret_key(launch)]  # filed by digest, not by token
    hashed = _spy_on_hashing(monkeypatch)
    assert client.get(f"/play/{launch}").status_code == 303
    assert hashed[0] == launch  # the launch is found by the token's digest, first of all


def test_the_admin_token_is_compared_in_constant_time(locked, compared):
    response = locked.test_client().get("/admin/api/agents", headers={"X-Admin-Token": "wrong"})
    assert response.status_code == 401
    assert (b"wrong", ADMIN_TOKEN.encode()) in compared


def test_the_login_form_token_is_compared_in_constant_time(locked, compared):
    client = locked.test_client()
    csrf = CSRF.search(client.get("/backoffice/login").get_data(as_text=True)).group(1)
    compared.clear()
    response = client.post("/backoffice/login", data={"csrf_token": csrf, "token": "wrong"})
    assert response.status_code == 401
    texts = [(_as_text(a), _as_text(b)) for a, b in compared]
    assert (csrf, csrf) in texts  # the CSRF token
    assert ("wrong", ADMIN_TOKEN) in texts  # the admin token


def test_the_csrf_token_of_a_form_is_compared_in_constant_time(client, compared):
    csrf = CSRF.search(client.get("/backoffice/agents").get_data(as_text=True)).group(1)
    response = client.post("/backoffice/agents/demo/settings", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert ("forged", csrf) in [(_as_text(a), _as_text(b)) for a, b in compared]


def test_signed_round_links_are_compared_in_constant_time(client, sim, compared):
    forged = round_token(b"another secret of 32 bytes......", 3, "336097135001")
    assert client.get(f"/round/{forged}").status_code == 404
    genuine = round_token(sim.link_secret, 3, "336097135001")
    assert (genuine, forged) in compared


def test_the_reference_wallet_compares_the_callback_token_in_constant_time():
    """The simulator sends ``Callback-Token``; the integrator compares it - as the example wallet does."""
    source = (ROOT / "examples" / "wallet" / "wallet.py").read_text()
    assert "hmac.compare_digest(sent.encode(), token.encode())" in source


# -- the client IP: X-Forwarded-For only from a trusted proxy --------------------------------------
def _allow_only(sim: Any, ips: str) -> None:
    sim.world.hierarchy.apply_settings(sim.world.hierarchy.get("demo"), {"allowed_ips": ips})


def test_x_forwarded_for_cannot_pass_the_allow_list_without_trusted_proxies(v4, sim):
    _allow_only(sim, "203.0.113.7")
    answer = v4("agent/info", headers={"X-Forwarded-For": "203.0.113.7"})
    assert answer.code == 1020


def test_x_forwarded_for_is_the_client_ip_when_the_peer_is_a_trusted_proxy():
    app = create_app(make_settings(trusted_proxies="127.0.0.1"))
    _allow_only(app.extensions["scorpio"], "203.0.113.7")
    answer = V4(app.test_client())("agent/info", headers={"X-Forwarded-For": "203.0.113.7"})
    assert answer.code == 0
    assert answer.data["client_ip"] == "203.0.113.7"


def test_an_allowed_address_claimed_through_a_trusted_proxy_is_not_believed():
    """Issue 15: with ``TRUST_PROXY=on`` the left-most address passed the allow-list."""
    app = create_app(make_settings(trusted_proxies="127.0.0.1"))
    _allow_only(app.extensions["scorpio"], "203.0.113.7")
    answer = V4(app.test_client())("agent/info", headers={"X-Forwarded-For": "203.0.113.7, 198.51.100.9"})
    assert answer.code == 1020


def test_a_trusted_x_forwarded_for_of_garbage_falls_back_to_the_peer():
    app = create_app(make_settings(trusted_proxies="127.0.0.1"))
    answer = V4(app.test_client())("agent/info", headers={"X-Forwarded-For": "<script>, ' OR 1=1"})
    assert answer.data["client_ip"] == "127.0.0.1"


def test_the_journal_keeps_the_peer_not_x_forwarded_for(client, v4):
    v4("agent/info", headers={"X-Forwarded-For": "203.0.113.7"}, remote_addr="192.0.2.10")
    assert client.get("/control/journal").get_json()[0]["client_ip"] == "192.0.2.10"


# -- /admin and /control protection (control-api.md) ----------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/api/agents"),
        ("PATCH", "/admin/api/agents/demo"),
        ("GET", "/admin/nothing-here"),
        ("GET", "/control/journal"),
        ("POST", "/control/reset"),
        ("POST", "/control/restore"),
        ("GET", "/control/nothing-here"),
    ],
)
@pytest.mark.parametrize(
    "given", [None, "", "wrong", ADMIN_TOKEN.upper(), ADMIN_TOKEN + " ", ADMIN_TOKEN[:-1]]
)
def test_with_an_admin_token_set_anything_else_is_401(locked, method, path, given):
    headers = {} if given is None else {"X-Admin-Token": given}
    response = locked.test_client().open(path, method=method, json={}, headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"error": "missing or wrong X-Admin-Token header"}


def test_with_an_admin_token_set_the_token_opens_admin_and_control(locked):
    client = locked.test_client()
    headers = {"X-Admin-Token": ADMIN_TOKEN}
    assert client.get("/admin/api/agents", headers=headers).status_code == 200
    assert client.get("/control/journal", headers=headers).status_code == 200


def test_the_health_check_stays_open(locked):
    assert locked.test_client().get("/control/health").status_code == 200


def test_the_back_office_pages_ask_to_sign_in(locked):
    client = locked.test_client()
    assert client.get("/backoffice/agents").status_code == 302
    assert client.post("/backoffice/agents/demo/api-token").status_code == 401


def test_v4_does_not_need_the_admin_token(locked):
    assert V4(locked.test_client())("agent/info").code == 0


def test_a_non_loopback_bind_without_a_token_generates_one():
    app = create_app(make_settings(bind="0.0.0.0:8080"))
    token = app.config["SCORPIO_ADMIN_TOKEN"]
    assert len(token) >= 32
    client = app.test_client()
    assert client.get("/admin/api/agents").status_code == 401
    assert client.get("/control/journal").status_code == 401
    assert client.get("/admin/api/agents", headers={"X-Admin-Token": token}).status_code == 200


def test_each_start_generates_a_different_token():
    first = create_app(make_settings(bind="0.0.0.0:8080")).config["SCORPIO_ADMIN_TOKEN"]
    second = create_app(make_settings(bind="0.0.0.0:8080")).config["SCORPIO_ADMIN_TOKEN"]
    assert first != second


def test_on_loopback_without_a_token_admin_and_control_are_open(client):
    assert client.get("/admin/api/agents").status_code == 200
    assert client.get("/control/journal").status_code == 200


def test_control_off_removes_control():
    client = create_app(make_settings(control=False)).test_client()
    assert client.get("/control/health").status_code == 404
    assert client.post("/control/reset").status_code == 404


# -- templates escape everything -------------------------------------------------------------------
def test_every_template_is_autoescaped(app):
    names = app.jinja_env.list_templates()
    assert any(name.startswith("bo_") for name in names) and any(name.startswith("play_") for name in names)
    for name in names:
        if name.endswith(".html"):
            assert app.select_jinja_autoescape(name), name


def _escaped(response: Any) -> None:
    text = response.get_data(as_text=True)
    assert XSS not in text
    assert ESCAPED in text


def test_markup_in_settings_is_escaped_on_the_agent_page(client):
    url = 'https://wallet.example/cb?x="><script>alert(1)</script>'
    response = client.patch("/admin/api/agents/demo", json={"callback_token": XSS, "callback_url": url})
    assert response.status_code == 200
    page = client.get("/backoffice/agents/demo").get_data(as_text=True)
    assert XSS not in page
    assert ESCAPED in page
    assert "&#34;&gt;&lt;script&gt;" in page or "&quot;&gt;&lt;script&gt;" in page


def test_markup_in_a_v4_body_is_escaped_on_the_api_error_log(client, v4):
    assert v4("user/info", {"user_code": XSS}).code == 1002
    _escaped(client.get("/backoffice/agents/demo/api-errors"))


def test_markup_typed_into_a_form_is_escaped_when_the_form_comes_back(client):
    csrf = CSRF.search(client.get("/backoffice/agents/demo/free-rounds").get_data(as_text=True)).group(1)
    form = {"csrf_token": csrf, "user_code": str(DEMO_USER), "provider_id": "1", "game_code": XSS}
    form.update({"bet": "100", "rounds": "10", "expires_minutes": "60"})
    response = client.post("/backoffice/agents/demo/free-rounds", data=form)
    assert response.status_code in (400, 409)
    _escaped(response)


def test_markup_in_a_return_url_is_escaped_on_the_game_page(client):
    secret = _launch(client, return_url='https://casino.example/?x="><script>alert(1)</script>')
    page = client.get(f"/play/session/{secret}").get_data(as_text=True)
    assert XSS not in page


def test_a_javascript_return_url_is_never_linked(client):
    secret = _launch(client, return_url="javascript:alert(1)")
    page = client.get(f"/play/session/{secret}").get_data(as_text=True)
    assert "javascript:" not in page
    assert client.get(f"/play/api/session/{secret}/state").get_json()["return_url"] is None


def test_markup_in_the_login_target_goes_nowhere(locked):
    page = locked.test_client().get(f"/backoffice/login?next=/backoffice/{XSS}").get_data(as_text=True)
    assert XSS not in page


# -- callback URLs are http(s) only -----------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1:25/_HELO",
        "ftp://example.com/cb",
        "javascript:alert(1)",
        "dict://127.0.0.1:11211/stat",
        "ldap://example.com/",
        "data:text/plain,hi",
        "//example.com/cb",
        "http:///cb",
    ],
)
def test_callback_urls_other_than_http_are_refused_by_the_api_and_the_page(client, sim, url):
    before = sim.world.hierarchy.get("demo").settings.callback_url
    response = client.patch("/admin/api/agents/demo", json={"callback_url": url})
    assert response.status_code == 400
    csrf = CSRF.search(client.get("/backoffice/agents/demo").get_data(as_text=True)).group(1)
    form = {
        "csrf_token": csrf,
        "callback_url": url,
        "rtp": "95",
        "callback_dialect": "v4",
        "callback_token": "t",
    }
    page = client.post("/backoffice/agents/demo/settings", data=form)
    assert page.status_code == 400
    assert "must be empty (transfer mode) or an http:// or https:// URL" in page.get_data(as_text=True)
    assert sim.world.hierarchy.get("demo").settings.callback_url == before


@pytest.mark.parametrize("url", ["http://127.0.0.1:8090/callback", "https://wallet.example/cb", ""])
def test_http_and_https_callback_urls_and_empty_are_accepted(client, url):
    assert client.patch("/admin/api/agents/demo", json={"callback_url": url}).status_code == 200


# -- request size and JSON depth limits ---------------------------------------------------------------
def test_a_v4_body_over_64_kib_is_1002(v4):
    answer = v4("agent/info", raw=b" " * (64 * 1024 + 1))
    assert answer.body == {
        "code": 1002,
        "message": "VALIDATION_ERROR",
        "data": [{"field": "body", "message": "The request body must not exceed 65536 bytes."}],
    }


def test_a_v4_body_nested_33_deep_is_1002(v4):
    answer = v4("agent/info", raw=b"[" * 33 + b"]" * 33)
    assert answer.data == [{"field": "body", "message": "The request body is nested deeper than 32 levels."}]


def test_an_admin_body_of_exactly_1_mib_is_read(client, sim):
    body = b'{"rtp": 90}'
    response = client.patch(
        "/admin/api/agents/demo", data=body + b" " * ((1 << 20) - len(body)), content_type="application/json"
    )
    assert response.status_code == 200
    assert sim.world.hierarchy.get("demo").settings.rtp == 90


def test_an_admin_body_over_1_mib_is_413_and_changes_nothing(client, sim):
    body = b'{"rtp": 90}'
    response = client.patch(
        "/admin/api/agents/demo", data=body + b" " * (1 << 20), content_type="application/json"
    )
    assert response.status_code == 413
    assert response.get_json() == {"error": "the body must not exceed 1048576 bytes"}
    assert sim.world.hierarchy.get("demo").settings.rtp == 95


def test_a_control_body_without_a_length_is_cut_at_1_mib(client):
    """A chunked body (no Content-Length) is read up to the limit, never whole."""
    stream = io.BytesIO(b'{"advance": 1' + b"0" * (1 << 20) + b"}")
    response = client.post(
        "/control/clock",
        input_stream=stream,
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
        headers={"Transfer-Encoding": "chunked"},
    )
    assert response.status_code == 413


def test_a_control_body_nested_33_deep_is_400(client):
    response = client.post(
        "/control/faults", data=b'{"a":' * 33 + b"1" + b"}" * 33, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.get_json() == {"error": "the body is nested deeper than 32 levels"}


def test_an_open_login_form_over_1_mib_is_413_unread(locked):
    """The login page is open to anyone: a huge form is refused, not parsed into memory, with the
    back office's own error page."""
    body = b"token=x&next=" + b"x" * (1 << 20)
    response = locked.test_client().post(
        "/backoffice/login", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "Request Entity Too Large" in response.get_data(as_text=True)


def test_a_game_page_spin_form_over_1_mib_is_413(client, sim):
    secret = _launch(client)
    body = b"bet=100&x=" + b"x" * (1 << 20)
    response = client.post(
        f"/play/session/{secret}/spin", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert client.get(f"/play/api/session/{secret}/state").get_json()["recent"] == []


def test_a_snapshot_larger_than_1_mib_is_restored(client):
    snapshot = client.get("/control/snapshot").get_data()
    padded = snapshot + b" " * max(0, (2 << 20) - len(snapshot))
    response = client.post("/control/restore", data=padded, content_type="application/json")
    assert response.status_code == 200
    assert response.get_json()["restored"] is True


# -- no secret in the logs ---------------------------------------------------------------------------
def test_requests_carrying_secrets_log_none_of_them(locked, caplog):
    caplog.set_level(logging.DEBUG)
    client = locked.test_client()
    admin = {"X-Admin-Token": ADMIN_TOKEN}
    v4 = V4(client)
    v4("agent/info")
    v4("agent/info", token="0" * 36)
    v4("user/info", {"user_code": "' OR 1=1"})
    answer = v4("game/game-url", {"user_code": DEMO_USER, **GAME})
    launch = answer.data["game_url"].rsplit("/", 1)[1]
    secret = client.get(f"/play/{launch}").headers["Location"].rsplit("/", 1)[1]
    client.post(f"/play/api/session/{secret}/spin", json={"bet": 100})
    client.post(f"/play/api/session/{secret}/spin", json={"bet": "NaN"})
    new_token = client.post("/admin/api/agents/demo/api-token", headers=admin).get_json()["api_token"]
    callback_token = client.get("/admin/api/agents/demo", headers=admin).get_json()["callback_token"]
    client.get("/admin/api/agents", headers={"X-Admin-Token": "a-wrong-guess"})
    secrets = [DEMO_TOKEN, "0" * 36, launch, secret, new_token, callback_token, ADMIN_TOKEN, "a-wrong-guess"]
    logged = "\n".join(f"{record.getMessage()} {record.exc_text or ''}" for record in caplog.records)
    assert "agent=demo path=/v4/agent/info code=0" in logged  # the log is there, one line per request
    for value in secrets:
        assert value not in logged


def test_the_journal_never_records_the_authorization_header(client, v4):
    v4("agent/info")
    assert DEMO_TOKEN not in client.get("/control/journal").get_data(as_text=True)


LOG_CALL = re.compile(
    r"\b(?:log|logger|logging)\.(?:debug|info|warning|error|exception|critical)\(|\bprint\("
)
#: Where printing a secret is the point: the start-up banner, and the seed CLI's summary of the
#: fixture files it has just written (the tokens are in those files).
MAY_PRINT_SECRETS = {"simulator/banner.py", "simulator/seeding.py"}


def test_no_logging_call_outside_the_banner_mentions_a_token_or_secret():
    offenders = []
    for path in sorted((ROOT / "simulator").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in MAY_PRINT_SECRETS:
            continue
        source = path.read_text()
        for match in LOG_CALL.finditer(source):
            call = source[match.start() : source.find(")\n", match.start()) + 1]
            if re.search(r"token|secret|password", call, re.IGNORECASE):
                offenders.append(f"{relative}: {call[:120]}")
    assert offenders == []


def test_the_start_up_banner_shows_the_generated_admin_token():
    app = create_app(make_settings(bind="0.0.0.0:8080"))
    assert f"X-Admin-Token: {app.config['SCORPIO_ADMIN_TOKEN']}" in banner_text(app)
