"""Transport rules of every ``/v4`` call: envelope, HTTP status, body parsing, numbers (spec 2, 13.2)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.conftest import DEMO_TOKEN, DEMO_USER, make_settings

MAX_BODY = 64 * 1024


def _demo(sim):
    return sim.world.hierarchy.get("demo")


def _raw(client, path: str, data: str | bytes):
    """POST a raw body and return the Flask response, for checks on the exact JSON text."""
    return client.post(
        f"/v4/{path}",
        data=data,
        content_type="application/json",
        headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
    )


# -- the envelope ----------------------------------------------------------------


def test_success_with_payload_is_http_200_with_code_message_and_data(v4):
    answer = v4("user/info", {"user_code": DEMO_USER})
    assert answer.status == 200
    assert set(answer.body) == {"code", "message", "data"}
    assert answer.body["code"] == 0
    assert answer.body["message"] == "OK"


def test_bare_success_is_code_and_message_only(v4):
    answer = v4("agent/rtp", {"rtp": 90})
    assert answer.status == 200
    assert answer.body == {"code": 0, "message": "OK"}


def test_error_is_http_200_with_code_and_name_and_no_data(v4):
    answer = v4("user/info", {"user_code": 499999999})
    assert answer.status == 200
    assert answer.body == {"code": 2002, "message": "USER_NOT_FOUND"}


def test_validation_error_carries_a_list_of_field_problems(v4):
    answer = v4("user/info", {})
    assert answer.status == 200
    assert answer.body == {
        "code": 1002,
        "message": "VALIDATION_ERROR",
        "data": [{"field": "user_code", "message": "The user_code field is required."}],
    }


def test_validation_error_lists_every_failing_field(v4):
    answer = v4("wallet/deposit", {})
    assert answer.code == 1002
    assert answer.data == [
        {"field": "user_code", "message": "The user_code field is required."},
        {"field": "amount", "message": "The amount field is required."},
    ]


def test_null_field_is_reported_as_required(v4):
    answer = v4("user/create", {"name": None})
    assert answer.code == 1002
    assert answer.data == [{"field": "name", "message": "The name field is required."}]


def test_responses_are_json(v4):
    answer = v4("agent/info")
    assert answer.headers["Content-Type"] == "application/json"


# -- routing (OP-11) --------------------------------------------------------------


def test_unknown_path_is_http_404_service_exception(v4):
    answer = v4("agent/nothing")
    assert answer.status == 404
    assert answer.body == {"code": 1003, "message": "SERVICE_EXCEPTION"}


def test_bare_v4_path_is_http_404_service_exception(client):
    response = client.post("/v4", headers={"Authorization": f"Bearer {DEMO_TOKEN}"})
    assert response.status_code == 404
    assert response.get_json() == {"code": 1003, "message": "SERVICE_EXCEPTION"}


def test_unknown_path_answers_404_before_the_token_is_checked(v4):
    answer = v4("agent/nothing", token="")
    assert answer.status == 404
    assert answer.code == 1003


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_method_other_than_post_is_http_405_service_exception(v4, method):
    answer = v4("agent/info", method=method)
    assert answer.status == 405
    assert answer.body == {"code": 1003, "message": "SERVICE_EXCEPTION"}


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("agent/info%00", "agent/info\\x00"),
        ("agent/info%01", "agent/info\\x01"),
        ("agent/info%7f", "agent/info\\x7f"),
        ("a%0ab", "a\\x0ab"),
        ("a%0d%0aSet-Cookie:%20x=1", "a\\x0d\\x0aSet-Cookie: x=1"),
        ("agent/info%C3%A9", "agent/info\\xe9"),
    ],
)
def test_a_control_character_in_the_path_is_404_with_the_character_escaped_in_the_detail(client, path, shown):
    """Issue 15: the detail header quoted the raw character, and a server refused the header (500)."""
    response = client.post(f"/v4/{path}", headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, data="{}")
    assert response.status_code == 404
    assert response.get_json() == {"code": 1003, "message": "SERVICE_EXCEPTION"}
    assert response.headers["X-Sim-Error-Detail"] == f"no endpoint /v4/{shown}"


def test_an_upper_case_v4_path_is_http_404_in_the_envelope(client):
    response = client.post("/V4/agent/info", headers={"Authorization": f"Bearer {DEMO_TOKEN}"})
    assert response.status_code == 404
    assert response.get_json() == {"code": 1003, "message": "SERVICE_EXCEPTION"}


def test_trailing_slash_reaches_the_endpoint(v4):
    answer = v4("agent/info/")
    assert answer.code == 0
    assert answer.data["name"] == "demo"


# -- bodies (2.1, 2.2, 13.2) ---------------------------------------------------------


def test_malformed_json_is_http_200_validation_error(v4):
    answer = v4("user/info", raw=b'{"user_code": 400000001')
    assert answer.status == 200
    assert answer.code == 1002
    assert answer.data[0]["field"] == "body"
    assert answer.data[0]["message"].startswith("The request body is not valid JSON")


def test_body_over_64_kib_is_validation_error(v4):
    answer = v4("agent/info", raw=b" " * (MAX_BODY + 1))
    assert answer.status == 200
    assert answer.body == {
        "code": 1002,
        "message": "VALIDATION_ERROR",
        "data": [{"field": "body", "message": "The request body must not exceed 65536 bytes."}],
    }


def test_oversized_json_object_is_validation_error(v4):
    answer = v4("user/info", {"user_code": DEMO_USER, "padding": "x" * MAX_BODY})
    assert answer.code == 1002
    assert answer.data[0]["field"] == "body"


def test_oversized_body_closes_the_connection(v4):
    answer = v4("agent/info", raw=b" " * (MAX_BODY + 1))
    assert answer.headers["Connection"] == "close"


def test_body_of_exactly_64_kib_is_accepted(v4):
    prefix = b'{"user_code":400000001,"padding":"'
    suffix = b'"}'
    raw = prefix + b"x" * (MAX_BODY - len(prefix) - len(suffix)) + suffix
    assert len(raw) == MAX_BODY
    answer = v4("user/info", raw=raw)
    assert answer.code == 0
    assert answer.data["name"] == "test1234"


@pytest.mark.parametrize("path", ["agent/info", "game/all"])
def test_empty_array_empty_object_and_empty_body_are_the_same_request(v4, path):
    answers = [v4(path, raw=b"[]"), v4(path, raw=b"{}"), v4(path, raw=b""), v4(path)]
    assert [a.code for a in answers] == [0, 0, 0, 0]
    assert answers[0].data == answers[1].data == answers[2].data == answers[3].data


@pytest.mark.parametrize("raw", [b'"text"', b"5", b"[1]", b'[{"user_code":400000001}]', b"null", b"true"])
def test_non_object_body_is_validation_error_for_an_endpoint_with_params(v4, raw):
    answer = v4("user/info", raw=raw)
    assert answer.code == 1002
    assert answer.data == [{"field": "body", "message": "The request body must be a JSON object."}]


def test_empty_array_for_an_endpoint_with_params_reports_the_missing_field(v4):
    answer = v4("user/info", raw=b"[]")
    assert answer.code == 1002
    assert answer.data == [{"field": "user_code", "message": "The user_code field is required."}]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_validation_errors(v4, constant):
    raw = f'{{"user_code":400000001,"amount":{constant}}}'.encode()
    answer = v4("wallet/deposit", raw=raw)
    assert answer.code == 1002
    assert answer.data[0]["field"] == "body"


def test_nan_is_refused_even_in_an_ignored_field(v4):
    answer = v4("agent/info", raw=b'{"extra": NaN}')
    assert answer.code == 1002


def test_deep_nesting_is_validation_error(v4):
    answer = v4("agent/info", raw=b'{"a":' * 40 + b"1" + b"}" * 40)
    assert answer.code == 1002
    assert answer.data == [{"field": "body", "message": "The request body is nested deeper than 32 levels."}]


def test_nesting_beyond_the_parser_recursion_limit_is_validation_error(v4):
    answer = v4("agent/info", raw=b"[" * 30000 + b"]" * 30000)
    assert answer.status == 200
    assert answer.code == 1002


def test_nesting_within_the_limit_is_accepted(v4):
    answer = v4("agent/info", raw=b'{"a":' * 10 + b"1" + b"}" * 10)
    assert answer.code == 0


def test_body_that_is_not_utf8_is_validation_error(v4):
    answer = v4("agent/info", raw=b'{"a":"\xff"}')
    assert answer.code == 1002
    assert answer.data == [{"field": "body", "message": "The request body must be UTF-8 encoded JSON."}]


def test_utf8_byte_order_mark_is_accepted(v4):
    answer = v4("user/info", raw=b'\xef\xbb\xbf{"user_code":400000001}')
    assert answer.code == 0


def test_unknown_fields_are_ignored(v4):
    answer = v4("user/info", {"user_code": DEMO_USER, "is_finish_jackpot": 1, "tx_id": "abc"})
    assert answer.code == 0
    assert answer.data["name"] == "test1234"


def test_misspelled_required_field_is_not_guessed(v4):
    answer = v4("game/providers", {"language": 1})
    assert answer.code == 1002
    assert answer.data == [{"field": "lang", "message": "The lang field is required."}]


# -- ids (2.1, OP-10) ------------------------------------------------------------


def test_numeric_string_id_is_accepted(v4):
    answer = v4("user/info", {"user_code": "400000001"})
    assert answer.code == 0
    assert answer.data["name"] == "test1234"


@pytest.mark.parametrize("value", [True, False])
def test_boolean_is_not_an_id(v4, value):
    answer = v4("user/info", {"user_code": value})
    assert answer.code == 1002
    assert answer.data == [{"field": "user_code", "message": "The user_code field must be an integer."}]


@pytest.mark.parametrize("raw", [b'{"user_code":400000001.5}', b'{"user_code":400000001.0}'])
def test_fraction_is_not_an_id(v4, raw):
    answer = v4("user/info", raw=raw)
    assert answer.code == 1002
    assert answer.data == [
        {"field": "user_code", "message": "The user_code field must be an integer, not a fraction."}
    ]


@pytest.mark.parametrize("value", ["4000x0001", "", "400000001.5", "1e9"])
def test_non_numeric_string_is_not_an_id(v4, value):
    answer = v4("user/info", {"user_code": value})
    assert answer.code == 1002
    assert answer.data == [
        {"field": "user_code", "message": "The user_code field must be an integer, not a string."}
    ]


def test_string_of_non_ascii_digits_is_not_an_id(v4):
    answer = v4("user/info", {"user_code": "٤٠٠٠٠٠٠٠١"})
    assert answer.code == 1002
    assert answer.data[0]["field"] == "user_code"


@pytest.mark.parametrize("value", [0, -1, 2**63])
def test_id_out_of_int64_range_is_validation_error(v4, value):
    answer = v4("user/info", {"user_code": value})
    assert answer.code == 1002
    assert answer.data == [
        {"field": "user_code", "message": "[user_code] must be between 1 and 9223372036854775807"}
    ]


def test_integer_literal_of_thousands_of_digits_is_validation_error(v4):
    answer = v4("user/info", raw=b'{"user_code":' + b"9" * 5000 + b"}")
    assert answer.status == 200
    assert answer.code == 1002


class TestStrictTypes:
    @pytest.fixture
    def settings(self):
        return make_settings(strict_types=True)

    def test_numeric_string_id_is_validation_error(self, v4):
        answer = v4("user/info", {"user_code": "400000001"})
        assert answer.code == 1002
        assert answer.data == [
            {"field": "user_code", "message": "The user_code field must be an integer, not a string."}
        ]

    def test_integer_id_is_accepted(self, v4):
        assert v4("user/info", {"user_code": DEMO_USER}).code == 0

    def test_numeric_string_amount_is_validation_error(self, v4):
        answer = v4("wallet/deposit", {"user_code": DEMO_USER, "amount": "100"})
        assert answer.code == 1002
        assert answer.data == [{"field": "amount", "message": "The amount field must be a number."}]

    def test_numeric_string_lang_is_validation_error(self, v4):
        answer = v4("game/providers", {"lang": "1"})
        assert answer.code == 1002
        assert answer.data[0]["field"] == "lang"


# -- amounts (5.6, 13.2) ------------------------------------------------------------


def test_decimal_amount_is_accepted(v4, sim):
    before = sim.world.store.user(DEMO_USER).balance
    answer = v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 100.5})
    assert answer.code == 0
    assert answer.data == {"balance": float(before + Decimal("100.5")), "amount": 100.5}


def test_amount_with_four_decimals_is_accepted(v4):
    answer = v4("wallet/deposit", raw=b'{"user_code":400000001,"amount":0.0001}')
    assert answer.code == 0
    assert answer.data["amount"] == 0.0001


def test_amount_with_more_than_four_decimals_is_validation_error(v4):
    answer = v4("wallet/deposit", raw=b'{"user_code":400000001,"amount":0.00001}')
    assert answer.code == 1002
    assert answer.data == [{"field": "amount", "message": "[amount] must have at most 4 decimal places"}]


def test_trailing_zeros_do_not_count_as_decimals(v4):
    answer = v4("wallet/deposit", raw=b'{"user_code":400000001,"amount":1.500000}')
    assert answer.code == 0
    assert answer.data["amount"] == 1.5


def test_amount_in_exponent_notation_is_accepted(v4):
    answer = v4("wallet/deposit", raw=b'{"user_code":400000001,"amount":1e2}')
    assert answer.code == 0
    assert answer.data["amount"] == 100


def test_numeric_string_amount_is_accepted(v4):
    answer = v4("wallet/deposit", {"user_code": DEMO_USER, "amount": "250.25"})
    assert answer.code == 0
    assert answer.data["amount"] == 250.25


@pytest.mark.parametrize("amount", [0, -5, -0.5])
def test_zero_or_negative_amount_is_validation_error(v4, amount):
    answer = v4("wallet/deposit", {"user_code": DEMO_USER, "amount": amount})
    assert answer.code == 1002
    assert answer.data == [{"field": "amount", "message": "[amount] must be greater than 0"}]


def test_amount_above_the_maximum_names_the_exact_bound(v4):
    answer = v4("wallet/deposit", raw=b'{"user_code":400000001,"amount":100000000000}')
    assert answer.code == 1002
    assert answer.data == [{"field": "amount", "message": "[amount] must be at most 99999999999.9999"}]


def test_largest_amount_passes_validation(v4):
    answer = v4("wallet/deposit", raw=b'{"user_code":400000001,"amount":99999999999.9999}')
    assert answer.code == 2005


@pytest.mark.parametrize("amount", [True, "ten", [100], {"v": 1}])
def test_amount_that_is_not_a_number_is_validation_error(v4, amount):
    answer = v4("wallet/deposit", {"user_code": DEMO_USER, "amount": amount})
    assert answer.code == 1002
    assert answer.data == [{"field": "amount", "message": "The amount field must be a number."}]


def test_whole_amounts_are_printed_as_json_integers(client, sim):
    response = _raw(client, "wallet/deposit", json.dumps({"user_code": DEMO_USER, "amount": 50000}))
    text = response.get_data(as_text=True)
    assert f'"balance":{int(sim.world.store.user(DEMO_USER).balance)},' in text
    assert '"amount":50000}' in text


def test_whole_amount_sent_with_a_fraction_is_printed_as_an_integer(client):
    response = _raw(client, "wallet/deposit", b'{"user_code":400000001,"amount":50000.0}')
    assert '"amount":50000}' in response.get_data(as_text=True)


def test_agent_info_numbers_are_json_integers_when_whole(client):
    response = _raw(client, "agent/info", b"{}")
    text = response.get_data(as_text=True)
    assert '"balance":1000000,' in text
    assert '"win_ratio":95,"rtp":95,' in text


def test_the_largest_amount_with_four_decimals_is_printed_exactly(client, sim):
    sim.world.ledger.issue_points(_demo(sim), Decimal("500000000000"))
    response = _raw(client, "wallet/deposit", b'{"user_code":400000001,"amount":99999999999.9999}')
    assert '"amount":99999999999.9999}' in response.get_data(as_text=True)


def test_an_amount_beyond_fifteen_significant_digits_is_1002(client, sim):
    response = _raw(client, "wallet/deposit", b'{"user_code":400000001,"amount":1234567890123.4567}')
    body = response.get_json()
    assert body["code"] == 1002
    assert body["data"] == [{"field": "amount", "message": "[amount] must be at most 99999999999.9999"}]


# -- aliases (2.4) ------------------------------------------------------------------


def test_win_ratio_is_accepted_for_rtp(v4, sim):
    assert v4("agent/rtp", {"win_ratio": 80}).code == 0
    assert _demo(sim).settings.rtp == 80


def test_rtp_wins_when_both_names_are_sent(v4, sim):
    assert v4("agent/rtp", {"rtp": 85, "win_ratio": 80}).code == 0
    assert _demo(sim).settings.rtp == 85


def test_invalid_win_ratio_is_validation_error(v4, sim):
    answer = v4("agent/rtp", {"win_ratio": 50})
    assert answer.code == 1002
    assert _demo(sim).settings.rtp == 95
