"""marshmallow fields with the spec's rules and error wording (spec 2.1, 3.3, OP-10).

Messages name the field and the rule, as the real service does
(``"The name field is required."``, ``"[limit] must be between 10 and 2000"``).
Integers accept numeric strings unless the schema is strict (OP-10); booleans
and fractions are never integers; amounts have at most four decimals.
"""

from __future__ import annotations

import contextlib
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields

from ..money import MAX_AMOUNT, MAX_PLACES, ZERO, json_number, places

INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1
#: ASCII digits only: ``\d`` alone would let "٤٠٠" (Arabic-Indic digits) through as 400.
_INT_TEXT = re.compile(r"^-?\d{1,19}$", re.ASCII)
_DECIMAL_TEXT = re.compile(r"^-?\d{1,16}(\.\d+)?$", re.ASCII)


def _strict(field: fields.Field) -> bool:
    return bool(getattr(field.parent, "strict_types", False))


class SpecInt(fields.Field):
    """An integer id or count within ``[low, high]``."""

    def __init__(self, low: int = 0, high: int = INT64_MAX, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.low, self.high = low, high

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        name = self.data_key or self.name
        if isinstance(value, str) and not _strict(self) and _INT_TEXT.match(value.strip()):
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            kind = (
                "a string" if isinstance(value, str) else "a fraction" if isinstance(value, Decimal) else None
            )
            suffix = f", not {kind}" if kind else ""
            raise ValidationError(f"The {name} field must be an integer{suffix}.")
        if not self.low <= value <= self.high:
            raise ValidationError(f"[{name}] must be between {self.low} and {self.high}")
        return value


class Amount(fields.Field):
    """A money amount: a JSON number (or numeric string when lenient), at most 4 decimals.

    ``minimum`` is inclusive unless ``exclusive`` (wallet amounts must be > 0).
    """

    def __init__(
        self, minimum: Decimal = ZERO, exclusive: bool = True, maximum: Decimal = MAX_AMOUNT, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.minimum, self.exclusive, self.maximum = minimum, exclusive, maximum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        name = self.data_key or self.name
        if isinstance(value, str) and not _strict(self) and _DECIMAL_TEXT.match(value.strip()):
            with contextlib.suppress(InvalidOperation):
                value = Decimal(value.strip())
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise ValidationError(f"The {name} field must be a number.")
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValidationError(f"The {name} field must be a finite number.")
        if places(amount) > MAX_PLACES:
            raise ValidationError(f"[{name}] must have at most {MAX_PLACES} decimal places")
        if self.exclusive and amount <= self.minimum:
            raise ValidationError(f"[{name}] must be greater than {self.minimum:f}")
        if not self.exclusive and amount < self.minimum:
            raise ValidationError(f"[{name}] must be at least {self.minimum:f}")
        if amount > self.maximum:
            # ``:f`` keeps the bound exact; through a float, MAX_AMOUNT printed as 1000000000000000.0.
            raise ValidationError(f"[{name}] must be at most {self.maximum:f}")
        return amount

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else json_number(value)


class Text(fields.Field):
    """A string with optional length bounds and pattern."""

    def __init__(
        self,
        min_length: int = 0,
        max_length: int | None = None,
        pattern: re.Pattern[str] | None = None,
        pattern_message: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.min_length, self.max_length = min_length, max_length
        self.pattern, self.pattern_message = pattern, pattern_message

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        name = self.data_key or self.name
        if not isinstance(value, str):
            raise ValidationError(f"The {name} field must be a string.")
        if len(value) < self.min_length or (self.max_length is not None and len(value) > self.max_length):
            high = self.max_length if self.max_length is not None else "any number of"
            raise ValidationError(
                f"The {name} field must be between {self.min_length} and {high} characters."
            )
        # fullmatch: with ``match``, ``$`` also matches before a trailing newline ("ab\n").
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise ValidationError(self.pattern_message.format(name=name))
        return value

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value
