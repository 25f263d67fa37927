"""``/admin/api``: blocking players and the transaction history (control-api.md).

``PATCH /admin/api/agents/<name>/users/<user_code>`` is the back office's
block/unblock switch: a blocked player's rounds are refused by the domain.
``GET /admin/api/agents/<name>/transactions`` lists the history rows of spec
5.20 - the same objects ``/v4/game/transaction`` answers, in the same order
(``trans_id`` ascending, oldest first) - filtered by player, type and time,
without the v4 API's one-hour window and polling throttle.  The web pages use
the same two functions, so the API and the pages never disagree.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from flask import Response, request

from ..api.endpoints import Call
from ..api.history_endpoints import TransactionPage, transaction_rows
from ..codes import ResultCode, SimError
from ..domain.history import History, regdate_instant
from ..domain.models import Agent, Transaction, TransType, User
from ..http import ApiError, Routes, ascii_int, current_simulator, json_body, json_response
from ..openapi_bodies import USER_PATCH
from ..reporting import parse_time
from ..runtime import Simulator, World

routes = Routes()

#: Query parameters of the transactions listing; anything else is a typo (400).
TRANSACTION_FILTERS = ("user_code", "type", "from", "to", "offset", "limit")
DEFAULT_LIMIT = 100
MAX_LIMIT = 2000
TRANS_TYPES = tuple(int(t) for t in TransType)

_page_schema = TransactionPage()


# -- players ------------------------------------------------------------------------
def user_row(user: User) -> dict[str, Any]:
    """One item of ``GET /admin/api/agents/<name>/users``."""
    return {
        "user_code": user.user_code,
        "name": user.name,
        "mode": user.mode,
        "balance": user.balance,
        "last_balance": user.last_balance,
        "active": user.active,
    }


def user_of_agent(world: World, agent: Agent, user_code: str | int) -> User:
    """The agent's player (in either wallet mode); 404 for anything else."""
    text = str(user_code)
    code = ascii_int(text)
    user = None if code is None else world.store.user(code)
    if user is None or user.agent_id != agent.agent_id:
        raise SimError(ResultCode.USER_NOT_FOUND, f"agent {agent.name} has no user with user_code {text}")
    return user


def set_user_active(world: World, agent: Agent, user: User, active: bool) -> User:
    """Block or unblock a player; ``Rounds`` refuses a blocked player's rounds (1010)."""
    world.store.set_user_active(user.user_code, active)
    return world.store.user(user.user_code) or user


@routes.patch("/agents/<name>/users/<user_code>", body=USER_PATCH)
def patch_user(name: str, user_code: str) -> Response:
    world = current_simulator().world
    agent = world.hierarchy.get(name)
    user = user_of_agent(world, agent, user_code)
    body = json_body()
    unknown = sorted(set(body) - {"active"})
    if unknown:
        raise ApiError(f"{unknown[0]}: unknown field; only 'active' can be changed")
    if "active" not in body:
        raise ApiError('active: missing; send {"active": false} to block or true to unblock')
    if not isinstance(body["active"], bool):
        raise ApiError("active: must be true or false")
    return json_response(user_row(set_user_active(world, agent, user, body["active"])))


# -- transactions ---------------------------------------------------------------------
@dataclass(frozen=True)
class TransactionQuery:
    """The filters of the listing: ``start <= regdate < end`` like spec 5.20, both optional."""

    user_code: int | None = None
    trans_types: frozenset[int] = frozenset()
    start: datetime | None = None
    end: datetime | None = None
    offset: int = 0
    limit: int = DEFAULT_LIMIT


def _int_arg(args: Mapping[str, str], name: str, low: int, high: int, default: int | None) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    value = ascii_int(raw)
    if value is None or not low <= value <= high:
        raise ApiError(f"{name}: must be an integer from {low} to {high}")
    return value


