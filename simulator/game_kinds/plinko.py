"""Plinko: a ball drops through 16 rows of pins into one of 17 slots, each paying its multiplier.

The board's slots carry the Mini pay table's multipliers (0 in the middle), so the
ball's slot is the outcome; a path of left/right bounces (as many rights as the
slot's index) shows how it got there.  A multiplier the board does not hold lights
up the nearest slot as a bonus slot paying it.
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

from .common import exact, nearest, pick, read

ROWS = 16
SLOTS = tuple(Fraction(v) for v in ("100", "25", "10", "5", "3", "2", "1.5", "1.2", "0"))
BOARD = SLOTS + tuple(reversed(SLOTS[:-1]))  # 17 slots, symmetric, 0 in the middle


def draw_plinko(multiplier: Fraction, rng: random.Random) -> dict[str, Any]:
    board = list(BOARD)
    fitting = [i for i, pays in enumerate(board) if pays == multiplier]
    bonus = None
    if fitting:
        slot = pick(fitting, rng)
    else:
        slot = nearest(((i, pays) for i, pays in enumerate(board) if pays > 0), multiplier, rng)
        board[slot] = multiplier
        bonus = multiplier
    path = [1] * slot + [0] * (ROWS - slot)
    rng.shuffle(path)
    return {
        "kind": "plinko",
        "rows": ROWS,
        "slots": [exact(pays) for pays in board],
        "path": path,
        "slot": slot,
        "bonus": None if bonus is None else exact(bonus),
    }


def pay_plinko(view: dict[str, Any]) -> Fraction:
    """The slot the path leads to (each right bounce moves one slot right) pays its multiplier."""
    path = view["path"]
    if len(path) != view["rows"] or sum(path) != view["slot"]:
        raise ValueError("the ball's path does not end in its slot")
    return read(view["slots"][sum(path)])
