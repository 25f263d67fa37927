"""Fault rules: matching, times/after/probability, validation (control-api.md, "Fault rules")."""

from __future__ import annotations

import pytest

from simulator.harness.faults import FaultBook, FaultError

CODE = {"code": 1018}


@pytest.fixture
def book() -> FaultBook:
    return FaultBook(seed=20260101)


def _fires(book: FaultBook, agent: str | None, target: str) -> bool:
    return bool(book.fire(agent, target))


def test_an_api_target_covers_every_api_path(book):
    book.add({"target": "api", "effect": CODE})
    assert _fires(book, "demo", "api:/v4/user/info")
    assert _fires(book, "demo", "api:/v4/agent/info")


def test_an_api_target_does_not_cover_callbacks(book):
    book.add({"target": "api", "effect": CODE})
    assert not _fires(book, "demo", "callback:bet")


def test_an_api_path_target_covers_only_that_path(book):
    book.add({"target": "api:/v4/user/info", "effect": CODE})
    assert not _fires(book, "demo", "api:/v4/agent/info")
    assert _fires(book, "demo", "api:/v4/user/info")


def test_fire_returns_the_effect_of_the_rule(book):
    book.add({"target": "api", "effect": {"latency_ms": 50}})
    assert book.fire("demo", "api:/v4/agent/info") == [{"latency_ms": 50}]


def test_effects_of_several_rules_come_in_rule_order(book):
    book.add({"target": "api", "effect": {"latency_ms": 5}})
    book.add({"target": "api:/v4/agent/info", "effect": CODE})
    assert book.fire("demo", "api:/v4/agent/info") == [{"latency_ms": 5}, CODE]


def test_a_rule_with_an_agent_covers_only_that_agent_case_insensitively(book):
    book.add({"agent": "Demo", "target": "api", "effect": CODE})
    assert not _fires(book, "demo_seamless", "api:/v4/agent/info")
    assert not _fires(book, None, "api:/v4/agent/info")
    assert _fires(book, "DEMO", "api:/v4/agent/info")


def test_a_rule_without_an_agent_covers_every_agent(book):
    book.add({"target": "api", "effect": CODE})
    assert _fires(book, "demo", "api:/v4/agent/info")
    assert _fires(book, "other", "api:/v4/agent/info")


def test_a_rule_with_times_expires_after_firing_that_often(book):
    book.add({"target": "api", "effect": CODE, "times": 2})
    assert [_fires(book, "demo", "api:/v4/agent/info") for _ in range(3)] == [True, True, False]
    assert book.active() == []


def test_after_skips_that_many_matching_calls_first(book):
    book.add({"target": "api", "effect": CODE, "after": 2})
    assert [_fires(book, "demo", "api:/v4/agent/info") for _ in range(4)] == [False, False, True, True]


def test_after_counts_only_matching_calls(book):
    book.add({"target": "api:/v4/user/info", "effect": CODE, "after": 1})
    assert not _fires(book, "demo", "api:/v4/agent/info")
    assert not _fires(book, "demo", "api:/v4/user/info")
    assert _fires(book, "demo", "api:/v4/user/info")


def test_after_and_times_combine(book):
    book.add({"target": "api", "effect": CODE, "after": 1, "times": 1})
    assert [_fires(book, "demo", "api:/v4/agent/info") for _ in range(3)] == [False, True, False]


def test_matched_and_fired_are_counted(book):
    rule = book.add({"target": "api", "effect": CODE, "after": 1})
    for _ in range(3):
        book.fire("demo", "api:/v4/agent/info")
    assert (rule.matched, rule.fired) == (3, 2)
    assert rule.to_dict() == {
        "id": 1,
        "agent": None,
        "target": "api",
        "effect": CODE,
        "times": None,
        "after": 1,
        "probability": 1.0,
        "matched": 3,
        "fired": 2,
    }


def _pattern(seed: int) -> list[bool]:
    book = FaultBook(seed)
    book.add({"target": "api", "effect": CODE, "probability": 0.5})
    return [_fires(book, "demo", "api:/v4/agent/info") for _ in range(64)]


def test_probability_is_reproducible_with_the_same_seed():
    assert _pattern(7) == _pattern(7)


