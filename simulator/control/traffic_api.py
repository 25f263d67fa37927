"""``/control/traffic`` (control-api.md): start, watch and stop traffic runs that load-test a wallet.

Plain REST like the rest of ``/control``: 201 ``{id}`` on start, the run's
figures on ``GET``, and ``{"error": ...}`` with 400 (bad body), 404 (unknown
agent, game or run) or 409 (agent cannot play, points short, too many runs).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Response, current_app
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ..api.fields import Amount, SpecInt, Text
from ..api.schemas import USER_NAME
from ..backoffice.schemas import first_error
from ..http import ApiError, Routes, current_simulator, json_body, json_response
from ..money import ZERO
from ..traffic.plan import MAX_DRAIN_S, MAX_DURATION_S, MAX_PLAYERS, MAX_RATE, TrafficPlan
from ..traffic.report import report_of
from ..traffic.run import TrafficRun
from ..traffic.runs import TrafficRuns

routes = Routes()

EXTENSION = "scorpio_traffic"


class TrafficRequest(Schema):
    class Meta:
        unknown = RAISE

    agent = fields.String(required=True)
    players = SpecInt(load_default=10, low=1, high=MAX_PLAYERS)
    rounds_per_second = Amount(load_default=Decimal(10), maximum=Decimal(MAX_RATE))
    duration_s = Amount(load_default=Decimal(30), maximum=Decimal(MAX_DURATION_S))
    bet = Amount()
    provider_id = SpecInt(low=0)
    game_code = Text(min_length=1)
    accounts = fields.List(
        Text(
            min_length=2,
            max_length=50,
            pattern=USER_NAME,
            pattern_message="The {name} field may only contain letters, numbers and underscores.",
        ),
        validate=validate.Length(min=1, max=MAX_PLAYERS),
    )
    deposit = Amount(minimum=ZERO, exclusive=False)
    drain_s = Amount(minimum=ZERO, exclusive=False, maximum=Decimal(MAX_DRAIN_S))


_request = TrafficRequest()


def runs() -> TrafficRuns:
    """The app's traffic runs, made on first use."""
    extensions = current_app.extensions
    found = extensions.get(EXTENSION)
    if found is None:
        found = extensions.setdefault(EXTENSION, TrafficRuns(current_simulator()))
    return found


def _plan(values: dict[str, Any]) -> TrafficPlan:
    return TrafficPlan(
        agent=values["agent"],
        players=values["players"],
        rounds_per_second=float(values["rounds_per_second"]),
        duration_s=float(values["duration_s"]),
        bet=values.get("bet"),
        provider_id=values.get("provider_id"),
        game_code=values.get("game_code"),
        accounts=tuple(values.get("accounts") or ()),
        deposit=values.get("deposit"),
        drain_s=float(values.get("drain_s", 20)),
    )


def _run(run_id: int) -> TrafficRun:
    run = runs().get(run_id)
    if run is None:
        raise ApiError(f"no traffic run {run_id}", 404)
    return run


@routes.post("/traffic", body=TrafficRequest)
def start_traffic() -> Response:
    """Start virtual players that launch a game and play at a steady total rate; 201 ``{id}``."""
    try:
        values = _request.load(json_body())
    except ValidationError as exc:
        raise ApiError(first_error(exc.messages)) from None
    run = runs().start(_plan(values))
    return json_response({"id": run.run_id}, 201)


@routes.get("/traffic")
def list_traffic() -> Response:
    """Every traffic run kept (running ones and the last finished), oldest first."""
    return json_response([report_of(run) for run in runs().all()])


@routes.get("/traffic/<int:run_id>")
def traffic_report(run_id: int) -> Response:
    """A run's progress and figures: rounds, callbacks, wallet latency, reconciliation."""
    return json_response(report_of(_run(run_id)))


@routes.delete("/traffic/<int:run_id>")
def stop_traffic(run_id: int) -> Response:
    """Stop a run: it stops playing, drains pending retries, reconciles and ends ``done``."""
    run = _run(run_id)
    run.stop()
    return json_response(report_of(run))
