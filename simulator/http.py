"""Helpers shared by the simulator's own JSON APIs (``/admin/api``, ``/control``).

These APIs are plain REST (control-api.md): JSON bodies, HTTP status codes and
errors as ``{"error": "..."}`` - never the ``/v4`` envelope.
"""

from __future__ import annotations

import hmac
import json
from decimal import Decimal
from typing import Any

from flask import Response, current_app, request

from .codes import ResultCode, SimError
from .money import json_number

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


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return json_number(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def json_response(data: Any, status: int = 200) -> Response:
    text = json.dumps(data, default=_encode, ensure_ascii=False)
    return Response(text, status=status, mimetype="application/json")


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


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def json_body(expect: type = dict) -> Any:
    """The JSON body (empty = ``{}``); 400 for malformed JSON or the wrong top-level type.

    Fractions are parsed as exact ``Decimal`` (the amount fields accept no float, so
    ``{"amount": 0.5}`` would otherwise be refused), and ``NaN``/``Infinity`` are refused.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {} if expect is dict else expect()
    try:
        body = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, expect):
        raise ApiError(f"the body must be a JSON {'object' if expect is dict else expect.__name__}")
    return body


def handle_errors(blueprint: Any) -> None:
    """Register JSON error answers for domain and client errors on a blueprint."""
    blueprint.register_error_handler(ApiError, lambda e: json_error(e.message, e.status))
    blueprint.register_error_handler(SimError, error_for)


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
