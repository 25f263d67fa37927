"""Money amounts: exact decimals inside, JSON numbers outside.

Amounts are decimals in the agent's currency unit with at most four decimal
places (spec 5.6).  Inside the simulator they are :class:`decimal.Decimal` so
that sums are exact; on the wire they are JSON numbers, integers when whole
(``50000``, not ``50000.0``), as the real service prints them.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

ZERO = Decimal(0)
MAX_PLACES = 4
#: The largest amount accepted anywhere: 15 significant digits, so that every
#: accepted amount survives the trip through a JSON (binary double) number exactly.
MAX_AMOUNT = Decimal("99999999999.9999")


def places(value: Decimal) -> int:
    """Decimal places of a finite value, counted on its digits: ``1.50`` has 1.

    ``Decimal.normalize`` would round to the context's 28 digits (``1.000...0001``
    becomes ``1``) and overflow on ``1e999999999``, so hostile amounts are counted exactly.
    """
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"{value} has no decimal places: it is not a finite number")
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if zeros == len(digits):
        return 0
    return max(0, -(exponent + zeros))


def to_decimal(value: object) -> Decimal:
    """Convert a trusted value (int, str, Decimal) to an exact Decimal."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:  # pragma: no cover - trusted inputs only
        raise ValueError(f"not an amount: {value!r}") from exc


def json_number(value: Decimal | int) -> int | float:
    """The JSON form of an amount: an integer when whole, else a float.

    Amounts carry at most four decimals, so the float's shortest repr is the
    exact decimal (``0.9`` prints as ``0.9``).
    """
    if isinstance(value, int):
        return value
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def json_default(value: object) -> int | float:
    """``json.dumps(..., default=json_default)``: amounts as JSON numbers, anything else refused."""
    if isinstance(value, Decimal):
        return json_number(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def plain(value: Decimal) -> str:
    """An amount for messages: ``10850``, ``0.9`` - no exponent, no trailing zeros."""
    return format(value.normalize(), "f")
