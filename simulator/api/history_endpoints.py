"""``/v4`` endpoints of the history: transactions, round details, statistics (spec 5.20-5.23).

Times in come in the reporting timezone or with an explicit offset (2.3,
OP-5); times out are ``"yyyy-MM-dd HH:mm:ss"`` in the reporting timezone.
Validation (1002) comes first, then the window (1012), then the poll
throttle (1018, OP-7), so a refused call does not count as a poll.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import Schema, fields

from ..codes import SimError
from ..domain.catalogue import Catalogue
from ..domain.history import (
    WINDOW_POLL,
    History,
    check_statistics_window,
    check_transaction_window,
    history_category,
)
from ..domain.models import Transaction
from ..domain.round_links import round_token
from ..reporting import parse_time
from .endpoints import Call, Endpoint, Payload
from .fields import INT32_MAX, Amount, SpecInt, Text
from .schemas import RequestSchema

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)


# -- requests -------------------------------------------------------------------------
class TimeWindowRequest(RequestSchema):
    """``transaction`` and ``statistics/user``; the handler reads the times in the reporting timezone."""

    start_time = Text(required=True)
    end_time = Text(required=True)
    offset = SpecInt(required=True, low=0, high=INT32_MAX)
    limit = SpecInt(required=True, low=10, high=2000)


class TransactionIdRequest(RequestSchema):
    last_id = SpecInt(required=True, low=0)
    limit = SpecInt(required=True, low=10, high=2000)


class RoundDetailsRequest(RequestSchema):
    user_code = SpecInt(required=True, low=1)
    round_id = Text(required=True, min_length=1, max_length=64)
    provider_id = SpecInt(load_default=None, allow_none=True, low=0)
    game_code = Text(load_default=None, allow_none=True, max_length=100)


# -- responses ------------------------------------------------------------------------
class TransactionItem(Schema):
    trans_id = fields.Integer()
    user_code = fields.Integer()
    round_id = fields.String()
    trans_type = fields.Integer()
    provider_id = fields.Integer()
    provider_name = fields.String()
    game_code = fields.String()
    game_name = fields.String()
    category = fields.String()
    prebalance = Amount()
    trans_amount = Amount()
    balance = Amount()
    regdate = fields.String()
    time_stamp = fields.Integer()


class TransactionPage(Schema):
    total = fields.Integer()
    offset = fields.Integer()
    count = fields.Integer()
    items = fields.List(fields.Nested(TransactionItem), data_key="list")


class RoundDetails(Schema):
    url = fields.String()


class UserStatItem(Schema):
    user_code = fields.Integer()
    user_name = fields.String()
    slot_bet = Amount()
    slot_win = Amount()
    live_bet = Amount()
    live_win = Amount()
    mini_bet = Amount()
    mini_win = Amount()


class UserStatPage(Schema):
    total = fields.Integer()
    offset = fields.Integer()
    count = fields.Integer()
    items = fields.List(fields.Nested(UserStatItem), data_key="list")


# -- helpers --------------------------------------------------------------------------
def history_of(call: Call) -> History:
    settings = call.sim.settings
    return History(call.world.store, call.sim.clock, settings.poll_throttle, settings.poll_interval)


def _time_param(call: Call, name: str) -> datetime:
    """A ``start_time``/``end_time``: 1002 naming the field when it is not a time (2.3)."""
    try:
        return parse_time(call.params[name], call.sim.report_zone)
    except (ValueError, OverflowError):
        raise SimError.validation(
            name, f"[{name}] must be a time as 'yyyy-MM-dd HH:mm:ss' or ISO-8601"
        ) from None


def _window(call: Call) -> tuple[datetime, datetime]:
    return _time_param(call, "start_time"), _time_param(call, "end_time")


def transaction_rows(call: Call, rows: list[Transaction]) -> list[dict[str, Any]]:
    """The transaction objects of spec 5.20; names and category come from the catalogue."""
    catalogue: Catalogue = call.world.catalogue
    return [_transaction_row(call, catalogue, tx) for tx in rows]


def _transaction_row(call: Call, catalogue: Catalogue, tx: Transaction) -> dict[str, Any]:
    provider = catalogue.provider(tx.provider_id) if tx.provider_id else None
    game = catalogue.game(tx.provider_id, tx.game_code) if tx.game_code else None
    return {
        "trans_id": tx.trans_id,
        "user_code": tx.user_code,
        "round_id": tx.round_id,
        "trans_type": tx.trans_type,
        "provider_id": tx.provider_id,
        "provider_name": provider.provider_name if provider else "",
        "game_code": tx.game_code,
        "game_name": game.game_name if game else "",
        "category": history_category(game.category) if game else "",
        "prebalance": tx.prebalance,
        "trans_amount": tx.trans_amount,
        "balance": tx.balance,
        "regdate": call.sim.format_time(tx.created_at),
        "time_stamp": (tx.created_at - EPOCH) // MILLISECOND,
    }


# -- handlers -------------------------------------------------------------------------
def transaction(call: Call) -> Payload:
    """5.20: one page of a window of at most 1 hour."""
    start, end = _window(call)
    check_transaction_window(start, end)
    history = history_of(call)
    history.admit_poll(call.agent.agent_id, WINDOW_POLL)
    offset, limit = call.params["offset"], call.params["limit"]
    page = history.by_window(call.agent.agent_id, start, end, offset, limit)
    return {
        "total": page.total,
        "offset": offset,
        "count": len(page.items),
        "items": transaction_rows(call, page.items),
    }


def transaction_id(call: Call) -> Payload:
    """5.21: a plain array of the rows after ``last_id``."""
    history = history_of(call)
    last_id = call.params["last_id"]
    history.admit_poll(call.agent.agent_id, last_id)
    rows = history.after(call.agent.agent_id, last_id, call.params["limit"])
    return transaction_rows(call, rows)


def round_details(call: Call) -> Payload:
    """5.22: the signed link of a round page.

    ``provider_id`` 0 and ``game_code`` "" count as not given: clients send
    them as the empty values of optional fields.
    """
    p = call.params
    user = call.world.users.lookup(call.agent, p["user_code"])
    round_ = history_of(call).round_of(
        call.agent.agent_id,
        user.user_code,
        p["round_id"],
        provider_id=p["provider_id"] or None,
        game_code=p["game_code"] or None,
    )
    token = round_token(call.sim.link_secret, call.agent.agent_id, round_.round_id)
    return {"url": f"{call.sim.settings.base_url}/round/{token}"}


def statistics_user(call: Call) -> Payload:
    """5.23: per-user bet and win totals by category bucket."""
    start, end = _window(call)
    check_statistics_window(start, end)
    offset, limit = call.params["offset"], call.params["limit"]
    page = history_of(call).user_totals(call.agent.agent_id, start, end, offset, limit)
    store = call.world.store
    items = [
        {
            "user_code": totals.user_code,
            "user_name": store.user(totals.user_code).name,
            "slot_bet": totals.slot_bet,
            "slot_win": totals.slot_win,
            "live_bet": totals.live_bet,
            "live_win": totals.live_win,
            "mini_bet": totals.mini_bet,
            "mini_win": totals.mini_win,
        }
        for totals in page.items
    ]
    return {"total": page.total, "offset": offset, "count": len(items), "items": items}


DECLARATIONS: tuple[Endpoint, ...] = (
    Endpoint("game/transaction", TimeWindowRequest, TransactionPage(), transaction),
    Endpoint("game/transaction-id", TransactionIdRequest, TransactionItem(many=True), transaction_id),
    Endpoint("game/round-details", RoundDetailsRequest, RoundDetails(), round_details),
    Endpoint("statistics/user", TimeWindowRequest, UserStatPage(), statistics_user),
)
