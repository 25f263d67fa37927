"""What a round looks like: slot reels that agree with the win, a live result, a crash point.

The engine decides the multiplier; this module draws a picture consistent with
it, so a player (or a developer reading a round page) sees *why* a round paid
what it paid.  Slots: five reels of three rows, paying on the middle row from
the left (3, 4 or 5 of a kind, per the pay table in :mod:`simulator.domain.rtp`).
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

from .rtp import LIVE_BETS, SLOT_SYMBOLS

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


def live_view(game_code: str, multiplier: Fraction, rng: random.Random) -> dict[str, Any]:
    bets = {Fraction(pay): name for name, pay in LIVE_BETS}
    result = "lose" if multiplier == 0 else bets.get(multiplier, "win")
    return {"kind": "live", "table": game_code, "result": result, "number": rng.randint(0, 36)}


def mini_view(multiplier: Fraction, rng: random.Random) -> dict[str, Any]:
    """A crash game: a win cashed out at the multiplier before the crash; a loss crashed first."""
    if multiplier == 0:
        crash = Fraction(rng.randint(100, 140), 100)
        return {"kind": "crash", "crash_point": f"{float(crash):.2f}", "cashout": None}
    crash = multiplier + Fraction(rng.randint(1, 300), 100)
    return {"kind": "crash", "crash_point": f"{float(crash):.2f}", "cashout": f"{float(multiplier):.2f}"}


def round_view(category: str, game_code: str, multiplier: Fraction, rng: random.Random) -> dict[str, Any]:
    if category == "Slots":
        return slot_view(multiplier, rng)
    if category == "Live":
        return live_view(game_code, multiplier, rng)
    return mini_view(multiplier, rng)
