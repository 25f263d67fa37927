"""The wallet conformance runner: the vendor's callback tester, with virtual money (spec 6.12).

It sends the scenarios of 6.12, plus a few robustness checks, to an integrator's
callback URL through the ordinary :class:`CallbackClient`, and judges the wallet
only by what the wallet itself reports: each step's expected balance is derived
from the balance the wallet reported before it.  Nothing goes through the
simulator's ledger, so agent points, users and history stay untouched.

Money rules that a wallet breaks (a double debit, a missing refund, an accepted
wrong token) are failures; deviations the platform tolerates (a numeric string,
``0`` where 41 is asked for but no money moved, 13.1) are warnings.

A run leaves the test account as it found it: the last scenario (C1) plays one
more round that takes back, or pays back, whatever the scenarios moved, and checks
the balance is the one read at the start.  Every callback of a run is tagged in the
callback log with its scenario and step, and with the results the runner expects
(a repeated bet's 41, a wrong token's 100...), so the back office lists those
refusals as asked for, apart from real failures.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..clock import Clock
from ..domain.enums import AgentKind
from ..domain.models import Agent, AgentSettings, TransType
from ..money import ZERO, plain
from .client import Attempt, CallbackClient
from .conformance_report import Exchange, Report, ScenarioResult
from .log import CallbackLog
from .protocol import (
    V4,
    RoundContext,
    StampAllocator,
    TransactionIds,
    check_for,
    money_data,
    status_data,
    trans_guid,
)

#: The vendor tester's account (13.3).
DEFAULT_ACCOUNT = "test1234"
#: Whole-unit amounts: reference handlers cast amounts to int (13.1).
STAKE = Decimal(100)
WIN = Decimal(200)
#: The synthetic round every transaction belongs to: user_code 0 is never a real player.
TEST_USER_CODE = 0
GAME = {"provider_id": 1, "game_code": "vs20fruitsw", "game_name": "Sweet Bonanza", "category": "Slots"}
WRONG_TOKEN = "conformance-wrong-callback-token"
#: Failed checks whose reply carries the current balance (6.6).
CODES_WITH_BALANCE = {31, 41, 42, 43, 99}
MEANINGS = {
    21: "account unknown",
    22: "account blocked",
    31: "insufficient balance",
    41: "transaction already processed",
    42: "transaction not found",
    43: "cancelled transaction not found",
    99: "processing failed",
    100: "Callback-Token refused",
}
#: Run bases never repeat in one process, even with a frozen or rewound simulator clock.
_RUN_BASES = StampAllocator()
#: The results a step expects: result codes, or "any" refusal (a policy the wallet may choose).
Expected = tuple[int, ...] | str


class Failure(Exception):
    """A broken rule: ends the scenario with its message."""


def _code(result: int | None) -> str:
    meaning = MEANINGS.get(result) if result is not None else None
    return f"{result} ({meaning})" if meaning else str(result)


class ConformanceRunner:
    """Runs every scenario once against ``agent``'s callback URL, token and dialect."""

    def __init__(
        self,
        client: CallbackClient,
        agent: Agent,
        account: str,
        clock: Clock,
        stamps: StampAllocator | None = None,
    ) -> None:
        self._client = client
        self._agent = agent
        self._account = account
        self._clock = clock
        self._stamps = stamps or StampAllocator()
        self.dialect = agent.settings.callback_dialect
        self._id_name = "trans_guid" if self.dialect == V4 else "trans_id"
        # Round ids and legacy trans_ids derive from this, so a re-run never collides (6.10: ids are kept).
        self._base = _RUN_BASES.next(max(clock.millis(), int(time.time() * 1000)))
        self._counter = itertools.count(1)
        self._scenario = ScenarioResult("", "", "")
        #: Per command, the reply fields that came as numeric strings in the current scenario.
        self._strings: dict[str, list[str]] = {}
        #: The test account's balance when the run began (the first one a reply showed).
        self._found: Decimal | None = None

    def run(self) -> Report:
        started, began = self._clock.now().isoformat().replace("+00:00", "Z"), time.perf_counter()
        scenarios: list[ScenarioResult] = []
        unreachable = False
        for scenario_id, title, spec, steps in self._plan():
            unreachable = unreachable or (scenario_id == "S3" and self._unreachable(scenarios))
            if unreachable:
                steps = self._not_run
            scenarios.append(self._run(scenario_id, title, spec, steps))
        duration = (time.perf_counter() - began) * 1000
        url = self._agent.settings.callback_url
        return Report(url, self.dialect, self._account, started, duration, scenarios)

    def _plan(self) -> list[tuple[str, str, str, Callable[[], None]]]:
        return [
            ("S1", "authenticate the test account", "6.12-1", self.authenticate),
            ("S2", "balance", "6.12-2", self.balance),
            ("S3", "bet, the same bet again (41), win, status", "6.12-3", self.repeated_bet),
            ("S4", "a bet of amount 0 is accepted", "6.12-4", self.zero_bet),
            ("S5", "a bet above the balance (31)", "6.12-5", self.bet_above_balance),
            ("S6", "bet, win, the same win again (41), status", "6.12-6", self.repeated_win),
            ("S7", "bet, cancel, the same cancel again, status, new bet", "6.12-7", self.cancel),
            ("S8", "a wrong Callback-Token (100)", "6.12-8, 6.1", self.wrong_token),
            ("R1", "two identical bets at the same time", "6.10", self.concurrent_bets),
            ("R2", "cancel and status of an unknown transaction", "6.10", self.unknown_transaction),
            ("R3", "a win after its bet was cancelled", "6.10", self.win_after_cancel),
            ("R4", "zero amounts are stored (bet 0, win 0)", "6.10", self.zero_amounts),
            ("R5", "a 50-character unknown account (21)", "6.6", self.long_account),
            ("R6", "a unicode unknown account (21)", "6.6", self.unicode_account),
            ("C1", "the test account is left as the run found it", "6.12", self.restore),
        ]

    @staticmethod
    def _unreachable(scenarios: list[ScenarioResult]) -> bool:
        """No callback got any HTTP answer: a dead or hanging URL would only repeat its timeouts."""
        exchanges = [e for s in scenarios for e in s.exchanges]
        return bool(exchanges) and all(e.http_status is None for e in exchanges)

    def _not_run(self) -> None:
        raise Failure("not run: the callback URL gave no HTTP answer in S1 and S2")

    def _run(self, scenario_id: str, title: str, spec: str, steps: Callable[[], None]) -> ScenarioResult:
        self._scenario = ScenarioResult(scenario_id, title, spec)
        self._strings = {}
        began = time.perf_counter()
        try:
            steps()
        except Failure as failure:
            self._scenario.failures.append(str(failure))
        except Exception as exc:  # a runner bug must still produce a report
            self._scenario.failures.append(f"the runner could not finish: {exc.__class__.__name__}: {exc}")
        self._warn_strings()
        self._scenario.duration_ms = (time.perf_counter() - began) * 1000
        return self._scenario

    # -- sending ------------------------------------------------------------------------------

    def _round(self, account: str | None = None) -> RoundContext:
        round_id = f"{self._base}{next(self._counter):03d}"
        return RoundContext(account or self._account, TEST_USER_CODE, self._base % 10**9, round_id, **GAME)

    def _ids(self, ctx: RoundContext) -> TransactionIds:
        stamp = self._stamps.next(self._clock.millis())
        return TransactionIds(self._base * 1000 + next(self._counter), trans_guid(ctx, stamp), stamp)

    def _send(
        self,
        step: str,
        command: str,
        data: dict | None = None,
        *,
        body: dict | None = None,
        token: str | None = None,
        expect: Expected = (),
    ) -> Attempt:
        attempt = self._client.send(
            self._agent,
            command,
            data,
            body=body,
            token=token,
            apply_faults=False,
            extra=self._tag(step, expect),
        )
        self._record(step, attempt, token is not None)
        return attempt

    def _tag(self, step: str, expect: Expected) -> dict[str, Any]:
        """What the callback log keeps of a run's callback: its run, scenario and step, and the
        refusals the step asks for (:attr:`CallbackEntry.expected_refusal`)."""
        tag: dict[str, Any] = {"conformance": f"run {self._base} {self._scenario.scenario_id}: {step}"}
        if expect:
            tag["expected_results"] = expect if isinstance(expect, str) else list(expect)
        return tag

    def _record(self, step: str, attempt: Attempt, wrong_token: bool) -> None:
        entry = self._client.log.get(attempt.entry_id)
        raw = entry.reply if entry is not None else ""
        reply = attempt.reply
        self._scenario.exchanges.append(
            Exchange(
                step,
                attempt.command,
                attempt.request,
                wrong_token,
                attempt.status,
                raw,
                reply.result,
                reply.balance,
                attempt.error,
                attempt.duration_ms,
            )
        )
        if reply.stringly:
            self._note_strings(attempt.command, raw)

    def _note_strings(self, command: str, raw: str) -> None:
        """Remember which fields of which command came as numeric strings (6.7: a warning)."""
        try:
            parsed = json.loads(raw)
        except ValueError:  # cut by the log's size limit
            parsed = {}
        data = parsed.get("data") if isinstance(parsed.get("data"), dict) else {}
        fields = self._strings.setdefault(command, [])
        found = ["result"] if isinstance(parsed.get("result"), str) else []
        found += ["data.balance"] if isinstance(data.get("balance"), str) else []
        fields.extend(name for name in found or ["result or data.balance"] if name not in fields)

    def _warn_strings(self) -> None:
        if self._strings:
            where = ", ".join(f"{command} ({', '.join(fields)})" for command, fields in self._strings.items())
            self._warn(
                f"6.7 numbers: numeric strings instead of JSON numbers in the replies to {where}; "
                "the platform accepts them (13.1), integrators should answer numbers"
            )

    def _warn(self, message: str) -> None:
        if message not in self._scenario.warnings:
            self._scenario.warnings.append(message)

    def _bet(
        self,
        step: str,
        ctx: RoundContext,
        amount: Decimal,
        token: str | None = None,
        expect: Expected = (),
    ) -> tuple[TransactionIds, Attempt]:
        ids = self._ids(ctx)
        data = money_data(ctx, self.dialect, ids, amount, TransType.BET, call_id=0)
        return ids, self._send(step, "bet", data, token=token, expect=expect)

    def _win(
        self, step: str, ctx: RoundContext, amount: Decimal, expect: Expected = ()
    ) -> tuple[TransactionIds, Attempt]:
        ids = self._ids(ctx)
        data = money_data(ctx, self.dialect, ids, amount, TransType.WIN, call_id=0)
        return ids, self._send(step, "win", data, expect=expect)

    def _cancel(
        self, step: str, ctx: RoundContext, target: TransactionIds, amount: Decimal, expect: Expected = ()
    ) -> Attempt:
        data = money_data(ctx, self.dialect, self._ids(ctx), amount, TransType.BET_CANCEL, None, target)
        return self._send(step, "cancel", data, expect=expect)

    def _again(self, step: str, attempt: Attempt, expect: Expected = ()) -> Attempt:
        """The identical body again, as a retry or a duplicate delivery sends it."""
        return self._send(step, attempt.command, body=attempt.request, expect=expect)

    # -- judging ------------------------------------------------------------------------------

    def _usable(self, attempt: Attempt, what: str) -> None:
        if not attempt.reply.usable:
            raise Failure(f"6.8 usable reply: {what} got no usable reply: {attempt.error}")

    def _ok(self, attempt: Attempt, what: str, rule: str) -> Decimal | None:
        """A usable success; its ``data.balance`` (always present for money commands, 6.8)."""
        self._usable(attempt, what)
        if attempt.reply.result != 0:
            raise Failure(f"{rule}: {what} answered result {_code(attempt.reply.result)} instead of 0")
        return attempt.reply.balance

    def _money(self, actual: Decimal | None, expected: Decimal, rule: str) -> None:
        if actual != expected:
            shown = "none" if actual is None else plain(actual)
            raise Failure(f"{rule}: balance {shown} instead of {plain(expected)}")

    def _balance(self, step: str = "balance") -> Decimal:
        attempt = self._send(step, "balance", {"account": self._account})
        balance = self._ok(attempt, f"balance for {self._account!r}", "6.7 balance")
        assert balance is not None  # a success without data.balance is unusable
        if self._found is None:
            self._found = balance
        return balance

    def _balance_after(self, attempt: Attempt, what: str) -> Decimal:
        """The balance a refusal reports (6.6), else the one a ``balance`` call reports."""
        if attempt.reply.balance is not None:
            return attempt.reply.balance
        if attempt.reply.result in CODES_WITH_BALANCE:
            self._warn(f"6.6 replies: the {attempt.reply.result} reply to {what} carries no data.balance")
        return self._balance(f"balance after {what}")

    def _stake(self, ctx: RoundContext, before: Decimal) -> tuple[TransactionIds, Attempt]:
        """A bet of :data:`STAKE` that must be accepted and debited once."""
        ids, bet = self._bet(f"bet {STAKE}", ctx, STAKE)
        after = self._ok(bet, f"a bet of {STAKE}", "6.7 bet")
        self._money(after, before - STAKE, f"6.7 bet: the reply to a bet of {STAKE} must show the debit")
        return ids, bet

    def _funded(self, needed: Decimal) -> Decimal:
        before = self._balance("balance before")
        if before < needed:
            raise Failure(
                f"setup: {self._account!r} needs a balance of at least {plain(needed)} "
                f"for this scenario, the wallet reports {plain(before)}"
            )
        return before

    def _duplicate(self, first: Attempt, kind: str, expected: Decimal) -> None:
        """A repeated bet/win (same id) fails check 41 and changes nothing (6.10)."""
        again = self._again(f"the same {kind} again", first, expect=(41,))
        self._usable(again, f"a repeated {kind}")
        balance = self._balance_after(again, f"a repeated {kind}")
        same = f"a repeated {kind} (same {self._id_name})"
        self._money(balance, expected, f"6.10 idempotency: {same} was applied twice")
        if again.reply.result == 0:
            self._warn(
                f"6.10 idempotency: {same} answered 0 instead of 41; no money moved, "
                "so the platform takes it as already applied (13.1)"
            )
        elif again.reply.result != 41:
            raise Failure(f"6.6 check 41: {same} answered result {_code(again.reply.result)} instead of 41")

    def _status_is(self, ids: TransactionIds, expected: str, what: str) -> None:
        data = status_data(self._account, self.dialect, ids)
        attempt = self._send(f"status of {what}", "status", data)
        self._ok(attempt, f"the status of {what}", "6.10 status")
        reply = attempt.reply.data or {}
        if reply.get("trans_status") != expected:
            raise Failure(
                f"6.10 status: the status of {what} is {reply.get('trans_status')!r} instead of {expected!r}"
            )
        asked = ids.trans_guid if self.dialect == V4 else ids.trans_id
        if self._id_name not in reply:
            self._warn(f"6.7 status: the reply does not name the {self._id_name} it reports on")
        elif str(reply[self._id_name]) != str(asked):
            raise Failure(
                f"6.7 status: the reply names {self._id_name} {reply[self._id_name]!r}, "
                f"not the one asked about ({asked!r})"
            )

    def _final(self, expected: Decimal) -> None:
        """The wallet's own ``balance`` agrees with what its replies said."""
        self._money(
            self._balance("balance at the end"),
            expected,
            "6.7 balance: the balance command disagrees with the replies",
        )

    # -- the scenarios of 6.12 ----------------------------------------------------------------

    def authenticate(self) -> None:
        attempt = self._send("authenticate", "authenticate", {"account": self._account})
        what = f"authenticate for {self._account!r}"
        if attempt.reply.usable and attempt.reply.result == 21:
            raise Failure(
                f"6.6 check 21: {what} answered 21 (account unknown); the runner needs an "
                "existing test account (13.3, --account)"
            )
        if attempt.reply.usable and attempt.reply.result == 100:
            raise Failure(
                f"6.1 callback security: {what} answered 100: the wallet refuses the Callback-Token "
                "sent (check --token, or the agent's callback_token)"
            )
        self._found = self._ok(attempt, what, "6.7 authenticate")
        echoed = (attempt.reply.data or {}).get("account")
        if echoed != self._account:
            self._warn(f"6.7 authenticate: data.account is {echoed!r}, expected {self._account!r}")

    def balance(self) -> None:
        self._balance()

    def repeated_bet(self) -> None:
        before = self._funded(STAKE)
        ctx = self._round()
        bet_ids, bet = self._stake(ctx, before)
        self._duplicate(bet, "bet", before - STAKE)
        _, win = self._win(f"win {WIN}", ctx, WIN)
        after = self._ok(win, f"a win of {WIN}", "6.7 win")
        self._money(after, before - STAKE + WIN, f"6.7 win: the reply to a win of {WIN} must show the credit")
        self._status_is(bet_ids, "OK", "the bet")
        self._final(before - STAKE + WIN)

    def zero_bet(self) -> None:
        before = self._balance("balance before")
        _, bet = self._bet("bet 0", self._round(), ZERO)
        after = self._ok(bet, "a bet of amount 0", "6.12 zero-amount bets must be accepted")
        self._money(after, before, "6.4 amount 0: a bet of 0 must leave the balance unchanged")

    def bet_above_balance(self) -> None:
        before = self._balance("balance before")
        amount = Decimal(int(before)) + 1000
        ctx = self._round()
        bet_ids, bet = self._bet(f"bet {plain(amount)} (above the balance)", ctx, amount, expect=(31,))
        self._usable(bet, "a bet above the balance")
        if bet.reply.result == 0:
            self._cancel("clean-up: cancel the accepted bet", ctx, bet_ids, amount)
            shown = "none" if bet.reply.balance is None else plain(bet.reply.balance)
            raise Failure(
                f"6.6 check 31: a bet of {plain(amount)} above the balance {plain(before)} "
                f"was accepted (balance {shown})"
            )
        if bet.reply.result != 31:
            raise Failure(
                f"6.6 check 31: a bet above the balance answered result "
                f"{_code(bet.reply.result)} instead of 31"
            )
        balance = self._balance_after(bet, "a bet above the balance")
        self._money(balance, before, "6.6 check 31: a refused bet moved money")

    def repeated_win(self) -> None:
        before = self._funded(STAKE)
        ctx = self._round()
        self._stake(ctx, before)
        win_ids, win = self._win(f"win {WIN}", ctx, WIN)
        expected = before - STAKE + WIN
        self._money(self._ok(win, "a win", "6.7 win"), expected, "6.7 win: the reply must show the credit")
        self._duplicate(win, "win", expected)
        self._status_is(win_ids, "OK", "the win")
        self._final(expected)

    def cancel(self) -> None:
        before = self._funded(STAKE)
        ctx = self._round()
        bet_ids, _ = self._stake(ctx, before)
        cancel = self._cancel("cancel the bet", ctx, bet_ids, STAKE)
        refunded = self._ok(cancel, "the cancel of a bet", "6.10 cancel")
        self._money(refunded, before, "6.10 cancel: cancelling a bet must give the stake back")
        again = self._again("the same cancel again", cancel, expect=(41,))
        self._usable(again, "a repeated cancel")
        rule = f"6.10 cancel: a repeated cancel (same {self._id_name}) refunded the stake again"
        self._money(self._balance_after(again, "a repeated cancel"), before, rule)
        if again.reply.result not in (0, 41):
            raise Failure(
                f"6.10 cancel: a repeated cancel answered result {_code(again.reply.result)} "
                "instead of 0 or 41"
            )
        if self.dialect == V4:
            self._cancel_again_with_new_id(ctx, bet_ids, before)
        self._status_is(bet_ids, "CANCELED", "the cancelled bet")
        _, new_bet = self._bet(f"a new bet {STAKE}", self._round(), STAKE)
        after = self._ok(new_bet, "a new bet after the cancel", "6.7 bet")
        self._money(after, before - STAKE, "6.7 bet: the reply to the new bet must show the debit")
        self._final(before - STAKE)

    def _cancel_again_with_new_id(self, ctx: RoundContext, target: TransactionIds, before: Decimal) -> None:
        """Cancelling an already-cancelled transaction succeeds again, with no balance change (6.10)."""
        second = self._cancel(
            "cancel the cancelled bet again, new trans_guid", ctx, target, STAKE, expect=(41, 43)
        )
        self._usable(second, "a second cancel of a cancelled bet")
        result = second.reply.result
        self._money(
            self._balance_after(second, "a second cancel"),
            before,
            "6.10 cancel: a second cancel of a cancelled bet refunded the stake again",
        )
        if result in (41, 43):
            self._warn(
                f"6.10 cancel: cancelling an already-cancelled bet answered {_code(result)} "
                "instead of 0 (the platform stops retrying, 6.8)"
            )
        elif result != 0:
            raise Failure(
                f"6.10 cancel: cancelling an already-cancelled bet answered {_code(result)} "
                "instead of 0 (the platform would retry it, 6.8)"
            )

    def wrong_token(self) -> None:
        before = self._balance("balance before")
        auth = self._send(
            "authenticate, wrong token",
            "authenticate",
            {"account": self._account},
            token=WRONG_TOKEN,
            expect=(100,),
        )
        rule = "6.1 callback security: a callback with a wrong Callback-Token"
        if not auth.reply.usable:
            raise Failure(
                f"{rule} got no usable reply ({auth.error}); answer HTTP 200 "
                '{"result":100,"status":"ERROR"}'
            )
        if auth.reply.result != 100:
            raise Failure(f"{rule} answered result {_code(auth.reply.result)} instead of 100")
        ctx = self._round()
        bet_ids, bet = self._bet(f"bet {STAKE}, wrong token", ctx, STAKE, token=WRONG_TOKEN, expect=(100,))
        if bet.reply.usable and bet.reply.result == 0:
            self._cancel("clean-up: cancel the accepted bet", ctx, bet_ids, STAKE)
            raise Failure(f"{rule} was accepted: a bet of {STAKE} answered 0 instead of 100")
        self._money(self._balance("balance after"), before, f"{rule} moved money")
        self._usable(bet, "a bet with a wrong Callback-Token")
        if bet.reply.result != 100:
            raise Failure(f"{rule} (a bet) answered result {_code(bet.reply.result)} instead of 100")

    # -- robustness ---------------------------------------------------------------------------

    def concurrent_bets(self) -> None:
        """Of two identical bets arriving together, exactly one is applied (6.10)."""
        before = self._funded(STAKE)
        ctx = self._round()
        data = money_data(ctx, self.dialect, self._ids(ctx), STAKE, TransType.BET, call_id=0)
        body = self._client.envelope("bet", data, check_for("bet", self.dialect))
        barrier = threading.Barrier(2)
        attempts: list[Attempt | None] = [None, None]

        def send(index: int) -> None:
            barrier.wait(timeout=5)
            step = f"identical bet {index + 1} of 2, sent at once"
            attempts[index] = self._client.send(
                self._agent, "bet", body=body, apply_faults=False, extra=self._tag(step, (41,))
            )

        threads = [threading.Thread(target=send, args=(i,)) for i in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for index, attempt in enumerate(attempts):
            if attempt is not None:
                self._record(f"identical bet {index + 1} of 2, sent at once", attempt, False)
        sent = [attempt for attempt in attempts if attempt is not None]
        if len(sent) < 2:
            raise Failure("runner: the two identical bets could not be sent together")
        for attempt in sent:
            self._usable(attempt, "one of two identical bets sent at once")
        balance = self._balance("balance after both")
        same = f"two identical bets (same {self._id_name}) sent at once"
        if balance == before:
            raise Failure(
                f"6.10 idempotency: neither of {same} was applied: balance {plain(balance)} "
                f"instead of {plain(before - STAKE)}"
            )
        self._money(balance, before - STAKE, f"6.10 idempotency: {same} were both applied")
        results = sorted(attempt.reply.result or 0 for attempt in sent)
        if results == [0, 0]:
            self._warn(f"6.10 idempotency: both of {same} answered 0; one should answer 41")
        elif results != [0, 41]:
            raise Failure(f"6.10 idempotency: {same} answered results {results} instead of [0, 41]")

    def unknown_transaction(self) -> None:
        before = self._balance("balance before")
        ctx = self._round()
        never_sent = self._ids(ctx)
        expected = 43 if self.dialect == V4 else 42
        cancel = self._cancel(
            "cancel of a transaction never sent", ctx, never_sent, STAKE, expect=(expected,)
        )
        self._usable(cancel, "a cancel of an unknown transaction")
        balance = self._balance_after(cancel, "a cancel of an unknown transaction")
        self._money(
            balance, before, "6.10 cancel: a cancel of a transaction the wallet never saw moved money"
        )
        result = cancel.reply.result
        if result == 0:
            self._warn(
                f"6.10 cancel: a cancel of an unknown transaction answered 0 instead of {expected}; "
                "no money moved and the platform takes 0 as done"
            )
        elif result != expected:
            raise Failure(
                f"6.10 cancel: a cancel of an unknown transaction answered {_code(result)} "
                f"instead of {expected} (the platform would retry it, 6.8)"
            )
        status = self._send(
            "status of a transaction never sent",
            "status",
            status_data(self._account, self.dialect, never_sent),
            expect=(42,),
        )
        self._usable(status, "the status of an unknown transaction")
        if status.reply.result != 42:
            raise Failure(
                f"6.10 status: the status of an unknown transaction answered "
                f"{_code(status.reply.result)} instead of 42"
            )

    def win_after_cancel(self) -> None:
        """A late win for a round whose bet was cancelled.

        A win's checks are 21, 22, 41 only (6.5), so a wallet that follows the
        check string applies it, once; refusing it is an integrator policy.
        Either is accepted; what fails is paying it twice or moving money on a refusal.
        """
        before = self._funded(STAKE)
        ctx = self._round()
        bet_ids, _ = self._stake(ctx, before)
        refunded = self._ok(self._cancel("cancel the bet", ctx, bet_ids, STAKE), "the cancel", "6.10 cancel")
        self._money(refunded, before, "6.10 cancel: cancelling a bet must give the stake back")
        _, win = self._win(f"win {WIN} for the cancelled round", ctx, WIN, expect="any")
        self._usable(win, "a win after its bet was cancelled")
        if win.reply.result == 0:
            self._scenario.notes.append("the wallet applied the late win once (its checks are 21,22,41)")
            self._money(win.reply.balance, before + WIN, "6.7 win: the reply must show the credit")
            self._duplicate(win, "win", before + WIN)
            self._final(before + WIN)
        else:
            self._scenario.notes.append(f"the wallet refused the late win with {_code(win.reply.result)}")
            self._money(
                self._balance_after(win, "a refused late win"), before, "6.10: a refused win moved money"
            )
            again = self._again("the same win again", win, expect="any")
            self._usable(again, "a repeated late win")
            self._money(
                self._balance_after(again, "a repeated late win"),
                before,
                "6.10 idempotency: a repeated win, refused the first time, was paid",
            )

    def zero_amounts(self) -> None:
        """``amount`` 0 still stores the transaction: duplicates and status see it (6.10)."""
        before = self._balance("balance before")
        ctx = self._round()
        bet_ids, bet = self._bet("bet 0", ctx, ZERO)
        self._money(
            self._ok(bet, "a bet of amount 0", "6.12 zero-amount bets must be accepted"),
            before,
            "6.4 amount 0: a bet of 0 must leave the balance unchanged",
        )
        self._duplicate(bet, "bet", before)
        win_ids, win = self._win("win 0 (a lost round)", ctx, ZERO)
        self._money(
            self._ok(win, "a win of amount 0", "6.10 win 0"),
            before,
            "6.10 win 0: a win of 0 must leave the balance unchanged",
        )
        self._duplicate(win, "win", before)
        self._status_is(bet_ids, "OK", "the zero bet")
        self._status_is(win_ids, "OK", "the zero win")

    def long_account(self) -> None:
        self._unknown_account(f"conformance-unknown-{self._base}".ljust(50, "x"), "a 50-character")

    def unicode_account(self) -> None:
        self._unknown_account(f"테스트-Ünïcødé-账户-{self._base % 10**6}-🎰", "a unicode")

    def _unknown_account(self, account: str, kind: str) -> None:
        """An account the wallet does not know gets 21, not a crash (6.6)."""
        ctx = self._round(account)
        auth = self._send("authenticate", "authenticate", {"account": account}, expect=(21,))
        bet_ids, bet = self._bet(f"bet {STAKE}", ctx, STAKE, expect=(21,))
        for attempt, command in ((auth, "authenticate"), (bet, "bet")):
            self._usable(attempt, f"{command} for {kind} unknown account")
            if attempt.reply.result == 0 and command == "bet":
                self._cancel("clean-up: cancel the accepted bet", ctx, bet_ids, STAKE)
            if attempt.reply.result != 21:
                raise Failure(
                    f"6.6 check 21: {command} for {kind} unknown account {account!r} answered "
                    f"{_code(attempt.reply.result)} instead of 21"
                )

    # -- clean-up -----------------------------------------------------------------------------

    def restore(self) -> None:
        """One more round that takes back (a bet) or pays back (a win) what the run moved, so the
        test account ends at the balance the run found: the vendor's test account is shared."""
        found = self._found
        if found is None:
            raise Failure("not run: no balance of the test account was read at the start")
        now = self._balance("balance after the scenarios")
        if now == found:
            self._scenario.notes.append(f"the scenarios left the balance at {plain(found)}")
            return
        ctx = self._round()
        if now > found:
            gained = now - found
            _, bet = self._bet(f"bet {plain(gained)} (takes back what the run paid)", ctx, gained)
            self._ok(bet, f"a clean-up bet of {plain(gained)}", "6.7 bet")
            _, win = self._win("win 0 (closes the clean-up round)", ctx, ZERO)
        else:
            lost = found - now
            _, bet = self._bet("bet 0 (opens the clean-up round)", ctx, ZERO)
            self._ok(bet, "a clean-up bet of 0", "6.7 bet")
            _, win = self._win(f"win {plain(lost)} (pays back what the run took)", ctx, lost)
        self._ok(win, "the clean-up win", "6.7 win")
        self._money(
            self._balance("balance after the clean-up"),
            found,
            "clean-up: the test account must end at the balance the run found",
        )
        self._scenario.notes.append(f"the test account is back at {plain(found)} (it was {plain(now)})")


def transient_agent(callback_url: str, token: str, dialect: str = V4) -> Agent:
    """An agent that exists only for one run: the CLI needs no simulator."""
    settings = AgentSettings(callback_url=callback_url, callback_token=token, callback_dialect=dialect)
    return Agent(0, "conformance", AgentKind.AGENT, None, "", ZERO, settings, Clock().now())


def run_conformance(
    callback_url: str, token: str, account: str = DEFAULT_ACCOUNT, dialect: str = V4
) -> Report:
    """Run every scenario with a client of its own: its own log, clock and no fault rules."""
    clock = Clock()
    client = CallbackClient(clock, CallbackLog(), lambda agent, target: [])
    agent = transient_agent(callback_url, token, dialect)
    return ConformanceRunner(client, agent, account, clock).run()
