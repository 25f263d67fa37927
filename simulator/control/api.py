"""The test-control API, ``/control`` (control-api.md).

Lets people and test suites provoke every failure path on purpose: reset to
fixtures, move the clock, maintenance switches, fault rules, and the journal
of recent ``/v4`` requests.  Removed entirely with ``SCORPIO_SIM_CONTROL=off``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, request

from ..api.registry import ENDPOINTS
from ..harness.faults import FaultError, FaultRule
from ..harness.journal import JournalFilterError, parse_filters
from ..http import (
    ApiError,
    Routes,
    admin_token_ok,
    body_type_refusal,
    cross_site_refusal,
    current_simulator,
    json_body,
    json_error,
    json_response,
    no_content,
    routing_redirect,
)
from ..openapi_bodies import CLOCK_MOVE, FAULT_RULE, MAINTENANCE_SWITCH, RESET
from ..version import __version__

routes = Routes()


#: The clock stays where ``datetime`` can show it; past that every request would fail with 500.
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def guard() -> Response | None:
    """The entrance of ``/control`` (:mod:`simulator.families`): every request but the health
    check needs the token (control-api.md), unknown paths too."""
    if request.path == "/control/health" and request.method in ("GET", "HEAD"):
        return None
    refused = cross_site_refusal()
    if refused is not None:
        return refused
    if not admin_token_ok():
        return json_error("missing or wrong X-Admin-Token header", 401)
    return body_type_refusal() or routing_redirect()


@routes.get("/health")
def health() -> Response:
    """Liveness for the Dockerfile's HEALTHCHECK; open even when a token is set."""
    return json_response({"status": "ok", "version": __version__})


@routes.post("/reset", body=RESET)
def reset() -> Response:
    body = json_body()
    fixtures, seed = body.get("fixtures"), body.get("seed")
    if fixtures is not None and not isinstance(fixtures, str):
        raise ApiError("fixtures: must be the path of a fixture directory")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ApiError("seed: must be an integer")
    try:
        world = current_simulator().reset(fixtures, seed)
    except (ValueError, OSError) as exc:  # OSError: a path the system refuses (too long, no access)
        raise ApiError(f"fixtures: {exc}") from None
    return json_response({"fixtures": str(world.fixtures_dir), "seed": world.seed})


def _clock_state() -> dict[str, Any]:
    clock = current_simulator().clock
    return {"now": clock.now().isoformat().replace("+00:00", "Z"), "frozen": clock.frozen}


@routes.get("/clock")
def get_clock() -> Response:
    return json_response(_clock_state())


@routes.post("/clock", body=CLOCK_MOVE)
def move_clock() -> Response:
    body = json_body()
    clock = current_simulator().clock
    if "freeze" in body:
        if not isinstance(body["freeze"], bool):
            raise ApiError("freeze: must be true or false")
        clock.freeze(body["freeze"])
    if "advance" in body:
        seconds = body["advance"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float | Decimal) or seconds < 0:
            raise ApiError("advance: must be a number of seconds >= 0")
        # Compared as decimals: float() of a 400-digit integer raises OverflowError.
        if Decimal(seconds) >= Decimal(LATEST.timestamp() - clock.timestamp()):
            raise ApiError(f"advance: would move the clock past {LATEST.date().isoformat()}")
        clock.advance(float(seconds))
    if "set" in body:
        try:
            when = datetime.fromisoformat(str(body["set"]).replace("Z", "+00:00"))
        except ValueError:
            raise ApiError("set: must be an ISO-8601 time, e.g. 2026-01-13T12:00:00Z") from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        if not datetime(1970, 1, 1, tzinfo=UTC) <= when < LATEST:
            raise ApiError(f"set: must be between 1970-01-01 and {LATEST.date().isoformat()}")
        clock.set(when)
    if not {"freeze", "advance", "set"} & set(body):
        raise ApiError("give one of freeze, advance or set")
    return json_response(_clock_state())


@routes.post("/maintenance", body=MAINTENANCE_SWITCH)
def maintenance() -> Response:
    body = json_body()
    scope, on = body.get("scope"), body.get("on")
    if not isinstance(scope, str) or not isinstance(on, bool):
        raise ApiError("give {scope: 'platform'|'provider:<id>'|'game:<provider_id>:<game_code>', on: bool}")
    catalogue = current_simulator().world.catalogue
    try:
        catalogue.set_maintenance(scope, on)
    except ValueError as exc:
        raise ApiError(str(exc)) from None
    return json_response(catalogue.maintenance_state())


@routes.get("/maintenance")
def maintenance_state() -> Response:
    return json_response(current_simulator().world.catalogue.maintenance_state())


@routes.post("/faults", body=FAULT_RULE)
def add_fault() -> Response:
    try:
        rule: FaultRule = current_simulator().faults.add(json_body(), api_paths=ENDPOINTS)
    except FaultError as exc:
        raise ApiError(str(exc)) from None
    return json_response({"id": rule.fault_id}, 201)


@routes.get("/faults")
def list_faults() -> Response:
    return json_response([rule.to_dict() for rule in current_simulator().faults.active()])


@routes.delete("/faults/<int:fault_id>")
def delete_fault(fault_id: int) -> Response:
    if not current_simulator().faults.remove(fault_id):
        return json_error(f"no active fault rule {fault_id}", 404)
    return no_content()


@routes.delete("/faults")
def clear_faults() -> Response:
    current_simulator().faults.clear()
    return no_content()


@routes.get("/journal")
def journal() -> Response:
    """Recent ``/v4`` requests, newest first, narrowed by query parameters (all optional, combined with AND).

    - ``agent``: agent name, any case; ``path``: exact, or a prefix ending in
      ``*`` (``/v4/wallet/*``); ``code``: a result code or several separated by
      commas (``1018,1``); ``limit``: 1 to 10000, default 100.
    - ``since`` (inclusive) and ``until`` (exclusive): ISO-8601 times
      (``2026-01-13T12:00:00Z``; no offset means UTC), compared with each
      entry's ``time`` on the simulator's clock.
    - ``client_ip``: exact, or a prefix ending in ``*``; ``min_duration_ms``:
      calls that took at least that long; ``errors``: ``true`` for code != 0,
      ``false`` for code 0.
    - ``order``: ``desc`` (newest first, default) or ``asc`` (oldest first;
      ``limit`` then keeps the oldest).

    An unknown, repeated or malformed parameter answers 400 naming it.
    """
    try:
        filters = parse_filters(request.args.to_dict(flat=False))
    except JournalFilterError as exc:
        raise ApiError(str(exc)) from None
    return json_response(current_simulator().journal.query(**filters))


@routes.delete("/journal")
def clear_journal() -> Response:
    current_simulator().journal.clear()
    return no_content()


def blueprint(*parts: Routes) -> Blueprint:
    """The ``/control`` routes: this module's and ``parts``, on one blueprint."""
    family = Blueprint("control", __name__, url_prefix="/control")
    for part in (routes, *parts):
        part.add_to(family)
    return family
