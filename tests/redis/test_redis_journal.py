"""The request journal on Redis: one journal for every worker, the in-memory journal's semantics (issue 9)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import redis

from simulator import create_app
from simulator.codes import ResultCode
from simulator.config import Settings
from simulator.harness.journal import Journal, JournalCall, JournalEntry
from simulator.store.redis_journal import RedisJournal
from tests.conftest import DEMO_TOKEN, V4

PREFIX = "sim:"


@pytest.fixture
def make_journal(redis_url: str) -> Callable[..., RedisJournal]:
    """A journal as one worker holds it: its own connection to the test's Redis."""

    def make(size: int = 10, prefix: str = PREFIX) -> RedisJournal:
        return RedisJournal(redis.Redis.from_url(redis_url), prefix, size)

    return make


def _entry(
    n: int,
    agent: str | None = "demo",
    path: str = "/v4/agent/info",
    code: int = 0,
    *,
    time: str | None = None,
    client_ip: str = "127.0.0.1",
    duration_ms: float = 1.5,
) -> JournalEntry:
    return JournalEntry(
        time=time or f"2026-01-13T12:00:{n:02d}+00:00",
        agent=agent,
        path=path,
        client_ip=client_ip,
        body=f'{{"n": {n}}}',
        code=code,
        duration_ms=duration_ms,
        detail=f"detail {n}" if code else "",
    )


def _numbers(rows: list[dict[str, object]]) -> list[int]:
    return [int(str(row["body"])[6:-1]) for row in rows]


#: Entries that every filter case below tells apart: agents of either case and none, paths and IPs
#: sharing prefixes, codes, durations, and a clock moved backwards between entries 5 and 6.
MIXED = [
    _entry(0, "demo", "/v4/user/info", 0, client_ip="10.0.0.1", duration_ms=0.4),
    _entry(1, "DEMO", "/v4/user/create", 1018, client_ip="10.0.0.2", duration_ms=12.0),
    _entry(2, None, "/v4/agent/info", 1001, client_ip="192.168.1.9", duration_ms=3.25),
    _entry(3, "demo_seamless", "/v4/user/info", 0, client_ip="10.0.0.1", duration_ms=50.0),
    _entry(4, "other", "/v4/transaction/list", 1018, client_ip="10.0.1.7", duration_ms=7),
    _entry(5, "demo", "/v4/user/deposit", 1, time="2026-01-13T12:30:00+00:00", duration_ms=0.0),
    _entry(6, "demo", "/v4/user/withdraw", 0, time="2026-01-13T11:59:30", duration_ms=2.5),
    _entry(7, "other", "/v4/user/info", 1002, time="2026-01-13T14:00:00+02:00", duration_ms=99.999),
]

FILTER_CASES = {
    "none": {},
    "limit": {"limit": 3},
    "limit_zero": {"limit": 0},
    "oldest_first": {"oldest_first": True},
    "oldest_first_limit": {"oldest_first": True, "limit": 2},
    "agent_any_case": {"agent": "Demo"},
    "agent_unknown": {"agent": "nobody"},
    "path_exact": {"path": "/v4/user/info"},
    "path_prefix": {"path": "/v4/user/*"},
    "one_code": {"code": 1018},
    "several_codes": {"code": {1018, 1002}},
    "since": {"since": datetime(2026, 1, 13, 12, 0, 3, tzinfo=UTC)},
    "until": {"until": datetime(2026, 1, 13, 12, 0, 2, tzinfo=UTC)},
    "since_until_backwards_clock": {
        "since": datetime(2026, 1, 13, 11, 59, tzinfo=UTC),
        "until": datetime(2026, 1, 13, 12, 0, 1, tzinfo=UTC),
    },
    "client_ip_exact": {"client_ip": "10.0.0.1"},
    "client_ip_prefix": {"client_ip": "10.0.*"},
    "min_duration": {"min_duration_ms": 7},
    "errors": {"errors": True},
    "no_errors": {"errors": False},
    "combined": {"agent": "demo", "errors": True, "oldest_first": True, "limit": 1},
}


