"""Seamless mode behind the round's wallet interface: bet, win and cancel callbacks (spec 6.8-6.11).

- ``bet``: one attempt, never retried.  Success records Bet (1).  A usable
  refusal records nothing (31 shows "insufficient balance").  Anything unclear
  (timeout, network error, non-200, unusable body, or 41) is a *forward
  cancellation*: Bet (1) and BetCancel (16) are recorded with the last known
  balance and a ``cancel`` for the bet is queued (OP-4).
- ``win``: success or 41 ends it (Win 2 recorded); anything else goes to the
  retry queue, and the history shows nothing until it is accepted (OP-19).
- ``cancel``: success, 41, or 43/42 (target never seen) ends it; else retried.

Agent points follow OP-3 when ``seamless_points`` is on: a bet takes them
(before the callback, given back if refused), a win or a cancelled bet gives
them back.  No lock is held while a callback is on the wire.

A round paid by a bonus call (spec 8) carries its ``call_id`` on the bet and
the win, and its win is ``type`` 32, recorded as BonusCall (32), and leaves
the points alone (OP-3).  A free-round spin (spec 9) is a bet of amount 0
followed by an ordinary win.
"""

from __future__ import annotations

from decimal import Decimal

from ..clock import Clock
from ..codes import ResultCode, SimError
from ..domain.catalogue import Catalogue
from ..domain.enums import RoundStatus, WalletMode
from ..domain.ledger import Ledger
from ..domain.models import Agent, Round, TransType, User
from ..domain.rounds import Abandoned
from ..domain.store import PlayRef, Store
from ..money import ZERO
from .client import Attempt, CallbackClient
from .protocol import (
    V4,
    RoundContext,
    StampAllocator,
    TransactionIds,
    check_for,
    money_data,
    trans_guid,
)
from .retry import PROFILES, RetryJob, RetryQueue

#: Replies that end a cancel: done, already applied, or the target was never seen (6.8).
CANCEL_FINAL = {0, 41, 42, 43}


class ForwardCancelled(Abandoned):
    """The bet's outcome was unclear: Bet and BetCancel are recorded and a cancel is queued."""


