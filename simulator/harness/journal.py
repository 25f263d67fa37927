"""The request journal: recent ``/v4`` calls as the simulator saw them (``/control/journal``)."""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

#: ``limit`` of ``GET /control/journal``: the default and the largest accepted.
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
FILTERS = (
    "agent",
    "path",
    "code",
    "limit",
    "since",
    "until",
    "client_ip",
    "min_duration_ms",
    "errors",
    "order",
)


class JournalFilterError(ValueError):
    """A query parameter of ``/control/journal`` that cannot be used; the message starts with its name."""


@dataclass(frozen=True)
class JournalEntry:
    time: str
    agent: str | None
    path: str
    client_ip: str
    body: str
    code: int
    duration_ms: float
    detail: str


#: The most of a request's body an entry keeps.
MAX_BODY = 4096


class JournalCall(NamedTuple):
    """A ``/v4`` call as its request ends: what its :class:`JournalEntry` is made of.

    A request records this tuple and the entry's text - the ISO time, the body decoded,
    the duration rounded - is made when the journal is read (:meth:`entry`).  Most
    entries fall off unread, and making each one in the request measured about 5 µs
    of a ``user/info`` call in-process, which the 50 threads of a loaded server pay
    several times over (issue 17).
    """

    at: float  #: the simulator's clock (``Clock.timestamp``) at the call's end
    agent: str | None
    path: str
    client_ip: str
    body: bytes  #: at most :data:`MAX_BODY` bytes of the request's body
    code: int
    duration_ms: float
    detail: str

    @classmethod
    def of(
        cls,
        at: float,
        agent: str | None,
        path: str,
        client_ip: str,
        raw: bytes | None,
        code: int,
        duration_ms: float,
        detail: str,
    ) -> JournalCall:
        body = raw[:MAX_BODY] if raw else b""  # a short body's slice is the body itself, not a copy
        return cls(at, agent, path, client_ip, body, code, duration_ms, detail)

    def entry(self) -> JournalEntry:
        return JournalEntry(
            time=datetime.fromtimestamp(self.at, tz=UTC).isoformat(),
            agent=self.agent,
            path=self.path,
            client_ip=self.client_ip,
            body=self.body.decode("utf-8", "replace"),
            code=int(self.code),
            duration_ms=round(self.duration_ms, 3),
            detail=self.detail,
        )


def entry_of(item: JournalEntry | JournalCall) -> JournalEntry:
    """The entry of a recorded item: a call's, made now, or the entry itself."""
    return item.entry() if isinstance(item, JournalCall) else item


class Journal:
    """A bounded log safe for threads; the oldest entries fall off first.

    A request records its entry without a lock (issue 17): ``deque.append`` is one C
    call that CPython's GIL runs whole, bounded deque included.  With a lock, a request
    thread switched out while holding it kept the others waiting - measured, a seventh
    of a ``user/info`` server's busy threads at 50 connections.  Readers copy the deque
    (:meth:`_recorded`) and make the entries of only the calls they look at; :meth:`clear`
    and :meth:`replace` install a new deque, so an entry recorded meanwhile goes with the
    old contents.
    """

    MAX_BODY = MAX_BODY

    def __init__(self, size: int) -> None:
        self._entries: deque[JournalEntry | JournalCall] = deque(maxlen=size)

    def record(self, entry: JournalEntry | JournalCall) -> None:
        """Keep a call (its entry is made when read) or a made entry."""
        self._entries.append(entry)

    def query(
        self,
        agent: str | None = None,
        path: str | None = None,
        code: int | Collection[int] | None = None,
        limit: int = DEFAULT_LIMIT,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        client_ip: str | None = None,
        min_duration_ms: float | None = None,
        errors: bool | None = None,
        oldest_first: bool = False,
    ) -> list[dict[str, object]]:
        """Newest first (or in recording order with ``oldest_first``), at most ``limit`` entries.

        Filters: agent name (any case), path and client IP (exact, or a prefix
        ending in ``*``), one code or a set of codes, entry time in
        ``[since, until)``, a minimal duration, and ``errors`` (code != 0, or
        == 0 when false).  Entry times are compared as times, not as text,
        because the clock can be moved backwards between two entries.
        """
        codes = {code} if isinstance(code, int) else None if code is None else set(code)
        recorded = self._recorded()
        result = []
        for item in recorded if oldest_first else reversed(recorded):
            entry = entry_of(item)  # made one at a time: a query stops at its limit
            if agent is not None and (entry.agent or "").lower() != agent.lower():
                continue
            if path is not None and not _path_matches(entry.path, path):
                continue
            if codes is not None and entry.code not in codes:
                continue
            if client_ip is not None and not _path_matches(entry.client_ip, client_ip):
                continue
            if min_duration_ms is not None and entry.duration_ms < min_duration_ms:
                continue
            if errors is not None and (entry.code != 0) != errors:
                continue
            if (since is not None or until is not None) and not _within(entry.time, since, until):
                continue
            result.append(asdict(entry))
            if len(result) >= limit:
                break
        return result

    def clear(self) -> None:
        self._entries = deque(maxlen=self._entries.maxlen)

    def entries(self) -> list[JournalEntry]:
        """Every kept entry, oldest first (snapshots)."""
        return [entry_of(item) for item in self._recorded()]

    def _recorded(self) -> list[JournalEntry | JournalCall]:
        """What is kept, oldest first, as recorded.  Copying is one C loop; should a garbage
        collection inside it let another thread record, the deque says so and the copy starts
        again."""
        while True:
            try:
                return list(self._entries)
            except RuntimeError:  # deque mutated during iteration
                continue

    def replace(self, entries: list[JournalEntry]) -> None:
        """Install entries from a snapshot (the newest ones, if there are more than fit)."""
        self._entries = deque(entries, maxlen=self._entries.maxlen)


