"""The back-office JSON API, ``/admin/api`` (control-api.md): the agent tree and points.

What the real service does in its back office ("Agent / Agents Treeview",
"Agent / Point Transactions"), as plain REST for people and test suites.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from marshmallow import Schema, ValidationError

from ..domain.models import Agent, PointTransaction
from ..http import (
    ApiError,
    Routes,
    admin_token_ok,
    ascii_int,
    body_type_refusal,
    cross_site_refusal,
    current_simulator,
    json_body,
    json_error,
    json_response,
    routing_redirect,
)
from ..openapi_bodies import CONFORMANCE_RUN
from ..seamless.conformance import DEFAULT_ACCOUNT, ConformanceRunner
from .schemas import AgentCreateSchema, AgentSettingsSchema, PointsTransferSchema, first_error

routes = Routes()

_settings_schema = AgentSettingsSchema()
_create_schema = AgentCreateSchema()
_transfer_schema = PointsTransferSchema()


def guard() -> Response | None:
    """The entrance of ``/admin`` (:mod:`simulator.families`): every request needs the token
    (control-api.md), unknown paths too."""
    refused = cross_site_refusal()
    if refused is not None:
        return refused
    if not admin_token_ok():
        return json_error("missing or wrong X-Admin-Token header", 401)
    return body_type_refusal() or routing_redirect()


def _load(schema: Schema, body: Any, partial: bool = False) -> dict[str, Any]:
    try:
        return schema.load(body, partial=partial)
    except ValidationError as exc:
        raise ApiError(first_error(exc.messages)) from None


def settings_of(agent: Agent) -> dict[str, Any]:
    s = agent.settings
    return {
        "allowed_ips": s.allowed_ips,
        "callback_url": s.callback_url,
        "callback_token": s.callback_token,
        "callback_dialect": s.callback_dialect,
        "rtp": s.rtp,
        "min_bet": s.min_bet,
        "max_bet": s.max_bet,
        "max_win": s.max_win,
        "bonus_call_enabled": s.bonus_call_enabled,
        "call_min": s.call_min,
        "approved": s.approved,
        "disabled": s.disabled,
        "currency": s.currency,
        "providers": list(s.providers),
        "rtp_api_enabled": s.rtp_api_enabled,
    }


def agent_view(agent: Agent) -> dict[str, Any]:
    hierarchy = current_simulator().world.hierarchy
    return {
        "name": agent.name,
        "kind": agent.kind,
        "parent": hierarchy.parent_name(agent),
        "points": agent.points,
        "mode": agent.mode,
        "api_token": agent.api_token,
        **settings_of(agent),
    }


def _tree_node(node: dict[str, Any]) -> dict[str, Any]:
    agent: Agent = node["agent"]
    return {
        "name": agent.name,
        "kind": agent.kind,
        "parent": node["parent"],
        "currency": agent.settings.currency,
        "points": agent.points,
        "mode": agent.mode,
        "approved": agent.settings.approved,
        "disabled": agent.settings.disabled,
        "children": [_tree_node(child) for child in node["children"]],
    }


@routes.get("/agents")
def tree() -> Response:
    return json_response([_tree_node(node) for node in current_simulator().world.hierarchy.tree()])


@routes.post("/agents", body=AgentCreateSchema)
def create_agent() -> Response:
    values = _load(_create_schema, json_body())
    sim = current_simulator()
    currency = values["currency"]
    if currency is not None and currency not in sim.settings.currencies:
        raise ApiError(f"currency: {currency} is not in the currency table")
    agent = sim.world.hierarchy.create(
        name=values["name"],
        kind=values["kind"],
        parent_name=values["parent"],
        currency=currency,
        points=values["points"],
    )
    body = {"name": agent.name, "api_token": agent.api_token, "callback_token": agent.settings.callback_token}
    return json_response(body, 201)


@routes.get("/agents/<name>")
def get_agent(name: str) -> Response:
    return json_response(agent_view(current_simulator().world.hierarchy.get(name)))


@routes.patch("/agents/<name>", body=AgentSettingsSchema)
def patch_agent(name: str) -> Response:
    sim = current_simulator()
    agent = sim.world.hierarchy.get(name)
    changes = _load(_settings_schema, json_body(), partial=True)
    if "currency" in changes and changes["currency"] not in sim.settings.currencies:
        raise ApiError(f"currency: {changes['currency']} is not in the currency table")
    unknown = [p for p in changes.get("providers", []) if sim.world.catalogue.provider(p) is None]
    if unknown:
        raise ApiError(f"providers: no provider with provider_id {unknown[0]}")
    if changes.get("rtp") == 0:
        changes["rtp"] = sim.settings.default_rtp
    sim.world.hierarchy.apply_settings(agent, changes)
    return json_response(agent_view(agent))


@routes.post("/agents/<name>/api-token")
def reissue_token(name: str) -> Response:
    hierarchy = current_simulator().world.hierarchy
    token = hierarchy.reissue_token(hierarchy.get(name))
    return json_response({"api_token": token})


@routes.post("/points/transfer", body=PointsTransferSchema)
def transfer_points() -> Response:
    values = _load(_transfer_schema, json_body())
    ptx, source, target = current_simulator().world.hierarchy.transfer_points(
        values["source"], values["target"], values["amount"]
    )
    return json_response(
        {
            "kind": ptx.kind,
            "amount": ptx.amount,
            "from": {"name": source.name, "points": ptx.from_points},
            "to": {"name": target.name, "points": ptx.to_points},
        }
    )


def _point_row(ptx: PointTransaction, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": ptx.point_trans_id,
        "kind": ptx.kind,
        "from": names.get(ptx.from_agent_id) if ptx.from_agent_id else None,
        "to": names.get(ptx.to_agent_id),
        "amount": ptx.amount,
        "from_points": ptx.from_points,
        "to_points": ptx.to_points,
        "time": ptx.created_at.isoformat(),
    }


@routes.get("/agents/<name>/point-transactions")
def point_transactions(name: str) -> Response:
    world = current_simulator().world
    agent = world.hierarchy.get(name)
    names = {a.agent_id: a.name for a in world.store.all_agents()}
    rows = [
        _point_row(p, names)
        for p in reversed(world.store.all_point_transactions())
        if agent.agent_id in (p.from_agent_id, p.to_agent_id)
    ]
    return json_response(rows)


@routes.get("/agents/<name>/users")
def users(name: str) -> Response:
    world = current_simulator().world
    agent = world.hierarchy.get(name)
    rows = [
        {
            "user_code": u.user_code,
            "name": u.name,
            "mode": u.mode,
            "balance": u.balance,
            "last_balance": u.last_balance,
            "active": u.active,
        }
        for u in sorted(world.store.users_of(agent.agent_id), key=lambda u: u.user_code)
    ]
    return json_response(rows)


def _limit_arg(default: int = 100) -> int:
    raw = request.args.get("limit")
    if raw is None:
        return default
    limit = ascii_int(raw)
    if limit is None or not 1 <= limit <= 10_000:
        raise ApiError("limit: must be an integer from 1 to 10000")
    return limit


@routes.get("/agents/<name>/callbacks")
def callbacks(name: str) -> Response:
    """The callback log: request, reply or error, duration, attempt and outcome, newest first."""
    sim = current_simulator()
    agent = sim.world.hierarchy.get(name)
    entries = sim.callback_log.query(
        agent.agent_id,
        command=request.args.get("command"),
        outcome=request.args.get("outcome"),
        limit=_limit_arg(),
    )
    return json_response([entry.to_dict() for entry in entries])


@routes.get("/agents/<name>/pending-callbacks")
def pending_callbacks(name: str) -> Response:
    """``win`` and ``cancel`` transactions still on their retries, or failed ("Win Error", OP-19)."""
    sim = current_simulator()
    agent = sim.world.hierarchy.get(name)
    jobs = [job for job in list(sim.retries.jobs.values()) if job.agent.agent_id == agent.agent_id]
    return json_response(
        [
            {
                "command": job.command,
                "state": "win_error" if job.state == "failed" and job.command == "win" else job.state,
                "attempts": job.attempts,
                "max_attempts": job.max_attempts,
                "request": job.body,
                "last_entry_id": job.last.entry_id if job.last else None,
            }
            for job in jobs
            if job.state in ("pending", "failed")
        ]
    )


@routes.post("/agents/<name>/conformance", body=CONFORMANCE_RUN)
def conformance(name: str) -> Response:
    """Runs the wallet conformance scenarios (spec 6.12) against the agent's callback URL.

    The exchanges also land in the agent's callback log; fault rules are not applied and
    the simulator's ledger is never touched (virtual money).
    """
    sim = current_simulator()
    agent = sim.world.hierarchy.get(name)
    account = json_body().get("account", DEFAULT_ACCOUNT)
    if not isinstance(account, str) or not account.strip() or len(account) > 200:
        raise ApiError("account: must be a non-empty string of at most 200 characters")
    if not agent.settings.callback_url:
        raise ApiError(f"agent {name!r} has no callback URL (transfer mode): nothing to test", 409)
    report = ConformanceRunner(sim.callbacks, agent, account, sim.clock, sim.stamps).run()
    return json_response(report.to_dict())


def blueprint(*parts: Routes) -> Blueprint:
    """The ``/admin/api`` routes: this module's and ``parts``, on one blueprint."""
    family = Blueprint("admin_api", __name__, url_prefix="/admin/api")
    for part in (routes, *parts):
        part.add_to(family)
    return family
