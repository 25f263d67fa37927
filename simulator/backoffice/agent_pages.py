"""Back-office pages of the tree: dashboard, agents tree, one agent's settings, token and points.

Each form posts, then redirects to the page again (post/redirect/get) with a
message; a settings form that fails validation is shown again with the errors
next to the fields and nothing saved.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, flash, redirect, request, url_for

from ..codes import ResultCode, SimError
from ..currency import common_currency
from ..domain.enums import AgentKind
from ..domain.models import Agent
from ..http import Routes, current_simulator
from . import charts, dashboard
from .admin_api import _point_row
from .forms import create_from_form, settings_form_values, settings_from_form, transfer_from_form
from .pages import agent_context, currency, page

routes = Routes()


def _flat_tree() -> list[tuple[int, Agent]]:
    """``(depth, agent)`` in tree order."""
    rows: list[tuple[int, Agent]] = []

    def walk(node: dict[str, Any], depth: int) -> None:
        rows.append((depth, node["agent"]))
        for child in node["children"]:
            walk(child, depth + 1)

    for root in current_simulator().world.hierarchy.tree():
        walk(root, 0)
    return rows


def _bucket_label(size: timedelta) -> str:
    if size >= timedelta(days=1):
        return "%m-%d"
    if size < timedelta(minutes=1):
        return "%H:%M:%S"
    return "%H:%M" if size < timedelta(hours=1) else "%m-%d %H:%M"


def _bucket_name(size: timedelta) -> str:
    """``1 minute``, ``15 minutes``, ``1 hour``, ``7 days``."""
    for unit, seconds in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if size.total_seconds() >= seconds:
            count = int(size.total_seconds() // seconds)
            return f"{count} {unit}" if count == 1 else f"{count} {unit}s"
    seconds = int(size.total_seconds())
    return "1 second" if seconds == 1 else f"{seconds} seconds"


# -- dashboard ----------------------------------------------------------------------------
@routes.get("/", endpoint="dashboard")
def dashboard_page() -> Response:
    simulator = current_simulator()
    world = simulator.world
    now = simulator.clock.now()
    chosen = request.args.get("agent", "").strip()
    scope = [world.hierarchy.get(chosen)] if chosen else [a for _, a in _flat_tree()]
    money = common_currency(currency(agent) for agent in scope)
    size, buckets = dashboard.play_over_time(world.store, scope, now)
    fmt = _bucket_label(size)
    zone = simulator.report_zone
    labels = [b.start.astimezone(zone).strftime(fmt) for b in buckets]
    titles = [simulator.format_time(b.start) for b in buckets]
    play_chart = charts.bars_and_line(
        labels,
        [
            ("Bets", "bets", [float(b.totals.bet) for b in buckets]),
            ("Wins", "wins", [float(b.totals.win) for b in buckets]),
        ],
        ("GGR", "ggr", [float(b.totals.ggr) for b in buckets]),
        titles,
        value_text=money.amount,
    )
    totals = dashboard.Totals()
    for bucket in buckets:
        totals.rounds += bucket.totals.rounds
        totals.bet += bucket.totals.bet
        totals.win += bucket.totals.win
    spread = dashboard.PayTables(world.engine)
    agent_rtp = dashboard.rtp_per_agent(world.store, scope, spread)
    game_rtp = dashboard.rtp_per_game(world.store, world.catalogue, scope, spread)
    points = []
    for agent in scope:
        cur = currency(agent)
        marks = [
            (moment, float(value), f"{simulator.format_time(moment)} {what}: {cur.money(value)}")
            for moment, value, what in dashboard.points_over_time(world.store, agent, now, cur.amount)
        ]
        points.append((agent, charts.step_sparkline(marks)))
    return page(
        "bo_dashboard.html",
        agents=[a for _, a in _flat_tree()],
        chosen=chosen,
        bucket=_bucket_name(size),
        span=(titles[0], simulator.format_time(buckets[-1].start + size)) if buckets else None,
        play_chart=play_chart if buckets else None,
        totals=totals,
        money=money,
        agent_rtp=agent_rtp,
        agent_chart=charts.paired_bars(
            [
                (r.agent.name, float(r.target), r.totals.rtp, r.totals.band(float(r.target)))
                for r in agent_rtp
            ],
            ("target", "realised"),
        ),
        game_rtp=game_rtp,
        game_chart=charts.paired_bars(
            [(f"{g.game_name[:26]}", g.target, g.totals.rtp, g.totals.band(g.target)) for g in game_rtp],
            ("target", "realised"),
        ),
        points=points,
        currency_of=currency,
    )


# -- the tree and new agents ----------------------------------------------------------
def _tree_page(status: int = 200, errors: dict | None = None, form: dict[str, Any] | None = None) -> Response:
    rows = _flat_tree()
    parent = request.args.get("parent", "")
    return page(
        "bo_agents.html",
        status,
        rows=rows,
        kinds=tuple(AgentKind),
        form=form or {"name": "", "kind": "agent", "parent": parent, "points": "0"},
        errors=errors or {},
        currency_of=currency,
    )


@routes.get("/agents")
def agents_page() -> Response:
    return _tree_page()


@routes.post("/agents")
def create_agent() -> Response:
    values, submitted, errors = create_from_form(request.form)
    if errors:
        return _tree_page(400, errors, submitted)
    try:
        agent = current_simulator().world.hierarchy.create(
            name=values["name"],
            kind=values["kind"],
            parent_name=values["parent"],
            points=values["points"],
        )
    except SimError as error:
        return _tree_page(*_create_refusal(error), form=submitted)
    flash(f"Agent {agent.name} created.", "ok")
    return redirect(url_for("backoffice.agent_page", name=agent.name), 303)


def _create_refusal(error: SimError) -> tuple[int, dict[str, str]]:
    """The status and the form field a refused creation is shown at."""
    named = next((f for f in ("name", "kind", "parent") if f"[{f}]" in error.detail), None)
    field = named or _FIELD_OF_CODE.get(error.code, "_schema")
    status = 409 if error.code in (ResultCode.PERMISSION_ERROR, ResultCode.POINT_NOT_ENOUGH) else 400
    return status, {field: error.detail}


_FIELD_OF_CODE = {ResultCode.AGENT_NOT_FOUND: "parent", ResultCode.POINT_NOT_ENOUGH: "points"}


# -- one agent: settings, token, points -------------------------------------------------
def _agent_page(
    agent: Agent, status: int = 200, form: dict | None = None, errors: dict | None = None
) -> Response:
    world = current_simulator().world
    names = {a.agent_id: a.name for a in world.store.all_agents()}
    point_rows = [
        _point_row(p, names)
        for p in reversed(world.store.all_point_transactions())
        if agent.agent_id in (p.from_agent_id, p.to_agent_id)
    ]
    children = world.store.children_of(agent.agent_id)
    return page(
        "bo_agent.html",
        status,
        form=form or settings_form_values(agent),
        errors=errors or {},
        point_rows=point_rows[:50],
        children=children,
        users=len(world.store.users_of(agent.agent_id)),
        **agent_context(agent, "backoffice.agent_page"),
    )


@routes.get("/agents/<name>")
def agent_page(name: str) -> Response:
    return _agent_page(current_simulator().world.hierarchy.get(name))


def _back(agent: Agent, anchor: str = "") -> Response:
    return redirect(url_for("backoffice.agent_page", name=agent.name, _anchor=anchor or None), 303)


@routes.post("/agents/<name>/settings")
def save_settings(name: str) -> Response:
    simulator = current_simulator()
    agent = simulator.world.hierarchy.get(name)
    changes, submitted, errors = settings_from_form(request.form, simulator.settings.default_rtp)
    if errors:
        return _agent_page(agent, 400, submitted, errors)
    mode = agent.mode
    simulator.world.hierarchy.apply_settings(agent, changes)
    note = f" The agent is now in {agent.mode} mode." if agent.mode != mode else ""
    flash(f"Settings saved.{note}", "ok")
    return _back(agent, "settings")


@routes.post("/agents/<name>/api-token")
def reissue_token(name: str) -> Response:
    hierarchy = current_simulator().world.hierarchy
    agent = hierarchy.get(name)
    hierarchy.reissue_token(agent)
    flash("A new API token was issued; the old one stopped working.", "ok")
    return _back(agent, "token")


@routes.post("/agents/<name>/points")
def move_points(name: str) -> Response:
    hierarchy = current_simulator().world.hierarchy
    agent = hierarchy.get(name)
    parent = hierarchy.parent_name(agent)
    if parent is None:
        flash(f"{agent.name} is a root: it has no parent to grant or recall points.", "error")
        return _back(agent, "points")
    values, errors = transfer_from_form(request.form, agent, parent)
    if errors:
        flash("; ".join(f"{k}: {v}" for k, v in errors.items()), "error")
        return _back(agent, "points")
    try:
        ptx, source, target = hierarchy.transfer_points(values["source"], values["target"], values["amount"])
    except SimError as error:
        flash(error.detail, "error")
        return _back(agent, "points")
    cur = currency(agent)
    moved, balance = cur.money(ptx.amount), cur.money(target.points)
    flash(f"{ptx.kind.capitalize()} of {moved}: {target.name} now has {balance}.", "ok")
    return _back(agent, "points")
