"""Money for people: every page shows an amount in its currency's own precision (spec 11.2).

The currency table (``SCORPIO_SIM_CURRENCIES``, code -> ISO code and decimals)
says how many decimals a currency shows: KRW none, USD two.  :class:`Currency`
is the one formatter the game page, the round page and every back-office page
use, so ``10,100 KRW`` never reads ``10,100.00`` on one page and ``10,100`` on
another.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from .money import places, to_decimal


@dataclass(frozen=True)
class Currency:
    """An agent's currency: its ISO code and display decimals (spec 11.2)."""

    iso: str
    decimals: int

    def amount(self, value: Decimal | float | int) -> str:
        """``10,100`` for KRW, ``12.50`` for USD; never hides a decimal the amount really has.

        Amounts may carry up to four decimals whatever the currency (spec 5.6), so a
        forced 1.5x win of 101 KRW shows as ``151.5``, not rounded to a figure the
        ledger does not hold.
        """
        exact = to_decimal(value)
        shown = max(self.decimals, places(exact))
        return f"{exact:,.{shown}f}"

    def money(self, value: Decimal | float | int) -> str:
        return f"{self.amount(value)} {self.iso}".rstrip()

    @property
    def unit(self) -> Decimal:
        """The smallest stake a player can choose when the agent sets no minimum."""
        return Decimal(1).scaleb(-self.decimals)


def currency_of(currencies: dict[int, tuple[str, int]], code: int) -> Currency:
    iso, decimals = currencies.get(code, (f"#{code}", 2))
    return Currency(iso, decimals)


def common_currency(currencies: Iterable[Currency]) -> Currency:
    """The currency of sums over several agents: theirs when they share one, else a mixed one.

    A mixed sum has no ISO code and shows the most decimals any of them has, so no
    part of it is cut off (the page says the currencies are mixed).
    """
    distinct = set(currencies)
    if len(distinct) == 1:
        return distinct.pop()
    return Currency("", max((c.decimals for c in distinct), default=0))
