"""Card tables: baccarat (punto banco, no commission) and dragon tiger.

Cards are ``"<rank><suit>"`` strings (``"10H"``, ``"QS"``, ``"AD"``), dealt from an
eight-deck shoe (drawn with replacement: eight decks are near enough to endless).
Baccarat hands follow the tableau (naturals, the Player's and the Banker's third-card
rules), so every drawing is one a real table could deal.
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

from .common import MAX_TRIES, bet, exact, nearest, pick, settle

RANKS = ("A", "2", "3", "4", "5", "6", "7", "8", "9", "10", "J", "Q", "K")
SUITS = ("S", "H", "D", "C")


def card(rng: random.Random) -> str:
    return pick(RANKS, rng) + pick(SUITS, rng)


def rank(code: str) -> str:
    return code[:-1]


def suit(code: str) -> str:
    return code[-1]


# -- baccarat -------------------------------------------------------------------------------
#: Bet -> (label, what it can return).  No commission: a Banker win on 6 pays 1:2.
BACCARAT_BETS: dict[str, tuple[str, tuple[Fraction, ...]]] = {
    "player": ("Player", (Fraction(2), Fraction(1))),
    "banker": ("Banker", (Fraction(2), Fraction(3, 2), Fraction(1))),
    "tie": ("Tie", (Fraction(9),)),
    "player_pair": ("Player pair", (Fraction(12),)),
    "banker_pair": ("Banker pair", (Fraction(12),)),
}
BACCARAT_RULES = "No commission: a Banker win on 6 pays 1:2; Player and Banker bets push on a tie."


def baccarat_value(code: str) -> int:
    name = rank(code)
    return 1 if name == "A" else int(name) if name.isdigit() and name != "10" else 0


def baccarat_total(hand: list[str]) -> int:
    return sum(baccarat_value(c) for c in hand) % 10


def banker_draws(banker: int, third: int | None) -> bool:
    """The Banker's third-card rule, given the Player's third card (None: the Player stood)."""
    if third is None:
        return banker <= 5
    return (
        banker <= 2
        or (banker == 3 and third != 8)
        or (banker == 4 and 2 <= third <= 7)
        or (banker == 5 and 4 <= third <= 7)
        or (banker == 6 and third in (6, 7))
    )


def deal_baccarat(rng: random.Random) -> tuple[list[str], list[str]]:
    """One coup by the tableau: Player, Banker, Player, Banker; then the third cards."""
    player, banker = [card(rng)], [card(rng)]
    player.append(card(rng))
    banker.append(card(rng))
    if baccarat_total(player) >= 8 or baccarat_total(banker) >= 8:
        return player, banker  # a natural: both stand
    third = None
    if baccarat_total(player) <= 5:
        player.append(card(rng))
        third = baccarat_value(player[2])
    if banker_draws(baccarat_total(banker), third):
        banker.append(card(rng))
    return player, banker


def baccarat_return(on: str, player: list[str], banker: list[str]) -> Fraction:
    """What a bet on ``on`` returns (stake included) for these hands."""
    p, b = baccarat_total(player), baccarat_total(banker)
    if on == "player":
        return Fraction(2) if p > b else Fraction(1) if p == b else Fraction(0)
    if on == "banker":
        if b > p:
            return Fraction(3, 2) if b == 6 else Fraction(2)
        return Fraction(1) if p == b else Fraction(0)
    if on == "tie":
        return Fraction(9) if p == b else Fraction(0)
    hand = player if on == "player_pair" else banker
    return Fraction(12) if rank(hand[0]) == rank(hand[1]) else Fraction(0)


#: Hands a real coup could deal, for each (bet, return): used only if dealing never fits.
BACCARAT_FALLBACK: dict[tuple[str, Fraction], tuple[list[str], list[str]]] = {
    ("player", Fraction(2)): (["9S", "KH"], ["7D", "KC"]),
    ("player", Fraction(1)): (["9S", "KH"], ["9D", "KC"]),
    ("player", Fraction(0)): (["7S", "KH"], ["9D", "KC"]),
    ("banker", Fraction(2)): (["7S", "KH"], ["9D", "KC"]),
    ("banker", Fraction(3, 2)): (["5S", "KH", "10D"], ["6D", "KC"]),
    ("banker", Fraction(1)): (["9S", "KH"], ["9D", "KC"]),
    ("banker", Fraction(0)): (["9S", "KH"], ["7D", "KC"]),
    ("tie", Fraction(9)): (["9S", "KH"], ["9D", "KC"]),
    ("tie", Fraction(0)): (["9S", "KH"], ["7D", "KC"]),
    ("player_pair", Fraction(12)): (["4S", "4H"], ["KD", "KC"]),
    ("player_pair", Fraction(0)): (["9S", "KH"], ["7D", "KC"]),
    ("banker_pair", Fraction(12)): (["KD", "QC"], ["4S", "4H"]),
    ("banker_pair", Fraction(0)): (["9S", "KH"], ["7D", "KC"]),
}


def draw_baccarat(multiplier: Fraction, rng: random.Random, tries: int = MAX_TRIES) -> dict[str, Any]:
    if multiplier == 0:
        on, wanted, bonus = pick(("player", "banker", "player", "banker", "tie"), rng), Fraction(0), None
    else:
        natural = [(on, pays) for on, (_, returns) in BACCARAT_BETS.items() for pays in returns]
        fitting = [item for item in natural if item[1] == multiplier]
        if fitting:
            (on, wanted), bonus = pick(fitting, rng), None
        else:  # the side of the nearest win, paying the multiplier as a bonus
            won = [item for item in natural if item[1] > 1]
            (on, wanted), bonus = nearest(((item, item[1]) for item in won), multiplier, rng), multiplier
    for _ in range(tries):
        player, banker = deal_baccarat(rng)
        if baccarat_return(on, player, banker) == wanted:
            break
    else:
        player, banker = (list(hand) for hand in BACCARAT_FALLBACK[(on, wanted)])
    label, returns = BACCARAT_BETS[on]
    p, b = baccarat_total(player), baccarat_total(banker)
    return {
        "kind": "baccarat",
        "player": player,
        "banker": banker,
        "player_total": p,
        "banker_total": b,
        "winner": "player" if p > b else "banker" if b > p else "tie",
        "bet": bet(on, label, wanted if wanted > 1 else max(returns)),
        "rules": BACCARAT_RULES,
        "bonus": None if bonus is None else exact(bonus),
    }


def pay_baccarat(view: dict[str, Any]) -> Fraction:
    return settle(baccarat_return(view["bet"]["on"], view["player"], view["banker"]), view)


# -- dragon tiger ---------------------------------------------------------------------------
DT_ORDER = {name: index + 1 for index, name in enumerate(RANKS)}  # A low, K high
DT_BETS: dict[str, tuple[str, tuple[Fraction, ...]]] = {
    "dragon": ("Dragon", (Fraction(2), Fraction(1, 2))),
    "tiger": ("Tiger", (Fraction(2), Fraction(1, 2))),
    "tie": ("Tie", (Fraction(9),)),
    "suited_tie": ("Suited tie", (Fraction(51),)),
}
DT_RULES = "Dragon and Tiger pay 1:1 and lose half on a tie; Tie pays 8:1; Suited tie 50:1."


def dragon_tiger_return(on: str, dragon: str, tiger: str) -> Fraction:
    d, t = DT_ORDER[rank(dragon)], DT_ORDER[rank(tiger)]
    if on in ("dragon", "tiger"):
        mine, theirs = (d, t) if on == "dragon" else (t, d)
        return Fraction(2) if mine > theirs else Fraction(1, 2) if mine == theirs else Fraction(0)
    if on == "tie":
        return Fraction(9) if d == t else Fraction(0)
    return Fraction(51) if dragon == tiger else Fraction(0)


def _two_cards(on: str, wanted: Fraction, rng: random.Random) -> tuple[str, str]:
    """Dragon's and Tiger's cards for which a bet on ``on`` returns ``wanted`` (dealt directly)."""
    tie = wanted == Fraction(1, 2) or (on in ("tie", "suited_tie") and wanted > 0)
    if tie:
        name = pick(RANKS, rng)
        first = name + pick(SUITS, rng)
        second = first if on == "suited_tie" else name + pick([s for s in SUITS if s != suit(first)], rng)
        return first, second
    high = rng.randint(2, 13)
    low = rng.randint(1, high - 1)
    cards = RANKS[high - 1] + pick(SUITS, rng), RANKS[low - 1] + pick(SUITS, rng)
    winner = on if wanted > 0 else ("tiger" if on == "dragon" else "dragon")
    if on in ("tie", "suited_tie"):  # a lost tie bet: either side higher
        winner = pick(("dragon", "tiger"), rng)
    return cards if winner == "dragon" else (cards[1], cards[0])


def draw_dragon_tiger(multiplier: Fraction, rng: random.Random) -> dict[str, Any]:
    natural = [(on, pays) for on, (_, returns) in DT_BETS.items() for pays in returns]
    if multiplier == 0:
        (on, wanted), bonus = (pick(("dragon", "tiger", "dragon", "tiger", "tie"), rng), Fraction(0)), None
    elif fitting := [item for item in natural if item[1] == multiplier]:
        (on, wanted), bonus = pick(fitting, rng), None
    else:
        won = [item for item in natural if item[1] > 1]
        (on, wanted), bonus = nearest(((item, item[1]) for item in won), multiplier, rng), multiplier
    dragon, tiger = _two_cards(on, wanted, rng)
    d, t = DT_ORDER[rank(dragon)], DT_ORDER[rank(tiger)]
    label, returns = DT_BETS[on]
    return {
        "kind": "dragon_tiger",
        "dragon": dragon,
        "tiger": tiger,
        "winner": "dragon" if d > t else "tiger" if t > d else "tie",
        "bet": bet(on, label, wanted if wanted > 1 else max(returns)),
        "rules": DT_RULES,
        "bonus": None if bonus is None else exact(bonus),
    }


def pay_dragon_tiger(view: dict[str, Any]) -> Fraction:
    return settle(dragon_tiger_return(view["bet"]["on"], view["dragon"], view["tiger"]), view)
