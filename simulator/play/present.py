"""How the game page and the round page put things into words and numbers.

Nothing here decides a business rule: the domain already did (stake limits,
balances, refunds).  This module only formats amounts per the agent's currency
(spec 11.2), proposes preset stakes inside the agent's limits, names the
transaction types (spec 7) and explains a refused spin in plain language.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from urllib.parse import urlsplit

from ..codes import ResultCode
from ..currency import Currency
from ..money import MAX_AMOUNT, MAX_PLACES, ZERO, places

#: Transaction type names of spec 7, as the round page shows them.
TRANS_TYPE_NAMES = {1: "Bet", 2: "Win", 4: "Deposit", 8: "Withdraw", 16: "BetCancel", 32: "BonusCall"}

#: HTTP status of a refused spin on the JSON API (everything else: 409).
SPIN_STATUS = {
    ResultCode.VALIDATION_ERROR: 400,
    ResultCode.PARAMETERS_INVALID: 400,
    ResultCode.BALANCE_NOT_ENOUGH: 409,
    ResultCode.PERMISSION_ERROR: 403,
    ResultCode.AGENT_NOT_FOUND: 403,
    ResultCode.UNDER_MAINTENANCE: 503,
    ResultCode.INTERNAL_SERVER_ERROR: 500,
    ResultCode.CALLBACK_ERROR: 502,
    ResultCode.RESOURCE_NOT_FOUND: 404,
}

#: What the live tables' results mean (see ``domain.rtp.LIVE_BETS``).
LIVE_RESULTS = {
    "lose": "No win this time",
    "even": "Even-money bet won (pays 2×)",
    "dozen": "Dozen bet won (pays 3×)",
    "tie": "Tie bet won (pays 9×)",
    "straight": "Straight-up number won (pays 36×)",
    "win": "Win",
}

#: Roulette's red numbers, to colour the ball of a live result.
RED_NUMBERS = frozenset({1, 3, 5, 7, 9, 12, 14, 16, 18, 19, 21, 23, 25, 27, 30, 32, 34, 36})
#: Card suits of the drawings (``"QH"``) as the page prints them.
SUITS = {"S": "\u2660", "H": "\u2665", "D": "\u2666", "C": "\u2663"}
#: Dice faces, 1 to 6.
DICE_FACES = {n: chr(0x2680 + n - 1) for n in range(1, 7)}
#: A blackjack hand's result by what it returned.
HAND_RESULTS = {"5/2": "Blackjack", "2": "Win", "1": "Push"}

MAX_PRESETS = 6


def times(text: str | Fraction) -> str:
    """An exact multiplier (``"3/2"``, ``"25/3"``) for people: ``1.5``, ``8.33``, ``36``."""
    value = Fraction(str(text))
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def plain(value: Decimal) -> str:
    """A decimal as machine-readable text without exponent (``data-*`` attributes)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class StakeBounds:
    """The stake input's limits: the agent's min/max bet, where 0 means no limit."""

    low: Decimal
    high: Decimal | None

    def presets(self) -> list[Decimal]:
        """A few 1-2-5 stakes between the limits, both ends included."""
        top = self.high if self.high is not None else self.low * 1000
        series = {self.low, top}
        exponent = self.low.adjusted()
        while Decimal(1).scaleb(exponent) <= top:
            for step in (1, 2, 5):
                stake = Decimal(step).scaleb(exponent)
                if self.low <= stake <= top:
                    series.add(stake)
            exponent += 1
        stakes = sorted(series)
        if len(stakes) <= MAX_PRESETS:
            return stakes
        last = len(stakes) - 1
        return [stakes[round(i * last / (MAX_PRESETS - 1))] for i in range(MAX_PRESETS)]


def stake_bounds(min_bet: Decimal, max_bet: Decimal, currency: Currency) -> StakeBounds:
    low = min_bet if min_bet > ZERO else currency.unit
    return StakeBounds(low, max_bet if max_bet > ZERO else None)


def safe_return_url(url: str | None) -> str | None:
    """The exit button's target, only when it is a web address (no ``javascript:`` links)."""
    if not url:
        return None
    scheme = urlsplit(url.strip()).scheme.lower()
    if scheme in ("http", "https") or (not scheme and url.strip().startswith("/")):
        return url.strip()
    return None


def multiplier_number(text: str) -> Decimal:
    """``Round.multiplier`` holds a fraction (``"3/10"``); the API shows it as a number."""
    fraction = Fraction(text)
    value = Decimal(fraction.numerator) / Decimal(fraction.denominator)
    return value.quantize(Decimal("0.000001")).normalize() if places(value) > 6 else value


#: The longest stake text a page carries back to its input after a refusal.
MAX_STAKE_TEXT = 32


def parse_stake(text: str | None) -> Decimal | None:
    """The stake a player typed, when it is an amount the simulator could take (else None)."""
    text = (text or "").strip()
    if len(text) > MAX_STAKE_TEXT:
        return None
    try:
        value = Decimal(text)
    except ArithmeticError:
        return None
    if not value.is_finite() or not ZERO < value <= MAX_AMOUNT or places(value) > MAX_PLACES:
        return None
    return value


def spin_message(
    code: ResultCode,
    bounds: StakeBounds,
    currency: Currency,
    ended: bool,
    stake: Decimal | None = None,
    balance: Decimal | None = None,
) -> str:
    """A refused or failed spin, in words a player understands: with the refused ``stake`` and the
    ``balance`` when known, so the player sees which of their numbers did not fit."""
    if code == ResultCode.BALANCE_NOT_ENOUGH:
        if stake is not None and balance is not None:
            return (
                f"Your balance of {currency.money(balance)} is too low for a stake of "
                f"{currency.money(stake)}. Choose a smaller stake."
            )
        return "Your balance is too low for this stake. Choose a smaller stake."
    if code == ResultCode.PARAMETERS_INVALID:
        refused = f"A stake of {currency.money(stake)} is not possible here. " if stake is not None else ""
        if bounds.high is None:
            return f"{refused}The stake must be at least {currency.money(bounds.low)}."
        return (
            f"{refused}The stake must be between {currency.money(bounds.low)} "
            f"and {currency.money(bounds.high)}."
        )
    if code == ResultCode.VALIDATION_ERROR:
        return "Enter the stake as a positive number with at most 4 decimals."
    if code == ResultCode.PERMISSION_ERROR:
        if ended:
            return "This game session was ended by the casino. Close the game and launch it again."
        return "Your account is blocked, so you cannot play right now. Contact the casino."
    if code == ResultCode.UNDER_MAINTENANCE:
        return "The game is under maintenance. Please try again later."
    if code == ResultCode.INTERNAL_SERVER_ERROR:
        return "The round could not be completed. Your stake was refunded."
    if code == ResultCode.AGENT_NOT_FOUND:
        return "The casino's account is disabled, so the game cannot be played."
    if code == ResultCode.CALLBACK_ERROR:
        return "The casino's wallet did not confirm the stake, so the round was not played."
    if code == ResultCode.RESOURCE_NOT_FOUND:
        return "This game session does not exist any more. Launch the game again."
    return "The round could not be played."
