"""The one view behind every ``/v4`` path: routing, guards, faults, envelope, journal.

A single view lets unknown paths (404) and wrong methods (405) answer in the
envelope too (OP-11), and lets the in-flight slot be released in one
``finally`` on every exit path.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import MethodNotAllowed

from ..codes import ResultCode, SimError
from ..control.journal import JournalEntry
from ..http import is_under, read_limited
from ..runtime import Simulator
from . import guards
from .endpoints import Call
from .registry import ENDPOINTS
from .transport import envelope, error_envelope, parse_body

log = logging.getLogger("simulator.api")
blueprint = Blueprint("v4", __name__)
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

_schemas: dict[tuple[type, bool], object] = {}


def _schema(schema_class: type, strict: bool):
    key = (schema_class, strict)
    schema = _schemas.get(key)
    if schema is None:
        schema = _schemas[key] = schema_class(strict_types=strict)
    return schema


class _Outcome:
    """What the journal and the log need to know about one call."""

    __slots__ = ("agent", "code", "detail", "raw", "too_big")

    def __init__(self) -> None:
        self.agent: str | None = None
        self.code = ResultCode.OK
        self.detail = ""
        self.raw = b""
        self.too_big = False


def _drop_connection() -> Response:
    """Close the client connection without an answer (fault effect ``drop``)."""
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    # Without a socket (Flask's test client) the closest thing is an empty 444.
    return Response(b"", status=444)


@blueprint.before_app_request
def _routing_failure() -> Response | None:
    """A ``/v4`` URL the router itself refuses still answers in the envelope (OP-11).

    Werkzeug would otherwise answer ``/v4/`` and ``/v4//user/info`` with an HTML
    308 redirect (merged slashes, default values) before the view runs.
    """
    failure = request.routing_exception
    if failure is None or not is_under(request.path, "/v4"):
        return None
    status = 405 if isinstance(failure, MethodNotAllowed) else 404
    detail = f"no endpoint {request.path}" if status == 404 else f"{request.path} accepts POST only"
    log.info("agent=None path=%s code=%d ms=0.0", request.path, ResultCode.SERVICE_EXCEPTION)
    return envelope(ResultCode.SERVICE_EXCEPTION, status=status, detail=detail)


@blueprint.route("/v4/<path:path>", methods=ALL_METHODS)
@blueprint.route("/v4/", defaults={"path": ""}, methods=ALL_METHODS)
@blueprint.route("/v4", defaults={"path": ""}, methods=ALL_METHODS)
def dispatch(path: str) -> Response:
    sim: Simulator = current_app.extensions["scorpio"]
    started = time.perf_counter()
    outcome = _Outcome()
    ip = guards.client_ip(
        request.remote_addr, request.headers.get("X-Forwarded-For"), sim.settings.trust_proxy
    )
    try:
        response = _route(sim, path.strip("/"), ip, outcome)
    except SimError as error:
        outcome.code, outcome.detail = error.code, error.detail
        response = error_envelope(error, getattr(error, "status", 200))
    except Exception:  # the envelope, never a traceback (CONVENTIONS.md)
        log.exception("internal error on /v4/%s", path)
        outcome.code, outcome.detail = ResultCode.INTERNAL_SERVER_ERROR, "unexpected server fault"
        response = envelope(outcome.code, detail=outcome.detail)
    if outcome.too_big:
        # The rest of the body was never read: the connection cannot be reused.
        response.headers["Connection"] = "close"
    duration = (time.perf_counter() - started) * 1000
    sim.journal.record(
        JournalEntry(
            time=datetime.fromtimestamp(sim.clock.timestamp(), tz=UTC).isoformat(),
            agent=outcome.agent,
            path=f"/v4/{path}",
            client_ip=ip,
            body=outcome.raw[: sim.journal.MAX_BODY].decode("utf-8", "replace"),
            code=int(outcome.code),
            duration_ms=round(duration, 3),
            detail=outcome.detail,
        )
    )
    log.info("agent=%s path=/v4/%s code=%d ms=%.1f", outcome.agent, path, outcome.code, duration)
    return response


def _route(sim: Simulator, path: str, ip: str, outcome: _Outcome) -> Response:
    """404 and 405 in the envelope (OP-11), then the guarded call."""
    endpoint = ENDPOINTS.get(path)
    if endpoint is None:
        raise _HttpError(404, f"no endpoint /v4/{path}")
    if request.method != "POST":
        raise _HttpError(405, f"/v4/{path} accepts POST only, not {request.method}")
    outcome.raw, outcome.too_big = read_limited(sim.settings.max_body)
    return _guarded(sim, endpoint, path, ip, outcome)


class _HttpError(SimError):
    """A routing failure: code 1003 with HTTP 404 or 405 (OP-11)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(ResultCode.SERVICE_EXCEPTION, detail)
        self.status = status


def _guarded(sim: Simulator, endpoint, path: str, ip: str, outcome: _Outcome) -> Response:
    world = sim.world
    token = guards.bearer_token(request.headers.get("Authorization"))
    agent = guards.agent_for_token(world.store, token)
    outcome.agent = agent.name
    guards.check_ip(agent, ip)
    slot = ip if sim.settings.inflight_scope == "ip" else f"agent:{agent.agent_id}"
    limiter = sim.limiter
    if not limiter.acquire(slot):
        raise SimError(
            ResultCode.SERVER_IS_BUSY, f"more than {limiter.limit} requests of this agent in flight"
        )
    try:
        for effect in sim.faults.fire(agent.name, f"api:/v4/{path}"):
            if "latency_ms" in effect:
                time.sleep(effect["latency_ms"] / 1000)
            elif "code" in effect:
                raise SimError(ResultCode(effect["code"]), "answered by a fault rule")
            elif effect.get("drop"):
                outcome.detail = "connection dropped by a fault rule"
                return _drop_connection()
        if world.catalogue.platform_maintenance:
            raise SimError(ResultCode.UNDER_MAINTENANCE, "the platform is in maintenance")
        if outcome.too_big:
            limit = sim.settings.max_body
            raise SimError.validation("body", f"The request body must not exceed {limit} bytes.")
        body = parse_body(outcome.raw, sim.settings.max_json_depth)
        params = _schema(endpoint.schema, sim.settings.strict_types).parse(body)
        forced = _forced_result(sim)
        if forced == ResultCode.VALIDATION_ERROR:
            # A forced 1002 keeps the shape of every 1002: a list of field problems (2.2, OP-13).
            raise SimError.validation("X-Sim-Result", "answered by the X-Sim-Result header")
        if forced is not None:
            raise SimError(forced, "answered by the X-Sim-Result header")
        data = endpoint.handler(Call(sim, world, agent, params, ip))
        return envelope(ResultCode.OK, data)
    finally:
        limiter.release(slot)


def _forced_result(sim: Simulator) -> ResultCode | None:
    """``X-Sim-Result: <code>``: after the guards, answer that code with no side effect."""
    header = request.headers.get("X-Sim-Result")
    if header is None or not sim.settings.control:
        return None
    try:
        code = ResultCode(int(header.strip()))
    except ValueError:
        raise SimError.validation(
            "X-Sim-Result", f"X-Sim-Result must be a result code of the spec, not {header!r}"
        ) from None
    if code == ResultCode.OK:
        raise SimError.validation("X-Sim-Result", "X-Sim-Result must be a non-zero result code")
    return code