def _path_matches(actual: str, wanted: str) -> bool:
    if wanted.endswith("*"):
        return actual.startswith(wanted[:-1])
    return actual == wanted


def _within(text: str, since: datetime | None, until: datetime | None) -> bool:
    when = _aware(datetime.fromisoformat(text))
    return (since is None or when >= since) and (until is None or when < until)


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_filters(args: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The keyword arguments of :meth:`Journal.query` from ``GET /control/journal``'s query.

    ``args`` maps each parameter to its values (``request.args.to_dict(flat=False)``).
    Unknown, repeated or malformed parameters raise :class:`JournalFilterError`
    instead of being ignored, so a typo in a test never reads as "no matches".
    """
    unknown = sorted(set(args) - set(FILTERS))
    if unknown:
        raise JournalFilterError(
            f"{', '.join(unknown)}: unknown query parameter{'s' if len(unknown) > 1 else ''}"
            f" (known: {', '.join(FILTERS)})"
        )
    raw: dict[str, str] = {}
    for name, values in args.items():
        if len(values) != 1:
            raise JournalFilterError(f"{name}: give it once (several codes go in one, separated by commas)")
        raw[name] = values[0]
    filters: dict[str, Any] = {"agent": raw.get("agent"), "path": raw.get("path")}
    filters["limit"] = _limit(raw["limit"]) if "limit" in raw else DEFAULT_LIMIT
    if "code" in raw:
        filters["code"] = _codes(raw["code"])
    for name in ("since", "until"):
        if name in raw:
            filters[name] = _time(name, raw[name])
    if "client_ip" in raw:
        filters["client_ip"] = raw["client_ip"]
    if "min_duration_ms" in raw:
        filters["min_duration_ms"] = _duration(raw["min_duration_ms"])
    if "errors" in raw:
        filters["errors"] = _flag("errors", raw["errors"])
    if "order" in raw:
        if raw["order"] not in ("asc", "desc"):
            raise JournalFilterError("order: must be 'asc' (oldest first) or 'desc' (newest first, default)")
        filters["oldest_first"] = raw["order"] == "asc"
    since, until = filters.get("since"), filters.get("until")
    if since is not None and until is not None and since >= until:
        raise JournalFilterError("until: must be later than since")
    return filters


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIMIT:
        raise JournalFilterError(f"limit: must be an integer from 1 to {MAX_LIMIT}, not {text!r}")
    return value


def _codes(text: str) -> int | set[int]:
    try:
        codes = [int(part) for part in text.split(",")]
    except ValueError:
        raise JournalFilterError(
            f"code: must be a result code or several separated by commas (e.g. 1018,1), not {text!r}"
        ) from None
    return codes[0] if len(codes) == 1 else set(codes)


#: An unencoded ``+`` of an offset arrives as a space: ``12:00:00 02:00`` means ``12:00:00+02:00``.
_OFFSET_SPACE = re.compile(r"(\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")


def _time(name: str, text: str) -> datetime:
    try:
        when = datetime.fromisoformat(_OFFSET_SPACE.sub(r"\1+\2", text.strip()).replace("Z", "+00:00"))
    except ValueError:
        raise JournalFilterError(
            f"{name}: must be an ISO-8601 time, e.g. 2026-01-13T12:00:00Z, not {text!r}"
        ) from None
    return _aware(when)


def _duration(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise JournalFilterError(f"min_duration_ms: must be a number of milliseconds >= 0, not {text!r}")
    return value


def _flag(name: str, text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise JournalFilterError(f"{name}: must be true or false, not {text!r}")