def _time_arg(args: Mapping[str, str], name: str, zone: tzinfo) -> datetime | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return parse_time(raw, zone)
    except (ValueError, OverflowError):
        raise ApiError(f"{name}: {raw!r} is not a time; use 'yyyy-MM-dd HH:mm:ss' or ISO-8601") from None


def _types_arg(args: Mapping[str, str]) -> frozenset[int]:
    raw = (args.get("type") or "").strip()
    if not raw:
        return frozenset()
    types = set()
    for item in (part.strip() for part in raw.split(",")):
        if ascii_int(item) not in TRANS_TYPES:
            allowed = ", ".join(str(t) for t in TRANS_TYPES)
            raise ApiError(
                f"type: {item!r} is not a transaction type ({allowed}; several separated by commas)"
            )
        types.add(int(item))
    return frozenset(types)


def parse_transaction_query(args: Mapping[str, str], zone: tzinfo, strict: bool = True) -> TransactionQuery:
    """The listing's filters from query parameters; :class:`ApiError` (400) names the bad one.

    Times are read like the v4 API reads them: in the reporting timezone unless
    they carry an offset (spec 2.3).  ``strict`` refuses unknown parameters.
    """
    if strict:
        unknown = sorted(set(args) - set(TRANSACTION_FILTERS))
        if unknown:
            raise ApiError(f"{unknown[0]}: unknown filter; use {', '.join(TRANSACTION_FILTERS)}")
    query = TransactionQuery(
        user_code=_int_arg(args, "user_code", 1, 2**63 - 1, None),
        trans_types=_types_arg(args),
        start=_time_arg(args, "from", zone),
        end=_time_arg(args, "to", zone),
        offset=_int_arg(args, "offset", 0, 2**31 - 1, 0) or 0,
        limit=_int_arg(args, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT) or DEFAULT_LIMIT,
    )
    if query.start is not None and query.end is not None and query.end <= query.start:
        raise ApiError("to: must be later than from")
    return query


def _matches(tx: Transaction, query: TransactionQuery) -> bool:
    if query.user_code is not None and tx.user_code != query.user_code:
        return False
    return not query.trans_types or tx.trans_type in query.trans_types


def select_transactions(
    sim: Simulator, world: World, agent: Agent, query: TransactionQuery
) -> tuple[int, list[Transaction]]:
    """``(total, page)``: the agent's retained rows matching ``query``, oldest first.

    Retention applies first (spec 10), as on every history read.  Rows are in
    ``trans_id`` order with non-decreasing times, so the time window is bisected.
    """
    History(world.store, sim.clock).purge_agent(agent.agent_id)
    rows = world.store.transactions_of(agent.agent_id)
    first = 0 if query.start is None else bisect.bisect_left(rows, query.start, key=_regdate_of)
    stop = len(rows) if query.end is None else bisect.bisect_left(rows, query.end, lo=first, key=_regdate_of)
    window = rows[first:stop]
    matching = [tx for tx in window if _matches(tx, query)]
    return len(matching), matching[query.offset : query.offset + query.limit]


def transaction_page(sim: Simulator, world: World, agent: Agent, query: TransactionQuery) -> dict[str, Any]:
    """``{"total", "offset", "count", "list"}`` with the transaction objects of spec 5.20."""
    total, page = select_transactions(sim, world, agent, query)
    # The v4 row builder needs only the simulator and the world of a call.
    call = Call(sim=sim, world=world, agent=agent, params={}, client_ip="")
    items = transaction_rows(call, page)
    return _page_schema.dump({"total": total, "offset": query.offset, "count": len(items), "items": items})


def _regdate_of(tx: Transaction) -> datetime:
    return regdate_instant(tx.created_at)


@routes.get("/agents/<name>/transactions")
def transactions(name: str) -> Response:
    """History rows of spec 5.20, oldest first, paged with ``offset`` and ``limit`` (1-2000, default 100)."""
    sim = current_simulator()
    world = sim.world
    agent = world.hierarchy.get(name)
    query = parse_transaction_query(request.args, sim.report_zone)
    return json_response(transaction_page(sim, world, agent, query))
