"""Dates in and out of the API: the reporting timezone and formats (spec 2.3, OP-5, OP-12).

Every response prints ``"yyyy-MM-dd HH:mm:ss"`` in the reporting timezone
(UTC by default, ``Asia/Seoul`` by configuration).  Inputs accept that format
and ISO-8601; a value with an explicit offset or ``Z`` is converted, one
without is read in the reporting timezone.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

OUTPUT_FORMAT = "%Y-%m-%d %H:%M:%S"


def timezone_named(name: str) -> tzinfo:
    if name.upper() == "UTC":
        return UTC
    return ZoneInfo(name)


def format_time(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime(OUTPUT_FORMAT)


def parse_time(text: str, zone: tzinfo) -> datetime:
    """``"2026-08-22 11:56:58"`` or ISO-8601 (``"2026-08-22T11:56:58.881Z"``) -> aware UTC.

    Raises ``ValueError`` with a readable message for anything else.
    """
    value = text.strip()
    try:
        parsed = datetime.strptime(value, OUTPUT_FORMAT)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValueError(f"{text!r} is not a time; use 'yyyy-MM-dd HH:mm:ss' or ISO-8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)
