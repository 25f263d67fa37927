"""The Redis store between workers: changes travel, worlds are replaced, starts agree (issue 9).

Each "worker" is a Simulator in this process with its own Redis connection;
they share the redis-server of the session by key prefix.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest

from simulator.config import Settings
from simulator.domain.store import Seq
from simulator.runtime import Simulator

_prefixes = itertools.count(1)


@pytest.fixture
def workers(redis_url: str) -> Iterator[list[Simulator]]:
    """Two simulators on one prefix: the first builds the world, the second joins it."""
    settings = Settings(store=redis_url, store_prefix=f"store{next(_prefixes)}:")
    started = [Simulator(settings)]
    started.append(Simulator(settings))
    yield started
    for sim in started:
        sim.close()


def demo_and_player(sim: Simulator):
    agent = sim.world.store.agent_by_name("demo")
    return agent, sim.world.store.users_of(agent.agent_id)[0]


def test_a_second_worker_joins_the_world_the_first_built(workers):
    first, second = workers
    assert second.world.store.epoch == first.world.store.epoch
    assert [u.user_code for u in second.world.store.users_of(3)] == [
        u.user_code for u in first.world.store.users_of(3)
    ]


def test_a_deposit_on_one_worker_is_seen_by_the_other_at_its_next_request(workers):
    first, second = workers
    agent, player = demo_and_player(first)
    before = second.world.store.user(player.user_code).balance
    first.world.ledger.deposit(agent, player, Decimal("12.5"))
    world = second.refresh()
    assert world.store.user(player.user_code).balance == before + Decimal("12.5")
    assert world.store.agent(agent.agent_id).points == first.world.store.agent(agent.agent_id).points
    assert world.ledger.audit().conserved


def test_ids_handed_out_by_two_workers_never_repeat(workers):
    first, second = workers
    ids = [sim.world.store.next_id(Seq.TRANS) for sim in (first, second) for _ in range(50)]
    assert len(set(ids)) == 100


def test_a_reset_on_one_worker_replaces_the_world_of_the_other(workers):
    first, second = workers
    agent, player = demo_and_player(second)
    second.world.ledger.deposit(agent, player, Decimal(5))
    first.reset()
    world = second.refresh()
    assert world.store.epoch == first.world.store.epoch
    assert world.store.user(player.user_code).balance == first.world.store.user(player.user_code).balance


def test_a_change_on_a_replaced_world_is_dropped_not_mixed_into_the_new_one(workers):
    first, second = workers
    old_world = second.world
    agent, player = demo_and_player(second)
    first.reset()
    before = first.world.store.user(player.user_code).balance
    old_world.ledger.deposit(agent, player, Decimal(7))  # a request still running on the old world
    assert old_world.store.epoch != first.world.store.epoch
    assert first.refresh().store.user(player.user_code).balance == before
    assert second.refresh().store.user(player.user_code).balance == before


def test_a_fault_rule_added_on_one_worker_fires_on_the_other_and_counts_once(workers):
    first, second = workers
    first.faults.add({"target": "api", "effect": {"code": 1018}, "times": 2})
    second.refresh()
    fired = [bool(sim.faults.fire("demo", "api:/v4/agent/info")) for sim in (second, first, second)]
    assert fired == [True, True, False]


def test_a_fault_rule_fired_by_many_threads_of_two_workers_at_once_fires_exactly_its_times(workers):
    first, second = workers
    first.faults.add({"target": "api", "effect": {"code": 1018}, "times": 40})
    second.refresh()
    fired: list[bool] = []
    start = threading.Barrier(8)

    def fire(sim: Simulator) -> None:
        start.wait()
        for _ in range(20):
            fired.append(bool(sim.faults.fire("demo", "api:/v4/agent/info")))  # append is atomic

    threads = [threading.Thread(target=fire, args=(sim,)) for sim in (first, second) * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert (len(fired), fired.count(True)) == (160, 40)


def test_the_clock_moved_on_one_worker_moves_on_the_other(workers):
    first, second = workers
    first.clock.freeze(True)
    first.clock.advance(3600)
    second.refresh()
    assert second.clock.frozen and second.clock.timestamp() == first.clock.timestamp()


def test_workers_starting_together_on_an_empty_redis_agree_on_one_world(redis_url):
    settings = Settings(store=redis_url, store_prefix=f"store{next(_prefixes)}:")
    started: list[Simulator] = []
    gate = threading.Barrier(3)

    def start() -> None:
        gate.wait()
        started.append(Simulator(settings))

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        worlds = {sim.refresh().store.epoch for sim in started}
        assert len(started) == 3 and len(worlds) == 1
    finally:
        for sim in started:
            sim.close()


def test_an_unreachable_redis_stops_the_start_with_a_clear_message():
    with pytest.raises(
        RuntimeError, match=r"SCORPIO_SIM_STORE: cannot reach Redis at redis://127\.0\.0\.1:1/0"
    ):
        Simulator(Settings(store="redis://127.0.0.1:1/0"))


def test_a_store_prefix_with_odd_characters_is_refused():
    with pytest.raises(ValueError, match="SCORPIO_SIM_STORE_PREFIX"):
        Settings.from_env({"SCORPIO_SIM_STORE_PREFIX": "a b*"})


def test_workers_on_a_public_address_share_one_generated_admin_token(redis_url):
    from simulator import create_app

    settings = Settings(store=redis_url, store_prefix=f"store{next(_prefixes)}:", bind="0.0.0.0:8080")
    apps = [create_app(settings) for _ in range(2)]
    try:
        tokens = {app.config["SCORPIO_ADMIN_TOKEN"] for app in apps}
        assert len(tokens) == 1 and "" not in tokens
    finally:
        for app in apps:
            app.extensions["scorpio"].close()


def test_a_worker_joining_a_world_does_not_roll_it_back_to_the_state_file(redis_url, tmp_path):
    from simulator.state.statefile import load_at_start, save

    state_file = tmp_path / "state.json"
    settings = Settings(store=redis_url, store_prefix=f"store{next(_prefixes)}:", state_file=str(state_file))
    first = Simulator(settings)
    try:
        save(first)  # the file holds the fixture state
        agent, player = demo_and_player(first)
        first.world.ledger.deposit(agent, player, Decimal(9))
        balance = first.world.store.user(player.user_code).balance
        second = Simulator(settings)
        try:
            assert load_at_start(second) is False
            assert second.refresh().store.user(player.user_code).balance == balance
        finally:
            second.close()
    finally:
        first.close()