def test_entries_recorded_by_two_workers_are_seen_by_both_in_order(make_journal):
    first, second = make_journal(), make_journal()
    for n in range(6):
        (first if n % 2 else second).record(_entry(n))
    assert (_numbers(first.query()), _numbers(second.query())) == ([5, 4, 3, 2, 1, 0], [5, 4, 3, 2, 1, 0])


def test_the_size_bound_drops_the_oldest_entries(make_journal):
    first, second = make_journal(size=3), make_journal(size=3)
    for n in range(5):
        (first if n % 2 else second).record(_entry(n))
    assert (_numbers(first.query()), first._redis.llen(first.key)) == ([4, 3, 2], 3)


@pytest.mark.parametrize("filters", FILTER_CASES.values(), ids=FILTER_CASES.keys())
def test_every_query_filter_answers_as_the_memory_journal(make_journal, filters):
    memory, shared = Journal(10), make_journal(size=10)
    for entry in MIXED:
        memory.record(entry)
        shared.record(entry)
    assert shared.query(**filters) == memory.query(**filters)


@pytest.mark.parametrize("filters", FILTER_CASES.values(), ids=FILTER_CASES.keys())
def test_every_query_filter_answers_as_the_memory_journal_once_trimmed(make_journal, filters):
    memory, shared = Journal(5), make_journal(size=5)
    for entry in MIXED:
        memory.record(entry)
        shared.record(entry)
    assert shared.query(**filters) == memory.query(**filters)


def test_an_entry_reads_back_with_the_exact_field_types(make_journal):
    journal = make_journal()
    entry = _entry(3, agent=None, code=1018, duration_ms=7)
    journal.record(entry)
    (loaded,) = journal.entries()
    assert (loaded, [type(getattr(loaded, name)) for name in ("agent", "code", "duration_ms")]) == (
        entry,
        [type(None), int, int],
    )


def test_a_call_of_the_request_path_is_kept_as_its_entry(make_journal):
    journal = make_journal()
    call = JournalCall.of(1_768_305_600.5, "demo", "/v4/user/info", "10.0.0.1", b"{}", ResultCode.OK, 0.2, "")
    journal.record(call)
    assert journal.entries() == [call.entry()]


def test_clear_empties_the_journal_for_every_worker(make_journal):
    first, second = make_journal(), make_journal()
    first.record(_entry(0))
    second.record(_entry(1))
    second.clear()
    assert (first.query(), second.query(), first.entries()) == ([], [], [])


def test_replace_installs_the_entries_for_every_worker(make_journal):
    first, second = make_journal(), make_journal()
    first.record(_entry(9))
    second.replace([_entry(1), _entry(2)])
    assert (_numbers(first.query()), first.entries()) == ([2, 1], [_entry(1), _entry(2)])


def test_replace_keeps_the_newest_entries_that_fit(make_journal):
    journal = make_journal(size=2)
    journal.replace([_entry(n) for n in range(5)])
    assert journal.entries() == [_entry(3), _entry(4)]


def test_entries_lists_every_kept_entry_oldest_first(make_journal):
    first, second = make_journal(), make_journal()
    first.record(_entry(0))
    second.record(_entry(1))
    assert first.entries() == [_entry(0), _entry(1)]


def test_two_prefixes_are_two_journals(make_journal):
    first, second = make_journal(prefix="a:"), make_journal(prefix="b:")
    first.record(_entry(0))
    assert (len(first.query()), second.query()) == (1, [])


def test_the_body_limit_is_the_memory_journals(make_journal):
    assert make_journal().MAX_BODY == Journal.MAX_BODY == 4096


def test_control_journal_shows_the_calls_another_worker_served(redis_url):
    """Two in-memory simulators standing for two workers, sharing only the journal."""
    apps = [create_app(Settings()) for _ in range(2)]
    for app in apps:
        app.extensions["scorpio"].journal = RedisJournal(redis.Redis.from_url(redis_url), PREFIX, 100)
    V4(apps[0].test_client(), DEMO_TOKEN)("agent/info", {})
    rows = apps[1].test_client().get("/control/journal").get_json()
    assert [(row["path"], row["agent"], row["code"]) for row in rows] == [("/v4/agent/info", "demo", 0)]
