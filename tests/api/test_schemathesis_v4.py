"""schemathesis over every ``/v4`` operation of ``/openapi.json``, in-process.

Every answer must be HTTP 200, 404 or 405 JSON in the envelope of spec 2.2 with a code of
section 4, and conform to the document's declared schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from simulator import create_app
from simulator.codes import ResultCode

from ..conftest import DEMO_TOKEN, make_settings

APP = create_app(make_settings())
SCHEMA = schemathesis.openapi.from_wsgi("/openapi.json", APP).include(path_regex=r"^/v4/")
CODES = {int(code) for code in ResultCode}


@SCHEMA.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_v4_answers_in_the_envelope(case) -> None:
    response = case.call(headers={"Authorization": f"Bearer {DEMO_TOKEN}"})
    assert response.status_code in (200, 404, 405), response.text
    headers = {name.lower(): values for name, values in response.headers.items()}
    assert headers["content-type"][0].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    assert set(body) <= {"code", "message", "data"} and {"code", "message"} <= set(body), body
    assert body["code"] in CODES, body
    assert body["message"] == ResultCode(body["code"]).name
    if body["code"] not in (ResultCode.OK, ResultCode.VALIDATION_ERROR):
        assert "data" not in body, body
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


@pytest.mark.parametrize("method", ["TRACE", "QUERY"])
def test_other_methods_are_enveloped(method: str) -> None:
    response = APP.test_client().open("/v4/agent/info", method=method)
    assert response.status_code == 405
    assert response.get_json() == {"code": 1003, "message": "SERVICE_EXCEPTION"}
