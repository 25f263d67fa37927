"""Every ``/v4`` request, on the bare WSGI environ: routing, guards, faults, envelope, journal.

Routing for every ``/v4`` request is decided here, in :func:`_locate`: a POST to an
endpoint's own path (``/v4/user/info``) is found with one dictionary lookup; any other
path is matched as werkzeug's router matches it, with the rules a Flask view for
``/v4/<path>`` had, so odd paths keep their answers (``/v4/user/info/`` is the endpoint,
``/v4//user/info`` and ``/V4/...`` are no route, ``TRACE`` is no method).  Unknown paths
(404) and wrong methods (405) answer in the envelope too (OP-11), and the in-flight
slot is released in one ``finally`` on every exit path.  No Flask request context is
needed: the ``/v4`` entrance (:mod:`simulator.api.front`) calls :func:`serve`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wsgi import get_content_length, get_input_stream

from ..access import guards
from ..codes import ResultCode, SimError
from ..harness.journal import JournalCall
from ..http import read_bounded
from ..logsetup import QuickLog
from ..runtime import Simulator
from .endpoints import Call, Endpoint
from .registry import ENDPOINTS
from .transport import Answer, envelope_answer, error_answer, parse_body, status_line

log = logging.getLogger("simulator.api")
#: The line of every call (:func:`serve`), made the cheap way when nothing else would see it.
call_log = QuickLog("simulator.api")

_schemas: dict[tuple[type, bool], Any] = {}


def _schema(schema_class: type, strict: bool) -> Any:
    key = (schema_class, strict)
    schema = _schemas.get(key)
    if schema is None:
        schema = _schemas[key] = schema_class(strict_types=strict)
    return schema


class _Outcome:
    """What the journal and the log need to know about one call."""

    __slots__ = ("agent", "code", "detail", "raw", "slot", "too_big")

    def __init__(self) -> None:
        self.agent: str | None = None
        #: The in-flight slot the call holds until its journal entry is written.
        self.slot: str | None = None
        self.code = ResultCode.OK
        self.detail = ""
        self.raw = b""
        self.too_big = False


class _HttpError(SimError):
    """A routing failure: code 1003 with HTTP 404 or 405 (OP-11); ``path``: the request's
    path, for the journal, when the router found no ``/v4/<path>`` in it."""

    def __init__(self, status: int, detail: str, path: str = "") -> None:
        super().__init__(ResultCode.SERVICE_EXCEPTION, detail)
        self.status = status
        self.path = path


#: ``PATH_INFO`` of a POST that needs no router: an endpoint's own path.
_OWN_PATHS = {f"/v4/{path}": path for path in ENDPOINTS}
#: The rules of the ``/v4`` routes, for every other path, with werkzeug's defaults
#: (``strict_slashes``, ``merge_slashes``, ``redirect_defaults``: order matters, the first
#: rule of the endpoint that gives a default is where the others would redirect).
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
_ROUTER = Map(
    [
        Rule("/v4", defaults={"path": ""}, methods=_METHODS, endpoint="v4"),
        Rule("/v4/", defaults={"path": ""}, methods=_METHODS, endpoint="v4"),
        Rule("/v4/<path:path>", methods=_METHODS, endpoint="v4"),
    ]
).bind("simulator")


def _locate(environ: dict[str, Any]) -> str:
    """The ``<path>`` of ``/v4/<path>`` this request names; :class:`_HttpError` when the
    router finds none (404) or the method is none of the route's (405)."""
    path_info = environ.get("PATH_INFO", "")
    own = _OWN_PATHS.get(path_info)
    if own is not None and environ.get("REQUEST_METHOD") == "POST":
        return own
    shown = path_info.encode("latin-1").decode("utf-8", "replace")  # what werkzeug calls request.path
    try:
        _, args = _ROUTER.match(shown, method=environ.get("REQUEST_METHOD", "GET").upper())
    except MethodNotAllowed:
        raise _HttpError(405, f"{shown} accepts POST only", shown) from None
    except (NotFound, RequestRedirect):
        raise _HttpError(404, f"no endpoint {shown}", shown) from None
    return args["path"]


