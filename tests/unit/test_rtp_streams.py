"""Shared RTP streams (issue 14): card ``n`` of a stream is the same in every engine of a seed,
so engines (workers) that take positions from one store deal one sequence between them."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest

from simulator.domain.rtp import DECK_SIZE, LOSS, RtpEngine
from simulator.store.memory import MemoryStore

SEED = 20260101
GAME = (1, "vs20fruitsw", "Slots")  # the high-volatility profile
RTP = Decimal(95)


def draw(engine: RtpEngine, agent_id: int = 3):
    return engine.draw((agent_id,), *GAME, RTP)


def alone(spins: int) -> list:
    """The outcomes one engine deals by itself (its own position counter)."""
    engine = RtpEngine(SEED)
    return [draw(engine) for _ in range(spins)]


def test_two_engines_sharing_positions_deal_alternately_what_one_engine_deals():
    store = MemoryStore()
    engines = [RtpEngine(SEED, store.next_card) for _ in range(2)]
    spins = 2 * DECK_SIZE + 500  # across two deck boundaries
    shared = [draw(engines[n % 2]) for n in range(spins)]
    assert shared == alone(spins)
    assert list(store.export().cards.values()) == [spins]


def test_a_stream_position_names_the_same_card_in_any_order():
    """Out of order (threads, a worker that lags): later decks deal forward, older ones deal again."""
    reference = alone(2 * DECK_SIZE + 10)
    positions = iter([5, 2 * DECK_SIZE + 3, DECK_SIZE + 7, 4, 2 * DECK_SIZE + 9, 6])
    engine = RtpEngine(SEED, lambda _stream: next(positions))
    assert [draw(engine) for _ in range(6)] == [reference[p] for p in (5, 20003, 10007, 4, 20009, 6)]


@pytest.mark.parametrize("workers", [2, 4])
def test_engines_interleaving_at_random_pay_the_rtp_over_whole_decks(workers):
    store = MemoryStore()
    engines = [RtpEngine(SEED, store.next_card) for _ in range(workers)]
    pick = random.Random(workers)
    decks = 4  # 40,000 spins
    outcomes = [draw(engines[pick.randrange(workers)]) for _ in range(decks * DECK_SIZE)]
    assert outcomes == alone(decks * DECK_SIZE)  # exactly what one worker alone would deal
    paid = sum((o.multiplier for o in outcomes), Fraction(0))
    target = Fraction(RTP) / 100 * decks * DECK_SIZE
    smallest = min(o.multiplier for o in RtpEngine(SEED).table(*GAME, RTP).outcomes)
    # Whole decks pay the target but for the carry into the next deck (less than the smallest win).
    assert 0 <= target - paid < smallest
    assert abs(float(paid) / (decks * DECK_SIZE) - 0.95) < 1e-4


def test_streams_of_different_agents_take_separate_positions():
    store = MemoryStore()
    engine = RtpEngine(SEED, store.next_card)
    for _ in range(3):
        draw(engine, 3)
    draw(engine, 4)
    assert sorted(store.export().cards.values()) == [1, 3]


def test_bulk_decks_deal_the_cards_a_new_engine_draws():
    """``RtpEngine.deck`` (rtp-report) keeps its own place but deals the same sequence."""
    engine = RtpEngine(SEED)
    deck = engine.deck((3,), *GAME, RTP)
    dealt = [index for _ in range(3) for index in deck.deal(DECK_SIZE)]
    outcomes = engine.table(*GAME, RTP).outcomes
    assert [LOSS if i >= len(outcomes) else outcomes[i] for i in dealt] == alone(3 * DECK_SIZE)