def test_probability_differs_with_another_seed():
    assert _pattern(7) != _pattern(8)


def test_probability_fires_only_part_of_the_time():
    assert 0 < sum(_pattern(7)) < 64


def test_rule_ids_increase(book):
    ids = [book.add({"target": "api", "effect": CODE}).fault_id for _ in range(3)]
    assert ids == [1, 2, 3]


def test_remove_deletes_one_rule_and_reports_unknown_ids(book):
    book.add({"target": "api", "effect": CODE})
    book.add({"target": "api", "effect": {"drop": True}})
    assert (book.remove(1), book.remove(1)) == (True, False)
    assert [r.fault_id for r in book.active()] == [2]


def test_clear_deletes_every_rule(book):
    book.add({"target": "api", "effect": CODE})
    book.clear()
    assert (book.active(), book.fire("demo", "api:/v4/agent/info")) == ([], [])


@pytest.mark.parametrize(
    "rule",
    [
        [],
        {"effect": CODE},
        {"target": "api:", "effect": CODE},
        {"target": "api:/v4/", "effect": CODE},
        {"target": "api:/agent/info", "effect": CODE},
        {"target": "apix", "effect": CODE},
        {"target": "callback:", "effect": {"skip": True}},
        {"target": "api"},
        {"target": "api", "effect": {}},
        {"target": "api", "effect": {"code": 1018, "drop": True}},
        {"target": "api", "effect": {"explode": True}},
        {"target": "api", "effect": {"skip": True}},
        {"target": "api", "effect": {"code": 0}},
        {"target": "api", "effect": {"code": 9999}},
        {"target": "api", "effect": {"code": "1018"}},
        {"target": "api", "effect": {"code": True}},
        {"target": "api", "effect": {"code": 1018.0}},
        {"target": "api", "effect": {"latency_ms": -1}},
        {"target": "api", "effect": {"latency_ms": 600_001}},
        {"target": "api", "effect": {"latency_ms": 1.5}},
        {"target": "api", "effect": {"drop": False}},
        {"target": "api", "effect": CODE, "times": 0},
        {"target": "api", "effect": CODE, "times": True},
        {"target": "api", "effect": CODE, "after": -1},
        {"target": "api", "effect": CODE, "after": "1"},
        {"target": "api", "effect": CODE, "probability": 0},
        {"target": "api", "effect": CODE, "probability": 1.5},
        {"target": "api", "effect": CODE, "probability": True},
        {"target": "api", "effect": CODE, "agent": 5},
        {"target": "api", "effect": CODE, "colour": "red"},
    ],
)
def test_a_bad_rule_is_refused(book, rule):
    with pytest.raises(FaultError):
        book.add(rule)
    assert book.active() == []


@pytest.mark.parametrize(
    "effect", [{"delay_ms": 100}, {"duplicate": True}, {"skip": True}, {"cancel_after_ok": True}]
)
def test_callback_effects_are_accepted_on_callback_targets(book, effect):
    rule = book.add({"target": "callback:bet", "effect": effect})
    assert rule.effect == effect
    assert book.fire("demo", "callback:bet") == [effect]


def test_delay_ms_must_be_a_bounded_integer(book):
    with pytest.raises(FaultError, match="delay_ms"):
        book.add({"target": "callback:win", "effect": {"delay_ms": -1}})


def test_cancel_after_ok_applies_to_bets_only(book):
    with pytest.raises(FaultError, match="callback:bet"):
        book.add({"target": "callback:win", "effect": {"cancel_after_ok": True}})


def test_a_callback_effect_on_an_api_target_is_refused(book):
    with pytest.raises(FaultError, match="not an api effect"):
        book.add({"target": "api", "effect": {"delay_ms": 100}})


@pytest.mark.parametrize(
    "effect", [{"latency_ms": 0}, {"latency_ms": 600_000}, {"code": 1}, {"code": 1001}, {"drop": True}]
)
def test_a_valid_api_effect_is_accepted(book, effect):
    assert book.add({"target": "api", "effect": effect}).effect == effect


def test_a_refused_rule_does_not_use_up_an_id(book):
    with pytest.raises(FaultError):
        book.add({"target": "api", "effect": CODE, "times": 0})
    assert book.add({"target": "api", "effect": CODE}).fault_id == 1
