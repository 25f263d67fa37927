"""No cross-site writes to ``/admin/api`` and ``/control`` (issue 15, control-api.md "Common rules").

A state-changing request with a body must send it as JSON (415 otherwise), and a request whose
``Origin`` or ``Sec-Fetch-Site`` says a page of another site made it is refused (403).  Command-line
clients send neither header and keep working; a bodyless ``POST /control/reset`` needs no type.
"""

from __future__ import annotations

import json

import pytest

TRANSFER = {"from": "demo_operator", "to": "demo", "amount": 999}
FAULT = {"agent": "demo", "target": "api:/v4/user/info", "effect": {"code": 1018}}
NOT_JSON = "the body must be sent as Content-Type: application/json"


def _points(client, name: str = "demo") -> int:
    return client.get(f"/admin/api/agents/{name}").get_json()["points"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=zz"]
)
def test_a_points_transfer_sent_as_a_simple_browser_body_is_415_and_moves_nothing(client, content_type):
    before = _points(client)
    response = client.post("/admin/api/points/transfer", data=json.dumps(TRANSFER), content_type=content_type)
    assert response.status_code == 415
    assert response.get_json()["error"].startswith(NOT_JSON)
    assert _points(client) == before


def test_a_fault_rule_sent_as_text_plain_is_415_and_adds_no_rule(client):
    response = client.post("/control/faults", data=json.dumps(FAULT), content_type="text/plain")
    assert response.status_code == 415
    assert client.get("/control/faults").get_json() == []


def test_a_patch_without_a_content_type_is_415(client):
    response = client.patch("/admin/api/agents/demo", data=b'{"rtp": 90}')
    assert response.status_code == 415
    assert client.get("/admin/api/agents/demo").get_json()["rtp"] != 90


def test_a_json_body_with_a_charset_is_accepted(client):
    response = client.post(
        "/control/faults", data=json.dumps(FAULT), content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 201


def test_a_bodyless_post_needs_no_content_type(client):
    response = client.post("/control/reset", content_type="text/plain")
    assert response.status_code == 200


def test_a_chunked_body_of_another_type_is_415(client):
    response = client.post(
        "/control/faults",
        input_stream=None,
        data=json.dumps(FAULT),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "text/plain"},
    )
    assert response.status_code == 415


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_a_request_a_page_of_another_site_made_is_403(client, site):
    response = client.post("/control/faults", json=FAULT, headers={"Sec-Fetch-Site": site})
    assert response.status_code == 403
    assert "another site" in response.get_json()["error"]
    assert client.get("/control/faults").get_json() == []


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://localhost:8080", "file://"])
def test_a_request_from_another_origin_is_403(client, origin):
    before = _points(client)
    response = client.post("/admin/api/points/transfer", json=TRANSFER, headers={"Origin": origin})
    assert response.status_code == 403
    assert "another origin" in response.get_json()["error"]
    assert _points(client) == before


def test_a_read_from_another_site_is_403_too(client):
    """``/control/snapshot`` holds every token: a page of another site gets nothing, not even a status."""
    assert client.get("/control/snapshot", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403


@pytest.mark.parametrize("site", ["same-origin", "none"])
def test_a_request_of_the_servers_own_pages_or_typed_by_a_person_is_served(client, site):
    response = client.post("/control/faults", json=FAULT, headers={"Sec-Fetch-Site": site})
    assert response.status_code == 201


def test_a_request_whose_origin_is_this_server_is_served(client):
    response = client.post(
        "/admin/api/points/transfer",
        json=TRANSFER,
        headers={"Origin": "http://localhost", "Host": "localhost"},
    )
    assert response.status_code == 200


def test_the_health_check_is_open_to_any_site(client):
    assert client.get("/control/health", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200


def test_the_cross_site_refusal_comes_before_the_token_check(app, client):
    """A page of another site learns nothing about the token, right or wrong."""
    app.config["SCORPIO_ADMIN_TOKEN"] = "s3cret"
    response = client.get("/admin/api/agents", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
