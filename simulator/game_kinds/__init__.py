"""Live and Mini games drawn as their kind: cards, a wheel, dice, a plinko board, a crash curve.

The RTP engine decides every round's multiplier; a kind draws a result of its own
game that pays exactly that multiplier (:func:`payout` reads it back from the drawing),
so the page never shows a win the game could not have paid.  Pure functions of the
multiplier and a seeded RNG: the same round always looks the same.
"""

from __future__ import annotations

from .kinds import GAME_KINDS, Kind, action_of, kind_of, payout

__all__ = ["GAME_KINDS", "Kind", "action_of", "kind_of", "payout"]
