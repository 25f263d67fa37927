"""Request bodies in, envelopes out (spec 2.1, 2.2, 13.2).

Bodies are parsed with decimals kept exact, ``NaN``/``Infinity`` and unpaired
surrogates refused, and depth and size bounded, so hostile input becomes a 1002
rather than a crash.
Every ``/v4`` response is the envelope ``{"code", "message", "data"?}``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import Response

from ..codes import ResultCode, SimError
from ..http import JSON_HEADERS, utf8
from ..jsonsafe import json_problem
from ..money import json_default

#: A handler's return value for "success without a payload" (spec 2.2).
BARE = object()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def parse_body(raw: bytes, max_depth: int) -> Any:
    """The JSON body as Python values (amounts as Decimal); an empty body is ``{}``."""
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8-sig")
        data = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise SimError.validation("body", "The request body must be UTF-8 encoded JSON.") from exc
    except RecursionError as exc:
        raise SimError.validation(
            "body", f"The request body is nested deeper than {max_depth} levels."
        ) from exc
    except ValueError as exc:
        raise SimError.validation("body", f"The request body is not valid JSON: {exc}") from exc
    problem = json_problem(data, max_depth)
    if problem:
        raise SimError.validation("body", f"The request body {problem}.")
    return data


def envelope(code: ResultCode, data: Any = None, status: int = 200, detail: str = "") -> Response:
    """Build the envelope; ``data`` is omitted for errors and bare successes (spec 2.2, OP-13)."""
    body: dict[str, Any] = {"code": int(code), "message": code.name}
    if data is not None and data is not BARE:
        body["data"] = data
    text = json.dumps(body, default=json_default, ensure_ascii=False, separators=(",", ":"))
    response = Response(utf8(text), status=status, mimetype="application/json", headers=JSON_HEADERS)
    if detail and code != ResultCode.OK:
        response.headers["X-Sim-Error-Detail"] = detail.encode("ascii", "backslashreplace").decode()[:500]
    return response


def error_envelope(error: SimError, status: int = 200) -> Response:
    data = error.field_errors if error.code == ResultCode.VALIDATION_ERROR else None
    return envelope(error.code, data, status, error.detail)
