"""JSON that every entry point shares: the one body parser (:func:`parse_json`) and the checks on
parsed JSON (HTTP bodies, snapshots, the state file)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def json_problem(data: Any, max_depth: int) -> str | None:
    """What makes parsed JSON unacceptable, if anything: nesting deeper than ``max_depth``, or a
    string with an unpaired UTF-16 surrogate (``"\\ud800"`` parses, but is no text and cannot be
    stored, logged or answered as UTF-8).  Walked without recursion."""
    stack = [(data, 1)]
    while stack:
        item, level = stack.pop()
        if level > max_depth:
            return f"is nested deeper than {max_depth} levels"
        if isinstance(item, dict):
            stack.extend((key, level) for key in item)
            stack.extend((value, level + 1) for value in item.values())
        elif isinstance(item, list):
            stack.extend((value, level + 1) for value in item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "has a string with an unpaired UTF-16 surrogate (\\ud800-\\udfff)"
    return None


class JsonRefused(ValueError):
    """A body that is not acceptable JSON; ``reason`` says why, so each API words it its own way:
    ``encoding`` (not UTF-8), ``depth`` (too deep for the parser), ``syntax`` (not JSON, or
    ``NaN``/``Infinity``), ``content`` (see :func:`json_problem`)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


#: Built once: ``json.loads`` with options builds a new decoder per call.
_decoder = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def parse_json(raw: bytes, max_depth: int) -> Any:
    """The one JSON body parser of every API: UTF-8 (a leading BOM allowed), fractions as exact
    ``Decimal``, no ``NaN``/``Infinity``, no nesting deeper than ``max_depth`` and no unpaired
    surrogate; :class:`JsonRefused` otherwise."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JsonRefused("encoding", str(exc)) from exc
    try:
        if text.startswith("\ufeff"):  # a second BOM: what json.loads refuses before decoding
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        data = _decoder.decode(text)
    except RecursionError as exc:
        raise JsonRefused("depth", f"is nested deeper than {max_depth} levels") from exc
    except ValueError as exc:
        raise JsonRefused("syntax", str(exc)) from exc
    if _may_have_problem(text, max_depth):
        problem = json_problem(data, max_depth)
        if problem:
            raise JsonRefused("content", problem)
    return data


def _may_have_problem(text: str, max_depth: int) -> bool:
    """Whether :func:`json_problem` could find anything in the JSON of ``text``, seen from the
    text alone (scans in C instead of a walk of every item, issue 17).

    An item's level is at most one more than the ``{`` and ``[`` in the text (in strings too,
    which only raises the count), and an unpaired surrogate can only come from a ``\\u``
    escape: the text was decoded from strict UTF-8, which has no surrogates.
    """
    return "\\u" in text or text.count("{") + text.count("[") >= max_depth
