"""Each API family has one entrance and one error path (issue 17, :mod:`simulator.families`).

``/v4`` is answered before Flask by its own entrance (:mod:`simulator.api.front`); the other
families - ``/admin``, ``/control``, ``/backoffice``, ``/play`` - enter through the app's one
``before_request`` hook and leave, on any error, through the app's one error handler, which
hands the error to the family's own answer.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import request, request_started

from simulator import create_app, families
from simulator.http import simulator_of


def _boom(*_args, **_kwargs):
    raise RuntimeError("a bug")


def test_the_app_has_one_before_request_hook_and_one_error_handler_and_no_blueprint_has_any(app):
    assert app.before_request_funcs == {None: [families._enter]}
    assert {blueprint: list(spec) for blueprint, spec in app.error_handler_spec.items()} == {None: [None]}
    assert app.error_handler_spec[None][None] == {Exception: families._leave}


V4_REQUESTS = [
    ("POST", "/v4/agent/info"),
    ("POST", "/v4/nothing"),
    ("GET", "/v4/agent/info"),
    ("TRACE", "/v4/agent/info"),
    ("POST", "/v4//agent/info"),
    ("GET", "/V4/agent/info"),
    ("POST", "/v4"),
]


def test_every_v4_request_is_answered_by_the_v4_entrance_without_flask(app, client):
    started = []
    record = lambda sender, **extra: started.append(request.path)  # noqa: E731
    request_started.connect(record, app)
    try:
        answers = [client.open(path, method=method) for method, path in V4_REQUESTS]
        assert started == []
        assert all(answer.mimetype == "application/json" for answer in answers)
        client.get("/control/health")
        assert started == ["/control/health"]
    finally:
        request_started.disconnect(record, app)
    assert not any(rule.rule.lower().startswith("/v4") for rule in app.url_map.iter_rules())


def test_each_family_is_found_by_its_prefix_and_only_by_it(app):
    with app.test_request_context():
        assert families.family_of("/admin/api/agents").prefixes == ("/admin",)
        assert families.family_of("/control").prefixes == ("/control",)
        assert families.family_of("/backoffice/agents").prefixes == ("/backoffice",)
        assert families.family_of("/play/session/x").prefixes == ("/play", "/round")
        assert families.family_of("/round/x") is families.family_of("/play")
        assert families.family_of("/administrator") is families.OTHERS
        assert families.family_of("/docs") is families.OTHERS


@pytest.mark.parametrize(
    ("path", "status"),
    [("/admin/api/nothing", 404), ("/control/nothing", 404), ("/nothing", 404), ("/play/a/b/c", 404)],
)
def test_a_path_no_route_matches_answers_in_its_familys_json(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert response.get_json() == {"error": f"no route GET {path}"}


def test_a_backoffice_path_no_route_matches_answers_with_a_backoffice_page(client):
    response = client.get("/backoffice/nothing")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "There is no page /backoffice/nothing." in response.get_data(as_text=True)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_crash_in_an_admin_view_answers_the_json_500(app, client, monkeypatch, caplog):
    monkeypatch.setattr(simulator_of(app).world.hierarchy, "tree", _boom)
    response = client.get("/admin/api/agents")
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error; see the simulator's log"}
    assert "unexpected error on /admin/api/agents" in caplog.text


def test_a_crash_in_a_backoffice_page_answers_a_backoffice_error_page(app, client, monkeypatch):
    monkeypatch.setattr(simulator_of(app).world.hierarchy, "tree", _boom)
    response = client.get("/backoffice/agents")
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert "Internal error" in response.get_data(as_text=True)


def test_a_spin_api_refusal_keeps_the_spin_apis_shape(client):
    response = client.get("/play/api/session/nosuch/state")
    assert response.status_code == 404
    assert response.get_json() == {"error": "RESOURCE_NOT_FOUND", "message": "no game session with this key"}


def test_a_game_page_refusal_is_a_game_error_page(client):
    response = client.get("/play/session/nosuch")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Game session not found" in response.get_data(as_text=True)


def test_the_control_entrance_guards_paths_no_route_matches_too(settings):
    app = create_app(replace(settings, admin_token="s3cret"))
    try:
        response = app.test_client().get("/control/nothing")
        assert response.status_code == 401
        assert response.get_json() == {"error": "missing or wrong X-Admin-Token header"}
    finally:
        simulator_of(app).close()


#: The family each blueprint's routes belong to (by its first prefix); None: in no family.
FAMILY_OF_BLUEPRINT = {
    "admin_api": "/admin",
    "control": "/control",
    "backoffice": "/backoffice",
    "play": "/play",
    "play_api": "/play",
    "docs": None,
    "media": None,
    None: None,
}


def test_every_route_lies_under_the_prefixes_of_its_blueprints_family(app):
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            blueprint = rule.endpoint.rpartition(".")[0] or None
            family = families.family_of(rule.rule)
            expected = FAMILY_OF_BLUEPRINT[blueprint]
            assert (family.prefixes[0] if family.prefixes else None) == expected, rule.rule
