"""What every table and arcade drawing shares: exact multipliers, bets, and the bonus rule.

A drawing is a JSON-able dict (it is stored on the round and sent by the spin API).
Multipliers travel as exact fraction strings (``"3/2"``, ``"36"``), because the
engine's multipliers are fractions and a drawing must agree with the win exactly.

**Bonus.**  The RTP engine decides the multiplier from a pay table per category
(:mod:`simulator.domain.rtp`), and forced outcomes, max-win caps and bonus calls can
ask for any multiplier at all.  When a game has no bet that pays exactly that much,
the drawing shows the bet of the nearest payout winning, and a ``bonus`` that pays
the multiplier instead - as the slot reels show three bonus symbols.  So every
drawing is a real result of its game, and what it pays is always the win.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Any, TypeVar

T = TypeVar("T")
#: Bounded tries for drawings found by dealing at random until one fits (each fits often).
MAX_TRIES = 2000


def exact(value: Fraction | int) -> str:
    """``Fraction(3, 2)`` -> ``"3/2"``; whole numbers without a denominator."""
    return str(Fraction(value))


def read(text: Any) -> Fraction:
    return Fraction(str(text))


def bet(key: str, label: str, pays: Fraction | int, **extra: Any) -> dict[str, Any]:
    """What the player bet on, and what that bet pays when it wins (stake included)."""
    return {"on": key, "label": label, "pays": exact(pays), **extra}


def settle(base: Fraction, view: dict[str, Any]) -> Fraction:
    """What a drawing pays: its game's own payout, or its bonus when the bet won one."""
    bonus = view.get("bonus")
    if bonus is not None and base > 0:
        return read(bonus)
    return base


def nearest(options: Iterable[tuple[T, Fraction]], target: Fraction, rng: random.Random) -> T:
    """The option whose payout is nearest ``target`` (ties drawn at random)."""
    listed = list(options)
    best = min(abs(pays - target) for _, pays in listed)
    return rng.choice([item for item, pays in listed if abs(pays - target) == best])


def pick(items: Sequence[T], rng: random.Random) -> T:
    return items[rng.randrange(len(items))]
