"""Tolerant reading of integrator replies (spec 6.7, 6.8, 13.1).

Real wallets answer in many dialects: numeric strings for ``result`` and
``balance``, ``text/html`` content types, empty arrays, HTML error pages.  This
module classifies any reply without raising, so the caller can apply 6.8.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

_NUMERIC = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")
_BOM = b"\xef\xbb\xbf"
#: One decoder for every reply (``json.loads`` with ``parse_float`` builds one per call).
_decode = json.JSONDecoder(parse_float=Decimal).decode


@dataclass(frozen=True)
class Reply:
    """A reply as the platform understands it.

    ``usable`` is False for anything 6.8 calls unusable; ``result`` is then None.
    ``problem`` says what was wrong, for the callback log.
    """

    usable: bool
    result: int | None = None
    data: dict[str, Any] | None = None
    balance: Decimal | None = None
    problem: str = ""
    #: True when ``result`` or ``balance`` came as a numeric string (a warning, 6.7).
    stringly: bool = False

    @property
    def ok(self) -> bool:
        return self.usable and self.result == 0


def _number(value: Any) -> tuple[Decimal | None, bool]:
    """``(value, was_string)`` for a JSON number or numeric string, else ``(None, False)``."""
    if isinstance(value, bool):
        return None, False
    if isinstance(value, int | Decimal):
        return Decimal(value), False
    if isinstance(value, float):
        return Decimal(repr(value)), False
    if isinstance(value, str) and _NUMERIC.match(value):
        try:
            return Decimal(value.strip()), True
        except InvalidOperation:
            return None, False
    return None, False


def read_reply(status: int, body: bytes, needs_balance: bool) -> Reply:
    """Classify one HTTP reply; ``needs_balance`` when a success must carry ``data.balance``."""
    if status != 200:
        return Reply(False, problem=f"HTTP {status}")
    try:
        parsed = _decode((body[3:] if body.startswith(_BOM) else body).decode())  # as "utf-8-sig"
    except (UnicodeDecodeError, ValueError, RecursionError):
        return Reply(False, problem="reply is not JSON")
    if not isinstance(parsed, dict):
        return Reply(False, problem=f"reply is a JSON {type(parsed).__name__}, not an object")
    result = parsed.get("result")
    result_was_string = False
    if type(result) is not int:  # the usual JSON integer needs no more work
        result_value, result_was_string = _number(result)
        if result_value is None or result_value != result_value.to_integral_value():
            return Reply(False, problem="reply has no integer 'result'")
        result = int(result_value)
    data = parsed.get("data")
    data = data if isinstance(data, dict) else None
    balance, balance_was_string = _number(data.get("balance")) if data else (None, False)
    if result == 0 and needs_balance and balance is None:
        return Reply(False, result=None, data=data, problem="success reply without a numeric data.balance")
    return Reply(
        True,
        result=result,
        data=data,
        balance=balance,
        stringly=result_was_string or balance_was_string,
    )
