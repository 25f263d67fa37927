"""``game/transaction``, ``game/transaction-id``, ``game/round-details`` and ``statistics/user``
through Flask's test client (spec 5.20-5.23, 10, OP-5, OP-7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from simulator import create_app
from simulator.domain.rounds import RoundFailed
from simulator.domain.sessions import LaunchRequest
from tests.conftest import DEMO_USER, ROW_KEYS, SEAMLESS_TOKEN, V4, make_settings

START = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
START_MS = 1_811_851_200_000
OTHER_USER = DEMO_USER + 1
SLOT = (1, "vs20fruitsw")
LIVE = (1, "sim_live_roulette")
MINI = (15, "aviator")
HOUR = {"start_time": "2027-06-01 12:00:00", "end_time": "2027-06-01 13:00:00", "offset": 0, "limit": 10}
DAY = {"start_time": "2027-06-01 00:00:00", "end_time": "2027-06-01 23:59:59", "offset": 0, "limit": 10}


class Desk:
    """The demo agent with DEMO_USER and OTHER_USER emptied, then the clock frozen at :data:`START`.

    The fixture deposits and the emptying withdrawals happened months before
    START, so the first history call purges them: every test sees only its own rows.
    """

    def __init__(self, sim, v4: V4) -> None:
        self.sim, self.v4 = sim, v4
        for user_code in (DEMO_USER, OTHER_USER):
            assert v4("wallet/withdraw-all", {"user_code": user_code}).code == 0
        sim.clock.freeze(True)
        sim.clock.set(START)
        self.agent = sim.world.hierarchy.get("demo")
        self._sessions: dict[tuple, object] = {}

    def at(self, seconds: float) -> None:
        self.sim.clock.set(START + timedelta(seconds=seconds))

    def deposit(self, amount: int, user_code: int = DEMO_USER) -> None:
        assert self.v4("wallet/deposit", {"user_code": user_code, "amount": amount}).code == 0

    def session(self, game: tuple, user_code: int):
        key = (game, user_code)
        if key not in self._sessions:
            launch = self.sim.world.sessions.launch(self.agent, LaunchRequest(user_code, *game, 1))
            self._sessions[key] = self.sim.world.sessions.open(launch.token)
        return self._sessions[key]

    def play(
        self,
        stake: int = 100,
        multiplier: Fraction = Fraction(2),
        game: tuple = SLOT,
        user_code: int = DEMO_USER,
    ):
        name = self.sim.world.store.user(user_code).name
        self.sim.world.forced.push(self.agent.agent_id, name, [multiplier])
        return self.sim.world.rounds.play(self.session(game, user_code), Decimal(stake))

    def refunded(self, stake: int = 100, game: tuple = SLOT, user_code: int = DEMO_USER):
        rule = {"agent": "demo", "target": "round:settle", "effect": {"fail": True}, "times": 1}
        assert self.v4.client.post("/control/faults", json=rule).status_code == 201
        with pytest.raises(RoundFailed) as failed:
            self.sim.world.rounds.play(self.session(game, user_code), Decimal(stake))
        return failed.value.round

    def last_trans_id(self) -> int:
        return self.sim.world.store.transactions_of(self.agent.agent_id)[-1].trans_id


@pytest.fixture
def desk(sim, v4) -> Desk:
    return Desk(sim, v4)


@pytest.fixture
def seoul():
    """A simulator reporting in Asia/Seoul (OP-5), with its Desk."""
    app = create_app(make_settings(report_tz="Asia/Seoul"))
    v4 = V4(app.test_client())
    return Desk(app.extensions["scorpio"], v4)


@pytest.fixture
def unthrottled():
    app = create_app(make_settings(poll_throttle=False))
    v4 = V4(app.test_client())
    return Desk(app.extensions["scorpio"], v4)


def _window(**changes) -> dict:
    return {**HOUR, **changes}


def _ids(rows: list[dict]) -> list[int]:
    return [row["trans_id"] for row in rows]


# -- 5.20 transaction: the objects ----------------------------------------------------------
def test_transaction_shows_a_deposit_row_with_every_field(desk):
    desk.deposit(1000)
    trans_id = desk.last_trans_id()
    answer = desk.v4("game/transaction", HOUR)
    assert answer.body == {
        "code": 0,
        "message": "OK",
        "data": {
            "total": 1,
            "offset": 0,
            "count": 1,
            "list": [
                {
                    "trans_id": trans_id,
                    "user_code": DEMO_USER,
                    "round_id": "",
                    "trans_type": 4,
                    "provider_id": 0,
                    "provider_name": "",
                    "game_code": "",
                    "game_name": "",
                    "category": "",
                    "prebalance": 0,
                    "trans_amount": 1000,
                    "balance": 1000,
                    "regdate": "2027-06-01 12:00:00",
                    "time_stamp": START_MS,
                }
            ],
        },
    }


def test_transaction_rows_carry_the_spec_fields_in_order(desk):
    desk.deposit(1000)
    row = desk.v4("game/transaction", HOUR).data["list"][0]
    assert list(row) == ROW_KEYS


def test_transaction_shows_a_withdraw_row_as_type_8_reducing_the_balance(desk):
    desk.deposit(1000)
    assert desk.v4("wallet/withdraw", {"user_code": DEMO_USER, "amount": 300}).code == 0
    row = desk.v4("game/transaction", HOUR).data["list"][1]
    assert (row["trans_type"], row["prebalance"], row["trans_amount"], row["balance"]) == (8, 1000, 300, 700)
    assert (row["round_id"], row["provider_id"], row["category"]) == ("", 0, "")


def test_transaction_shows_a_slot_round_as_bet_then_win(desk):
    desk.deposit(1000)
    round_ = desk.play(100, Fraction(5, 2))
    bet, win = desk.v4("game/transaction", HOUR).data["list"][1:]
    common = {
        "user_code": DEMO_USER,
        "round_id": round_.round_id,
        "provider_id": 1,
        "provider_name": "Pragmatic Play",
        "game_code": "vs20fruitsw",
        "game_name": "Sweet Bonanza",
        "category": "Slots",
        "regdate": "2027-06-01 12:00:00",
        "time_stamp": START_MS,
    }
    assert bet == {
        **common,
        "trans_id": bet["trans_id"],
        "trans_type": 1,
        "prebalance": 1000,
        "trans_amount": 100,
        "balance": 900,
    }
    assert win == {
        **common,
        "trans_id": bet["trans_id"] + 1,
        "trans_type": 2,
        "prebalance": 900,
        "trans_amount": 250,
        "balance": 1150,
    }


def test_transaction_shows_a_losing_round_with_a_win_of_zero(desk):
    desk.deposit(1000)
    desk.play(100, Fraction(0))
    win = desk.v4("game/transaction", HOUR).data["list"][2]
    assert (win["trans_type"], win["prebalance"], win["trans_amount"], win["balance"]) == (2, 900, 0, 900)


def test_transaction_shows_a_live_game_in_category_live(desk):
    desk.deposit(1000)
    desk.play(100, game=LIVE)
    row = desk.v4("game/transaction", HOUR).data["list"][1]
    assert (row["provider_name"], row["game_name"], row["category"]) == (
        "Pragmatic Play",
        "Live Roulette",
        "Live",
    )


def test_transaction_shows_a_mini_game_in_category_mini(desk):
    desk.deposit(1000)
    desk.play(100, game=MINI)
    row = desk.v4("game/transaction", HOUR).data["list"][1]
    assert (row["provider_id"], row["provider_name"], row["game_name"], row["category"]) == (
        15,
        "Spribe",
        "Aviator",
        "Mini",
    )


def test_transaction_shows_a_refund_as_bet_then_bet_cancel(desk):
    desk.deposit(1000)
    round_ = desk.refunded(300)
    bet, cancel = desk.v4("game/transaction", HOUR).data["list"][1:]
    assert (bet["round_id"], cancel["round_id"]) == (round_.round_id, round_.round_id)
    assert (cancel["trans_type"], cancel["prebalance"], cancel["trans_amount"], cancel["balance"]) == (
        16,
        700,
        300,
        1000,
    )


def test_transaction_time_stamp_keeps_the_milliseconds(desk):
    desk.at(1.25)
    desk.deposit(1000)
    row = desk.v4("game/transaction", HOUR).data["list"][0]
    assert (row["regdate"], row["time_stamp"]) == ("2027-06-01 12:00:01", START_MS + 1250)


def test_transaction_prints_decimal_amounts_as_decimals(desk):
    desk.deposit(1000)
    desk.play(100, Fraction(1, 8))
    win = desk.v4("game/transaction", HOUR).data["list"][2]
    assert (win["trans_amount"], win["balance"]) == (12.5, 912.5)


# -- 5.20 transaction: selection and paging ---------------------------------------------------
def test_transaction_includes_a_row_at_start_time_and_excludes_one_at_end_time(desk):
    desk.deposit(10)
    first = desk.last_trans_id()
    desk.at(3600)
    desk.deposit(20)
    data = desk.v4("game/transaction", HOUR).data
    assert (data["total"], _ids(data["list"])) == (1, [first])


def test_transaction_orders_rows_by_trans_id(desk):
    for second in (0, 5, 9):
        desk.at(second)
        desk.deposit(10)
    ids = _ids(desk.v4("game/transaction", HOUR).data["list"])
    assert ids == sorted(ids) and len(ids) == 3


def test_transaction_pages_with_offset_and_limit(desk):
    for second in range(25):
        desk.at(second)
        desk.deposit(10)
    desk.at(60)
    data = desk.v4("game/transaction", _window(offset=20)).data
    assert (data["total"], data["offset"], data["count"]) == (25, 20, 5)
    assert _ids(data["list"]) == [desk.last_trans_id() - 4 + i for i in range(5)]


def test_transaction_of_a_window_without_activity_is_an_empty_page(desk):
    answer = desk.v4("game/transaction", HOUR)
    assert answer.body == {
        "code": 0,
        "message": "OK",
        "data": {"total": 0, "offset": 0, "count": 0, "list": []},
    }


def test_transaction_echoes_the_requested_offset_past_the_end(desk):
    desk.deposit(10)
    data = desk.v4("game/transaction", _window(offset=40)).data
    assert data == {"total": 1, "offset": 40, "count": 0, "list": []}


def test_transaction_accepts_iso_8601_times_with_z(desk):
    desk.deposit(10)
    window = _window(start_time="2027-06-01T12:00:00.000Z", end_time="2027-06-01T12:00:00.881Z")
    assert desk.v4("game/transaction", window).data["total"] == 1


def test_transaction_converts_times_with_an_offset(desk):
    desk.deposit(10)
    window = _window(start_time="2027-06-01T20:30:00+09:00", end_time="2027-06-01T21:30:00+09:00")
    assert desk.v4("game/transaction", window).data["total"] == 1


def test_transaction_reads_times_without_an_offset_in_utc_by_default(desk):
    desk.deposit(10)
    window = _window(start_time="2027-06-01 21:00:00", end_time="2027-06-01 22:00:00")
    assert desk.v4("game/transaction", window).data["total"] == 0


# -- OP-5 reporting timezone ----------------------------------------------------------------------
def test_regdate_is_printed_in_the_reporting_timezone(seoul):
    seoul.deposit(10)
    window = _window(start_time="2027-06-01T12:00:00Z", end_time="2027-06-01T13:00:00Z")
    row = seoul.v4("game/transaction", window).data["list"][0]
    assert (row["regdate"], row["time_stamp"]) == ("2027-06-01 21:00:00", START_MS)


def test_times_without_an_offset_are_read_in_the_reporting_timezone(seoul):
    seoul.deposit(10)
    window = _window(start_time="2027-06-01 21:00:00", end_time="2027-06-01 22:00:00")
    assert seoul.v4("game/transaction", window).data["total"] == 1


def test_times_with_an_offset_are_converted_whatever_the_reporting_timezone(seoul):
    seoul.deposit(10)
    window = _window(start_time="2027-06-01T12:00:00Z", end_time="2027-06-01T12:30:00Z")
    assert seoul.v4("game/transaction", window).data["total"] == 1


# -- 5.20 transaction: errors -----------------------------------------------------------------------
def test_transaction_window_over_one_hour_is_1012(desk):
    answer = desk.v4("game/transaction", _window(end_time="2027-06-01 13:00:01"))
    assert answer.body == {"code": 1012, "message": "PARAMETERS_INVALID"}


def test_transaction_window_of_exactly_one_hour_is_accepted(desk):
    assert desk.v4("game/transaction", _window(end_time="2027-06-01 13:00:00")).code == 0


def test_transaction_window_with_end_equal_to_start_is_1012(desk):
    assert desk.v4("game/transaction", _window(end_time="2027-06-01 12:00:00")).code == 1012


def test_transaction_window_with_end_before_start_is_1012(desk):
    assert desk.v4("game/transaction", _window(end_time="2027-06-01 11:59:59")).code == 1012


@pytest.mark.parametrize("limit", [9, 2001])
def test_transaction_limit_outside_10_to_2000_is_1002(desk, limit):
    answer = desk.v4("game/transaction", _window(limit=limit))
    assert answer.body == {
        "code": 1002,
        "message": "VALIDATION_ERROR",
        "data": [{"field": "limit", "message": "[limit] must be between 10 and 2000"}],
    }


@pytest.mark.parametrize("limit", [10, 2000])
def test_transaction_limit_at_its_bounds_is_accepted(desk, limit):
    assert desk.v4("game/transaction", _window(limit=limit)).code == 0


def test_transaction_negative_offset_is_1002(desk):
    answer = desk.v4("game/transaction", _window(offset=-1))
    assert (answer.code, answer.data[0]["field"]) == (1002, "offset")


@pytest.mark.parametrize("field", ["start_time", "end_time", "offset", "limit"])
def test_transaction_without_a_required_field_is_1002(desk, field):
    body = {k: v for k, v in HOUR.items() if k != field}
    answer = desk.v4("game/transaction", body)
    assert (answer.code, answer.data) == (
        1002,
        [{"field": field, "message": f"The {field} field is required."}],
    )


@pytest.mark.parametrize("value", ["yesterday", "2027.06.01 12:00:00", "", "2027-13-01 00:00:00"])
def test_transaction_with_a_start_time_that_is_not_a_time_is_1002(desk, value):
    answer = desk.v4("game/transaction", _window(start_time=value))
    assert (answer.code, answer.data) == (
        1002,
        [
            {
                "field": "start_time",
                "message": "[start_time] must be a time as 'yyyy-MM-dd HH:mm:ss' or ISO-8601",
            }
        ],
    )


def test_transaction_with_a_numeric_start_time_is_1002(desk):
    answer = desk.v4("game/transaction", _window(start_time=1811851200))
    assert (answer.code, answer.data[0]["field"]) == (1002, "start_time")


# -- OP-7 throttle on transaction ----------------------------------------------------------------
def test_transaction_polled_again_within_30_seconds_is_1018(desk):
    assert desk.v4("game/transaction", HOUR).code == 0
    desk.at(29)
    assert desk.v4("game/transaction", HOUR).body == {"code": 1018, "message": "SERVER_IS_BUSY"}


def test_transaction_polled_again_after_30_seconds_is_ok(desk):
    assert desk.v4("game/transaction", HOUR).code == 0
    desk.at(30)
    assert desk.v4("game/transaction", HOUR).code == 0


def test_transaction_throttle_covers_any_window_and_page(desk):
    assert desk.v4("game/transaction", HOUR).code == 0
    next_page = _window(start_time="2027-06-01 13:00:00", end_time="2027-06-01 14:00:00", offset=10)
    assert desk.v4("game/transaction", next_page).code == 1018


def test_transaction_refused_with_1012_does_not_count_as_a_poll(desk):
    assert desk.v4("game/transaction", _window(end_time="2027-06-01 15:00:00")).code == 1012
    assert desk.v4("game/transaction", HOUR).code == 0


def test_transaction_throttle_is_per_agent(desk):
    assert desk.v4("game/transaction", HOUR).code == 0
    assert desk.v4("game/transaction", HOUR, token=SEAMLESS_TOKEN).code == 0


def test_transaction_throttle_is_off_with_poll_throttle_off(unthrottled):
    codes = [unthrottled.v4("game/transaction", HOUR).code for _ in range(3)]
    assert codes == [0, 0, 0]


# -- 5.21 transaction-id ------------------------------------------------------------------------
def test_transaction_id_answers_a_plain_array_oldest_first(desk):
    for _ in range(3):
        desk.deposit(10)
    last = desk.last_trans_id()
    answer = desk.v4("game/transaction-id", {"last_id": 0, "limit": 10})
    assert (answer.code, _ids(answer.data)) == (0, [last - 2, last - 1, last])


def test_transaction_id_rows_are_the_same_objects_as_transaction(desk):
    desk.deposit(1000)
    desk.play(100)
    by_cursor = desk.v4("game/transaction-id", {"last_id": 0, "limit": 10}).data
    by_time = desk.v4("game/transaction", HOUR).data["list"]
    assert by_cursor == by_time


def test_transaction_id_never_returns_last_id_itself(desk):
    for _ in range(3):
        desk.deposit(10)
    last = desk.last_trans_id()
    assert _ids(desk.v4("game/transaction-id", {"last_id": last - 1, "limit": 10}).data) == [last]


def test_transaction_id_returns_at_most_limit_rows(desk):
    for _ in range(12):
        desk.deposit(10)
    rows = desk.v4("game/transaction-id", {"last_id": 0, "limit": 10}).data
    assert _ids(rows) == [desk.last_trans_id() - 11 + i for i in range(10)]


def test_transaction_id_after_the_newest_row_is_an_empty_array(desk):
    desk.deposit(10)
    answer = desk.v4("game/transaction-id", {"last_id": desk.last_trans_id(), "limit": 10})
    assert answer.body == {"code": 0, "message": "OK", "data": []}


def test_transaction_id_walks_forward_page_by_page(desk):
    for _ in range(15):
        desk.deposit(10)
    first = desk.v4("game/transaction-id", {"last_id": 0, "limit": 10}).data
    second = desk.v4("game/transaction-id", {"last_id": first[-1]["trans_id"], "limit": 10}).data
    assert len(first) + len(second) == 15
    assert _ids(first + second) == list(range(desk.last_trans_id() - 14, desk.last_trans_id() + 1))


@pytest.mark.parametrize("limit", [9, 2001])
def test_transaction_id_limit_outside_10_to_2000_is_1002(desk, limit):
    answer = desk.v4("game/transaction-id", {"last_id": 0, "limit": limit})
    assert (answer.code, answer.data) == (
        1002,
        [{"field": "limit", "message": "[limit] must be between 10 and 2000"}],
    )


def test_transaction_id_negative_last_id_is_1002(desk):
    answer = desk.v4("game/transaction-id", {"last_id": -1, "limit": 10})
    assert (answer.code, answer.data[0]["field"]) == (1002, "last_id")


def test_transaction_id_without_last_id_is_1002(desk):
    answer = desk.v4("game/transaction-id", {"limit": 10})
    assert (answer.code, answer.data) == (
        1002,
        [{"field": "last_id", "message": "The last_id field is required."}],
    )


# -- 10 retention ------------------------------------------------------------------------------
def test_rows_vanish_from_transaction_id_48_hours_and_1_second_later(desk):
    desk.deposit(10)
    desk.at(48 * 3600 + 1)
    assert desk.v4("game/transaction-id", {"last_id": 0, "limit": 10}).data == []


def test_rows_are_still_listed_exactly_48_hours_later(desk):
    desk.deposit(10)
    desk.at(48 * 3600)
    assert _ids(desk.v4("game/transaction-id", {"last_id": 0, "limit": 10}).data) == [desk.last_trans_id()]


def test_a_cursor_older_than_the_retention_continues_from_the_oldest_retained_row(desk):
    desk.deposit(10)
    purged = desk.last_trans_id()
    desk.at(3600)
    desk.deposit(20)
    kept = desk.last_trans_id()
    desk.at(48 * 3600 + 1)
    rows = desk.v4("game/transaction-id", {"last_id": purged - 1, "limit": 10}).data
    assert _ids(rows) == [kept]


def test_purged_rows_vanish_from_transaction_windows(desk):
    desk.deposit(10)
    desk.at(48 * 3600 + 1)
    assert desk.v4("game/transaction", HOUR).data["total"] == 0


def test_the_ledger_stays_conserved_after_the_purge(desk, sim):
    desk.deposit(1000)
    desk.play(100)
    desk.at(48 * 3600 + 1)
    desk.v4("game/transaction-id", {"last_id": 0, "limit": 10})
    assert sim.world.ledger.audit().conserved


# -- OP-7 throttle on transaction-id -------------------------------------------------------------
def test_transaction_id_with_the_same_last_id_within_30_seconds_is_1018(desk):
    assert desk.v4("game/transaction-id", {"last_id": 0, "limit": 10}).code == 0
    desk.at(29)
    answer = desk.v4("game/transaction-id", {"last_id": 0, "limit": 10})
    assert answer.body == {"code": 1018, "message": "SERVER_IS_BUSY"}


def test_transaction_id_with_the_same_last_id_after_30_seconds_is_ok(desk):
    assert desk.v4("game/transaction-id", {"last_id": 0, "limit": 10}).code == 0
    desk.at(30)
    assert desk.v4("game/transaction-id", {"last_id": 0, "limit": 10}).code == 0


def test_transaction_id_with_a_new_last_id_is_answered_at_once(desk):
    assert desk.v4("game/transaction-id", {"last_id": 0, "limit": 10}).code == 0
    assert desk.v4("game/transaction-id", {"last_id": 1, "limit": 10}).code == 0


def test_transaction_id_and_transaction_are_throttled_separately(desk):
    assert desk.v4("game/transaction-id", {"last_id": 0, "limit": 10}).code == 0
    assert desk.v4("game/transaction", HOUR).code == 0


def test_transaction_id_throttle_is_off_with_poll_throttle_off(unthrottled):
    codes = [unthrottled.v4("game/transaction-id", {"last_id": 0, "limit": 10}).code for _ in range(3)]
    assert codes == [0, 0, 0]


# -- 5.22 round-details ---------------------------------------------------------------------------
def test_round_details_answers_the_signed_link_of_the_round(desk, sim):
    desk.deposit(1000)
    round_ = desk.play()
    answer = desk.v4("game/round-details", {"user_code": DEMO_USER, "round_id": round_.round_id})
    from simulator.domain.round_links import round_token

    token = round_token(sim.link_secret, desk.agent.agent_id, round_.round_id)
    assert answer.body == {
        "code": 0,
        "message": "OK",
        "data": {"url": f"http://127.0.0.1:8080/round/{token}"},
    }


def test_round_details_link_parses_back_to_the_round(desk, sim):
    from simulator.domain.round_links import parse_round_token

    desk.deposit(1000)
    round_ = desk.play()
    url = desk.v4("game/round-details", {"user_code": DEMO_USER, "round_id": round_.round_id}).data["url"]
    assert parse_round_token(sim.link_secret, url.rsplit("/", 1)[1]) == (desk.agent.agent_id, round_.round_id)


def test_round_details_with_the_matching_provider_and_game_is_ok(desk):
    desk.deposit(1000)
    round_ = desk.play()
    body = {"user_code": DEMO_USER, "round_id": round_.round_id, "provider_id": 1, "game_code": "vs20fruitsw"}
    assert desk.v4("game/round-details", body).code == 0


def test_round_details_with_another_provider_is_2013(desk):
    desk.deposit(1000)
    round_ = desk.play()
    body = {"user_code": DEMO_USER, "round_id": round_.round_id, "provider_id": 15}
    assert desk.v4("game/round-details", body).body == {"code": 2013, "message": "ROUND_NOT_FOUND"}


def test_round_details_with_another_game_is_2013(desk):
    desk.deposit(1000)
    round_ = desk.play()
    body = {"user_code": DEMO_USER, "round_id": round_.round_id, "game_code": "sim_live_roulette"}
    assert desk.v4("game/round-details", body).code == 2013


def test_round_details_treats_provider_0_and_empty_game_code_as_not_given(desk):
    desk.deposit(1000)
    round_ = desk.play()
    body = {"user_code": DEMO_USER, "round_id": round_.round_id, "provider_id": 0, "game_code": ""}
    assert desk.v4("game/round-details", body).code == 0


def test_round_details_of_another_users_round_is_2013(desk):
    desk.deposit(1000)
    round_ = desk.play()
    assert desk.v4("game/round-details", {"user_code": OTHER_USER, "round_id": round_.round_id}).code == 2013


def test_round_details_of_an_unknown_round_is_2013(desk):
    assert desk.v4("game/round-details", {"user_code": DEMO_USER, "round_id": "999"}).code == 2013


def test_round_details_of_a_refunded_round_answers_its_link(desk):
    desk.deposit(1000)
    round_ = desk.refunded()
    assert desk.v4("game/round-details", {"user_code": DEMO_USER, "round_id": round_.round_id}).code == 0


def test_round_details_of_a_round_30_days_old_is_ok(desk):
    desk.deposit(1000)
    round_ = desk.play()
    desk.at(30 * 86400)
    assert desk.v4("game/round-details", {"user_code": DEMO_USER, "round_id": round_.round_id}).code == 0


def test_round_details_of_a_round_older_than_30_days_is_2013(desk):
    desk.deposit(1000)
    round_ = desk.play()
    desk.at(30 * 86400 + 1)
    assert desk.v4("game/round-details", {"user_code": DEMO_USER, "round_id": round_.round_id}).code == 2013


def test_round_details_outlive_the_2_day_transaction_retention(desk):
    desk.deposit(1000)
    round_ = desk.play()
    desk.at(3 * 86400)
    assert desk.v4("game/round-details", {"user_code": DEMO_USER, "round_id": round_.round_id}).code == 0


def test_round_details_of_an_unknown_user_is_2002(desk):
    answer = desk.v4("game/round-details", {"user_code": 499999999, "round_id": "1"})
    assert answer.body == {"code": 2002, "message": "USER_NOT_FOUND"}


def test_round_details_of_another_agents_user_is_1010(desk, sim):
    seamless = sim.world.hierarchy.get("demo_seamless")
    stranger = sim.world.store.user_by_name(seamless.agent_id, "seamless", "test1234")
    answer = desk.v4("game/round-details", {"user_code": stranger.user_code, "round_id": "1"})
    assert answer.body == {"code": 1010, "message": "PERMISSION_ERROR"}


def test_round_details_without_round_id_is_1002(desk):
    answer = desk.v4("game/round-details", {"user_code": DEMO_USER})
    assert (answer.code, answer.data) == (
        1002,
        [{"field": "round_id", "message": "The round_id field is required."}],
    )


def test_round_details_is_not_throttled(desk):
    desk.deposit(1000)
    round_ = desk.play()
    body = {"user_code": DEMO_USER, "round_id": round_.round_id}
    assert [desk.v4("game/round-details", body).code for _ in range(2)] == [0, 0]


# -- 5.23 statistics/user -------------------------------------------------------------------------
def _stats(desk, window=DAY) -> dict:
    answer = desk.v4("statistics/user", window)
    assert answer.code == 0
    return answer.data


def test_statistics_sum_rounds_into_category_buckets(desk):
    desk.deposit(10000)
    desk.play(100, Fraction(2), SLOT)
    desk.play(200, Fraction(0), SLOT)
    desk.play(300, Fraction(3, 2), LIVE)
    desk.play(400, Fraction(1, 4), MINI)
    assert _stats(desk) == {
        "total": 1,
        "offset": 0,
        "count": 1,
        "list": [
            {
                "user_code": DEMO_USER,
                "user_name": "test1234",
                "slot_bet": 300,
                "slot_win": 200,
                "live_bet": 300,
                "live_win": 450,
                "mini_bet": 400,
                "mini_win": 100,
            }
        ],
    }


def test_statistics_exclude_refunded_rounds(desk):
    desk.deposit(10000)
    desk.play(100, Fraction(3))
    desk.refunded(700)
    item = _stats(desk)["list"][0]
    assert (item["slot_bet"], item["slot_win"]) == (100, 300)


def test_statistics_list_only_users_with_activity_by_user_code(desk):
    desk.deposit(1000, OTHER_USER)
    desk.deposit(1000, DEMO_USER)
    desk.play(100, user_code=OTHER_USER)
    desk.play(100, user_code=DEMO_USER)
    data = _stats(desk)
    assert (data["total"], [item["user_code"] for item in data["list"]]) == (2, [DEMO_USER, OTHER_USER])


def test_statistics_leave_out_deposits_and_withdrawals(desk):
    desk.deposit(1000)
    assert _stats(desk)["total"] == 0


def test_statistics_page_with_offset_and_limit(desk):
    for user_code in range(DEMO_USER + 2, DEMO_USER + 14):
        desk.deposit(1000, user_code)
        desk.play(100, user_code=user_code)
    data = _stats(desk, {**DAY, "offset": 10, "limit": 10})
    assert (data["total"], data["offset"], data["count"]) == (12, 10, 2)
    assert [item["user_code"] for item in data["list"]] == [DEMO_USER + 12, DEMO_USER + 13]


def test_statistics_of_an_empty_window_echo_the_requested_offset(desk):
    assert _stats(desk, {**DAY, "offset": 20}) == {"total": 0, "offset": 20, "count": 0, "list": []}


def test_statistics_accept_windows_longer_than_one_hour(desk):
    desk.deposit(1000)
    desk.play(100)
    window = {**DAY, "start_time": "2027-05-01T00:00:00Z", "end_time": "2027-06-30T00:00:00Z"}
    assert _stats(desk, window)["total"] == 1


def test_statistics_window_ending_before_its_start_is_1012(desk):
    window = {**DAY, "end_time": "2027-05-31 23:59:59"}
    assert desk.v4("statistics/user", window).body == {"code": 1012, "message": "PARAMETERS_INVALID"}


def test_statistics_window_of_a_single_instant_is_accepted(desk):
    desk.deposit(1000)
    desk.play(100)
    window = {**DAY, "start_time": "2027-06-01 12:00:00", "end_time": "2027-06-01 12:00:00"}
    assert _stats(desk, window)["total"] == 1


def test_statistics_read_times_in_the_reporting_timezone(seoul):
    seoul.deposit(1000)
    seoul.play(100)
    window = {**DAY, "start_time": "2027-06-01 21:00:00", "end_time": "2027-06-01 21:00:00"}
    assert _stats(seoul, window)["total"] == 1


@pytest.mark.parametrize("limit", [9, 2001])
def test_statistics_limit_outside_10_to_2000_is_1002(desk, limit):
    answer = desk.v4("statistics/user", {**DAY, "limit": limit})
    assert (answer.code, answer.data) == (
        1002,
        [{"field": "limit", "message": "[limit] must be between 10 and 2000"}],
    )


def test_statistics_outlive_the_30_day_round_retention(desk):
    desk.deposit(1000)
    desk.play(100)
    desk.at(89 * 86400)
    assert _stats(desk)["total"] == 1


def test_statistics_are_kept_90_days(desk):
    desk.deposit(1000)
    desk.play(100)
    desk.at(90 * 86400)
    assert _stats(desk)["total"] == 1


def test_statistics_older_than_90_days_are_gone(desk):
    desk.deposit(1000)
    desk.play(100)
    desk.at(90 * 86400 + 1)
    assert _stats(desk)["total"] == 0


def test_statistics_are_not_throttled(desk):
    assert [desk.v4("statistics/user", DAY).code for _ in range(2)] == [0, 0]


def test_transaction_with_a_time_beyond_the_calendar_in_utc_is_1002(desk):
    """parse_time overflows (not ValueError) when the conversion leaves year 1-9999."""
    answer = desk.v4("game/transaction", _window(end_time="9999-12-31T23:59:59-05:00"))
    assert (answer.code, answer.data[0]["field"]) == (1002, "end_time")
