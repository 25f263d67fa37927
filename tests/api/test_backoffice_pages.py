"""The back-office web pages under ``/backoffice`` through Flask's test client."""

from __future__ import annotations

import re

import pytest

from simulator import create_app
from simulator.domain.sessions import LaunchRequest
from tests.conftest import DEMO_USER, SEAMLESS_TOKEN, V4, make_settings

TOKEN = "page-admin-token"
DEAD_URL = "http://127.0.0.1:9/callback"
XSS = "<script>alert(1)</script>"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def html(response) -> str:
    return response.get_data(as_text=True)


def csrf(client) -> str:
    return CSRF.search(html(client.get("/backoffice/agents"))).group(1)


def post(client, path: str, data: dict | None = None, **kwargs):
    return client.post(path, data={"csrf_token": csrf(client), **(data or {})}, **kwargs)


def play(client, rounds: int = 10, user_code: int = DEMO_USER) -> list[dict]:
    body = {"agent": "demo", "user_code": user_code, "provider_id": 1, "game_code": "vs20fruitsw", "bet": 100}
    response = client.post("/control/play", json={**body, "rounds": rounds})
    assert response.status_code == 200
    return response.get_json()


def settings_form(**changes: str) -> dict:
    form = {
        "allowed_ips": "",
        "callback_url": "",
        "callback_token": "cb-token",
        "callback_dialect": "v4",
        "rtp": "95",
        "min_bet": "100",
        "max_bet": "100000",
        "max_win": "0",
        "call_min": "1000",
        "bonus_call_enabled": "on",
        "approved": "on",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


@pytest.fixture
def locked():
    return create_app(make_settings(admin_token=TOKEN)).test_client()


def sign_in(client, token: str = TOKEN, next_path: str = "/backoffice/"):
    page = html(client.get("/backoffice/login"))
    return client.post(
        "/backoffice/login",
        data={"csrf_token": CSRF.search(page).group(1), "token": token, "next": next_path},
    )


# -- every page renders ---------------------------------------------------------------
PAGES = [
    "/backoffice/",
    "/backoffice/?agent=demo",
    "/backoffice/agents",
    "/backoffice/agents/demo",
    "/backoffice/agents/scorpio_broker",
    "/backoffice/agents/demo/users",
    "/backoffice/agents/demo/sessions",
    "/backoffice/agents/demo/transactions",
    "/backoffice/agents/demo/transactions?type=1&offset=5",
    "/backoffice/agents/demo/callbacks",
    "/backoffice/agents/demo/callbacks?command=bet&outcome=unclear",
    "/backoffice/agents/demo/api-errors",
    "/backoffice/agents/demo/conformance",
    "/backoffice/agents/demo_seamless/conformance",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_as_html_with_a_strict_csp(client, path):
    play(client, 5)
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "<script>" not in html(response)  # the only script is the external bo.js


def test_static_files_are_served_locally(client):
    assert client.get("/backoffice/static/bo.css").status_code == 200
    assert client.get("/backoffice/static/bo.js").status_code == 200


def test_an_unknown_agent_is_an_html_404(client):
    response = client.get("/backoffice/agents/nobody")
    assert (response.status_code, response.mimetype) == (404, "text/html")
    assert "no agent named &#39;nobody&#39;" in html(response)


def test_the_round_page_links_to_the_public_round_page(client):
    round_id = play(client, 1)[0]["round_id"]
    page = html(client.get(f"/backoffice/agents/demo/rounds/{round_id}"))
    link = re.search(r'href="http://localhost(/round/[^"]+)" id="public-round-link"', page).group(1)
    assert link.startswith(f"/round/3-{round_id}-")  # demo is agent 3
    public = client.get(link)
    assert public.status_code == 200
    assert round_id in html(public)
    assert re.findall(r"<td>\d+</td><td>(\w+) \(\d+\)</td>", page) == ["Bet", "Win"]


def test_an_unknown_round_is_404(client):
    assert client.get("/backoffice/agents/demo/rounds/123").status_code == 404


def test_the_dashboard_draws_play_rtp_and_points(client):
    play(client, 30)
    page = html(client.get("/backoffice/"))
    assert page.count('class="bets"') >= 1 and page.count('class="wins"') >= 1
    assert 'polyline class="line ggr"' in page
    assert 'id="rtp-agent-chart"' in page and 'id="rtp-game-chart"' in page
    assert re.search(r'<tr data-agent="demo"><td><a [^>]+>demo</a></td>\s*<td class="num">30</td>', page)
    assert page.count('class="sparkline"') == 4


def test_the_dashboard_without_play_says_so(client):
    page = html(client.get("/backoffice/?agent=demo_seamless"))
    assert 'id="no-play"' in page


# -- escaping ------------------------------------------------------------------------
def test_a_user_name_with_markup_is_escaped(client, sim):
    # The public API refuses such a name; the domain takes any (a name stored before validation).
    sim.world.users.create_or_get(sim.world.hierarchy.get("demo"), XSS)
    page = html(client.get("/backoffice/agents/demo/users"))
    assert XSS not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_callback_url_with_markup_is_escaped_everywhere(client):
    url = f"http://wallet.example/{XSS}"
    assert client.patch("/admin/api/agents/demo", json={"callback_url": url}).status_code == 200
    V4(client)("user/create", {"name": "xss_player"})  # the authenticate callback fails and is logged
    for path in (
        "/backoffice/agents/demo",
        "/backoffice/agents/demo/conformance",
        "/backoffice/agents/demo/callbacks",
    ):
        page = html(client.get(path))
        assert XSS not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path


def test_a_request_body_with_markup_is_escaped_in_the_api_error_log(client):
    V4(client)("user/info", raw=f'{{"user_code": "{XSS}"}}')
    page = html(client.get("/backoffice/agents/demo/api-errors"))
    assert XSS not in page
    assert "&lt;script&gt;" in page


# -- sign-in ----------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/backoffice/", "/backoffice/agents", "/backoffice/agents/demo/users"])
def test_with_a_token_pages_redirect_to_the_login(locked, path):
    response = locked.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/backoffice/login?next=")


def test_with_a_token_a_post_without_signing_in_is_401_and_changes_nothing(locked):
    response = locked.post("/backoffice/agents/demo/api-token", data={"csrf_token": "x"})
    assert response.status_code == 401
    before = locked.get("/admin/api/agents/demo", headers={"X-Admin-Token": TOKEN}).get_json()["api_token"]
    assert before == "ed45553e-1702-4342-a70d-09bf7ff7f568"


def test_the_login_page_and_static_files_stay_open(locked):
    assert locked.get("/backoffice/login").status_code == 200
    assert locked.get("/backoffice/static/bo.css").status_code == 200


def test_a_wrong_token_is_refused_on_the_login_page(locked):
    response = sign_in(locked, "wrong")
    assert response.status_code == 401
    assert "That is not the admin token." in html(response)
    assert locked.get("/backoffice/").status_code == 302


def test_the_right_token_signs_in_and_returns_to_the_page_asked_for(locked):
    response = sign_in(locked, next_path="/backoffice/agents/demo/users")
    assert (response.status_code, response.headers["Location"]) == (303, "/backoffice/agents/demo/users")
    assert locked.get("/backoffice/agents/demo/users").status_code == 200
    assert "HttpOnly" in response.headers["Set-Cookie"]


def test_the_login_never_redirects_off_the_back_office(locked):
    response = sign_in(locked, next_path="https://evil.example/backoffice")
    assert response.headers["Location"] == "/backoffice/"


def test_signing_out_ends_the_session(locked):
    sign_in(locked)
    assert post(locked, "/backoffice/logout").status_code == 303
    assert locked.get("/backoffice/").status_code == 302


def test_the_x_admin_token_header_also_opens_the_pages(locked):
    assert locked.get("/backoffice/agents", headers={"X-Admin-Token": TOKEN}).status_code == 200
    assert locked.get("/backoffice/agents", headers={"X-Admin-Token": "wrong"}).status_code == 302


def test_without_a_token_on_loopback_the_pages_are_open(client):
    assert client.get("/backoffice/agents").status_code == 200
    assert client.get("/backoffice/login").headers["Location"] == "/backoffice/"


def test_a_form_without_its_csrf_token_is_refused(client, sim):
    response = client.post("/backoffice/agents/demo/api-token", data={})
    assert response.status_code == 400
    assert sim.world.hierarchy.get("demo").api_token == "ed45553e-1702-4342-a70d-09bf7ff7f568"
    csrf(client)
    assert client.post("/backoffice/agents/demo/api-token", data={"csrf_token": "forged"}).status_code == 400


# -- settings, token, points, new agents ----------------------------------------------------
def test_the_settings_form_saves_every_field(client, sim):
    form = settings_form(
        allowed_ips="10.0.0.1\r\n::1",  # a textarea's line break, as browsers send it
        callback_url=DEAD_URL,
        callback_token="tok-1",
        callback_dialect="legacy",
        rtp="90",
        min_bet="200",
        max_bet="5000",
        max_win="100000",
        call_min="2000",
        bonus_call_enabled=None,
        approved=None,
        disabled="on",
    )
    response = post(client, "/backoffice/agents/demo/settings", form)
    assert response.status_code == 303
    agent = client.get("/admin/api/agents/demo").get_json()
    assert {k: agent[k] for k in form} | {"bonus_call_enabled": agent["bonus_call_enabled"]} == {
        "allowed_ips": "10.0.0.1\n::1",
        "callback_url": DEAD_URL,
        "callback_token": "tok-1",
        "callback_dialect": "legacy",
        "rtp": 90,
        "min_bet": 200,
        "max_bet": 5000,
        "max_win": 100000,
        "call_min": 2000,
        "disabled": True,
        "bonus_call_enabled": False,
    }
    assert agent["approved"] is False
    page = html(client.get("/backoffice/agents/demo"))
    assert "Settings saved. The agent is now in seamless mode." in page
    assert 'id="agent-mode">seamless<' in page


def test_rtp_0_in_the_form_restores_the_platform_default(client):
    post(client, "/backoffice/agents/demo/settings", settings_form(rtp="80"))
    post(client, "/backoffice/agents/demo/settings", settings_form(rtp="0"))
    assert client.get("/admin/api/agents/demo").get_json()["rtp"] == 95


def test_the_settings_form_shows_errors_and_saves_nothing(client):
    form = settings_form(allowed_ips="10.0.0.1 not-an-ip", rtp="50", max_bet="lots", callback_url="ftp://x")
    response = post(client, "/backoffice/agents/demo/settings", form)
    assert response.status_code == 400
    page = html(response)
    assert "The settings were not saved" in page
    assert "not an IPv4 or IPv6 address: &#39;not-an-ip&#39;" in page
    assert 'id="error-rtp">must be between 75 and 95, or 0 for the platform default<' in page
    assert 'id="error-max_bet">The max_bet field must be a number.<' in page
    assert 'id="error-callback_url">' in page
    assert 'value="lots"' in page  # what was typed stays in the form
    agent = client.get("/admin/api/agents/demo").get_json()
    assert (agent["allowed_ips"], agent["rtp"], agent["callback_url"]) == ("", 95, "")


def test_the_reissue_button_changes_the_api_token(client, v4):
    response = post(client, "/backoffice/agents/demo/api-token")
    assert response.status_code == 303
    token = client.get("/admin/api/agents/demo").get_json()["api_token"]
    assert token != "ed45553e-1702-4342-a70d-09bf7ff7f568"
    assert token in html(client.get("/backoffice/agents/demo"))
    assert v4("agent/info", {}).code == 1009


def test_the_points_form_grants_and_recalls(client):
    assert (
        post(client, "/backoffice/agents/demo/points", {"direction": "grant", "amount": "500"}).status_code
        == 303
    )
    assert client.get("/admin/api/agents/demo").get_json()["points"] == 1_000_500
    assert "Grant of 500 KRW: demo now has 1,000,500 KRW." in html(client.get("/backoffice/agents/demo"))
    post(client, "/backoffice/agents/demo/points", {"direction": "recall", "amount": "1500"})
    assert client.get("/admin/api/agents/demo").get_json()["points"] == 999_000


def test_the_points_form_explains_a_refusal_and_moves_nothing(client):
    post(client, "/backoffice/agents/demo/points", {"direction": "recall", "amount": "999999999"})
    page = html(client.get("/backoffice/agents/demo"))
    assert 'class="flash error"' in page and "agent demo has 1000000 points, 999999999 needed" in page
    post(client, "/backoffice/agents/demo/points", {"direction": "grant", "amount": "-5"})
    assert "amount: [amount] must be greater than 0" in html(client.get("/backoffice/agents/demo"))
    assert client.get("/admin/api/agents/demo").get_json()["points"] == 1_000_000


def test_a_root_agent_has_no_points_form(client):
    post(client, "/backoffice/agents/scorpio_broker/points", {"direction": "grant", "amount": "5"})
    assert "it has no parent" in html(client.get("/backoffice/agents/scorpio_broker"))


def test_the_create_form_makes_a_sub_agent_with_points(client):
    form = {"name": "new_casino", "kind": "agent", "parent": "demo_operator", "points": "2500"}
    response = post(client, "/backoffice/agents", form)
    assert (response.status_code, response.headers["Location"]) == (303, "/backoffice/agents/new_casino")
    agent = client.get("/admin/api/agents/new_casino").get_json()
    assert (agent["parent"], agent["points"], agent["mode"]) == ("demo_operator", 2500, "transfer")


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"name": "x", "kind": "agent", "parent": "demo_operator"}, 400, "[name] must be 2-50 characters"),
        ({"name": "demo", "kind": "agent", "parent": "demo_operator"}, 409, "already exists"),
        ({"name": "op2", "kind": "operator", "parent": "demo"}, 400, "[parent] a operator cannot be created"),
        ({"name": "orphan", "kind": "agent", "parent": "nobody"}, 400, "no agent named 'nobody'"),
        (
            {"name": "rich2", "kind": "agent", "parent": "demo", "points": "99999999"},
            409,
            "99999999 requested",
        ),
        (
            {"name": "rich", "kind": "agent", "parent": "demo_operator", "points": "1e99"},
            400,
            "must be a number",
        ),
    ],
)
def test_the_create_form_shows_what_was_wrong(client, form, status, message):
    response = post(client, "/backoffice/agents", form)
    assert response.status_code == status
    assert message in html(response).replace("&#39;", "'")


