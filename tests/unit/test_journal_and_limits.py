"""The request journal (``/control/journal``) and the per-agent in-flight limiter (spec 3.1 step 5)."""

from __future__ import annotations

import threading
import time

from simulator.codes import ResultCode
from simulator.harness.journal import MAX_BODY, Journal, JournalCall, JournalEntry
from simulator.limits import InflightLimiter


def _entry(n: int, agent: str | None = "demo", path: str = "/v4/agent/info", code: int = 0) -> JournalEntry:
    return JournalEntry(
        time=f"2026-01-13T12:00:{n:02d}+00:00",
        agent=agent,
        path=path,
        client_ip="127.0.0.1",
        body="{}",
        code=code,
        duration_ms=1.5,
        detail="",
    )


def _times(rows) -> list[str]:
    return [row["time"][-8:-6] for row in rows]


def test_the_journal_answers_newest_first():
    journal = Journal(10)
    for n in range(3):
        journal.record(_entry(n))
    assert _times(journal.query()) == ["02", "01", "00"]


def test_the_journal_keeps_only_the_newest_entries_up_to_its_size():
    journal = Journal(3)
    for n in range(5):
        journal.record(_entry(n))
    assert _times(journal.query()) == ["04", "03", "02"]


def test_a_journal_row_has_every_field():
    journal = Journal(2)
    journal.record(_entry(7))
    assert journal.query() == [
        {
            "time": "2026-01-13T12:00:07+00:00",
            "agent": "demo",
            "path": "/v4/agent/info",
            "client_ip": "127.0.0.1",
            "body": "{}",
            "code": 0,
            "duration_ms": 1.5,
            "detail": "",
        }
    ]


def test_the_journal_filters_by_agent_case_insensitively():
    journal = Journal(10)
    journal.record(_entry(0, agent="demo"))
    journal.record(_entry(1, agent="demo_seamless"))
    journal.record(_entry(2, agent=None))
    assert _times(journal.query(agent="DEMO")) == ["00"]


def test_the_journal_filters_by_exact_path():
    journal = Journal(10)
    journal.record(_entry(0, path="/v4/user/info"))
    journal.record(_entry(1, path="/v4/user/create"))
    assert _times(journal.query(path="/v4/user/info")) == ["00"]


def test_a_path_filter_ending_in_a_star_is_a_prefix():
    journal = Journal(10)
    journal.record(_entry(0, path="/v4/user/info"))
    journal.record(_entry(1, path="/v4/agent/info"))
    journal.record(_entry(2, path="/v4/user/create"))
    assert _times(journal.query(path="/v4/user/*")) == ["02", "00"]


def test_the_journal_filters_by_code():
    journal = Journal(10)
    journal.record(_entry(0, code=0))
    journal.record(_entry(1, code=1018))
    journal.record(_entry(2, code=1018))
    assert _times(journal.query(code=1018)) == ["02", "01"]


def test_the_journal_limit_keeps_the_newest_matches():
    journal = Journal(10)
    for n in range(5):
        journal.record(_entry(n))
    assert _times(journal.query(limit=2)) == ["04", "03"]


def test_filters_combine():
    journal = Journal(10)
    journal.record(_entry(0, agent="demo", code=1018))
    journal.record(_entry(1, agent="other", code=1018))
    journal.record(_entry(2, agent="demo", code=0))
    assert _times(journal.query(agent="demo", code=1018)) == ["00"]


def test_clear_empties_the_journal():
    journal = Journal(10)
    journal.record(_entry(0))
    journal.clear()
    assert journal.query() == []


def test_the_limiter_grants_slots_up_to_the_limit():
    limiter = InflightLimiter(3)
    assert [limiter.acquire("agent:1") for _ in range(4)] == [True, True, True, False]
    assert limiter.in_flight("agent:1") == 3