class SeamlessWallet:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        catalogue: Catalogue,
        ledger: Ledger,
        client: CallbackClient,
        retries: RetryQueue,
        stamps: StampAllocator,
        points_model: bool,
        profile: str,
    ) -> None:
        self._store = store
        self._clock = clock
        self._catalogue = catalogue
        self._ledger = ledger
        self._client = client
        self._retries = retries
        self._stamps = stamps
        self._points = points_model
        self._attempts = PROFILES[profile]

    # -- helpers -------------------------------------------------------------------
    def _context(self, user: User, round_: Round) -> RoundContext:
        game = self._catalogue.game(round_.provider_id, round_.game_code)
        return RoundContext(
            account=user.name,
            user_code=user.user_code,
            gplay_id=round_.gplay_id,
            round_id=round_.round_id,
            provider_id=round_.provider_id,
            game_code=round_.game_code,
            game_name=game.game_name if game else round_.game_code,
            category=round_.category,
        )

    def _new_ids(self, agent: Agent, ctx: RoundContext, dialect: str) -> TransactionIds:
        """The ids a money callback carries.  Only ``legacy`` callbacks carry a history id, so only
        they reserve one (see :meth:`Ledger.reserve_trans_id`); a ``v4`` row takes its id when
        recorded, and history ids do not skip."""
        stamp = self._stamps.next(self._clock.millis())
        trans_id = self._ledger.reserve_trans_id(agent) if dialect != V4 else 0
        return TransactionIds(trans_id, trans_guid(ctx, stamp), stamp)

    @staticmethod
    def _ref(round_: Round) -> PlayRef:
        return PlayRef(round_.round_id, round_.provider_id, round_.game_code)

    def _reported(self, user: User, attempt: Attempt) -> Decimal:
        """The balance a reply reported, else the last known one."""
        balance = attempt.reply.balance
        if balance is not None:
            self._store.set_last_balance(user.user_code, balance)
            return balance
        return self._last_balance(user)

    def _last_balance(self, user: User) -> Decimal:
        current = self._store.user(user.user_code)
        return (current or user).last_balance

    # -- the Wallet interface ------------------------------------------------------------
    def balance(self, agent: Agent, user: User) -> Decimal:
        return self._last_balance(user)

    def refresh(self, agent: Agent, user: User) -> Decimal | None:
        """``balance`` callback (on session open and after each round, 6.5): 1 + 2 attempts.

        Returns the reported balance, or None when the wallet gave none (the game
        then shows an error and the session continues, 6.8).
        """
        attempt = None
        for number in range(1, self._attempts["balance"] + 1):
            attempt = self._client.send(agent, "balance", {"account": user.name}, attempt=number)
            if attempt.reply.usable:
                break
        if attempt is not None and attempt.reply.ok and attempt.reply.balance is not None:
            self._store.set_last_balance(user.user_code, attempt.reply.balance)
            return attempt.reply.balance
        return None

    def bet(self, agent: Agent, user: User, round_: Round) -> None:
        dialect = agent.settings.callback_dialect
        ctx = self._context(user, round_)
        if self._points:
            self._ledger.take_points(agent, round_.bet, "the bet")
        ids = self._new_ids(agent, ctx, dialect)
        round_.callback_ids = {**round_.callback_ids, "bet": ids}
        data = money_data(ctx, dialect, ids, round_.bet, int(TransType.BET), call_id=round_.call_id)
        attempt = self._client.send(agent, "bet", data)
        reply = attempt.reply
        if reply.ok:
            balance = self._reported(user, attempt)
            tx = self._ledger.record_seamless(
                agent,
                user,
                TransType.BET,
                round_.bet,
                balance + round_.bet,
                balance,
                self._ref(round_),
                ids.trans_id or None,
            )
            round_.trans_ids = [*round_.trans_ids, tx.trans_id]
            if any(e.get("cancel_after_ok") for e in attempt.effects):
                self._forward_cancel(agent, user, round_, ctx, ids, record_bet=False)
                raise ForwardCancelled(
                    ResultCode.INTERNAL_SERVER_ERROR,
                    f"bet of round {round_.round_id} cancelled after it was accepted (cancel_after_ok fault)",
                )
            return
        if reply.usable and reply.result != 41:
            if ids.trans_id:  # refused: the reserved history id is never recorded
                self._ledger.release_trans_id(agent, ids.trans_id)
            if self._points:
                self._ledger.give_points(agent, round_.bet)
            self._reported(user, attempt)
            if reply.result == 31:
                raise SimError(ResultCode.BALANCE_NOT_ENOUGH, "the wallet answered 31: insufficient balance")
            raise SimError(
                ResultCode.CALLBACK_ERROR, f"the wallet refused the bet with result {reply.result}"
            )
        self._forward_cancel(agent, user, round_, ctx, ids, record_bet=True)
        why = "answered 41" if reply.usable else (reply.problem or "no usable answer")
        raise ForwardCancelled(
            ResultCode.CALLBACK_ERROR, f"bet of round {round_.round_id} unclear ({why}); cancelled forward"
        )

    def win(self, agent: Agent, user: User, round_: Round) -> None:
        dialect = agent.settings.callback_dialect
        ctx = self._context(user, round_)
        ids = self._new_ids(agent, ctx, dialect)
        round_.callback_ids = {**round_.callback_ids, "win": ids}
        trans_type = TransType.BONUS_CALL if round_.call_id else TransType.WIN
        data = money_data(ctx, dialect, ids, round_.win, int(trans_type), call_id=round_.call_id)
        attempt = self._client.send(agent, "win", data)
        if self._win_settles(attempt):
            self._win_accepted(agent, user, round_, attempt, ids.trans_id)
            return
        if ids.trans_id:
            # The retries may take minutes or fail for good: a reserved id would hold back
            # the agent's whole history meanwhile, so the row takes a new id when accepted.
            self._ledger.release_trans_id(agent, ids.trans_id)
        round_.status = RoundStatus.WIN_PENDING
        job = self._win_job(agent, user, round_, attempt.request, 1)
        job.last = attempt  # the first attempt, so a "Win Error" can be replayed by its log entry
        self._retries.submit(job)

    def _win_accepted(
        self, agent: Agent, user: User, round_: Round, done: Attempt, trans_id: int = 0
    ) -> None:
        """Record the Win (or BonusCall) row once the wallet accepted the win (OP-19).

        ``trans_id`` is the id the first attempt reserved (``legacy``), else 0: a new id.
        """
        trans_type = TransType.BONUS_CALL if round_.call_id else TransType.WIN
        balance = self._reported(user, done)
        tx = self._ledger.record_seamless(
            agent,
            user,
            trans_type,
            round_.win,
            balance - round_.win,
            balance,
            self._ref(round_),
            trans_id or None,
        )
        if self._points and round_.win > ZERO and trans_type == TransType.WIN:
            self._ledger.give_points(agent, round_.win)
        round_.trans_ids = [*round_.trans_ids, tx.trans_id]
        round_.status = RoundStatus.SETTLED

    def _win_job(self, agent: Agent, user: User, round_: Round, body: dict, attempts: int) -> RetryJob:
        def accepted(done: Attempt) -> None:
            with self._store.activity():
                self._win_accepted(agent, user, round_, done)
                self._store.update_round(
                    agent.agent_id, round_.round_id, status=round_.status, trans_ids=round_.trans_ids
                )

        def failed(_: Attempt) -> None:
            round_.status = RoundStatus.WIN_ERROR
            self._store.update_round(agent.agent_id, round_.round_id, status=round_.status)

        return RetryJob(
            agent=agent,
            command="win",
            body=body,
            settles=self._win_settles,
            on_settled=accepted,
            on_failed=failed,
            max_attempts=self._attempts["win"],
            attempts=attempts,
            key=f"win:{round_.round_id}",
        )

    def _cancel_job(self, agent: Agent, user: User, round_id: str, body: dict, attempts: int) -> RetryJob:
        def accepted(done: Attempt) -> None:
            with self._store.activity():
                self._reported(user, done)

        return RetryJob(
            agent=agent,
            command="cancel",
            body=body,
            settles=self._cancel_settles,
            on_settled=accepted,
            on_failed=lambda _: None,
            max_attempts=self._attempts["cancel"],
            attempts=attempts,
            key=f"cancel:{round_id}",
        )

    def resume_job(self, agent: Agent, command: str, round_id: str, body: dict, attempts: int) -> RetryJob:
        """A queued ``win`` or ``cancel`` rebuilt from a snapshot, bound to this wallet's state.

        A round waiting for its win is kept past the 30-day retention (see
        ``History.purge_agent``); a refunded round may be gone, so a ``cancel`` finds
        its player by the ``account`` it carries.  Raises ``KeyError``/``ValueError``
        when the round or its player is unknown.
        """
        round_ = self._store.round(agent.agent_id, round_id)
        if command == "win":
            if round_ is None:
                raise KeyError(round_id)
            if "win" not in round_.callback_ids:
                raise ValueError(f"round {round_id} sent no win callback")
            return self._win_job(agent, self._user_of(round_), round_, body, attempts)
        if command == "cancel":
            user = self._user_of(round_) if round_ is not None else self._player_of(agent, body)
            return self._cancel_job(agent, user, round_id, body, attempts)
        raise ValueError(f"only win and cancel are retried, not {command!r}")

    def _user_of(self, round_: Round) -> User:
        user = self._store.user(round_.user_code)
        if user is None:
            raise KeyError(round_.user_code)
        return user

    def _player_of(self, agent: Agent, body: dict) -> User:
        data = body.get("data")
        account = data.get("account") if isinstance(data, dict) else None
        user = (
            self._store.user_by_name(agent.agent_id, WalletMode.SEAMLESS, str(account)) if account else None
        )
        if user is None:
            raise ValueError(f"the cancel names no player of agent {agent.name} (account {account!r})")
        return user

    def refund(self, agent: Agent, user: User, round_: Round) -> None:
        """The round failed on the platform after an accepted bet: cancel the bet forward."""
        ids = round_.callback_ids.get("bet")
        if ids is None:  # pragma: no cover - a refund always follows an accepted bet
            return
        self._forward_cancel(agent, user, round_, self._context(user, round_), ids, record_bet=False)

    # -- cancellation ------------------------------------------------------------------
    @staticmethod
    def _win_settles(attempt: Attempt) -> bool:
        reply = attempt.reply
        return reply.usable and reply.result in (0, 41)

    @staticmethod
    def _cancel_settles(attempt: Attempt) -> bool:
        reply = attempt.reply
        return reply.usable and reply.result in CANCEL_FINAL

    def _forward_cancel(
        self,
        agent: Agent,
        user: User,
        round_: Round,
        ctx: RoundContext,
        target: TransactionIds,
        record_bet: bool,
    ) -> None:
        """Record Bet (if not yet) and BetCancel with the last known balance; queue the cancel.

        An unclear bet is shown as taken and given back, ending at the last
        balance the wallet reported; a cancelled accepted bet adds the stake back.
        """
        ref, last = self._ref(round_), self._last_balance(user)
        dialect = agent.settings.callback_dialect
        if record_bet:
            bet_row = self._ledger.record_seamless(
                agent,
                user,
                TransType.BET,
                round_.bet,
                last,
                last - round_.bet,
                ref,
                target.trans_id or None,
            )
            round_.trans_ids = [*round_.trans_ids, bet_row.trans_id]
            last -= round_.bet
        cancel_row = self._ledger.record_seamless(
            agent, user, TransType.BET_CANCEL, round_.bet, last, last + round_.bet, ref
        )
        round_.trans_ids = [*round_.trans_ids, cancel_row.trans_id]
        if self._points:
            self._ledger.give_points(agent, round_.bet)
        # A legacy cancel carries the history id of its BetCancel row, recorded just above.
        stamp = self._stamps.next(self._clock.millis())
        ids = TransactionIds(cancel_row.trans_id if dialect != V4 else 0, trans_guid(ctx, stamp), stamp)
        round_.callback_ids = {**round_.callback_ids, "cancel": ids}
        data = money_data(ctx, dialect, ids, round_.bet, int(TransType.BET_CANCEL), target=target)
        body = self._client.envelope("cancel", data, check_for("cancel", dialect))
        # Queued, not sent at once: a bet that timed out may still be landing in the
        # wallet, and a cancel that overtakes it would be answered 43 and end (6.9).
        self._retries.submit(self._cancel_job(agent, user, round_.round_id, body, 0))
