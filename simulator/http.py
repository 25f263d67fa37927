"""Helpers shared by the simulator's own HTTP families (``/admin/api``, ``/control``, pages).

These APIs are plain REST (control-api.md): JSON bodies, HTTP status codes and
errors as ``{"error": "..."}`` - never the ``/v4`` envelope.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from .codes import ResultCode, SimError
from .jsonsafe import JsonRefused, parse_json
from .money import json_default

if TYPE_CHECKING:  # for the annotations only: the runtime sits below every HTTP module
    from .runtime import Simulator

#: The key of the app's simulator in ``app.extensions``.
SIMULATOR = "scorpio"


def attach_simulator(app: Flask, sim: Simulator) -> None:
    """Make ``sim`` the simulator every view of ``app`` serves (:func:`current_simulator`)."""
    app.extensions[SIMULATOR] = sim


def simulator_of(app: Flask) -> Simulator:
    return app.extensions[SIMULATOR]


def current_simulator() -> Simulator:
    """The simulator of the app serving the current request: the one accessor every view uses."""
    return current_app.extensions[SIMULATOR]


View = Callable[..., Any]
_REQUEST_BODY = "scorpio_request_body"


def request_body_of(view: View) -> Any:
    """The body a view declared on its route (:meth:`Routes.route`), or None."""
    return getattr(view, _REQUEST_BODY, None)


class Routes:
    """The views of one module, declared with decorators and added to a blueprint explicitly.

    A module's routes reach the app only when its package's ``init_app`` hands them to a
    blueprint (:meth:`add_to`): importing a module registers nothing.  The endpoint names are
    the ones Flask's own decorators give (``<blueprint>.<function>``).
    """

    def __init__(self) -> None:
        self._rules: list[tuple[str, View, dict[str, Any]]] = []

    def route(self, rule: str, body: Any = None, **options: Any) -> Callable[[View], View]:
        """``body``: what the view reads as its JSON body - a marshmallow schema class, a JSON
        schema (``{"oneOf": [...]}``) or a :class:`~simulator.openapi_bodies.JsonBody` - declared
        here once for the OpenAPI document (:func:`request_body_of`)."""

        def declare(view: View) -> View:
            if body is not None:
                setattr(view, _REQUEST_BODY, body)
            self._rules.append((rule, view, options))
            return view

        return declare

    def get(self, rule: str, **options: Any) -> Callable[[View], View]:
        return self.route(rule, methods=["GET"], **options)

    def post(self, rule: str, **options: Any) -> Callable[[View], View]:
        return self.route(rule, methods=["POST"], **options)

    def put(self, rule: str, **options: Any) -> Callable[[View], View]:
        return self.route(rule, methods=["PUT"], **options)

    def patch(self, rule: str, **options: Any) -> Callable[[View], View]:
        return self.route(rule, methods=["PATCH"], **options)

    def delete(self, rule: str, **options: Any) -> Callable[[View], View]:
        return self.route(rule, methods=["DELETE"], **options)

    def add_to(self, blueprint: Blueprint) -> None:
        for rule, view, options in self._rules:
            blueprint.add_url_rule(rule, view_func=view, **options)


#: How a domain failure maps to an HTTP status outside ``/v4``.
STATUS_FOR_CODE = {
    ResultCode.VALIDATION_ERROR: 400,
    ResultCode.PARAMETERS_INVALID: 400,
    ResultCode.AGENT_NOT_FOUND: 404,
    ResultCode.USER_NOT_FOUND: 404,
    ResultCode.PROVIDER_NOT_FOUND: 404,
    ResultCode.GAME_NOT_FOUND: 404,
    ResultCode.PERMISSION_ERROR: 409,
    ResultCode.POINT_NOT_ENOUGH: 409,
    ResultCode.BALANCE_NOT_ENOUGH: 409,
}


#: Bodies outside ``/v4`` - ``/admin/api``, ``/control`` (but ``/control/restore``, which takes
#: snapshots), the back-office forms and the game page - are settings, rules, forms and bets:
#: a megabyte is far more than any of them needs.
BODY_LIMIT = 1 << 20
#: Nesting of those bodies; the deepest legitimate one (a fault rule) has three levels.
MAX_JSON_DEPTH = 32


def utf8(text: str) -> bytes:
    """UTF-8 that cannot fail: an unpaired surrogate (only a JSON ``\\ud800`` makes one) is
    written as that escape again instead of raising ``UnicodeEncodeError`` mid-response."""
    return text.encode("utf-8", "backslashreplace")


#: On every JSON answer: an error may quote what came in (``no route GET /play/<script>...``),
#: and no browser may sniff that into HTML.
JSON_HEADERS = {"X-Content-Type-Options": "nosniff"}


def json_response(data: Any, status: int = 200) -> Response:
    text = json.dumps(data, default=json_default, ensure_ascii=False)
    return Response(utf8(text), status=status, mimetype="application/json", headers=JSON_HEADERS)


def json_error(message: str, status: int) -> Response:
    return json_response({"error": message}, status)


def no_content() -> Response:
    return Response(status=204)


def error_for(error: SimError) -> Response:
    return json_error(error.detail, STATUS_FOR_CODE.get(error.code, 409))


class ApiError(Exception):
    """A client error on the simulator's own APIs: ``{"error": message}`` with ``status``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def read_limited(limit: int) -> tuple[bytes, bool]:
    """``(body, too_big)`` of the current Flask request: see :func:`read_bounded`."""
    return read_bounded(request.stream, request.content_length, limit)


