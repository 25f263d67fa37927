"""Marshmallow schemas for the domain's dataclasses, derived from their type hints.

A snapshot holds thousands of records of a dozen kinds; writing a schema by
hand for each would repeat every model field twice and drift from the models.
:func:`schema_for` reads a dataclass's annotations instead and builds the
schema once: ``Decimal`` amounts travel as strings (exact), times as ISO-8601
UTC, enums as their values, optional fields accept ``null``, nested dataclasses nest.  Loading
validates every field and builds the dataclass, so a restored snapshot is
made of the same objects the simulator creates itself - and a bad one fails
with the path of the first wrong field.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load

from ..money import MAX_PLACES, places

#: Amounts in a snapshot (balances, points, sums of play) stay below this.
AMOUNT_LIMIT = Decimal(10) ** 18

#: Field types a model may override, keyed by ``(class name, field name)``.
Overrides = dict[tuple[str, str], fields.Field]


class UtcDateTime(fields.AwareDateTime):
    """ISO-8601 with an explicit offset; times without one are read as UTC."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", default_timezone=UTC, **kwargs)


class ExactDecimal(fields.Decimal):
    """A finite decimal written as a string, so no digit is lost on the way.

    Loading keeps amounts where the simulator's own arithmetic is exact: at most
    :data:`MAX_PLACES` decimals and below :data:`AMOUNT_LIMIT` (sums of such
    amounts stay far inside ``Decimal``'s 28 digits; ``1e999999999`` would overflow them).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(as_string=True, allow_nan=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, str) and len(value) > 64:
            raise ValidationError("Not a valid amount: too long.")
        amount = super()._deserialize(value, attr, data, **kwargs)
        if places(amount) > MAX_PLACES:
            raise ValidationError(f"Not a valid amount: more than {MAX_PLACES} decimal places.")
        if amount.copy_abs() >= AMOUNT_LIMIT:
            raise ValidationError(f"Not a valid amount: must be below {AMOUNT_LIMIT:,}.")
        return amount


class EnumValue(fields.Enum):
    """A ``StrEnum``/``IntEnum`` member written as its plain value and read back as the member.

    The value is read as strictly as a plain ``str``/``int`` field would read it (``true`` is
    no call status), and a value that is no member fails with the list of members.
    """

    def __init__(self, enum: type[Enum], **kwargs: Any) -> None:
        by_value = fields.Integer(strict=True) if issubclass(enum, int) else fields.String()
        super().__init__(enum, by_value=by_value, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        # A record built with the plain value (``"settled"``) dumps like one built with the member.
        return None if value is None else super()._serialize(self.enum(value), attr, obj, **kwargs)


def _field_for(hint: Any, overrides: Overrides, **options: Any) -> fields.Field:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        members = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(members) != 1:
            raise TypeError(f"unsupported union {hint!r}")
        return _field_for(members[0], overrides, allow_none=True, **options)
    if origin is list:
        (item,) = typing.get_args(hint)
        return fields.List(_field_for(item, overrides), **options)
    if origin is dict:
        key, value = typing.get_args(hint)
        key_field = fields.Integer(strict=False) if key is int else fields.String()
        value_field = fields.Raw() if value is Any else _field_for(value, overrides)
        return fields.Dict(keys=key_field, values=value_field, **options)
    if hint is dict:
        return fields.Dict(**options)
    if dataclasses.is_dataclass(hint):
        return fields.Nested(schema_for(hint, overrides), **options)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return EnumValue(hint, **options)
    simple: dict[Any, type[fields.Field]] = {
        bool: fields.Boolean,
        str: fields.String,
        Decimal: ExactDecimal,
        datetime: UtcDateTime,
        float: fields.Float,
    }
    if hint is int:
        return fields.Integer(strict=True, **options)
    if hint in simple:
        return simple[hint](**options)
    raise TypeError(f"no snapshot field for {hint!r}")


def _freeze(overrides: Overrides | None) -> tuple:
    return tuple(sorted((overrides or {}).items(), key=lambda item: item[0]))


def schema_for(cls: type, overrides: Overrides | None = None) -> Schema:
    """A schema that dumps ``cls`` objects and loads them back as ``cls`` (validated)."""
    return _schema_for(cls, _freeze(overrides))


@functools.cache
def _schema_for(cls: type, frozen: tuple) -> Schema:
    overrides: Overrides = dict(frozen)
    hints = typing.get_type_hints(cls)
    declared: dict[str, fields.Field] = {}
    for item in dataclasses.fields(cls):
        override = overrides.get((cls.__name__, item.name))
        if override is not None:
            declared[item.name] = override
            continue
        required = item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING
        declared[item.name] = _field_for(hints[item.name], overrides, required=required)

    def make(self: Schema, data: dict[str, Any], **_: Any) -> Any:
        return cls(**data)

    attributes: dict[str, Any] = {
        **declared,
        "make": post_load(make),
        "Meta": type("Meta", (), {"unknown": RAISE}),
    }
    return type(f"{cls.__name__}Snapshot", (Schema,), attributes)()


def dump_all(cls: type, records: typing.Iterable[Any], overrides: Overrides | None = None) -> list[dict]:
    return schema_for(cls, overrides).dump(list(records), many=True)


def load_all(cls: type, data: Any, where: str, overrides: Overrides | None = None) -> list[Any]:
    """Load a list of records; ``ValueError`` names the list, the index and the field."""
    if not isinstance(data, list):
        raise ValueError(f"{where}: must be a list")
    try:
        return schema_for(cls, overrides).load(data, many=True)
    except ValidationError as exc:
        raise ValueError(f"{where}: {_first_problem(exc.messages)}") from None


def _first_problem(messages: Any, path: str = "") -> str:
    """``"[3].balance: Not a valid number."`` from marshmallow's nested message dict."""
    if isinstance(messages, dict):
        key = next(iter(messages))
        step = f"[{key}]" if isinstance(key, int) else f".{key}"
        return _first_problem(messages[key], path + step)
    if isinstance(messages, list) and messages:
        return _first_problem(messages[0], path)
    return f"{path.lstrip('.')}: {messages}"