# -- users, sessions, transactions -------------------------------------------------------
def test_block_and_unblock_from_the_users_page(client, sim):
    path = f"/backoffice/agents/demo/users/{DEMO_USER}/active"
    assert post(client, path, {"active": "0"}).status_code == 303
    assert sim.world.store.user(DEMO_USER).active is False
    page = html(client.get("/backoffice/agents/demo/users"))
    assert f'data-user-code="{DEMO_USER}" data-active="false"' in page
    assert "Player test1234 (400000001) is blocked." in page
    assert play(client, 1)[0]["status"] == "refused"
    post(client, path, {"active": "1"})
    assert sim.world.store.user(DEMO_USER).active is True


def test_blocking_an_unknown_user_from_the_page_is_404(client):
    assert post(client, "/backoffice/agents/demo/users/123/active", {"active": "0"}).status_code == 404


def test_game_connections_list_online_sessions(client, sim):
    agent = sim.world.hierarchy.get("demo")
    launch = sim.world.sessions.launch(agent, LaunchRequest(DEMO_USER, 1, "vswaysdogs", 1))
    session = sim.world.sessions.open(launch.token)
    page = html(client.get("/backoffice/agents/demo/sessions"))
    assert f'data-gplay-id="{session.gplay_id}"' in page
    assert "The Dog House Megaways" in page and "test1234" in page