def read_bounded(stream: IO[bytes], length: int | None, limit: int) -> tuple[bytes, bool]:
    """``(body, too_big)``: never more than ``limit + 1`` bytes are read, even without a
    ``Content-Length`` (``length`` None: a chunked body)."""
    if length is not None and length > limit:
        return b"", True
    raw = stream.read(limit + 1)
    return raw, len(raw) > limit


def _read_body() -> bytes:
    """The raw body, read once and at most :data:`BODY_LIMIT` bytes: 413 past the limit."""
    raw = g.get("scorpio_body")
    if raw is None:
        raw, too_big = read_limited(BODY_LIMIT)
        if too_big:
            raise ApiError(f"the body must not exceed {BODY_LIMIT} bytes", 413)
        g.scorpio_body = raw
    return raw


#: How the JSON families word a refused body; the rest is "not valid JSON".
_REFUSALS = {"depth": "the body {detail}", "content": "the body {detail}"}


def json_body(expect: type = dict) -> Any:
    """The JSON body (empty = ``{}``); 400 for malformed JSON or the wrong top-level type.

    Fractions are parsed as exact ``Decimal`` (the amount fields accept no float, so
    ``{"amount": 0.5}`` would otherwise be refused), and ``NaN``/``Infinity`` are refused.
    Bodies over :data:`BODY_LIMIT` answer 413; deeper than :data:`MAX_JSON_DEPTH`, or with an
    unpaired surrogate, 400.
    """
    raw = _read_body()
    if not raw.strip():
        return {} if expect is dict else expect()
    try:
        body = parse_json(raw, MAX_JSON_DEPTH)
    except JsonRefused as refused:
        wording = _REFUSALS.get(refused.reason, "the body is not valid JSON: {detail}")
        raise ApiError(wording.format(detail=refused.detail)) from None
    if not isinstance(body, expect):
        raise ApiError(f"the body must be a JSON {'object' if expect is dict else expect.__name__}")
    return body


def json_failure(error: Exception) -> Response:
    """The error path of the JSON families (``/admin/api``, ``/control``, and what is in no
    family): ``{"error": "..."}`` with the status the error calls for (control-api.md)."""
    if isinstance(error, ApiError):
        return json_error(error.message, error.status)
    if isinstance(error, SimError):
        return error_for(error)
    if isinstance(error, NotFound):
        return json_error(f"no route {request.method} {request.path}", 404)
    if isinstance(error, MethodNotAllowed):
        return json_error(f"{request.path} does not accept {request.method}", 405)
    if isinstance(error, HTTPException):
        return json_error(error.description or error.name, error.code or 500)
    logging.getLogger("simulator").exception("unexpected error on %s", request.path)
    return json_error("internal error; see the simulator's log", 500)


def ascii_int(text: str) -> int | None:
    """A non-negative integer written in at most 19 ASCII digits, else None.

    ``str.isdigit`` alone lets ``"²"`` and ``"٣"`` through to ``int()`` (ValueError or a
    surprise), and a 5000-digit number past Python's int-conversion limit.
    """
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    return int(text)


def routing_redirect() -> Response | None:
    """404 in JSON instead of werkzeug's HTML 308 page for a path it would only tidy
    (``/admin/api//agents``): the JSON APIs answer JSON, and have one spelling per route."""
    if isinstance(request.routing_exception, RequestRedirect):
        return json_error(f"no route {request.method} {request.path}", 404)
    return None


def is_under(path: str, prefix: str) -> bool:
    """``/admin`` and ``/admin/...``, but not ``/administrator``."""
    return path == prefix or path.startswith(prefix + "/")


def admin_token_ok() -> bool:
    """``X-Admin-Token`` check for ``/admin`` and ``/control`` (control-api.md, Protection)."""
    expected = current_app.config.get("SCORPIO_ADMIN_TOKEN") or ""
    if not expected:
        return True
    given = request.headers.get("X-Admin-Token", "")
    return hmac.compare_digest(given.encode(), expected.encode())


#: Methods that change state: their bodies must be JSON on ``/admin/api`` and ``/control``.
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: ``Sec-Fetch-Site`` of a request a browser made for a page of this server, or typed by a person.
_SAME_SITE = frozenset({"same-origin", "none"})


def cross_site_refusal() -> Response | None:
    """403 for a request a browser made on behalf of a page of another site (issue 15).

    The admin APIs keep no cookie, but on loopback without a token they are open, and a page
    of any site could otherwise post to them from a developer's browser.  Browsers say where a
    request comes from in ``Sec-Fetch-Site`` and ``Origin``; command-line tools (curl, the CLI,
    the pytest plugin's client) send neither, so they are not affected.  ``same-site`` is
    refused too: another port of the same host is another application.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site.strip().lower() not in _SAME_SITE:
        return json_error("refused: the request came from a page of another site (Sec-Fetch-Site)", 403)
    origin = request.headers.get("Origin")
    if origin is not None and not _same_origin(origin):
        return json_error("refused: the request came from a page of another origin (Origin)", 403)
    return None


def _same_origin(origin: str) -> bool:
    """``Origin`` names this server: same host and port as the ``Host`` the request was sent to."""
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.netloc.lower() == request.host.lower()


def body_type_refusal() -> Response | None:
    """415 for a state-changing request whose body is not sent as JSON (issue 15).

    An HTML form or a ``fetch`` without CORS pre-flight can only send ``text/plain``, form and
    multipart bodies; requiring ``application/json`` closes that door.  A request without a
    body (``curl -X POST .../control/reset``) needs no type.
    """
    if request.method not in STATE_CHANGING:
        return None
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not chunked and not request.content_length:
        return None
    if request.mimetype == "application/json":
        return None
    shown = request.mimetype or "none"
    return json_error(f"the body must be sent as Content-Type: application/json, not {shown!r}", 415)
