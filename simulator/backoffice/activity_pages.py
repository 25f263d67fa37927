"""Back-office pages of an agent's activity: users, game connections, transactions, rounds, logs, tester.

They read what the admin API reads (``users_api``, the callback log, the
``/v4`` journal) and show it for people; the round page links to the public
round page of spec 5.22.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, flash, redirect, request, url_for

from ..codes import ResultCode, SimError
from ..domain.enums import CallbackOutcome, CallStatus
from ..domain.models import Agent, GameSession
from ..domain.round_links import round_token
from ..http import ApiError, Routes, current_simulator
from ..seamless.conformance import DEFAULT_ACCOUNT
from .forms import bonus_call_from_form
from .pages import act_and_flash, agent_context, page, runs
from .users_api import (
    TRANS_TYPES,
    parse_transaction_query,
    set_user_active,
    transaction_page,
    user_of_agent,
    user_row,
)

routes = Routes()

PAGE_SIZE = 50
LOG_LIMIT = 200
CALLBACK_OUTCOMES = (
    CallbackOutcome.OK,
    CallbackOutcome.REFUSED,
    "expected",
    CallbackOutcome.UNCLEAR,
    CallbackOutcome.SKIPPED,
)
#: The outcome filter's words: "refused" keeps real refusals, "expected" the ones conformance runs ask for.
OUTCOME_NAMES = {"refused": "refused (not asked for)", "expected": "expected refusal (conformance runs)"}
#: ``call_status`` of spec 5.13 / 8.
CALL_STATUSES = {status: status.name.capitalize() for status in CallStatus}
#: Bonus-call refusals in words, where the domain's detail names ids rather than the situation.
CALL_REFUSALS = {
    ResultCode.BONUSCALL_DOUBLE: "a call is already running on this session",
    ResultCode.BONUSCALL_ALEADY_ENDED: "the call has already completed or was cancelled",
    ResultCode.RESOURCE_NOT_FOUND: "there is no such bonus call",
}


def pretty(value: Any) -> str:
    """JSON for people: indented; text that is JSON is re-indented, other text shown as is.

    A logged body nested too deep to re-indent (a hostile ``[[[[...]]]]``) is shown as it came.
    """
    try:
        parsed = json.loads(value) if isinstance(value, str) else value
        return json.dumps(parsed, indent=2, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):
        return value if isinstance(value, str) else "(nested too deep to show)"


# -- users ----------------------------------------------------------------------------
@routes.get("/agents/<name>/users")
def users_page(name: str) -> Response:
    world = current_simulator().world
    agent = world.hierarchy.get(name)
    users = sorted(world.store.users_of(agent.agent_id), key=lambda u: u.user_code)
    return page(
        "bo_users.html",
        users=users,
        shown={u.user_code: world.users.displayed_balance(u) for u in users},
        **agent_context(agent, "backoffice.users_page"),
    )


@routes.post("/agents/<name>/users/<user_code>/active")
def set_active(name: str, user_code: str) -> Response:
    world = current_simulator().world
    agent = world.hierarchy.get(name)
    user = user_of_agent(world, agent, user_code)
    active = request.form.get("active") == "1"
    row = user_row(set_user_active(world, agent, user, active))
    flash(f"Player {row['name']} ({row['user_code']}) is {'active' if active else 'blocked'}.", "ok")
    return redirect(url_for("backoffice.users_page", name=agent.name), 303)


# -- game connections (spec 5.13) -------------------------------------------------------
@routes.get("/agents/<name>/sessions")
def sessions_page(name: str) -> Response:
    world = current_simulator().world
    agent = world.hierarchy.get(name)
    world.bonus.expire_idle(agent)  # as online-games does: a call idle for 30 minutes ends (spec 8)
    sessions = world.sessions.online(agent)
    calls = {s.gplay_id: world.bonus.summary(s) for s in sessions}
    return page(
        "bo_sessions.html",
        sessions=sessions,
        calls=calls,
        latest={gid: world.store.bonus_call(c.call_id) for gid, c in calls.items() if c.call_id},
        call_enable={s.gplay_id: _call_enable(world, agent, s) for s in sessions},
        call_min=world.bonus.call_min(agent),
        call_statuses=CALL_STATUSES,
        users={u.user_code: u for u in world.store.users_of(agent.agent_id)},
        catalogue=world.catalogue,
        **agent_context(agent, "backoffice.sessions_page"),
    )


def _call_enable(world: Any, agent: Agent, session: GameSession) -> bool:
    """``call_enable`` of spec 5.13: not a live game, and the agent has bonus calls on."""
    game = world.catalogue.game(session.provider_id, session.game_code)
    return agent.settings.bonus_call_enabled and game is not None and game.category != "Live"


def _refusal(error: SimError) -> str:
    return f"{error.code.name}: {CALL_REFUSALS.get(error.code, error.detail)}"


@routes.post("/agents/<name>/sessions/<int:gplay_id>/bonus-call")
def start_bonus_call(name: str, gplay_id: int) -> Response:
    """Spec 5.16 from the page: the same checks and codes as ``/v4/game/call_start``."""
    world = current_simulator().world
    agent = world.hierarchy.get(name)
    values, errors = bonus_call_from_form(request.form)
    if errors:
        flash("; ".join(f"{field}: {problem}" for field, problem in errors.items()), "error")
    else:
        act_and_flash(
            lambda: world.bonus.start(agent, gplay_id, values["set_point"], None, values["memo"]),
            lambda call: f"Bonus call #{call.call_id} started on game session {gplay_id}.",
            _refusal,
        )
    return redirect(url_for("backoffice.sessions_page", name=agent.name), 303)


@routes.post("/agents/<name>/bonus-calls/<int:call_id>/cancel")
def cancel_bonus_call(name: str, call_id: int) -> Response:
    """Spec 5.17 from the page; the held ``set_point`` goes back to the points."""
    world = current_simulator().world
    agent = world.hierarchy.get(name)
    act_and_flash(
        lambda: world.bonus.cancel(agent, call_id),
        lambda _: f"Bonus call #{call_id} cancelled; its set_point is back in the points.",
        _refusal,
    )
    return redirect(url_for("backoffice.sessions_page", name=agent.name), 303)


# -- transactions (spec 5.20) and rounds ----------------------------------------------------
@routes.get("/agents/<name>/transactions")
def transactions_page(name: str) -> Response:
    simulator = current_simulator()
    world = simulator.world
    agent = world.hierarchy.get(name)
    args = {k: v for k, v in request.args.items() if k in ("user_code", "type", "from", "to", "offset")}
    error, result, status = "", None, 200
    try:
        query = parse_transaction_query({**args, "limit": str(PAGE_SIZE)}, simulator.report_zone)
        result = transaction_page(simulator, world, agent, query)
    except ApiError as exc:
        error, status = exc.message, 400
    offset = result["offset"] if result else 0

    def page_link(new_offset: int) -> str:
        return url_for("backoffice.transactions_page", name=agent.name, **{**args, "offset": new_offset})

    def public_round(round_id: str) -> str:
        """The public round page of spec 5.22, as ``round-details`` hands it out."""
        return url_for("play.round_page", token=round_token(simulator.link_secret, agent.agent_id, round_id))

    return page(
        "bo_transactions.html",
        status,
        filters=args,
        error=error,
        result=result,
        trans_types=TRANS_TYPES,
        previous=page_link(max(offset - PAGE_SIZE, 0)) if result and offset > 0 else None,
        following=page_link(offset + PAGE_SIZE) if result and offset + PAGE_SIZE < result["total"] else None,
        page_size=PAGE_SIZE,
        public_round=public_round,
        **agent_context(agent, "backoffice.transactions_page"),
    )


@routes.get("/agents/<name>/rounds/<round_id>")
def round_page(name: str, round_id: str) -> Response:
    simulator = current_simulator()
    world = simulator.world
    agent = world.hierarchy.get(name)
    store = world.store
    round_ = store.round(agent.agent_id, round_id)
    rows = [t for t in store.transactions_of(agent.agent_id) if t.round_id == round_id]
    if round_ is None:
        message = f"Agent {agent.name} has no round {round_id} (rounds are kept 30 days)."
        return page("bo_error.html", 404, title="Round not found", message=message)
    token = round_token(simulator.link_secret, agent.agent_id, round_.round_id)
    game = world.catalogue.game(round_.provider_id, round_.game_code)
    provider = world.catalogue.provider(round_.provider_id)
    callbacks = [
        entry
        for entry in simulator.callback_log.query(agent.agent_id, limit=10_000)
        if _round_of(entry.request) == round_.round_id
    ]
    return page(
        "bo_round.html",
        round=round_,
        user=store.user(round_.user_code),
        game_name=game.game_name if game else round_.game_code,
        provider_name=provider.provider_name if provider else str(round_.provider_id),
        transactions=rows,
        public_url=url_for("play.round_page", token=token, _external=True),
        callbacks=list(reversed(callbacks)),
        pretty=pretty,
        **agent_context(agent, "backoffice.transactions_page"),
    )


def _round_of(body: dict[str, Any]) -> str | None:
    data = body.get("data") if isinstance(body, dict) else None
    value = data.get("round_id") if isinstance(data, dict) else None
    return None if value is None else str(value)


# -- logs (spec 6.8) ----------------------------------------------------------------------
@routes.get("/agents/<name>/callbacks")
def callbacks_page(name: str) -> Response:
    simulator = current_simulator()
    agent = simulator.world.hierarchy.get(name)
    command = request.args.get("command", "").strip() or None
    outcome = request.args.get("outcome", "").strip() or None
    if outcome in (CallbackOutcome.REFUSED, "expected"):  # split apart by what a conformance run asked for
        refused = simulator.callback_log.query(
            agent.agent_id, command=command, outcome=CallbackOutcome.REFUSED, limit=LOG_LIMIT * 5
        )
        entries = [e for e in refused if e.expected_refusal == (outcome == "expected")][:LOG_LIMIT]
    else:
        entries = simulator.callback_log.query(
            agent.agent_id, command=command, outcome=outcome, limit=LOG_LIMIT
        )
    return page(
        "bo_callbacks.html",
        entries=entries,
        command=command or "",
        outcome=outcome or "",
        outcomes=CALLBACK_OUTCOMES,
        outcome_names=OUTCOME_NAMES,
        commands=("authenticate", "balance", "bet", "win", "cancel", "status"),
        limit=LOG_LIMIT,
        pretty=pretty,
        **agent_context(agent, "backoffice.callbacks_page"),
    )


def _code_name(code: int) -> str:
    try:
        return ResultCode(code).name
    except ValueError:
        return "?"


@routes.get("/agents/<name>/api-errors")
def api_errors_page(name: str) -> Response:
    """``/v4`` requests of this agent that answered a non-zero code, newest first."""
    simulator = current_simulator()
    agent = simulator.world.hierarchy.get(name)
    entries = [
        entry
        for entry in simulator.journal.query(agent=agent.name, limit=simulator.settings.journal_size)
        if entry["code"] != 0
    ][:LOG_LIMIT]
    for entry in entries:
        entry["reply"] = pretty({"code": entry["code"], "message": _code_name(entry["code"])})
        entry["request"] = pretty(entry["body"]) if entry["body"] else ""
    failed = [
        e
        for e in simulator.callback_log.query(agent.agent_id, limit=LOG_LIMIT * 5)
        if e.outcome != CallbackOutcome.OK
    ]
    return page(
        "bo_api_errors.html",
        entries=entries,
        failed_callbacks=[e for e in failed if not e.expected_refusal][:LOG_LIMIT],
        expected_refusals=[e for e in failed if e.expected_refusal][:LOG_LIMIT],
        limit=LOG_LIMIT,
        pretty=pretty,
        **agent_context(agent, "backoffice.api_errors_page"),
    )


# -- callback API testing (spec 6.12) -------------------------------------------------------
@routes.get("/agents/<name>/conformance")
def conformance_page(name: str) -> Response:
    agent = current_simulator().world.hierarchy.get(name)
    return page(
        "bo_conformance.html",
        runs=runs().of_agent(agent.name),
        account=DEFAULT_ACCOUNT,
        **agent_context(agent, "backoffice.conformance_page"),
    )


@routes.post("/agents/<name>/conformance")
def start_conformance(name: str) -> Response:
    simulator = current_simulator()
    agent = simulator.world.hierarchy.get(name)
    account = request.form.get("account", "").strip() or DEFAULT_ACCOUNT
    if len(account) > 200:
        flash("The test account may have at most 200 characters.", "error")
        return redirect(url_for("backoffice.conformance_page", name=agent.name), 303)
    if not agent.settings.callback_url:
        flash("This agent has no callback URL (transfer mode): there is nothing to test.", "error")
        return redirect(url_for("backoffice.conformance_page", name=agent.name), 303)
    run = runs().start(simulator, agent, account)
    return redirect(url_for("backoffice.conformance_run", name=agent.name, run_id=run.run_id), 303)


@routes.get("/agents/<name>/conformance/<int:run_id>")
def conformance_run(name: str, run_id: int) -> Response:
    agent = current_simulator().world.hierarchy.get(name)
    run = runs().get(run_id)
    if run is None or run.agent_name.lower() != agent.name.lower():
        return page(
            "bo_error.html", 404, title="Run not found", message=f"No test run {run_id} of {agent.name}."
        )
    return page(
        "bo_conformance_run.html",
        run=run,
        pretty=pretty,
        **agent_context(agent, "backoffice.conformance_page"),
    )
