"""Three dice: sic bo and Rocket Dice, with sic bo's bets and pay table.

Small (4-10) and Big (11-17) pay 1:1 and lose on any triple; a single number pays
1:1, 2:1 or 3:1 as it shows on one, two or three dice; the totals 4 to 17 pay 60:1
down to 6:1; a combination of two numbers 6:1, a specific double 10:1, any triple
30:1 and a specific triple 180:1.  Every drawing is picked from the 216 throws that
make the player's bet pay what the round paid.
"""

from __future__ import annotations

import functools
import itertools
import random
from fractions import Fraction
from typing import Any, NamedTuple

from .common import bet, exact, nearest, pick, settle

THROWS = tuple(itertools.product(range(1, 7), repeat=3))
#: What a bet on a total returns (stake included), per total.
TOTAL_RETURNS = {
    4: 61,
    5: 31,
    6: 18,
    7: 13,
    8: 9,
    9: 7,
    10: 7,
    11: 7,
    12: 7,
    13: 9,
    14: 13,
    15: 18,
    16: 31,
    17: 61,
}
RULES = "Sic bo pay table: Small/Big 1:1 (lose on a triple), a single number 1:1 to 3:1, totals 6:1 to 60:1."


def _bets() -> list[tuple[str, str]]:
    keys = [("small", "Small (4–10)"), ("big", "Big (11–17)")]
    keys += [(f"single:{n}", f"Single {n}") for n in range(1, 7)]
    keys += [(f"total:{t}", f"Total {t}") for t in TOTAL_RETURNS]
    keys += [(f"double:{n}", f"Double {n}") for n in range(1, 7)]
    keys += [("any_triple", "Any triple")] + [(f"triple:{n}", f"Triple {n}") for n in range(1, 7)]
    keys += [(f"combo:{a}-{b}", f"Combination {a}+{b}") for a, b in itertools.combinations(range(1, 7), 2)]
    return keys


BETS = dict(_bets())
USUAL = ["small", "big", *[f"single:{n}" for n in range(1, 7)], *[f"total:{t}" for t in range(4, 18)]]


def dice_return(on: str, dice: tuple[int, ...] | list[int]) -> Fraction:
    """What a bet on ``on`` returns (stake included) for these three dice."""
    triple = dice[0] == dice[1] == dice[2]
    kind, _, arg = on.partition(":")
    if kind in ("small", "big"):
        low = 4 <= sum(dice) <= 10
        return (
            Fraction(2) if not triple and low == (kind == "small") and 4 <= sum(dice) <= 17 else Fraction(0)
        )
    if kind == "single":
        count = list(dice).count(int(arg))
        return Fraction(1 + count) if count else Fraction(0)
    if kind == "total":
        return Fraction(TOTAL_RETURNS[int(arg)]) if sum(dice) == int(arg) else Fraction(0)
    if kind == "double":
        return Fraction(11) if list(dice).count(int(arg)) >= 2 else Fraction(0)
    if kind == "any_triple":
        return Fraction(31) if triple else Fraction(0)
    if kind == "triple":
        return Fraction(181) if triple and dice[0] == int(arg) else Fraction(0)
    first, second = (int(n) for n in arg.split("-"))
    return Fraction(7) if first in dice and second in dice else Fraction(0)


class PayTable(NamedTuple):
    """The 216 throws sorted by what each bet returns on them."""

    #: The throws on which a bet returns a given amount: ``(bet, return) -> throws``.
    throws_for: dict[tuple[str, Fraction], list[tuple[int, ...]]]
    #: Every (bet, return) a winning round can show.
    wins: list[tuple[str, Fraction]]
    #: What each bet returns at best (what the page says it pays).
    best: dict[str, Fraction]


@functools.cache
def pay_table() -> PayTable:
    """Worked out at the first dice round, not at import: it takes tens of milliseconds, and every
    start of the simulator (a test fixture's too) imports this module."""
    throws_for: dict[tuple[str, Fraction], list[tuple[int, ...]]] = {}
    for on in BETS:
        for throw in THROWS:
            throws_for.setdefault((on, dice_return(on, throw)), []).append(throw)
    wins = sorted(item for item in throws_for if item[1] > 0)
    best = {on: max(pays for bet_on, pays in throws_for if bet_on == on) for on in BETS}
    return PayTable(throws_for, wins, best)


def draw_dice(multiplier: Fraction, rng: random.Random) -> dict[str, Any]:
    table = pay_table()
    bonus = None
    if multiplier == 0:
        on, wanted = pick(USUAL, rng), Fraction(0)
    elif fitting := [item for item in table.wins if item[1] == multiplier]:
        on, wanted = pick(fitting, rng)
    else:
        on, wanted = nearest(((item, item[1]) for item in table.wins), multiplier, rng)
        bonus = multiplier
    dice = pick(table.throws_for[(on, wanted)], rng)
    best = table.best[on]
    return {
        "kind": "dice",
        "dice": list(dice),
        "total": sum(dice),
        "bet": bet(on, BETS[on], wanted if wanted > 0 else best),
        "rules": RULES,
        "bonus": None if bonus is None else exact(bonus),
    }


def pay_dice(view: dict[str, Any]) -> Fraction:
    return settle(dice_return(view["bet"]["on"], view["dice"]), view)
