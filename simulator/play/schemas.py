"""The game page's JSON API as the OpenAPI document shows it (``/play/api/session/<secret>/...``).

The page's script calls it; so can a CI job that plays through the integrator's own launch URL
without a browser: ``GET`` the ``game_url`` (a 303 to ``/play/session/<secret>``), then ``POST``
spins with the ``<secret>``.  The views build these answers; ``tests/api/test_play_api_openapi.py``
checks real answers against these schemas, so the document cannot drift from them.
"""

from __future__ import annotations

from marshmallow import Schema, fields

from ..api.fields import Amount


class RecentRound(Schema):
    round_id = fields.String(required=True, metadata={"example": "336097135001"})
    bet = Amount(required=True, metadata={"example": 100})
    win = Amount(required=True, metadata={"example": 0})
    status = fields.String(
        required=True,
        metadata={"description": "settled, refunded, or pending (seamless: win not yet accepted)"},
    )
    time = fields.String(
        required=True, metadata={"description": "in the reporting timezone", "example": "2026-01-13 12:00:00"}
    )


class TableState(Schema):
    """``GET .../state``: the session's game, balance, stake limits and recent rounds."""

    game = fields.String(required=True, metadata={"example": "Sweet Bonanza"})
    game_code = fields.String(required=True, metadata={"example": "vs20fruitsw"})
    provider = fields.String(required=True, metadata={"example": "Pragmatic Play"})
    provider_id = fields.Integer(required=True, metadata={"example": 1})
    category = fields.String(
        required=True, metadata={"description": "Slots, Live or Mini", "example": "Slots"}
    )
    kind = fields.String(
        required=True,
        metadata={
            "description": "what the round is drawn as: slot, baccarat, blackjack, roulette, red_black, "
            "dice, dragon_tiger, plinko or crash",
            "example": "slot",
        },
    )
    action = fields.String(
        required=True,
        metadata={
            "description": "the game's action button: Spin, Deal, Roll, Drop or Bet",
            "example": "Spin",
        },
    )
    balance = Amount(required=True, metadata={"example": 10000})
    currency = fields.String(required=True, metadata={"example": "KRW"})
    decimals = fields.Integer(required=True, metadata={"example": 0})
    min_bet = Amount(required=True, metadata={"example": 100})
    max_bet = Amount(required=True, metadata={"example": 100000})
    ended = fields.Boolean(
        required=True, metadata={"description": "the session was kicked (game/kick_games)", "example": False}
    )
    return_url = fields.String(
        required=True, allow_none=True, metadata={"example": "https://casino.example/lobby"}
    )
    recent = fields.List(fields.Nested(RecentRound), required=True, metadata={"description": "newest first"})


class SpinResult(Schema):
    """``POST .../spin`` answered 200: the round was played and settled (or is pending its seamless win)."""

    round_id = fields.String(required=True, metadata={"example": "336097135001"})
    bet = Amount(required=True, metadata={"example": 100})
    win = Amount(required=True, metadata={"example": 0})
    multiplier = fields.Float(required=True, metadata={"description": "win / bet", "example": 0})
    balance = Amount(required=True, metadata={"description": "after the round", "example": 10000})
    view = fields.Dict(
        required=True,
        metadata={
            "description": "what the page draws for this outcome: `kind` (as in the state's `kind`) and "
            "that kind's fields - reels, hands, the winning number, dice, the ball's slot or the crash "
            "point; it always agrees with `win`",
            "example": {
                "kind": "slot",
                "grid": [
                    ["bell", "star", "plum", "bell", "seven"],
                    ["orange", "orange", "orange", "seven", "cherry"],
                    ["orange", "cherry", "star", "plum", "lemon"],
                ],
                "payline": 1,
                "paying": {"symbol": "orange", "count": 3},
            },
        },
    )
    status = fields.String(required=True, metadata={"example": "settled"})


class PlayError(Schema):
    """A refused or failed spin, or an unknown session: the reason in the spec's words, for the player."""

    error = fields.String(
        required=True,
        metadata={"description": "the result code's name (spec 3)", "example": "BALANCE_NOT_ENOUGH"},
    )
    message = fields.String(
        required=True, metadata={"example": "Your balance is too low for this stake. Choose a smaller stake."}
    )
    detail = fields.String(
        allow_none=True,
        metadata={
            "description": "why, for the developer",
            "example": "user 400000001 has a balance of 10100, the stake is 90000",
        },
    )
    refunded = fields.Boolean(
        metadata={"description": "500: the round failed after the bet and was refunded", "example": True}
    )
    round_id = fields.String(allow_none=True, metadata={"description": "500: the refunded round"})
    balance = Amount(metadata={"description": "500: the balance after the refund"})