def test_game_connections_show_the_sessions_bonus_call(client, sim, v4):
    agent = sim.world.hierarchy.get("demo")
    launch = sim.world.sessions.launch(agent, LaunchRequest(DEMO_USER, 1, "vswaysdogs", 1))
    session = sim.world.sessions.open(launch.token)
    call_id = v4("game/call_start", {"gplay_id": session.gplay_id, "set_point": 2500}).data["call_id"]
    page = html(client.get("/backoffice/agents/demo/sessions"))
    assert f"#{call_id} Init" in page


def test_transactions_page_filters_and_pages(client):
    play(client, 30)
    page = html(client.get(f"/backoffice/agents/demo/transactions?user_code={DEMO_USER}&type=1"))
    assert 'data-total="30"' in page
    assert page.count('data-type="1"') == 30
    everything = html(client.get("/backoffice/agents/demo/transactions"))
    assert 'id="next"' in everything and 'id="previous"' not in everything
    second = html(client.get("/backoffice/agents/demo/transactions?offset=50"))
    assert 'id="previous"' in second


def test_transactions_page_links_each_round_to_its_public_round_page(client, v4):
    [played] = play(client, 1)
    page = html(client.get(f"/backoffice/agents/demo/transactions?user_code={DEMO_USER}"))
    links = set(re.findall(r'class="public-round" href="([^"]+)"', page))
    details = v4("game/round-details", {"user_code": DEMO_USER, "round_id": played["round_id"]}).data["url"]
    assert links == {details.removeprefix("http://127.0.0.1:8080")}
    public = client.get(links.pop())
    assert public.status_code == 200
    assert played["round_id"] in html(public)


