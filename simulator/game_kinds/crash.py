"""Crash games (Aviator, Avia Masters, Balloon Mania): a multiplier climbs until it crashes.

The player's auto cash-out target is the engine's multiplier: the round pays it when
the crash comes later, and nothing when the crash comes first.  ``crash_point`` and
``cashout`` keep the two-decimal form older rounds were stored with.
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

from .common import exact, pick, read, settle

#: Auto cash-out targets a losing round shows (the crash comes before them).
TARGETS = tuple(Fraction(v) for v in ("1.5", "2", "3", "5", "10"))
#: The lowest cash-out: the climb starts at 1.00, so a smaller multiplier is paid as a bonus on it.
LOWEST = Fraction(101, 100)
HUNDREDTH = Fraction(1, 100)


def _text(value: Fraction) -> str:
    return f"{float(value):.2f}"


def draw_crash(multiplier: Fraction, rng: random.Random) -> dict[str, Any]:
    bonus = None
    if multiplier == 0:
        target = pick(TARGETS, rng)
        room = int((target - 1) * 100)  # crash points 1.00 .. target - 0.01
        crash = 1 + rng.randrange(room) * HUNDREDTH
        cashout = None
    else:
        target, bonus = (multiplier, None) if multiplier >= LOWEST else (LOWEST, multiplier)
        # Shown with two decimals, the crash point is always visibly above the target.
        crash = (target * 100).__ceil__() * HUNDREDTH + rng.randint(1, 300) * HUNDREDTH
        cashout = _text(target)
    return {
        "kind": "crash",
        "crash_point": _text(crash),
        "crash": exact(crash),
        "target": exact(target),
        "cashout": cashout,
        "bonus": None if bonus is None else exact(bonus),
    }


def pay_crash(view: dict[str, Any]) -> Fraction:
    """The target, when the multiplier reached it before crashing; else nothing."""
    target, crash = read(view["target"]), read(view["crash"])
    return settle(target if crash > target else Fraction(0), view)
