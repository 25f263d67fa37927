"""What a round looks like: slot reels, or the Live or Mini game's own result, agreeing with the win.

The engine decides the multiplier; this module draws a picture consistent with
it, so a player (or a developer reading a round page) sees *why* a round paid
what it paid.  Slots: five reels of three rows, paying on the middle row from
the left (3, 4 or 5 of a kind, per the pay table in :mod:`simulator.domain.rtp`).
Live and Mini games are drawn as their kind (baccarat hands, a roulette number,
dice, a plinko slot, a crash point...) by :mod:`simulator.game_kinds`.
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

from ..game_kinds import kind_of
from .rtp import SLOT_SYMBOLS

SYMBOLS = tuple(symbol for symbol, _ in SLOT_SYMBOLS)
#: Not a paying symbol: shown for wins the pay table does not hold (forced outcomes, bonus).
BONUS = "bonus"
REELS, ROWS, PAYLINE = 5, 3, 1


def _pays(symbol: str, count: int) -> Fraction:
    pays = dict(SLOT_SYMBOLS)[symbol]
    return Fraction(pays[count - 3])


def slot_combination(multiplier: Fraction) -> tuple[str, int] | None:
    """The payline combination that pays exactly ``multiplier``, if the pay table has one."""
    for symbol in reversed(SYMBOLS):
        for count in (5, 4, 3):
            if _pays(symbol, count) == multiplier:
                return symbol, count
    return None


def _losing_line(rng: random.Random) -> list[str]:
    """A middle row with no three of a kind from the left."""
    first = rng.choice(SYMBOLS)
    second = rng.choice(SYMBOLS)
    third = rng.choice([s for s in SYMBOLS if not (s == first == second)])
    return [first, second, third, rng.choice(SYMBOLS), rng.choice(SYMBOLS)]


def slot_view(multiplier: Fraction, rng: random.Random) -> dict[str, Any]:
    combo = slot_combination(multiplier) if multiplier else None
    if multiplier == 0:
        line, paying = _losing_line(rng), None
    elif combo is not None:
        symbol, count = combo
        others = [s for s in SYMBOLS if s != symbol]
        line = [symbol] * count + [rng.choice(others) for _ in range(REELS - count)]
        paying = {"symbol": symbol, "count": count}
    else:
        line = [BONUS] * 3 + [rng.choice(SYMBOLS) for _ in range(REELS - 3)]
        paying = {"symbol": BONUS, "count": 3}
    grid = [[rng.choice(SYMBOLS) for _ in range(REELS)] for _ in range(ROWS)]
    grid[PAYLINE] = line
    return {"kind": "slot", "grid": grid, "payline": PAYLINE, "paying": paying}


def round_view(category: str, game_code: str, multiplier: Fraction, rng: random.Random) -> dict[str, Any]:
    kind = kind_of(category, game_code)
    return slot_view(multiplier, rng) if kind is None else kind.drawing(multiplier, rng)