def serve(sim: Simulator, environ: dict[str, Any]) -> Answer:
    """Answer a ``/v4`` request; journal it and log its line."""
    started = time.perf_counter()
    outcome = _Outcome()
    ip = guards.client_ip(
        environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"), sim.settings.trusted_proxies
    )
    shown = ""
    try:
        path = _locate(environ)
        shown = f"/v4/{path}"
        answer = _route(sim, environ, path.strip("/"), ip, outcome)
    except SimError as error:
        shown = shown or getattr(error, "path", "")
        outcome.code, outcome.detail = error.code, error.detail
        answer = error_answer(error, getattr(error, "status", 200))
    except Exception:  # the envelope, never a traceback (CONVENTIONS.md)
        log.exception("internal error on %s", shown)
        outcome.code, outcome.detail = ResultCode.INTERNAL_SERVER_ERROR, "unexpected server fault"
        answer = envelope_answer(outcome.code, detail=outcome.detail)
    if outcome.too_big:
        # The rest of the body was never read: the connection cannot be reused.
        answer.headers.append(("Connection", "close"))
    duration = (time.perf_counter() - started) * 1000
    sim.gate.finish(
        outcome.slot,
        JournalCall.of(
            sim.clock.timestamp(),
            outcome.agent,
            shown,
            ip,
            outcome.raw,
            outcome.code,
            duration,
            outcome.detail,
        ),
    )
    call_log.info("agent=%s path=%s code=%d ms=%.1f", outcome.agent, shown, outcome.code, duration)
    return answer


def _route(sim: Simulator, environ: dict[str, Any], path: str, ip: str, outcome: _Outcome) -> Answer:
    """404 and 405 in the envelope (OP-11), then the guarded call."""
    endpoint = ENDPOINTS.get(path)
    if endpoint is None:
        raise _HttpError(404, f"no endpoint /v4/{path}")
    method = environ.get("REQUEST_METHOD", "GET").upper()
    if method != "POST":
        raise _HttpError(405, f"/v4/{path} accepts POST only, not {method}")
    # The stream and length Flask's ``request.stream`` and ``request.content_length`` would give.
    stream, length = get_input_stream(environ), get_content_length(environ)
    outcome.raw, outcome.too_big = read_bounded(stream, length, sim.settings.max_body)
    return _guarded(sim, environ, endpoint, path, ip, outcome)


def _guarded(
    sim: Simulator, environ: dict[str, Any], endpoint: Endpoint, path: str, ip: str, outcome: _Outcome
) -> Answer:
    token = guards.bearer_token(environ.get("HTTP_AUTHORIZATION"))
    # 1009, 2001, 1020, 1018; the slot is given back with the journal entry in serve().
    admitted = sim.gate.admit(token, ip, lambda agent: setattr(outcome, "agent", agent.name))
    world, agent = admitted.world, admitted.agent
    outcome.slot = admitted.slot
    for effect in sim.faults.fire(agent.name, f"api:/v4/{path}"):
        if "latency_ms" in effect:
            time.sleep(effect["latency_ms"] / 1000)
        elif "code" in effect:
            raise SimError(ResultCode(effect["code"]), "answered by a fault rule")
        elif effect.get("drop"):
            outcome.detail = "connection dropped by a fault rule"
            return _drop_connection(environ)
    if world.catalogue.platform_maintenance:
        raise SimError(ResultCode.UNDER_MAINTENANCE, "the platform is in maintenance")
    if outcome.too_big:
        limit = sim.settings.max_body
        raise SimError.validation("body", f"The request body must not exceed {limit} bytes.")
    body = parse_body(outcome.raw, sim.settings.max_json_depth)
    params = _schema(endpoint.request, sim.settings.strict_types).parse(body)
    forced = _forced_result(sim, environ)
    if forced == ResultCode.VALIDATION_ERROR:
        # A forced 1002 keeps the shape of every 1002: a list of field problems (2.2, OP-13).
        raise SimError.validation("X-Sim-Result", "answered by the X-Sim-Result header")
    if forced is not None:
        raise SimError(forced, "answered by the X-Sim-Result header")
    payload = endpoint.handler(Call(sim, world, agent, params, ip))
    # The one place a success is shaped: the declared response schema, or no ``data`` (spec 2.2).
    response = endpoint.response
    return envelope_answer(ResultCode.OK, None if response is None else response.dump(payload))


#: Fault effect ``drop`` without a socket to close: an empty 444, as a Flask ``Response(b"", 444)``.
_DROPPED_HEADERS = (("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "0"))


def _drop_connection(environ: dict[str, Any]) -> Answer:
    """Close the client connection without an answer (fault effect ``drop``)."""
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    # Without a socket (Flask's test client) the closest thing is an empty 444.
    return Answer(status_line(444), list(_DROPPED_HEADERS), b"")


def _forced_result(sim: Simulator, environ: dict[str, Any]) -> ResultCode | None:
    """``X-Sim-Result: <code>``: after the guards, answer that code with no side effect."""
    header = environ.get("HTTP_X_SIM_RESULT")
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
