"""``GET /control/journal`` filters beyond agent/path/code/limit (control-api.md, issue 6)."""

from __future__ import annotations

import pytest

from tests.conftest import DEMO_USER

USER_INFO = {"user_code": DEMO_USER}


def _at(client, when: str) -> None:
    """Freezes the simulator's clock at ``when``, so the next journal entries carry that time."""
    assert client.post("/control/clock", json={"freeze": True, "set": when}).status_code == 200


def _journal(client, query: str) -> list[dict]:
    response = client.get(f"/control/journal?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _times(client, query: str) -> list[str]:
    return [row["time"] for row in _journal(client, query)]


def _paths(client, query: str) -> list[str]:
    return [row["path"] for row in _journal(client, query)]


@pytest.fixture
def three_hours(client, v4) -> None:
    """One ``agent/info`` call at 01:00, 02:00 and 03:00 on 2030-01-02 (UTC)."""
    for hour in (1, 2, 3):
        _at(client, f"2030-01-02T0{hour}:00:00Z")
        v4("agent/info")


def test_since_keeps_entries_at_or_after_that_time(client, three_hours):
    assert _times(client, "since=2030-01-02T02:00:00Z") == [
        "2030-01-02T03:00:00+00:00",
        "2030-01-02T02:00:00+00:00",
    ]


def test_until_keeps_entries_before_that_time(client, three_hours):
    assert _times(client, "until=2030-01-02T02:00:00Z") == ["2030-01-02T01:00:00+00:00"]


def test_since_and_until_together_keep_the_window(client, three_hours):
    window = "since=2030-01-02T01:30:00Z&until=2030-01-02T02:30:00Z"
    assert _times(client, window) == ["2030-01-02T02:00:00+00:00"]


def test_a_time_without_an_offset_means_utc(client, three_hours):
    assert _times(client, "since=2030-01-02T03:00:00") == ["2030-01-02T03:00:00+00:00"]


def test_a_time_with_an_offset_is_converted(client, three_hours):
    # 04:30+02:00 is 02:30 UTC.
    assert _times(client, "since=2030-01-02T04:30:00%2B02:00") == ["2030-01-02T03:00:00+00:00"]


def test_an_unencoded_plus_in_the_offset_still_reads_as_an_offset(client, three_hours):
    # "+" in a query string decodes to a space; "...T05:00:00+02:00" is 03:00 UTC.
    assert _times(client, "since=2030-01-02T05:00:00+02:00") == ["2030-01-02T03:00:00+00:00"]


def test_since_compares_times_even_when_the_clock_was_moved_back(client, v4):
    _at(client, "2030-06-01T00:00:00Z")
    v4("agent/info")
    _at(client, "2029-06-01T00:00:00Z")
    v4("user/info", USER_INFO)
    assert _paths(client, "since=2030-01-01T00:00:00Z") == ["/v4/agent/info"]


def test_client_ip_keeps_calls_from_that_address(client, v4):
    v4("agent/info", remote_addr="10.1.2.3")
    v4("agent/info", remote_addr="10.1.2.30")
    assert [row["client_ip"] for row in _journal(client, "client_ip=10.1.2.3")] == ["10.1.2.3"]


def test_client_ip_ending_in_a_star_is_a_prefix(client, v4):
    v4("agent/info", remote_addr="10.1.2.3")
    v4("agent/info", remote_addr="192.168.0.1")
    v4("agent/info", remote_addr="10.9.9.9")
    assert [row["client_ip"] for row in _journal(client, "client_ip=10.*")] == ["10.9.9.9", "10.1.2.3"]


def test_min_duration_ms_keeps_only_calls_that_took_that_long(client, v4):
    # The delay is well above what a plain call takes on either store on a busy machine.
    client.post("/control/faults", json={"target": "api:/v4/user/info", "effect": {"latency_ms": 300}})
    v4("agent/info")
    v4("user/info", USER_INFO)
    rows = _journal(client, "min_duration_ms=250")
    assert [row["path"] for row in rows] == ["/v4/user/info"]
    assert rows[0]["duration_ms"] >= 300


def test_errors_true_keeps_only_failed_calls(client, v4):
    v4("agent/info")
    v4("user/info", {"user_code": 1})
    v4("agent/info", token="not-a-token")
    assert [row["code"] for row in _journal(client, "errors=true")] == [1009, 2002]


def test_errors_false_keeps_only_successful_calls(client, v4):
    v4("agent/info")
    v4("user/info", {"user_code": 1})
    assert [row["code"] for row in _journal(client, "errors=false")] == [0]


def test_code_accepts_a_comma_separated_list(client, v4):
    v4("agent/info")
    v4("user/info", {"user_code": 1})
    v4("agent/info", token="not-a-token")
    assert [row["code"] for row in _journal(client, "code=2002,1009")] == [1009, 2002]


def test_order_asc_is_oldest_first(client, v4):
    v4("agent/info")
    v4("user/info", USER_INFO)
    v4("game/providers")
    assert _paths(client, "order=asc") == ["/v4/agent/info", "/v4/user/info", "/v4/game/providers"]


def test_order_desc_is_the_default_newest_first(client, v4):
    v4("agent/info")
    v4("user/info", USER_INFO)
    assert _paths(client, "order=desc") == _paths(client, "") == ["/v4/user/info", "/v4/agent/info"]


def test_order_asc_with_a_limit_keeps_the_oldest(client, v4):
    v4("agent/info")
    v4("user/info", USER_INFO)
    v4("game/providers")
    assert _paths(client, "order=asc&limit=2") == ["/v4/agent/info", "/v4/user/info"]


def test_filters_combine(client, v4, v4_seamless):
    _at(client, "2030-01-02T01:00:00Z")
    v4("user/info", {"user_code": 1}, remote_addr="10.0.0.1")
    _at(client, "2030-01-02T02:00:00Z")
    v4("user/info", {"user_code": 1}, remote_addr="10.0.0.2")
    v4("user/info", {"user_code": 1}, remote_addr="10.0.0.1")
    v4_seamless("user/info", {"user_code": 1}, remote_addr="10.0.0.1")
    v4("user/info", USER_INFO, remote_addr="10.0.0.1")
    query = "agent=demo&path=/v4/user/*&errors=true&client_ip=10.0.0.1&since=2030-01-02T01:30:00Z"
    [row] = _journal(client, query)
    assert (row["agent"], row["client_ip"], row["code"], row["time"]) == (
        "demo",
        "10.0.0.1",
        2002,
        "2030-01-02T02:00:00+00:00",
    )


def test_the_largest_limit_is_accepted(client, v4):
    v4("agent/info")
    assert len(_journal(client, "limit=10000")) == 1


def _error(client, query: str) -> str:
    response = client.get(f"/control/journal?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert set(body) == {"error"}
    return body["error"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=10001", "limit"),
        ("limit=ten", "limit"),
        ("code=abc", "code"),
        ("code=1018,", "code"),
        ("since=yesterday", "since"),
        ("until=2030-13-01T00:00:00Z", "until"),
        ("since=2030-01-02T02:00:00Z&until=2030-01-02T01:00:00Z", "until"),
        ("min_duration_ms=-1", "min_duration_ms"),
        ("min_duration_ms=nan", "min_duration_ms"),
        ("errors=maybe", "errors"),
        ("order=up", "order"),
        ("agent=demo&agent=other", "agent"),
    ],
)
def test_a_bad_journal_filter_is_400_naming_the_parameter(client, query, parameter):
    assert _error(client, query).startswith(f"{parameter}: ")


def test_the_limit_error_says_the_accepted_range(client):
    assert _error(client, "limit=0").startswith("limit: must be an integer from 1 to 10000")


def test_an_unknown_journal_parameter_is_400_naming_it(client):
    assert _error(client, "agent=demo&colour=red&size=2").startswith("colour, size: unknown query parameters")
