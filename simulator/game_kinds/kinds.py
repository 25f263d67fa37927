"""Which kind of game each Live and Mini title is, what it draws and what its button says.

The catalogue (``fixtures/default/catalogue.json``) names its Live and Mini games
but not their kind, and the round's drawing only knows the game's category and code
(``round_view``), so the kind comes from the code: :data:`GAME_KINDS` is the one
mapping, a code or a word in the code per kind, first match wins.  The catalogue's
own codes say what they are (``sim_live_baccarat``, ``bg25plinko``, ``aviator``)
except Roulette and Red Or Black of provider 12, whose codes are numbers.  A Live
game that matches nothing is drawn as roulette, a Mini game as a crash game.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .blackjack import draw_blackjack, pay_blackjack
from .cards import draw_baccarat, draw_dragon_tiger, pay_baccarat, pay_dragon_tiger
from .crash import draw_crash, pay_crash
from .dice import draw_dice, pay_dice
from .plinko import draw_plinko, pay_plinko
from .wheel import draw_wheel, pay_wheel


@dataclass(frozen=True)
class Kind:
    """A kind of game: how it draws a round, what a drawing pays, and its action button."""

    name: str
    action: str
    draw: Callable[..., dict[str, Any]]
    pay: Callable[[dict[str, Any]], Fraction]
    options: dict[str, Any] = field(default_factory=dict)

    def drawing(self, multiplier: Fraction, rng: random.Random) -> dict[str, Any]:
        return self.draw(multiplier, rng, **self.options)


BACCARAT = Kind("baccarat", "Deal", draw_baccarat, pay_baccarat)
BLACKJACK = Kind("blackjack", "Deal", draw_blackjack, pay_blackjack)
MULTIHAND = Kind("blackjack", "Deal", draw_blackjack, pay_blackjack, {"hands": 3})
ROULETTE = Kind("roulette", "Spin", draw_wheel, pay_wheel)
RED_BLACK = Kind("red_black", "Spin", draw_wheel, pay_wheel, {"variant": "red_black"})
DICE = Kind("dice", "Roll", draw_dice, pay_dice)
DRAGON_TIGER = Kind("dragon_tiger", "Deal", draw_dragon_tiger, pay_dragon_tiger)
PLINKO = Kind("plinko", "Drop", draw_plinko, pay_plinko)
CRASH = Kind("crash", "Bet", draw_crash, pay_crash)

#: ``(category, exact code or word in the code, kind)``, first match wins.  The catalogue's
#: titles: Live Baccarat and Speed Baccarat, Live Blackjack, Multihand Blackjack Pro2, Live
#: Roulette and Roulette (provider 12, code 14), Red Or Black (provider 12, code 101), Live
#: Sic Bo and Rocket Dice, Dragon Tiger, Plinko and Plinko XY, Aviator, Avia Masters and
#: Balloon Mania.
GAME_KINDS: tuple[tuple[str, str, Kind], ...] = (
    ("Mini", "=14", ROULETTE),
    ("Mini", "=101", RED_BLACK),
    ("", "dragon_tiger", DRAGON_TIGER),
    ("", "baccarat", BACCARAT),
    ("Mini", "=bg25blackjackpro2", MULTIHAND),
    ("", "multihand", MULTIHAND),
    ("", "blackjack", BLACKJACK),
    ("", "redorblack", RED_BLACK),
    ("", "roulette", ROULETTE),
    ("", "sicbo", DICE),
    ("", "dice", DICE),
    ("", "plinko", PLINKO),
    ("", "aviator", CRASH),
    ("", "aviamasters", CRASH),
    ("", "balloon", CRASH),
    ("", "crash", CRASH),
)
#: What a Live or Mini game matching nothing above is drawn as.
DEFAULT_KIND = {"Live": ROULETTE, "Mini": CRASH}


def kind_of(category: str, game_code: str) -> Kind | None:
    """The kind of a Live or Mini game (None for Slots: they draw reels; any other category is
    drawn like Mini)."""
    if category == "Slots":
        return None
    code = game_code.lower()
    for only, pattern, kind in GAME_KINDS:
        if only and only != category:
            continue
        if code == pattern[1:] if pattern.startswith("=") else pattern in code:
            return kind
    return DEFAULT_KIND.get(category, CRASH)


#: What each kind's drawing pays, by the drawing's own ``kind`` field.
PAYERS: dict[str, Callable[[dict[str, Any]], Fraction]] = {
    kind.name: kind.pay
    for kind in (BACCARAT, BLACKJACK, ROULETTE, RED_BLACK, DICE, DRAGON_TIGER, PLINKO, CRASH)
}


def payout(view: dict[str, Any]) -> Fraction:
    """What a drawing pays, computed from what it shows (cards, number, dice, slot, crash)."""
    return PAYERS[view["kind"]](view)


def action_of(category: str, game_code: str) -> str:
    """The game page's button: Deal, Spin, Roll, Drop or Bet (Spin for slots)."""
    kind = kind_of(category, game_code)
    return "Spin" if kind is None else kind.action
