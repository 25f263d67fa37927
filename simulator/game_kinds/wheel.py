"""Roulette (European, one zero) and Red or Black: a winning number and its colour.

A bet covering ``n`` numbers returns ``36 / n`` (straight up 35:1 -> 36x, even money
1:1 -> 2x), so the engine's multipliers map onto real bets: 36 a straight up, 18 a
split, 12 a street, 9 a corner, 6 a six line, 3 a dozen or column, 2 a colour, 1.5
two dozens.  Red or Black takes only the colours (and green, the zero, at 35:1).
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

from .common import bet, exact, nearest, pick, settle

RED = frozenset({1, 3, 5, 7, 9, 12, 14, 16, 18, 19, 21, 23, 25, 27, 30, 32, 34, 36})
NUMBERS = tuple(range(37))
ORDINALS = {1: "1st", 2: "2nd", 3: "3rd"}


def colour(number: int) -> str:
    return "green" if number == 0 else "red" if number in RED else "black"


def _bets_of(size: int) -> list[tuple[str, str, tuple[int, ...]]]:
    """Every roulette bet covering ``size`` numbers: ``(key, label, numbers)``."""
    if size == 1:
        return [(f"straight:{n}", f"Straight up {n}", (n,)) for n in NUMBERS]
    if size == 2:
        across = [(n, n + 1) for n in range(1, 36) if n % 3]
        down = [(n, n + 3) for n in range(1, 34)]
        return [(f"split:{a}-{b}", f"Split {a}/{b}", (a, b)) for a, b in across + down]
    if size == 3:
        return [
            (f"street:{r}", f"Street {3 * r + 1}–{3 * r + 3}", tuple(range(3 * r + 1, 3 * r + 4)))
            for r in range(12)
        ]
    if size == 4:
        return [
            (f"corner:{n}", f"Corner {n}/{n + 1}/{n + 3}/{n + 4}", (n, n + 1, n + 3, n + 4))
            for n in range(1, 33)
            if n % 3
        ]
    if size == 6:
        return [
            (f"line:{r}", f"Six line {3 * r + 1}–{3 * r + 6}", tuple(range(3 * r + 1, 3 * r + 7)))
            for r in range(11)
        ]
    if size == 12:
        dozens = [
            (f"dozen:{d}", f"{ORDINALS[d]} dozen", tuple(range(12 * d - 11, 12 * d + 1))) for d in (1, 2, 3)
        ]
        columns = [(f"column:{c}", f"Column {c}", tuple(range(c, 37, 3))) for c in (1, 2, 3)]
        return dozens + columns
    if size == 18:
        return [
            ("red", "Red", tuple(sorted(RED))),
            ("black", "Black", tuple(n for n in range(1, 37) if n not in RED)),
            ("odd", "Odd", tuple(range(1, 37, 2))),
            ("even", "Even", tuple(range(2, 37, 2))),
            ("low", "1–18", tuple(range(1, 19))),
            ("high", "19–36", tuple(range(19, 37))),
        ]
    if size == 24:
        return [
            ("dozens:1-2", "Dozens 1–24", tuple(range(1, 25))),
            ("dozens:2-3", "Dozens 13–36", tuple(range(13, 37))),
        ]
    return []


ROULETTE_SIZES = (1, 2, 3, 4, 6, 12, 18, 24)
ROULETTE_BETS = [b for size in ROULETTE_SIZES for b in _bets_of(size)]
#: The bets a losing round shows: the ones players place most.
ROULETTE_USUAL = _bets_of(18) + _bets_of(12) + _bets_of(1)
RED_BLACK_BETS = [
    ("red", "Red", tuple(sorted(RED))),
    ("black", "Black", tuple(n for n in range(1, 37) if n not in RED)),
    ("green", "Green (zero)", (0,)),
]
RULES = {
    "roulette": "European wheel, one zero; a bet on n numbers pays 36/n times the stake.",
    "red_black": "Red or Black pays 1:1; Green, the zero, pays 35:1.",
}


def _pays(numbers: tuple[int, ...]) -> Fraction:
    return Fraction(36, len(numbers))


ROULETTE_PAYS = [(b, _pays(b[2])) for b in ROULETTE_BETS]
RED_BLACK_PAYS = [(b, _pays(b[2])) for b in RED_BLACK_BETS]


def draw_wheel(multiplier: Fraction, rng: random.Random, variant: str = "roulette") -> dict[str, Any]:
    """A spin of the wheel whose winning number makes the player's bet pay ``multiplier``."""
    if variant == "red_black":
        bets, usual = RED_BLACK_PAYS, RED_BLACK_BETS[:2]
    else:
        bets, usual = ROULETTE_PAYS, ROULETTE_USUAL
    bonus = None
    if multiplier == 0:
        chosen = pick(usual, rng)
        number = pick([n for n in NUMBERS if n not in chosen[2]], rng)
    else:
        fitting = [b for b, pays in bets if pays == multiplier]
        if fitting:
            chosen = pick(fitting, rng)
        else:
            chosen = nearest(bets, multiplier, rng)
            bonus = multiplier
        number = pick(chosen[2], rng)
    key, label, numbers = chosen
    return {
        "kind": variant,
        "number": number,
        "colour": colour(number),
        "bet": bet(key, label, _pays(numbers), numbers=list(numbers)),
        "rules": RULES[variant],
        "bonus": None if bonus is None else exact(bonus),
    }


def pay_wheel(view: dict[str, Any]) -> Fraction:
    numbers = view["bet"]["numbers"]
    return settle(_pays(tuple(numbers)) if view["number"] in numbers else Fraction(0), view)
