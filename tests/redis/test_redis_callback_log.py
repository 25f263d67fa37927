"""The callback log on Redis: one log and one id sequence for all workers, as in memory (issue 9)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
import redis

from simulator import create_app
from simulator.config import Settings
from simulator.seamless.log import CallbackEntry, CallbackLog
from simulator.seamless.redis_log import RedisCallbackLog

PREFIX = "sim:"


@pytest.fixture
def make_log(redis_url: str) -> Callable[..., RedisCallbackLog]:
    """A callback log as one worker holds it: its own connection to the test's Redis."""

    def make(per_agent: int = 10, prefix: str = PREFIX) -> RedisCallbackLog:
        return RedisCallbackLog(redis.Redis.from_url(redis_url), prefix, per_agent)

    return make


def _entry(
    entry_id: int, agent_id: int = 1, command: str = "bet", outcome: str = "ok", **changes: object
) -> CallbackEntry:
    fields: dict = {
        "entry_id": entry_id,
        "agent_id": agent_id,
        "time": f"2026-01-13T12:00:{entry_id % 60:02d}Z",
        "command": command,
        "url": "http://wallet.test/callback",
        "request": {
            "command": command,
            "check": "account,amount",
            "data": {"account": "test1234", "amount": Decimal("12.5"), "trans_guid": f"g-{entry_id}"},
            "timestamp": "1768305600",
            "request_timestamp": "1768305600",
        },
        "attempt": 1,
        "outcome": outcome,
        "result": 0 if outcome == "ok" else None,
        "status": 200 if outcome == "ok" else None,
        "reply": '{"result":0}' if outcome == "ok" else "",
        "error": "" if outcome == "ok" else "timed out",
        "duration_ms": 2.25,
    }
    fields.update(changes)
    return CallbackEntry(**fields)


def _ids(entries: list[CallbackEntry]) -> list[int]:
    return [entry.entry_id for entry in entries]


MIXED = [
    _entry(1, 1, "bet", "ok"),
    _entry(2, 1, "win", "unclear"),
    _entry(3, 2, "bet", "refused", result=1001, status=200, reply='{"result":1001}'),
    _entry(4, 1, "win", "ok", attempt=2),
    _entry(5, 1, "cancel", "skipped", extra={"note": "duplicate sent by a fault rule"}),
    _entry(6, 2, "win", "unclear"),
    _entry(7, 1, "bet", "refused"),
    _entry(8, 1, "win", "unclear", attempt=3),
]

QUERY_CASES = {
    "agent": {"agent_id": 1},
    "other_agent": {"agent_id": 2},
    "unknown_agent": {"agent_id": 99},
    "limit": {"agent_id": 1, "limit": 2},
    "limit_zero": {"agent_id": 1, "limit": 0},
    "command": {"agent_id": 1, "command": "win"},
    "outcome": {"agent_id": 1, "outcome": "unclear"},
    "command_and_outcome": {"agent_id": 1, "command": "win", "outcome": "ok"},
    "command_and_limit": {"agent_id": 1, "command": "win", "limit": 1},
}


