"""Blackjack, one hand (live) or several (Multihand), against the dealer.

The player hits below a threshold (12 to 17, drawn per hand); the dealer draws to 17
and stands on all 17s.  A blackjack pays 3:2, a win 1:1, a push returns the stake.
With several hands the stake is split equally between them, so the round pays the
average of the hands' returns: Multihand's 1.5x is a blackjack, a win and a loss.
"""

from __future__ import annotations

import itertools
import random
from fractions import Fraction
from typing import Any

from .cards import card, rank
from .common import MAX_TRIES, bet, exact, pick, settle

RETURNS = (Fraction(0), Fraction(1), Fraction(2), Fraction(5, 2))
RULES = "Blackjack pays 3:2; the dealer stands on all 17s; a tie is a push."
#: Used only if dealing never fits: a dealer's 17 and a hand for each return.
FALLBACK_DEALER = ["10S", "7H"]
FALLBACK_HANDS = {
    Fraction(0): ["10H", "6S", "9C"],
    Fraction(1): ["10C", "7D"],
    Fraction(2): ["10D", "9C"],
    Fraction(5, 2): ["AS", "KD"],
}


def total(hand: list[str]) -> int:
    """Aces count 11 unless that busts the hand."""
    values = [1 if rank(c) == "A" else min(int(rank(c)), 10) if rank(c).isdigit() else 10 for c in hand]
    hard = sum(values)
    return hard + 10 if 1 in values and hard + 10 <= 21 else hard


def natural(hand: list[str]) -> bool:
    return len(hand) == 2 and total(hand) == 21


def hand_return(hand: list[str], dealer: list[str]) -> Fraction:
    """What one hand returns (stake included) against the dealer."""
    if total(hand) > 21:
        return Fraction(0)
    if natural(hand):
        return Fraction(1) if natural(dealer) else Fraction(5, 2)
    if natural(dealer):
        return Fraction(0)
    mine, theirs = total(hand), total(dealer)
    if theirs > 21 or mine > theirs:
        return Fraction(2)
    return Fraction(1) if mine == theirs else Fraction(0)


def _dealer(rng: random.Random) -> list[str]:
    hand = [card(rng), card(rng)]
    while total(hand) < 17:
        hand.append(card(rng))
    return hand


def _player(rng: random.Random, dealer_natural: bool) -> list[str]:
    hand = [card(rng), card(rng)]
    if dealer_natural:
        return hand  # the round ends on the dealer's blackjack
    threshold = rng.randint(12, 17)
    while total(hand) < threshold:
        hand.append(card(rng))
    return hand


def _plan(multiplier: Fraction, hands: int, rng: random.Random) -> tuple[list[Fraction], Fraction | None]:
    """Each hand's return, averaging ``multiplier``; else every hand winning, with a bonus."""
    if multiplier == 0:
        return [Fraction(0)] * hands, None
    fitting = [
        list(combo)
        for combo in itertools.product(RETURNS, repeat=hands)
        if sum(combo) == multiplier * hands and max(combo) > 0
    ]
    if fitting:
        return pick(fitting, rng), None
    return [Fraction(2)] * hands, multiplier


def _fits(dealer: list[str], goal: Fraction) -> bool:
    """Whether some hand can return ``goal`` against this dealer (so no tries are wasted)."""
    if goal in (Fraction(2), Fraction(5, 2)):
        return not natural(dealer) and total(dealer) != 21
    if goal == Fraction(1):
        return total(dealer) <= 21
    return True


def _deal(wanted: list[Fraction], rng: random.Random, tries: int) -> tuple[list[str], list[list[str]]]:
    for _ in range(tries // 10):
        dealer = _dealer(rng)
        if not all(_fits(dealer, goal) for goal in wanted):
            continue
        found = []
        for goal in wanted:
            for _ in range(tries):
                hand = _player(rng, natural(dealer))
                if hand_return(hand, dealer) == goal:
                    found.append(hand)
                    break
            else:
                break
        if len(found) == len(wanted):
            return dealer, found
    return list(FALLBACK_DEALER), [list(FALLBACK_HANDS[goal]) for goal in wanted]


def draw_blackjack(
    multiplier: Fraction, rng: random.Random, hands: int = 1, tries: int = MAX_TRIES
) -> dict[str, Any]:
    wanted, bonus = _plan(multiplier, hands, rng)
    dealer, dealt = _deal(wanted, rng, tries)
    if all(total(hand) > 21 for hand in dealt):
        dealer = dealer[:2]  # every hand bust: the dealer only turns the hole card
    label = "Main bet" if hands == 1 else f"{hands} hands, the stake split equally"
    return {
        "kind": "blackjack",
        "dealer": dealer,
        "dealer_total": total(dealer),
        "hands": [
            {"cards": hand, "total": total(hand), "returns": exact(hand_return(hand, dealer))}
            for hand in dealt
        ],
        "bet": bet("main", label, 2),
        "rules": RULES,
        "bonus": None if bonus is None else exact(bonus),
    }


def pay_blackjack(view: dict[str, Any]) -> Fraction:
    """The hands' average return; a bonus pays only when a hand won (a push is no win)."""
    returns = [hand_return(hand["cards"], view["dealer"]) for hand in view["hands"]]
    if view.get("bonus") is not None:
        return settle(Fraction(1), view) if max(returns) >= 2 else Fraction(0)
    return sum(returns, Fraction(0)) / len(returns)
