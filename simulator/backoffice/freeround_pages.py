"""Back-office page of an agent's free rounds (spec 5.18-5.19, 9): the grants, a grant form, cancel.

The form goes through the same domain checks and codes as ``/v4/game/freeround/start``; a refused
grant is shown again with the error in words and its spec code name, nothing granted.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, request, url_for
from marshmallow import RAISE, Schema, ValidationError

from ..api.fields import Amount, SpecInt, Text
from ..codes import ResultCode, SimError
from ..domain.freerounds import MAX_ROUNDS, FreeRoundRequest
from ..domain.models import Agent, FreeRoundGrant
from ..http import Routes, current_simulator
from ..money import ZERO
from .pages import act_and_flash, agent_context, page

routes = Routes()

#: What the form offers as the default lifetime; the domain refuses less than 30 minutes (1002).
DEFAULT_MINUTES = 60
#: Refusals in words; other codes show the domain's detail.
REFUSALS = {
    ResultCode.USER_NOT_FOUND: "no such player for this agent",
    ResultCode.PERMISSION_ERROR: "the player is another agent's, or the provider has no free rounds",
    ResultCode.PROVIDER_NOT_FOUND: "the provider is unknown or not assigned to this agent",
    ResultCode.GAME_NOT_FOUND: "the provider has no such game",
    ResultCode.FREEROUND_NO_EXIST: "no such active grant: it is unknown, used up, expired or cancelled",
}
FIELDS = ("user_code", "provider_id", "game_code", "bet", "rounds", "expires_minutes", "win")


class GrantForm(Schema):
    """The grant form, read like ``freeround/start`` (spec 5.18) with the expiry in minutes from now."""

    class Meta:
        unknown = RAISE

    user_code = SpecInt(required=True, low=1)
    provider_id = SpecInt(required=True, low=0)
    game_code = Text(required=True, min_length=1, max_length=100)
    bet = Amount(required=True)
    rounds = SpecInt(required=True, low=1, high=MAX_ROUNDS)
    expires_minutes = SpecInt(required=True, low=0, high=10 * 366 * 24 * 60)
    win = Amount(load_default=ZERO, minimum=ZERO, exclusive=False)


_grant_form = GrantForm()


def status_of(grant: FreeRoundGrant) -> str:
    """``active``, ``used up``, ``expired`` or ``cancelled``."""
    if grant.cancelled:
        return "cancelled"
    if grant.played >= grant.rounds:
        return "used up"
    return "active" if current_simulator().world.free_rounds.active(grant) else "expired"


def _refusal(error: SimError) -> str:
    return f"{error.code.name} ({int(error.code)}): {REFUSALS.get(error.code, error.detail)}"


def _page(agent: Agent, status: int = 200, form: dict | None = None, error: str = "") -> Response:
    world = current_simulator().world
    grants = world.store.grants_of(agent.agent_id)
    grants.sort(key=lambda g: g.created_at, reverse=True)
    return page(
        "bo_free_rounds.html",
        status,
        grants=grants,
        status_of=status_of,
        users={u.user_code: u for u in world.store.users_of(agent.agent_id)},
        catalogue=world.catalogue,
        form=form or {"expires_minutes": str(DEFAULT_MINUTES), "provider_id": "1", "rounds": "10"},
        error=error,
        **agent_context(agent, "backoffice.free_rounds_page"),
    )


@routes.get("/agents/<name>/free-rounds")
def free_rounds_page(name: str) -> Response:
    return _page(current_simulator().world.hierarchy.get(name))


@routes.post("/agents/<name>/free-rounds")
def grant_free_rounds(name: str) -> Response:
    simulator = current_simulator()
    agent = simulator.world.hierarchy.get(name)
    submitted: dict[str, Any] = {field: request.form.get(field, "").strip() for field in FIELDS}
    body = {k: v for k, v in submitted.items() if v != "" or k != "win"}
    try:
        values = _grant_form.load(body)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"form": exc.messages}
        problems = "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in messages.items())
        return _page(agent, 400, submitted, f"{ResultCode.VALIDATION_ERROR.name} (1002): {problems}")
    minutes = values.pop("expires_minutes")
    grant_request = FreeRoundRequest(expiration_ms=simulator.clock.millis() + minutes * 60_000, **values)
    try:
        grant = simulator.world.free_rounds.grant(agent, grant_request)
    except SimError as exc:
        return _page(agent, 400 if exc.code == ResultCode.VALIDATION_ERROR else 409, submitted, _refusal(exc))
    flash(f"Free rounds {grant.fr_id} granted: {grant.rounds} rounds of {grant.game_code}.", "ok")
    return redirect(url_for("backoffice.free_rounds_page", name=agent.name), 303)


@routes.post("/agents/<name>/free-rounds/<fr_id>/cancel")
def cancel_free_rounds(name: str, fr_id: str) -> Response:
    """Spec 5.19: rounds already played stay played."""
    world = current_simulator().world
    agent = world.hierarchy.get(name)
    act_and_flash(
        lambda: world.free_rounds.cancel(agent, fr_id), lambda _: f"Free rounds {fr_id} cancelled.", _refusal
    )
    return redirect(url_for("backoffice.free_rounds_page", name=agent.name), 303)
