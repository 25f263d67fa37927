"""Does the run's money add up?  Independent records compared with each other.

The run's own per-round outcomes (:class:`AccountTally`) are compared with the
simulator's transaction history (spec 7) for the run's accounts, with the
balances (the platform's in transfer mode, the wallet's in seamless mode), and
the ledger's conservation audit is run.  Each check says what it compared;
a failed one lists what differed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..domain.models import TransType
from ..money import ZERO, plain
from .figures import AccountTally

WIN_TYPES = (int(TransType.WIN), int(TransType.BONUS_CALL))


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    problems: list[str] = field(default_factory=list)
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"name": self.name, "ok": self.ok, "detail": self.detail}
        if self.skipped:
            result["skipped"] = True
        if self.problems:
            result["problems"] = self.problems
        return result


@dataclass
class HistoryTotals:
    bets: Decimal = ZERO
    wins: Decimal = ZERO
    refunds: Decimal = ZERO
    deposits: Decimal = ZERO
    bet_count: int = 0
    win_count: int = 0
    refund_count: int = 0
    movement: Decimal = ZERO


def history_totals(rows, user_codes: set[int], after_trans_id: int) -> dict[int, HistoryTotals]:
    """Per user, the history rows written since the run started (trans ids grow)."""
    totals = {code: HistoryTotals() for code in user_codes}
    for tx in rows:
        if tx.user_code not in user_codes or tx.trans_id <= after_trans_id:
            continue
        total = totals[tx.user_code]
        total.movement += tx.balance - tx.prebalance
        if tx.trans_type == TransType.BET:
            total.bets += tx.trans_amount
            total.bet_count += 1
        elif tx.trans_type in WIN_TYPES:
            total.wins += tx.trans_amount
            total.win_count += 1
        elif tx.trans_type == TransType.BET_CANCEL:
            total.refunds += tx.trans_amount
            total.refund_count += 1
        elif tx.trans_type == TransType.DEPOSIT:
            total.deposits += tx.trans_amount
    return totals


def check_rounds_final(pending: int, win_error: int, retries_left: int) -> Check:
    problems = []
    if pending:
        problems.append(f"{pending} rounds still wait for their win to be accepted")
    if win_error:
        problems.append(f"{win_error} rounds ended in Win Error (every win retry failed)")
    if retries_left:
        problems.append(f"{retries_left} win/cancel callbacks of the run are still on the retry queue")
    return Check(
        "rounds_final",
        not problems,
        "every round ended settled or refunded, and no win or cancel is left to retry",
        problems,
    )


def check_history(tallies: list[AccountTally], totals: dict[int, HistoryTotals]) -> Check:
    problems = []
    for tally in tallies:
        seen = totals.get(tally.user_code, HistoryTotals())
        pairs = (
            ("Bet", tally.bets, tally.bet_count, seen.bets, seen.bet_count),
            ("Win", tally.wins, tally.win_count, seen.wins, seen.win_count),
            ("BetCancel", tally.refunds, tally.refund_count, seen.refunds, seen.refund_count),
            ("Deposit", tally.deposited, None, seen.deposits, None),
        )
        for label, played, count, recorded, rows in pairs:
            if played != recorded or count != rows:
                counts = f" in {rows} rows, {count} rounds" if count is not None else ""
                problems.append(
                    f"{tally.name}: history {label} total {plain(recorded)}{counts}; "
                    f"the run played {plain(played)}"
                )
    return Check(
        "history_matches_rounds",
        not problems,
        "per account, the Bet, Win, BetCancel and Deposit rows since the start sum to what the rounds did",
        problems,
    )


def check_balances(tallies: list[AccountTally], finals: dict[str, Decimal | None], seamless: bool) -> Check:
    """Final balance = start + deposits - bets + wins + refunds, per account."""
    name = "wallet_balances" if seamless else "balances"
    source = "the wallet's reported balance" if seamless else "the platform balance"
    detail = f"per account, {source} = start - bets + wins + refunds" + ("" if seamless else " + deposits")
    problems, unknown = [], []
    for tally in tallies:
        final, expected = finals.get(tally.name), tally.expected_balance()
        if final is None or expected is None:
            unknown.append(tally.name)
        elif final != expected:
            problems.append(f"{tally.name}: balance {plain(final)}, expected {plain(expected)}")
    if unknown and len(unknown) == len(tallies):
        return Check(
            name, True, f"skipped: no start or final balance reported for {unknown[0]}", skipped=True
        )
    problems += [f"{account}: the wallet reported no balance to compare" for account in unknown]
    return Check(name, not problems, detail, problems)


def check_history_movement(tallies: list[AccountTally], finals, totals: dict[int, HistoryTotals]) -> Check:
    """Transfer mode: the rows' balance movements add up to the balance change."""
    problems = []
    for tally in tallies:
        final, movement = finals.get(tally.name), totals.get(tally.user_code, HistoryTotals()).movement
        if final is None or tally.start_balance is None or final - tally.start_balance != movement:
            problems.append(f"{tally.name}: history rows move the balance by {plain(movement)}")
    return Check(
        "history_movement", not problems, "per account, the rows' prebalance→balance steps chain", problems
    )


def check_audit(audit, user_codes: set[int]) -> Check:
    problems = []
    total = audit.points + audit.held + audit.balances + audit.house
    if total != audit.issued:
        problems.append(f"points + held + balances + house = {plain(total)}, issued {plain(audit.issued)}")
    mismatched = sorted(set(audit.mismatched_users) & user_codes)
    if mismatched:
        problems.append(f"users whose balance differs from their history: {mismatched}")
    return Check("ledger_audit", not problems, "the ledger conserves points and balances (spec 7)", problems)


def check_errors(errors: int, samples: list[str]) -> Check:
    problems = [f"{errors} rounds failed unexpectedly"] + samples if errors else []
    return Check("no_unexpected_errors", not errors, "no round raised an unexpected error", problems)


def summary(checks: list[Check]) -> dict[str, Any]:
    problems = [problem for check in checks if not check.ok for problem in (check.problems or [check.detail])]
    return {
        "ok": all(check.ok for check in checks),
        "checks": [c.to_dict() for c in checks],
        "problems": problems,
    }