def test_a_released_slot_can_be_taken_again():
    limiter = InflightLimiter(2)
    limiter.acquire("agent:1")
    limiter.acquire("agent:1")
    limiter.release("agent:1")
    assert (limiter.in_flight("agent:1"), limiter.acquire("agent:1")) == (1, True)


def test_the_limit_is_counted_per_key():
    limiter = InflightLimiter(1)
    assert (limiter.acquire("agent:1"), limiter.acquire("agent:2"), limiter.acquire("agent:1")) == (
        True,
        True,
        False,
    )


def test_releasing_every_slot_brings_the_count_to_zero():
    limiter = InflightLimiter(5)
    for _ in range(5):
        limiter.acquire("k")
    for _ in range(5):
        limiter.release("k")
    assert limiter.in_flight("k") == 0


def test_an_extra_release_never_makes_the_count_negative():
    limiter = InflightLimiter(1)
    limiter.release("k")
    assert (limiter.in_flight("k"), limiter.acquire("k"), limiter.acquire("k")) == (0, True, False)


def test_a_refused_acquire_takes_no_slot():
    limiter = InflightLimiter(1)
    limiter.acquire("k")
    limiter.acquire("k")
    limiter.release("k")
    assert limiter.in_flight("k") == 0


def _in_threads(count: int, work) -> None:
    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_threads_racing_for_slots_never_hold_more_than_the_limit():
    limiter, held, most = InflightLimiter(5), [], []

    def work() -> None:
        for _ in range(2000):
            if limiter.acquire("k"):
                held.append(1)
                most.append(len(held))
                time.sleep(0)  # let the other threads run while the slot is held
                held.pop()
                limiter.release("k")

    _in_threads(8, work)
    assert (max(most), limiter.in_flight("k")) == (5, 0)


def test_entries_recorded_while_others_read_are_all_kept():
    journal = Journal(100_000)
    counts: list[int] = []

    def record() -> None:
        for n in range(5000):
            journal.record(_entry(n % 60))

    def read() -> None:
        for _ in range(200):
            counts.append(len(journal.entries()))

    threads = [threading.Thread(target=work) for work in (record, record, record, record, read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(journal.entries()), counts == sorted(counts)) == (20_000, True)


def test_replace_installs_the_newest_entries_that_fit():
    journal = Journal(2)
    journal.replace([_entry(1), _entry(2), _entry(3)])
    assert _times(journal.query()) == ["03", "02"]


def _call(raw: bytes | None, at: float = 1_768_305_600.25) -> JournalCall:
    return JournalCall.of(at, "demo", "/v4/user/info", "127.0.0.1", raw, ResultCode.OK, 1.23456, "")


def test_a_recorded_call_reads_as_its_entry():
    journal = Journal(10)
    journal.record(_call(b'{"user_code":400000001}'))
    assert journal.entries() == [
        JournalEntry(
            time="2026-01-13T12:00:00.250000+00:00",
            agent="demo",
            path="/v4/user/info",
            client_ip="127.0.0.1",
            body='{"user_code":400000001}',
            code=0,
            duration_ms=1.235,
            detail="",
        )
    ]


def test_a_call_keeps_only_the_first_bytes_of_a_long_body():
    call = _call(b"x" * (MAX_BODY + 10))
    assert (len(call.body), call.entry().body) == (MAX_BODY, "x" * MAX_BODY)


def test_a_call_without_a_body_has_an_empty_one():
    assert (_call(None).entry().body, _call(b"").entry().body) == ("", "")


def test_a_body_that_is_not_utf8_is_shown_with_replacement_characters():
    assert _call(b"\xff{}").entry().body == "\ufffd{}"


def test_calls_and_restored_entries_read_alike_in_recording_order():
    journal = Journal(10)
    journal.replace([_entry(1)])
    journal.record(_call(b"{}"))
    assert [row["path"] for row in journal.query(oldest_first=True)] == ["/v4/agent/info", "/v4/user/info"]
