"""The RTP engine (spec 1.6): exact pay tables, max-win caps, seeded streams, balanced decks."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest

from simulator.domain.rtp import DECK_SIZE, Deck, PayTable, RtpEngine

CATEGORIES = ("Slots", "Live", "Mini")
#: A game of each category; vs20fruitsw has the high-volatility profile.
GAMES = {"Slots": (1, "vs20fruitsw"), "Live": (1, "sim_live_roulette"), "Mini": (15, "aviator")}
SEEDS = (1, 7, 42, 20260101, 987654321)


def table(category: str, rtp: str, cap: Fraction | None = None) -> PayTable:
    provider_id, game_code = GAMES[category]
    return RtpEngine(1).table(provider_id, game_code, category, Decimal(rtp), cap)


def realised_rtp(engine: RtpEngine, stream: tuple, category: str, rtp: Decimal, spins: int) -> Fraction:
    """Exact total multiplier over ``spins`` draws, divided by the spins."""
    provider_id, game_code = GAMES[category]
    seen: dict[str, int] = {}
    multipliers: dict[str, Fraction] = {}
    for _ in range(spins):
        outcome = engine.draw(stream, provider_id, game_code, category, rtp)
        seen[outcome.label] = seen.get(outcome.label, 0) + 1
        multipliers[outcome.label] = outcome.multiplier
    return sum((n * multipliers[label] for label, n in seen.items()), Fraction(0)) / spins


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("rtp", ["75", "87.5", "90", "95"])
def test_pay_table_expected_return_is_exactly_the_rtp(category, rtp):
    assert table(category, rtp).expected_return() == Fraction(rtp) / 100


@pytest.mark.parametrize(
    ("category", "cap"),
    [
        ("Slots", 1),
        ("Slots", 2),
        ("Slots", 10),
        ("Slots", 100),
        ("Live", 2),
        ("Live", 9),
        ("Mini", 1.5),
        ("Mini", 10),
    ],
)
def test_a_capped_table_is_still_exact_when_the_cap_allows_the_rtp(category, cap):
    assert table(category, "95", Fraction(cap)).expected_return() == Fraction(95, 100)


@pytest.mark.parametrize(
    ("category", "cap"), [("Slots", 2), ("Slots", 10), ("Live", 9), ("Mini", 1.5), ("Mini", 3)]
)
def test_a_capped_table_holds_no_multiplier_above_the_cap(category, cap):
    capped = table(category, "95", Fraction(cap))
    assert max(o.multiplier for o in capped.outcomes) == Fraction(cap)


def test_a_cap_below_the_rtp_makes_every_round_win_the_largest_multiplier_under_it():
    capped = table("Slots", "95", Fraction(1, 2))
    assert (capped.hit_rate(), capped.expected_return()) == (1, Fraction(1, 2))
    assert {o.multiplier for o in capped.outcomes} == {Fraction(1, 2)}


def test_the_same_seed_deals_the_same_outcomes():
    first, second = RtpEngine(7), RtpEngine(7)
    args = (1, "vs20fruitsw", "Slots", Decimal(95))
    assert [first.draw((3,), *args) for _ in range(2000)] == [second.draw((3,), *args) for _ in range(2000)]


def test_different_seeds_deal_different_outcomes():
    first, second = RtpEngine(7), RtpEngine(8)
    args = (1, "vs20fruitsw", "Slots", Decimal(95))
    assert [first.draw((3,), *args) for _ in range(2000)] != [second.draw((3,), *args) for _ in range(2000)]


def test_different_agents_get_different_streams_of_one_game():
    engine = RtpEngine(7)
    args = (1, "vs20fruitsw", "Slots", Decimal(95))
    assert [engine.draw((3,), *args) for _ in range(2000)] != [engine.draw((4,), *args) for _ in range(2000)]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("category", CATEGORIES)
def test_200k_spins_at_rtp_95_land_within_half_a_point(category, seed):
    rtp = realised_rtp(RtpEngine(seed), (3,), category, Decimal(95), 200_000)
    assert abs(rtp * 100 - 95) <= Fraction(1, 2)


@pytest.mark.parametrize("category", CATEGORIES)
def test_each_full_deck_pays_rtp_times_deck_size_up_to_the_carry(category):
    pays = table(category, "95")
    deck = Deck(pays, random.Random(11))
    smallest = min(o.multiplier for o in pays.outcomes)
    carry = Fraction(0)
    for _ in range(10):
        total = sum((deck.draw().multiplier for _ in range(DECK_SIZE)), Fraction(0))
        assert total == Fraction(95, 100) * DECK_SIZE + carry - deck.carry
        assert 0 <= deck.carry < smallest
        carry = deck.carry


def _deal_frequencies(pays: PayTable, decks: int) -> dict[str, Fraction]:
    deck = Deck(pays, random.Random(3))
    seen: dict[str, int] = {}
    for _ in range(decks * DECK_SIZE):
        label = deck.draw().label
        seen[label] = seen.get(label, 0) + 1
    return {label: Fraction(n, decks * DECK_SIZE) for label, n in seen.items()}


def test_decks_keep_the_pay_tables_hit_rate():
    pays = table("Slots", "95")
    frequencies = _deal_frequencies(pays, 30)
    assert abs(1 - frequencies["loss"] - pays.hit_rate()) < Fraction(6, 1000)


def test_decks_deal_every_outcome_near_its_pay_table_frequency():
    """Balancing a deck must not turn a jackpot into thousands of extra or missing small wins."""
    pays = table("Slots", "95")
    frequencies = _deal_frequencies(pays, 30)
    ratios = {o.label: frequencies.get(o.label, 0) / pays.probability(i) for i, o in enumerate(pays.outcomes)}
    assert {label: r for label, r in ratios.items() if not Fraction(8, 10) < r < Fraction(12, 10)} == {}
