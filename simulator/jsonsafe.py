"""Checks on parsed JSON that every entry point shares (HTTP bodies, snapshots, the state file)."""

from __future__ import annotations

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
