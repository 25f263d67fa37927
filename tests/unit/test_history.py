"""The history domain: retention, window and cursor reads, round look-up, statistics, throttle
(spec 5.20-5.23, 10, OP-7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from simulator.codes import SimError
from simulator.domain.history import (
    WINDOW_POLL,
    History,
    Purged,
    check_statistics_window,
    check_transaction_window,
    history_category,
    statistics_bucket,
)
from simulator.domain.rounds import RoundFailed
from simulator.domain.sessions import LaunchRequest
from tests.conftest import DEMO_USER

D = Decimal
START = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
OTHER_USER = DEMO_USER + 1
SLOT = (1, "vs20fruitsw")
LIVE = (1, "sim_live_roulette")
MINI = (15, "aviator")


class Desk:
    """The demo agent with its fixture history purged, on a frozen clock at :data:`START`."""

    def __init__(self, sim, throttle: bool = True) -> None:
        self.sim = sim
        self.store = sim.world.store
        self.agent = sim.world.hierarchy.get("demo")
        self.history = History(self.store, sim.clock, throttle, 30)
        sim.clock.freeze(True)
        sim.clock.set(START)
        self.history.purge()  # the fixture deposits were made months "earlier"
        self._sessions: dict[tuple, object] = {}

    def at(self, seconds: float) -> None:
        self.sim.clock.set(START + timedelta(seconds=seconds))

    def deposit(self, amount: int, user_code: int = DEMO_USER):
        return self.sim.world.ledger.deposit(self.agent, self.store.user(user_code), D(amount))

    def session(self, game: tuple = SLOT, user_code: int = DEMO_USER):
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
        name = self.store.user(user_code).name
        self.sim.world.forced.push(self.agent.agent_id, name, [multiplier])
        return self.sim.world.rounds.play(self.session(game, user_code), D(stake))

    def refunded(self, stake: int = 100, game: tuple = SLOT, user_code: int = DEMO_USER):
        self.sim.faults.add({"agent": "demo", "target": "round:settle", "effect": {"fail": True}, "times": 1})
        with pytest.raises(RoundFailed) as failed:
            self.sim.world.rounds.play(self.session(game, user_code), D(stake))
        return failed.value.round

    def rows(self) -> list:
        return list(self.store.transactions_of(self.agent.agent_id))


@pytest.fixture
def desk(sim) -> Desk:
    return Desk(sim)


def _code(call) -> int:
    with pytest.raises(SimError) as failed:
        call()
    return failed.value.code


# -- retention ------------------------------------------------------------------------
def test_purge_drops_transactions_older_than_48_hours(desk):
    desk.deposit(500)
    desk.at(48 * 3600 + 1)
    desk.history.purge()
    assert desk.rows() == []


def test_purge_keeps_a_transaction_exactly_48_hours_old(desk):
    tx = desk.deposit(500)
    desk.at(48 * 3600)
    desk.history.purge()
    assert [row.trans_id for row in desk.rows()] == [tx.trans_id]


def test_purge_reports_how_many_rows_of_each_kind_it_removed(desk):
    desk.deposit(500)
    desk.play()
    desk.at(90 * 86400 + 1)
    assert desk.history.purge() == Purged(transactions=3, rounds=1, round_stats=1)


def test_purge_only_removes_the_oldest_rows(desk):
    desk.deposit(500)
    desk.at(3600)
    kept = desk.deposit(700)
    desk.at(48 * 3600 + 1)
    desk.history.purge()
    assert [row.trans_id for row in desk.rows()] == [kept.trans_id]


def test_purge_keeps_the_ledger_audit_conserved(desk):
    desk.deposit(500)
    desk.play()
    desk.refunded()
    desk.at(48 * 3600 + 1)
    desk.history.purge()
    audit = desk.sim.world.ledger.audit()
    assert desk.rows() == []
    assert audit.conserved
    assert audit.mismatched_users == ()


def test_purged_movements_add_up_to_the_balance_they_built(desk):
    balance = desk.store.user(DEMO_USER).balance
    desk.at(48 * 3600 + 1)
    desk.history.purge()
    assert desk.store.export().purged_movement[DEMO_USER] == balance


def test_rounds_are_kept_30_days(desk):
    round_ = desk.play()
    desk.at(30 * 86400)
    desk.history.purge()
    assert [r.round_id for r in desk.store.rounds_of(desk.agent.agent_id)] == [round_.round_id]


def test_rounds_are_purged_after_30_days(desk):
    desk.play()
    desk.at(30 * 86400 + 1)
    desk.history.purge()
    assert desk.store.rounds_of(desk.agent.agent_id) == []


def test_round_statistics_are_kept_90_days(desk):
    desk.play()
    desk.at(90 * 86400)
    desk.history.purge()
    assert len(desk.store.round_stats_of(desk.agent.agent_id)) == 1


def test_round_statistics_are_purged_after_90_days(desk):
    desk.play()
    desk.at(90 * 86400 + 1)
    desk.history.purge()
    assert len(desk.store.round_stats_of(desk.agent.agent_id)) == 0


def test_a_read_purges_its_agent_first(desk):
    desk.deposit(500)
    desk.at(48 * 3600 + 1)
    desk.history.after(desk.agent.agent_id, 0, 10)
    assert desk.rows() == []


# -- 5.20 window ------------------------------------------------------------------------
def test_a_window_includes_a_row_at_its_start(desk):
    tx = desk.deposit(500)
    page = desk.history.by_window(desk.agent.agent_id, START, START + timedelta(hours=1), 0, 10)
    assert [row.trans_id for row in page.items] == [tx.trans_id]


def test_a_window_excludes_a_row_at_its_end(desk):
    desk.deposit(500)
    page = desk.history.by_window(desk.agent.agent_id, START - timedelta(hours=1), START, 0, 10)
    assert (page.total, page.items) == (0, [])


def test_a_window_compares_the_regdate_cut_to_the_second(desk):
    desk.at(0.7)
    tx = desk.deposit(500)  # regdate 12:00:00
    before = desk.history.by_window(
        desk.agent.agent_id, START - timedelta(hours=1), START + timedelta(seconds=0.5), 0, 10
    )
    after = desk.history.by_window(
        desk.agent.agent_id, START + timedelta(seconds=0.5), START + timedelta(hours=1), 0, 10
    )
    assert ([row.trans_id for row in before.items], after.total) == ([tx.trans_id], 0)


def test_a_window_counts_every_match_and_returns_the_page_asked_for(desk):
    ids = []
    for second in range(25):
        desk.at(second)
        ids.append(desk.deposit(10).trans_id)
    page = desk.history.by_window(desk.agent.agent_id, START, START + timedelta(hours=1), 10, 10)
    assert page.total == 25
    assert [row.trans_id for row in page.items] == ids[10:20]


def test_a_window_page_past_the_end_is_empty_but_keeps_the_total(desk):
    for _ in range(3):
        desk.deposit(10)
    page = desk.history.by_window(desk.agent.agent_id, START, START + timedelta(hours=1), 10, 10)
    assert (page.total, page.items) == (3, [])


def test_a_window_leaves_out_rows_before_and_after_it(desk):
    desk.deposit(10)
    desk.at(600)
    inside = desk.deposit(20)
    desk.at(1200)
    desk.deposit(30)
    page = desk.history.by_window(
        desk.agent.agent_id, START + timedelta(seconds=300), START + timedelta(seconds=900), 0, 10
    )
    assert [row.trans_id for row in page.items] == [inside.trans_id]


def test_a_window_of_more_than_one_hour_is_1012():
    assert _code(lambda: check_transaction_window(START, START + timedelta(hours=1, seconds=1))) == 1012


def test_a_window_of_exactly_one_hour_is_accepted():
    check_transaction_window(START, START + timedelta(hours=1))


def test_a_window_ending_at_its_start_is_1012():
    assert _code(lambda: check_transaction_window(START, START)) == 1012


def test_a_window_ending_before_its_start_is_1012():
    assert _code(lambda: check_transaction_window(START, START - timedelta(seconds=1))) == 1012


# -- 5.21 cursor ------------------------------------------------------------------------
def test_after_returns_the_rows_after_the_cursor_oldest_first(desk):
    ids = [desk.deposit(10).trans_id for _ in range(5)]
    rows = desk.history.after(desk.agent.agent_id, ids[1], 10)
    assert [row.trans_id for row in rows] == ids[2:]


def test_after_never_returns_the_cursor_itself(desk):
    tx = desk.deposit(10)
    assert desk.history.after(desk.agent.agent_id, tx.trans_id, 10) == []


def test_after_returns_at_most_limit_rows(desk):
    ids = [desk.deposit(10).trans_id for _ in range(15)]
    rows = desk.history.after(desk.agent.agent_id, 0, 10)
    assert [row.trans_id for row in rows] == ids[:10]


def test_a_cursor_older_than_the_retention_continues_from_the_oldest_retained_row(desk):
    purged = desk.deposit(10)
    desk.at(3600)
    kept = desk.deposit(20)
    desk.at(48 * 3600 + 1)
    rows = desk.history.after(desk.agent.agent_id, purged.trans_id - 1, 10)
    assert [row.trans_id for row in rows] == [kept.trans_id]


def test_after_only_reads_the_agents_own_rows(desk):
    seamless = desk.sim.world.hierarchy.get("demo_seamless")
    desk.deposit(10)
    assert desk.history.after(seamless.agent_id, 0, 10) == []


# -- 5.22 round look-up -----------------------------------------------------------------------
def test_round_of_finds_the_users_round(desk):
    round_ = desk.play()
    assert desk.history.round_of(desk.agent.agent_id, DEMO_USER, round_.round_id) == round_


def test_round_of_another_user_is_2013(desk):
    round_ = desk.play()
    assert _code(lambda: desk.history.round_of(desk.agent.agent_id, OTHER_USER, round_.round_id)) == 2013


def test_round_of_an_unknown_round_is_2013(desk):
    assert _code(lambda: desk.history.round_of(desk.agent.agent_id, DEMO_USER, "1")) == 2013


def test_round_of_with_another_provider_is_2013(desk):
    round_ = desk.play()
    code = _code(
        lambda: desk.history.round_of(desk.agent.agent_id, DEMO_USER, round_.round_id, provider_id=15)
    )
    assert code == 2013


def test_round_of_with_another_game_is_2013(desk):
    round_ = desk.play()
    code = _code(
        lambda: desk.history.round_of(desk.agent.agent_id, DEMO_USER, round_.round_id, game_code="aviator")
    )
    assert code == 2013


def test_round_of_with_the_matching_provider_and_game_finds_it(desk):
    round_ = desk.play()
    found = desk.history.round_of(desk.agent.agent_id, DEMO_USER, round_.round_id, 1, "vs20fruitsw")
    assert found == round_


def test_round_of_a_round_exactly_30_days_old_finds_it(desk):
    round_ = desk.play()
    desk.at(30 * 86400)
    assert desk.history.round_of(desk.agent.agent_id, DEMO_USER, round_.round_id) == round_


def test_round_of_a_round_older_than_30_days_is_2013(desk):
    round_ = desk.play()
    desk.at(30 * 86400 + 1)
    assert _code(lambda: desk.history.round_of(desk.agent.agent_id, DEMO_USER, round_.round_id)) == 2013


# -- 5.23 statistics --------------------------------------------------------------------------
def _totals(desk, start=START, end=START + timedelta(hours=1), offset=0, limit=10):
    page = desk.history.user_totals(desk.agent.agent_id, start, end, offset, limit)
    return page.total, [
        (t.user_code, t.slot_bet, t.slot_win, t.live_bet, t.live_win, t.mini_bet, t.mini_win)
        for t in page.items
    ]


def test_statistics_sum_each_category_into_its_bucket(desk):
    desk.play(100, Fraction(2), SLOT)
    desk.play(200, Fraction(0), SLOT)
    desk.play(300, Fraction(3, 2), LIVE)
    desk.play(400, Fraction(1, 2), MINI)
    assert _totals(desk) == (1, [(DEMO_USER, 300, 200, 300, 450, 400, 200)])


def test_statistics_leave_out_refunded_rounds(desk):
    desk.play(100, Fraction(2))
    desk.refunded(500)
    assert _totals(desk) == (1, [(DEMO_USER, 100, 200, 0, 0, 0, 0)])


def test_statistics_leave_out_users_whose_rounds_were_all_refunded(desk):
    desk.refunded(100)
    assert _totals(desk) == (0, [])


def test_statistics_list_users_by_user_code(desk):
    desk.play(100, Fraction(1), user_code=OTHER_USER)
    desk.play(200, Fraction(1), user_code=DEMO_USER)
    assert [row[0] for row in _totals(desk)[1]] == [DEMO_USER, OTHER_USER]


def test_statistics_page_through_users(desk):
    for user_code in range(DEMO_USER, DEMO_USER + 12):
        desk.deposit(1000, user_code)
        desk.play(100, Fraction(1), user_code=user_code)
    total, items = _totals(desk, offset=10, limit=10)
    assert (total, [row[0] for row in items]) == (12, [DEMO_USER + 10, DEMO_USER + 11])


def test_statistics_include_both_ends_of_the_window(desk):
    desk.play(100, Fraction(1))
    desk.at(3600)
    desk.play(200, Fraction(1))
    desk.at(3601)
    desk.play(400, Fraction(1))
    assert _totals(desk)[1][0][1] == 300


def test_statistics_of_a_single_instant_window_count_its_rounds(desk):
    desk.play(100, Fraction(1))
    assert _totals(desk, START, START)[1][0][1] == 100


def test_statistics_forget_rounds_older_than_90_days(desk):
    desk.play(100, Fraction(1))
    desk.at(90 * 86400 + 1)
    assert _totals(desk, START - timedelta(days=1), START + timedelta(days=1)) == (0, [])


def test_statistics_still_count_rounds_90_days_old(desk):
    desk.play(100, Fraction(1))
    desk.at(90 * 86400)
    assert _totals(desk, START - timedelta(days=1), START + timedelta(days=1))[0] == 1


def test_a_statistics_window_ending_before_its_start_is_1012():
    assert _code(lambda: check_statistics_window(START, START - timedelta(seconds=1))) == 1012


@pytest.mark.parametrize(
    ("category", "bucket", "shown"),
    [
        ("Slots", "slot", "Slots"),
        ("Live", "live", "Live"),
        ("Mini", "mini", "Mini"),
        ("Fishing", "mini", "Mini"),
    ],
)
def test_categories_map_to_their_bucket_and_history_name(category, bucket, shown):
    assert (statistics_bucket(category), history_category(category)) == (bucket, shown)


# -- OP-7 throttle -----------------------------------------------------------------------------
def test_a_second_window_poll_within_30_seconds_is_1018(desk):
    desk.history.admit_poll(desk.agent.agent_id, WINDOW_POLL)
    desk.at(29.999)
    assert _code(lambda: desk.history.admit_poll(desk.agent.agent_id, WINDOW_POLL)) == 1018


def test_a_window_poll_30_seconds_after_the_last_is_admitted(desk):
    desk.history.admit_poll(desk.agent.agent_id, WINDOW_POLL)
    desk.at(30)
    desk.history.admit_poll(desk.agent.agent_id, WINDOW_POLL)


def test_the_same_cursor_within_30_seconds_is_1018(desk):
    desk.history.admit_poll(desk.agent.agent_id, 0)
    assert _code(lambda: desk.history.admit_poll(desk.agent.agent_id, 0)) == 1018


def test_a_new_cursor_is_admitted_at_once(desk):
    desk.history.admit_poll(desk.agent.agent_id, 0)
    desk.history.admit_poll(desk.agent.agent_id, 57)


def test_a_refused_poll_does_not_restart_the_wait(desk):
    desk.history.admit_poll(desk.agent.agent_id, 0)
    desk.at(20)
    _code(lambda: desk.history.admit_poll(desk.agent.agent_id, 0))
    desk.at(30)
    desk.history.admit_poll(desk.agent.agent_id, 0)


def test_polls_of_different_agents_do_not_throttle_each_other(desk):
    seamless = desk.sim.world.hierarchy.get("demo_seamless")
    desk.history.admit_poll(desk.agent.agent_id, WINDOW_POLL)
    desk.history.admit_poll(seamless.agent_id, WINDOW_POLL)


def test_a_clock_set_backwards_does_not_lock_the_poller_out(desk):
    desk.history.admit_poll(desk.agent.agent_id, WINDOW_POLL)
    desk.at(-3600)
    desk.history.admit_poll(desk.agent.agent_id, WINDOW_POLL)


def test_the_throttle_off_admits_every_poll(sim):
    desk = Desk(sim, throttle=False)
    for _ in range(3):
        desk.history.admit_poll(desk.agent.agent_id, WINDOW_POLL)


def test_housekeeping_purges_aged_rows_in_the_background():
    import time

    from simulator.runtime import Simulator
    from tests.conftest import make_settings

    sim = Simulator(make_settings())
    agent = sim.world.hierarchy.get("demo")
    assert len(sim.world.store.transactions_of(agent.agent_id)) > 0
    sim.clock.advance(48 * 3600 + 1)
    sim.start_housekeeping(interval=0.01)
    try:
        deadline = time.monotonic() + 5
        while sim.world.store.transactions_of(agent.agent_id) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        sim.stop_housekeeping()
    assert len(sim.world.store.transactions_of(agent.agent_id)) == 0
    assert sim.world.ledger.audit().conserved