def test_ids_are_unique_across_two_workers_under_concurrency(make_log):
    logs = [make_log(), make_log()]
    start = threading.Barrier(8)
    taken: list[int] = []
    taken_lock = threading.Lock()

    def take(log: RedisCallbackLog) -> None:
        start.wait()
        ids = [log.next_id() for _ in range(200)]
        with taken_lock:
            taken.extend(ids)

    threads = [threading.Thread(target=take, args=(logs[n % 2],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == list(range(1, 1601))


def test_entries_added_by_two_workers_are_seen_by_both_in_order(make_log):
    first, second = make_log(), make_log()
    for n in range(6):
        log = first if n % 2 else second
        log.add(_entry(log.next_id()))
    assert (_ids(first.query(1)), _ids(second.query(1))) == ([6, 5, 4, 3, 2, 1], [6, 5, 4, 3, 2, 1])


def test_get_finds_an_entry_another_worker_added(make_log):
    first, second = make_log(), make_log()
    first.add(_entry(first.next_id(), extra={"note": "duplicate sent by a fault rule"}))
    assert second.get(1) == _entry(1, extra={"note": "duplicate sent by a fault rule"})


def test_an_entry_reads_back_with_the_exact_field_types(make_log):
    log = make_log()
    entry = _entry(1, outcome="unclear", duration_ms=0.0)
    log.add(entry)
    loaded = log.get(1)
    amount = loaded.request["data"]["amount"]
    assert (loaded, type(amount), amount, loaded.result, type(loaded.duration_ms)) == (
        entry,
        Decimal,
        Decimal("12.5"),
        None,
        float,
    )


def test_get_returns_none_for_an_entry_trimmed_by_the_per_agent_bound(make_log):
    first, second = make_log(per_agent=3), make_log(per_agent=3)
    for n in range(1, 6):
        (first if n % 2 else second).add(_entry(n))
    assert [first.get(n) is not None for n in range(1, 6)] == [False, False, True, True, True]


def test_the_per_agent_bound_keeps_each_agents_newest_entries(make_log):
    log = make_log(per_agent=2)
    for n in range(1, 7):
        log.add(_entry(n, agent_id=1 if n < 5 else 2))
    assert (_ids(log.query(1)), _ids(log.query(2))) == ([4, 3], [6, 5])


def test_concurrent_adds_keep_the_lists_and_the_ids_consistent(make_log):
    """Trimming under concurrency: exactly the entries the list holds can be found by id."""
    logs = [make_log(per_agent=50), make_log(per_agent=50)]
    start = threading.Barrier(6)

    def add(log: RedisCallbackLog) -> None:
        start.wait()
        for _ in range(100):
            log.add(_entry(log.next_id()))

    threads = [threading.Thread(target=add, args=(logs[n % 2],)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    listed = _ids(logs[0].query(1, limit=1000))
    found = [n for n in range(1, 601) if logs[1].get(n) is not None]
    assert (len(listed), sorted(listed)) == (50, found)


@pytest.mark.parametrize("query", QUERY_CASES.values(), ids=QUERY_CASES.keys())
def test_every_query_filter_answers_as_the_memory_log(make_log, query):
    memory, shared = CallbackLog(per_agent=5), make_log(per_agent=5)
    for entry in MIXED:
        memory.add(entry)
        shared.add(entry)
    assert shared.query(**query) == memory.query(**query)


def test_clear_empties_the_log_for_every_worker(make_log):
    first, second = make_log(), make_log()
    first.add(_entry(first.next_id(), agent_id=1))
    second.add(_entry(second.next_id(), agent_id=2))
    second.clear()
    assert (first.query(1), first.query(2), first.get(1), first.entries()) == ([], [], None, [])


def test_clear_keeps_the_id_sequence(make_log):
    log = make_log()
    log.next_id()
    log.next_id()
    log.clear()
    assert (log.peek_id(), log.next_id()) == (3, 3)


def test_peek_id_does_not_use_up_the_id(make_log):
    first, second = make_log(), make_log()
    first.next_id()
    assert (second.peek_id(), second.peek_id(), second.next_id()) == (2, 2, 2)


def test_entries_lists_every_kept_entry_as_the_memory_log(make_log):
    memory, shared = CallbackLog(per_agent=5), make_log(per_agent=5)
    for entry in MIXED:
        memory.add(entry)
        shared.add(entry)
    assert shared.entries() == memory.entries()


def test_replace_installs_the_entries_for_every_worker(make_log):
    first, second = make_log(per_agent=5), make_log(per_agent=5)
    first.add(_entry(first.next_id(), agent_id=3))
    second.replace(list(reversed(MIXED)), next_id=20)
    memory = CallbackLog(per_agent=5)
    memory.replace(list(reversed(MIXED)), next_id=20)
    assert (first.entries(), first.query(3), first.get(2), first.peek_id()) == (
        memory.entries(),
        [],
        memory.get(2),
        memory.peek_id(),
    )


def test_replace_trims_each_agent_to_the_bound(make_log):
    log = make_log(per_agent=2)
    log.replace(MIXED, next_id=1)
    assert (_ids(log.query(1)), _ids(log.query(2)), log.get(1)) == ([8, 7], [6, 3], None)


def test_ids_continue_past_the_replaced_entries(make_log):
    first, second = make_log(), make_log()
    first.replace(MIXED, next_id=3)
    assert second.next_id() == 9


def test_two_prefixes_are_two_logs(make_log):
    first, second = make_log(prefix="a:"), make_log(prefix="b:")
    first.add(_entry(first.next_id()))
    assert (second.query(1), second.get(1), second.next_id()) == ([], None, 1)


def test_the_reply_limit_is_the_memory_logs(make_log):
    assert make_log().MAX_REPLY == CallbackLog.MAX_REPLY == 4096


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_worker_replays_a_callback_another_worker_sent(redis_url):
    """Two in-memory simulators standing for two workers, sharing only the callback log."""
    url = f"http://127.0.0.1:{_closed_port()}/callback"
    apps = [create_app(Settings()) for _ in range(2)]
    sims = [app.extensions["scorpio"] for app in apps]
    for sim in sims:
        sim.callback_log = sim.callbacks.log = RedisCallbackLog(redis.Redis.from_url(redis_url), PREFIX)
        sim.world.store.agent_by_name("demo_seamless").settings.callback_url = url
    agent = sims[0].world.store.agent_by_name("demo_seamless")
    sent = sims[0].callbacks.send(agent, "balance", {"account": "test1234"})
    replay = apps[1].test_client().post(f"/control/callbacks/{sent.entry_id}/replay")
    entry = replay.get_json()["entry"]
    assert (replay.status_code, entry["id"], entry["request"], entry["attempt"], entry["outcome"]) == (
        200,
        2,
        sent.request,
        2,
        "unclear",
    )
    assert _ids(sims[0].callback_log.query(agent.agent_id)) == [2, 1]
