"""Reconciliation checks and the text report of traffic runs (simulator.traffic.reconcile, .text)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from simulator.domain.models import Transaction, TransType
from simulator.traffic import reconcile
from simulator.traffic.figures import AccountTally
from simulator.traffic.text import format_report, progress_line

NOW = datetime(2026, 1, 1, tzinfo=UTC)
D = Decimal


def row(trans_id: int, user_code: int, kind: TransType, amount: int, before: int) -> Transaction:
    signed = -amount if kind in (TransType.BET, TransType.WITHDRAW) else amount
    return Transaction(trans_id, 1, user_code, int(kind), D(amount), D(before), D(before + signed), NOW)


ROWS = [
    row(5, 7, TransType.BET, 100, 1000),  # before the run: ignored
    row(11, 7, TransType.DEPOSIT, 500, 900),
    row(12, 7, TransType.BET, 100, 1400),
    row(13, 7, TransType.WIN, 250, 1300),
    row(14, 7, TransType.BET, 100, 1550),
    row(15, 7, TransType.BET_CANCEL, 100, 1450),
    row(16, 8, TransType.BET, 100, 50),  # another user
]


def tally(**changes) -> AccountTally:
    values = dict(
        name="p1",
        user_code=7,
        start_balance=D(900),
        deposited=D(500),
        bets=D(200),
        wins=D(250),
        refunds=D(100),
        bet_count=2,
        win_count=1,
        refund_count=1,
    )
    values.update(changes)
    return AccountTally(**values)


def test_history_totals_count_only_the_runs_rows_of_its_users():
    totals = reconcile.history_totals(ROWS, {7}, after_trans_id=10)
    mine = totals[7]
    assert (mine.bets, mine.bet_count, mine.wins, mine.refunds, mine.deposits) == (
        D(200),
        2,
        D(250),
        D(100),
        D(500),
    )
    assert mine.movement == D(650)


def test_history_that_matches_the_rounds_passes():
    check = reconcile.check_history([tally()], reconcile.history_totals(ROWS, {7}, 10))
    assert check.ok and check.problems == []


def test_a_missing_win_row_is_named():
    check = reconcile.check_history(
        [tally(wins=D(300), win_count=2)], reconcile.history_totals(ROWS, {7}, 10)
    )
    assert not check.ok
    assert check.problems == ["p1: history Win total 250 in 1 rows, 2 rounds; the run played 300"]


def test_balances_compare_the_final_balance_with_start_plus_movements():
    assert reconcile.check_balances(
        [tally()], {"p1": D(1550)}, seamless=False
    ).ok  # 900 + 500 - 200 + 250 + 100
    failed = reconcile.check_balances([tally()], {"p1": D(1450)}, seamless=False)
    assert failed.problems == ["p1: balance 1450, expected 1550"]


def test_wallet_balances_are_skipped_when_the_wallet_reports_none():
    check = reconcile.check_balances([tally(deposited=D(0))], {"p1": None}, seamless=True)
    assert check.ok and check.skipped


def test_history_movement_must_equal_the_balance_change():
    totals = reconcile.history_totals(ROWS, {7}, 10)
    assert reconcile.check_history_movement([tally()], {"p1": D(1550)}, totals).ok
    assert not reconcile.check_history_movement([tally()], {"p1": D(1551)}, totals).ok


def test_rounds_left_pending_fail_the_final_check():
    check = reconcile.check_rounds_final(pending=2, win_error=1, retries_left=3)
    assert not check.ok
    assert len(check.problems) == 3


def test_the_summary_is_ok_only_when_every_check_is():
    good = reconcile.Check("a", True, "fine")
    bad = reconcile.Check("b", False, "b detail", ["b broke"])
    assert reconcile.summary([good])["ok"] is True
    summary = reconcile.summary([good, bad])
    assert summary["ok"] is False
    assert summary["problems"] == ["b broke"]
    assert [c["name"] for c in summary["checks"]] == ["a", "b"]


REPORT = {
    "id": 3,
    "agent": "demo_seamless",
    "mode": "seamless",
    "state": "done",
    "phase": "finished",
    "stop_reason": "duration",
    "error": None,
    "elapsed_s": 30.0,
    "duration_s": 30,
    "players": 10,
    "players_ready": 10,
    "accounts": 5,
    "game": {"provider_id": 1, "game_code": "vs20fruitsw"},
    "bet": 100,
    "rate": {"target": 20, "achieved": 19.97},
    "rounds": {
        "attempted": 600,
        "played": 600,
        "settled": 599,
        "refunded": 1,
        "refused": {},
        "win_pending": 0,
        "win_error": 0,
        "errors": 0,
    },
    "errors": [],
    "money": {"bets": 60000, "wins": 57000, "refunds": 100, "deposited": 0, "withdrawn": 0},
    "callbacks": {"total": 1800, "by_command": {"bet": {"ok": 600}}, "complete": True},
    "wallet_latency_ms": {"count": 1800, "mean": 2.0, "p50": 1.8, "p90": 2.7, "p99": 10.4, "max": 12.6},
    "pending_retries": 0,
    "reconciliation": {"ok": True, "checks": [{"name": "ledger_audit", "ok": True, "detail": "fine"}]},
    "notes": [],
}


def test_the_progress_line_shows_rounds_rate_errors_and_p99():
    assert progress_line({**REPORT, "phase": "play"}) == (
        "[run 3 play 30.0s] rounds 600 (20.0/s of 20) refused 0 errors 0 p99 10.4 ms"
    )


def test_the_text_report_shows_rate_latency_and_the_verdict():
    text = format_report(REPORT)
    assert "rate         19.97 rounds/s achieved, target 20" in text
    assert "wallet ms    p50 1.8  p90 2.7  p99 10.4  max 12.6" in text
    assert "callbacks    1800: bet ok 600" in text
    assert text.rstrip().splitlines()[-2:] == ["reconciliation: OK", "  [ok  ] ledger_audit: fine"]


def test_a_failed_run_says_it_could_not_reconcile():
    failed = {**REPORT, "state": "failed", "error": "boom", "reconciliation": {"ok": None, "checks": []}}
    text = format_report(failed)
    assert "  error: boom" in text
    assert "reconciliation: not done (the run failed before it could reconcile)" in text
