"""Request bodies in, envelopes out (spec 2.1, 2.2, 13.2).

Bodies are parsed with decimals kept exact, ``NaN``/``Infinity`` and unpaired
surrogates refused, and depth and size bounded, so hostile input becomes a 1002
rather than a crash.
Every ``/v4`` response is the envelope ``{"code", "message", "data"?}``.

An answer is built as plain WSGI parts (:class:`Answer`: status line, header
list, bytes), which the ``/v4`` entrance (:mod:`simulator.api.front`) hands to the
server as they are: no Flask here.  The parser and encoder are built once:
``json.loads``/``json.dumps`` with options build a new one per call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES

from ..codes import ResultCode, SimError
from ..http import JSON_HEADERS, utf8
from ..jsonsafe import JsonRefused, parse_json
from ..money import json_default

#: ``X-Sim-Error-Detail`` is cut to this many characters.
MAX_DETAIL = 500
_NEWLINE = re.compile(r"[\r\n]")
#: Control characters (C0 and DEL): a header value carries none of them raw (issue 15), since
#: servers refuse such a header and the client would get a 500 instead of the envelope.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def header_safe(text: str) -> str:
    """``text`` as printable ASCII: non-ASCII and control characters as ``\\xNN``-style escapes.

    The detail header often quotes the request (``no endpoint /v4/a<LF>b``); raw request
    bytes never reach a response header.
    """
    shown = text.encode("ascii", "backslashreplace").decode()
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", shown)


_JSON_HEADERS = list(JSON_HEADERS.items())


_encoder = json.JSONEncoder(default=json_default, ensure_ascii=False, separators=(",", ":"))

#: How ``/v4`` words each reason a body is refused (a 1002 on field ``body``).
_REFUSALS = {
    "encoding": "The request body must be UTF-8 encoded JSON.",
    "depth": "The request body {detail}.",
    "syntax": "The request body is not valid JSON: {detail}",
    "content": "The request body {detail}.",
}


def parse_body(raw: bytes, max_depth: int) -> Any:
    """The JSON body as Python values (amounts as Decimal); an empty body is ``{}``."""
    if not raw.strip():
        return {}
    try:
        return parse_json(raw, max_depth)
    except JsonRefused as refused:
        message = _REFUSALS[refused.reason].format(detail=refused.detail)
        raise SimError.validation("body", message) from refused


def status_line(status: int) -> str:
    """``404`` -> ``"404 NOT FOUND"``, as werkzeug writes it (``"444 UNKNOWN"`` for the unnamed)."""
    return f"{status} {HTTP_STATUS_CODES.get(status, 'unknown').upper()}"


class Answer:
    """A response as WSGI parts; header values are checked as werkzeug checks them."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def add_header(self, name: str, value: str) -> None:
        if _NEWLINE.search(value) is not None:
            raise ValueError("Header values must not contain newline characters.")
        self.headers.append((name, value))

    def __call__(self, start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(self.status, self.headers)
        return [self.body]


_STATUS = {status: status_line(status) for status in (200, 404, 405)}


def envelope_answer(code: ResultCode, data: Any = None, status: int = 200, detail: str = "") -> Answer:
    """Build the envelope; ``data`` is omitted for errors and bare successes (spec 2.2, OP-13)."""
    body: dict[str, Any] = {"code": int(code), "message": code.name}
    if data is not None:
        body["data"] = data
    payload = utf8(_encoder.encode(body))
    headers = [*_JSON_HEADERS, ("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    answer = Answer(_STATUS.get(status) or status_line(status), headers, payload)
    if detail and code != ResultCode.OK:
        answer.add_header("X-Sim-Error-Detail", header_safe(detail)[:MAX_DETAIL])
    return answer


def error_answer(error: SimError, status: int = 200) -> Answer:
    data = error.field_errors if error.code == ResultCode.VALIDATION_ERROR else None
    return envelope_answer(error.code, data, status, error.detail)