def test_transactions_page_explains_a_bad_filter(client):
    response = client.get("/backoffice/agents/demo/transactions?from=yesterday")
    assert response.status_code == 400
    assert "from: &#39;yesterday&#39; is not a time" in html(response)


# -- logs and the callback tester ------------------------------------------------------------
def test_the_api_error_log_lists_only_failed_v4_calls_of_the_agent(client, v4):
    v4("agent/info", {})
    v4("user/info", {"user_code": 1})
    V4(client, SEAMLESS_TOKEN)("user/info", {"user_code": 2})
    page = html(client.get("/backoffice/agents/demo/api-errors"))
    assert page.count('data-code="') == 1
    assert 'data-code="2002" data-path="/v4/user/info"' in page


def test_a_failed_callback_is_in_the_callback_log_and_the_error_log(client):
    client.patch("/admin/api/agents/demo_seamless", json={"callback_url": DEAD_URL})
    assert V4(client, SEAMLESS_TOKEN)("user/create", {"name": "newcomer"}).code == 1015
    callbacks = html(client.get("/backoffice/agents/demo_seamless/callbacks"))
    assert 'data-outcome="unclear"' in callbacks and "authenticate" in callbacks
    errors = html(client.get("/backoffice/agents/demo_seamless/api-errors"))
    assert 'data-code="1015" data-path="/v4/user/create"' in errors
    assert 'id="failed-callbacks"' in errors and "newcomer" in errors


def test_the_callback_tester_runs_and_shows_a_results_table(client, app):
    client.patch("/admin/api/agents/demo_seamless", json={"callback_url": DEAD_URL})
    response = post(client, "/backoffice/agents/demo_seamless/conformance", {"account": "tester"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/backoffice/agents/demo_seamless/conformance/1"
    run = app.extensions["scorpio_backoffice"].get(1)
    assert run.finished.wait(30)
    page = html(client.get(response.headers["Location"]))
    assert 'data-state="finished"' in page
    assert page.count('data-status="FAIL"') == 15
    assert "not run: the callback URL gave no HTTP answer" in page
    assert "#1" in html(client.get("/backoffice/agents/demo_seamless/conformance"))


def test_the_callback_tester_needs_a_callback_url(client):
    response = post(client, "/backoffice/agents/demo/conformance")
    assert response.headers["Location"] == "/backoffice/agents/demo/conformance"
    assert "has no callback URL" in html(client.get("/backoffice/agents/demo/conformance"))


def test_an_unknown_test_run_is_404(client):
    assert client.get("/backoffice/agents/demo_seamless/conformance/99").status_code == 404
