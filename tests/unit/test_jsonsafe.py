"""The one JSON body parser: the depth and surrogate checks, walked only when the text allows a problem."""

from __future__ import annotations

import pytest

from simulator.jsonsafe import JsonRefused, parse_json


def _reason(raw: bytes, max_depth: int) -> str | None:
    try:
        parse_json(raw, max_depth)
    except JsonRefused as refused:
        return refused.reason
    return None


@pytest.mark.parametrize(
    ("raw", "max_depth", "reason"),
    [
        (b'{"a":1}', 2, None),  # the object at level 1, its value at level 2
        (b'{"a":[1]}', 2, "content"),  # 1 sits at level 3
        (b"[[[]]]", 3, None),
        (b"[[[1]]]", 3, "content"),
        (b'{"a":"[[[["}', 2, None),  # brackets inside a string nest nothing
        (b"1", 1, None),
    ],
)
def test_the_depth_limit_counts_levels_whatever_the_text_looks_like(raw, max_depth, reason):
    assert _reason(raw, max_depth) == reason


def test_an_escaped_lone_surrogate_is_refused():
    assert _reason(b'{"name":"ab\\ud800cd"}', 32) == "content"


def test_an_escaped_surrogate_pair_is_one_character():
    assert parse_json(b'{"name":"\\ud83d\\ude00"}', 32) == {"name": "\U0001f600"}


def test_a_surrogate_encoded_in_utf8_is_not_utf8():
    assert _reason(b'{"name":"' + b"\xed\xa0\x80" + b'"}', 32) == "encoding"
