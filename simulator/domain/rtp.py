"""The RTP engine: per-game pay tables whose expected return is exactly the RTP (spec 1.6).

A pay table is a finite distribution of win multipliers (of the stake) held as
integer counts over a common denominator, so its expected return is an exact
fraction equal to the effective RTP - not a float close to it.

Outcomes are dealt from *decks*: a deck is ``DECK_SIZE`` outcomes whose
counts follow the table (rare outcomes by randomised rounding, so their long-run
frequency is exact) and whose total multiplier is the RTP times the deck size,
balanced by adding or taking back wins in the table's proportions, with a carry
(less than the smallest win) into the next deck.  The deck is shuffled with the
seeded RNG.  Each spin is still random, but after every whole deck the realised
RTP of a stream is the target up to the carry, for any seed - which is what
integrators expect to see when they check an agent's RTP setting.  (Real slots
deal i.i.d. spins; with a typical standard deviation of 10x the stake that needs
millions of spins to converge.)

A played stream (agent, game, RTP, cap) is one fixed sequence of cards: deck 0,
deck 1, ... dealt in turn by one Deck seeded from ``(seed, stream key)``, its RNG
and carry running on from deck to deck.  Card ``n`` is card ``n % DECK_SIZE`` of
deck ``n // DECK_SIZE``, so any process can work it out.  The only state shared
between processes is the stream's position counter, kept by the store
(:meth:`Store.next_card`): every spin of the agent takes the next position
whichever worker plays it, and the realised RTP converges for the agent.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import sys
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

DECK_SIZE = 10_000
MAX_STREAMS = 4096
#: How many decks a snapshot from before ``rtp_cards`` is searched for its deck's place.
LEGACY_DECK_SEARCH = 100

log = logging.getLogger(__name__)

#: Slot symbols, lowest to highest, with what 3, 4 and 5 of a kind on the payline pay.
SLOT_SYMBOLS: tuple[tuple[str, tuple[str, str, str]], ...] = (
    ("cherry", ("0.2", "0.5", "1")),
    ("lemon", ("0.3", "0.8", "2")),
    ("orange", ("0.5", "1", "3")),
    ("plum", ("0.8", "2", "5")),
    ("bell", ("1", "3", "10")),
    ("star", ("2", "5", "20")),
    ("seven", ("5", "20", "100")),
    ("diamond", ("10", "50", "500")),
)
#: Crash / arcade titles: cash-out points.
MINI_POINTS = ("1.2", "1.5", "2", "3", "5", "10", "25", "100")
#: Live tables: what the main bets pay.
LIVE_BETS = (("even", "2"), ("dozen", "3"), ("tie", "9"), ("straight", "36"))
#: Volatility profiles: how steeply win frequency falls with the multiplier.
VOLATILITY = {"low": Fraction(7, 10), "medium": Fraction(6, 10), "high": Fraction(1, 2)}


@dataclass(frozen=True)
class Outcome:
    """One way a round can end; ``label`` tells the game page what to draw."""

    label: str
    multiplier: Fraction


LOSS = Outcome("loss", Fraction(0))


@dataclass(frozen=True)
class PayTable:
    """Winning outcomes with integer ``counts`` out of ``denominator``; the rest lose."""

    outcomes: tuple[Outcome, ...]
    counts: tuple[int, ...]
    denominator: int

    def probability(self, index: int) -> Fraction:
        return Fraction(self.counts[index], self.denominator)

    def expected_return(self) -> Fraction:
        """Exactly the RTP as a fraction (0.95 for RTP 95)."""
        total = sum(c * o.multiplier for c, o in zip(self.counts, self.outcomes, strict=True))
        return Fraction(total, self.denominator)

    def hit_rate(self) -> Fraction:
        return Fraction(sum(self.counts), self.denominator)

    def variance(self) -> Fraction:
        mean = self.expected_return()
        second = sum(c * o.multiplier**2 for c, o in zip(self.counts, self.outcomes, strict=True))
        return Fraction(second, self.denominator) - mean**2


def _weight(multiplier: Fraction, steepness: Fraction) -> Fraction:
    """Relative frequency of a win: ``multiplier ** -steepness``, kept rational."""
    return Fraction(1 / float(multiplier) ** float(steepness)).limit_denominator(10**6)


def build_table(shape: list[Outcome], rtp: Fraction, steepness: Fraction) -> PayTable:
    """Scale a shape's weights so that the expected return is exactly ``rtp``.

    With integer weights ``c_i`` and ``S = sum(c_i * m_i)``, counts ``t * c_i``
    over ``D = t * S / rtp`` give ``E = rtp``; ``t`` is chosen to make ``D`` an
    integer.  That needs the shape's weighted mean win ``S / sum(c_i)`` to reach
    ``rtp``; when it does not (a max-win cap left mostly small wins) the smallest
    wins are dropped until it does.  Only if even the largest win under the cap
    is below ``rtp`` does every round win it - the best the shape allows.
    """
    if rtp <= 0:
        return PayTable(tuple(shape), tuple(0 for _ in shape), 1)
    weights = [_weight(o.multiplier, steepness) for o in shape]
    common = 1
    for w in weights:
        common = common * w.denominator // _gcd(common, w.denominator)
    ints = [int(w * common) for w in weights]
    kept = list(range(len(shape)))
    while True:
        outcomes = tuple(shape[i] for i in kept)
        total = sum(ints[i] * shape[i].multiplier for i in kept)
        scale = Fraction(total) / rtp  # the denominator per unit of t
        counts = tuple(scale.denominator * ints[i] for i in kept)
        if sum(counts) <= scale.numerator:
            return PayTable(outcomes, counts, scale.numerator)
        smallest = min(shape[i].multiplier for i in kept)
        larger = [i for i in kept if shape[i].multiplier > smallest]
        if not larger:  # unreachable RTP: every round wins the largest win
            return PayTable(outcomes, tuple(ints[i] for i in kept), sum(ints[i] for i in kept))
        kept = larger


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def _profile(provider_id: int, game_code: str) -> str:
    """A stable volatility for each game, so titles differ but never change between runs."""
    digest = hashlib.sha256(f"{provider_id}:{game_code}".encode()).digest()
    return ("low", "medium", "high")[digest[0] % 3]


def game_shape(category: str) -> list[Outcome]:
    if category == "Slots":
        return [
            Outcome(f"{symbol}:{count}", Fraction(pay))
            for symbol, pays in SLOT_SYMBOLS
            for count, pay in zip((3, 4, 5), pays, strict=True)
        ]
    if category == "Live":
        return [Outcome(name, Fraction(pay)) for name, pay in LIVE_BETS]
    return [Outcome(f"cashout:{point}", Fraction(point)) for point in MINI_POINTS]


def capped_shape(shape: list[Outcome], cap: Fraction | None) -> list[Outcome]:
    """Outcomes that fit under a max-win cap (as a multiple of the stake)."""
    if cap is None:
        return shape
    fitting = [o for o in shape if o.multiplier <= cap]
    return fitting or [Outcome(f"capped:{cap}", cap)]


class Deck:
    """A shuffled run of outcome indices whose multipliers sum to ``rtp * size`` (+ carry)."""

    def __init__(
        self, table: PayTable, rng: random.Random, size: int = DECK_SIZE, category: str = ""
    ) -> None:
        self.table = table
        self.rng = rng
        self.size = size
        self.category = category
        self.carry = Fraction(0)
        self._cards = array("H")
        self._next = 0

    def _deal(self) -> None:
        table, size = self.table, self.size
        counts = []
        for count in table.counts:
            expected = Fraction(count * size, table.denominator)
            whole = int(expected)
            if self.rng.random() < float(expected - whole):
                whole += 1
            counts.append(whole)
        target = table.expected_return() * size + self.carry
        balance = target - sum(n * o.multiplier for n, o in zip(counts, table.outcomes, strict=True))
        self.carry = self._balance(counts, balance)
        losses = max(0, size - sum(counts))
        cards = array("H", [len(counts)]) * losses
        for i, n in enumerate(counts):
            cards.extend(array("H", [i]) * n)
        self.rng.shuffle(cards)
        self._cards, self._next = cards, 0

    def _balance(self, counts: list[int], balance: Fraction) -> Fraction:
        """Add or take back wins until the deck pays its target; returns the carry (< smallest win).

        Wins are added and taken back in the table's own proportions, each no
        larger than what is left to balance, so the adjustment keeps the deck
        shaped like the table: the hit rate and every outcome's long-run
        frequency stay the table's.  (Adjusting with the smallest wins alone
        turned a jackpot more or less into thousands of extra or missing small
        wins, and biased the hit rate.)
        """
        table, rng = self.table, self.rng
        multipliers = [o.multiplier for o in table.outcomes]
        paying = [i for i, w in enumerate(table.counts) if w > 0 and multipliers[i] > 0]
        while balance < 0:  # too much paid: take wins back
            held = [i for i in paying if counts[i] > 0]
            fitting = [i for i in held if multipliers[i] <= -balance]
            if fitting:
                i = rng.choices(fitting, weights=[table.counts[i] for i in fitting])[0]
            else:  # less than any held win: take back the smallest, then pay the difference
                i = min(held, key=multipliers.__getitem__)
            counts[i] -= 1
            balance += multipliers[i]
        while sum(counts) < self.size:  # too little paid: add wins that fit
            fitting = [i for i in paying if multipliers[i] <= balance]
            if not fitting:
                break
            i = rng.choices(fitting, weights=[table.counts[i] for i in fitting])[0]
            counts[i] += 1
            balance -= multipliers[i]
        return balance

    def state(self) -> dict[str, object]:
        """Where the deck stands, as JSON values (snapshots): the RNG, the carry, the cards left."""
        version, internal, gauss = self.rng.getstate()
        cards = array("H", self._cards)
        if sys.byteorder == "big":
            cards.byteswap()
        return {
            "rng": [version, list(internal), gauss],
            "carry": str(self.carry),
            "cards": base64.b64encode(cards.tobytes()).decode("ascii"),
            "next": self._next,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Undo :meth:`state`; ``ValueError`` names what does not fit this deck's table."""
        try:
            version, internal, gauss = state["rng"]
            self.rng.setstate((version, tuple(internal), gauss))
            carry = Fraction(str(state["carry"]))
            raw = base64.b64decode(str(state["cards"]), validate=True)
            next_card = state["next"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"deck state is malformed: {exc}") from None
        if len(raw) % 2:
            raise ValueError("deck cards must be 16-bit values")
        cards = array("H")
        cards.frombytes(raw)
        if sys.byteorder == "big":
            cards.byteswap()
        if cards and max(cards) > len(self.table.outcomes):
            raise ValueError("deck cards name outcomes the pay table does not have")
        if isinstance(next_card, bool) or not isinstance(next_card, int) or not 0 <= next_card <= len(cards):
            raise ValueError("deck position is outside its cards")
        self.carry, self._cards, self._next = carry, cards, next_card

    def deal_deck(self) -> array:
        """Deal the next whole deck and return its cards (the stream's position scheme);
        :meth:`draw` and :meth:`deal` carry on after them."""
        self._deal()
        self._next = len(self._cards)
        return self._cards

    def deal(self, limit: int) -> array:
        """The next ``limit`` (or fewer, up to the end of this deck) outcome indices, as :meth:`draw`
        would draw them one by one; an index equal to ``len(table.outcomes)`` is a loss."""
        if self._next >= len(self._cards):
            self._deal()
        end = min(len(self._cards), self._next + limit)
        chunk = self._cards[self._next : end]
        self._next = end
        return chunk

    def draw(self) -> Outcome:
        if self._next >= len(self._cards):
            self._deal()
        index = self._cards[self._next]
        self._next += 1
        return LOSS if index >= len(self.table.outcomes) else self.table.outcomes[index]


def stream_seed(seed: int, key: tuple) -> tuple[str, int]:
    """A stream's name (the same in every process: it keys the shared position) and its RNG seed."""
    digest = hashlib.sha256(repr((seed, key)).encode()).digest()
    return digest.hex(), int.from_bytes(digest[:8], "big")


class _Stream:
    """The cards of one played stream, dealt as far as this process has needed them.

    ``generator`` has dealt decks ``0 .. dealt - 1``; the cards of the last two
    (``current`` is deck ``dealt - 1``, ``previous`` deck ``dealt - 2``) are kept,
    so positions handed out a little out of order (threads, other workers) cost
    nothing.  A position in a later deck deals forward (every deck in between:
    about 10-20 ms each); one in an older deck than those kept - a spin whose
    position was handed out more than a deck ago - deals again from deck 0, which
    costs the same per deck and is rare.
    """

    __slots__ = ("category", "current", "dealt", "generator", "previous", "rng_seed", "table")

    def __init__(self, table: PayTable, rng_seed: int, category: str) -> None:
        self.table, self.rng_seed, self.category = table, rng_seed, category
        self._start()

    def _start(self) -> None:
        """Back before deck 0."""
        self.generator = Deck(self.table, random.Random(self.rng_seed), category=self.category)
        self.dealt = 0
        self.current = self.previous = array("H")

    def card(self, position: int) -> int:
        """The outcome index of card ``position`` (``len(table.outcomes)``: a loss)."""
        number, index = divmod(position, DECK_SIZE)
        if number < self.dealt - 2:
            self._start()
        while self.dealt <= number:
            self.previous, self.current = self.current, self.generator.deal_deck()
            self.dealt += 1
        # A deck holds DECK_SIZE cards - or a few more when rounding gave a table on which
        # nearly every round wins more wins than that; such surplus cards are never dealt.
        return (self.current if number == self.dealt - 1 else self.previous)[index]


class RtpEngine:
    """Pay tables per game and RTP, and the card streams (agent, game, RTP, cap) rounds are dealt from.

    ``position(name)`` hands out a stream's next card number; a world passes its
    store's :meth:`Store.next_card` so every process deals from one sequence per
    stream.  The default counts in this engine (bulk simulation, tests).
    """

    def __init__(self, seed: int, position: Callable[[str], int] | None = None) -> None:
        self._seed = seed
        self._lock = threading.RLock()
        self._tables: dict[tuple, PayTable] = {}
        self._streams: OrderedDict[tuple, tuple[str, _Stream]] = OrderedDict()
        self._decks: OrderedDict[tuple, Deck] = OrderedDict()
        self._counts: dict[str, int] = {}
        self._position = position if position is not None else self._count

    def _count(self, name: str) -> int:
        with self._lock:
            position = self._counts.get(name, 0)
            self._counts[name] = position + 1
            return position

    def table(
        self, provider_id: int, game_code: str, category: str, rtp: Decimal, cap: Fraction | None = None
    ) -> PayTable:
        key = (provider_id, game_code, category, rtp, cap)
        table = self._tables.get(key)
        if table is None:
            steepness = VOLATILITY[_profile(provider_id, game_code)]
            shape = capped_shape(game_shape(category), cap)
            table = build_table(shape, Fraction(rtp) / 100, steepness)
            with self._lock:
                self._tables[key] = table
        return table

    def draw(
        self,
        stream: tuple,
        provider_id: int,
        game_code: str,
        category: str,
        rtp: Decimal,
        cap: Fraction | None = None,
    ) -> Outcome:
        """The outcome of the stream's next card; streams with equal keys share one sequence."""
        key = (*stream, provider_id, game_code, rtp, cap)
        with self._lock:
            entry = self._streams.get(key)
            if entry is None:
                name, rng_seed = stream_seed(self._seed, key)
                table = self.table(provider_id, game_code, category, rtp, cap)
                entry = self._streams[key] = (name, _Stream(table, rng_seed, category))
                if len(self._streams) > MAX_STREAMS:
                    self._streams.popitem(last=False)
            else:
                self._streams.move_to_end(key)
        name, cards = entry
        position = self._position(name)  # outside the lock: a shared store may be a round trip away
        with self._lock:
            index = cards.card(position)
        outcomes = cards.table.outcomes
        return LOSS if index >= len(outcomes) else outcomes[index]

    def deck(
        self,
        stream: tuple,
        provider_id: int,
        game_code: str,
        category: str,
        rtp: Decimal,
        cap: Fraction | None = None,
    ) -> Deck:
        """A deck dealing a stream's cards from its first, for bulk simulation (rtp-report).

        It deals the cards :meth:`draw` deals on a new engine, but keeps its own
        place: drawing from it moves no stream position.
        """
        key = (*stream, provider_id, game_code, rtp, cap)
        with self._lock:
            deck = self._decks.get(key)
            if deck is None:
                table = self.table(provider_id, game_code, category, rtp, cap)
                deck = Deck(table, random.Random(stream_seed(self._seed, key)[1]), category=category)
                self._decks[key] = deck
                if len(self._decks) > MAX_STREAMS:
                    self._decks.popitem(last=False)
            else:
                self._decks.move_to_end(key)
            return deck

    def legacy_positions(self, entries: list[Any]) -> dict[str, int]:
        """The stream positions of a snapshot's ``rtp_decks`` (written before ``rtp_cards`` existed).

        Such a snapshot saved each stream's deck itself (its RNG, carry, cards and
        place).  The stream's decks are dealt again from deck 0 until one leaves the
        RNG where the saved one did; the position is then that deck's number times
        ``DECK_SIZE`` plus the saved place, and play continues exactly where the
        snapshot stood.  That costs about 10-20 ms per deck, so the search stops
        after ``LEGACY_DECK_SEARCH`` decks (a million spins); a stream not found by
        then (or not dealt by this engine's seeding) starts again at its first card,
        with a warning.  ``ValueError`` names an entry that is malformed.
        """
        positions: dict[str, int] = {}
        for number, entry in enumerate(entries):
            try:
                if not isinstance(entry, dict):
                    raise TypeError("must be an object")
                stream = tuple(int(part) for part in entry["stream"])
                provider_id, game_code = int(entry["provider_id"]), str(entry["game_code"])
                rtp = Decimal(str(entry["rtp"]))
                cap = None if entry["cap"] is None else Fraction(str(entry["cap"]))
                category = str(entry["category"])
                if not rtp.is_finite() or not 0 < rtp <= 100 or (cap is not None and cap <= 0):
                    raise ValueError("rtp must be in (0, 100] and cap positive")
                table = self.table(provider_id, game_code, category, rtp, cap)
                saved = Deck(table, random.Random(0), category=category)
                saved.restore(entry)
            except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                raise ValueError(f"rtp_decks[{number}]: {exc}") from None
            name, rng_seed = stream_seed(self._seed, (*stream, provider_id, game_code, rtp, cap))
            positions[name] = self._legacy_position(table, rng_seed, saved, name)
        return positions

    def _legacy_position(self, table: PayTable, rng_seed: int, saved: Deck, name: str) -> int:
        target = saved.rng.getstate()
        generator = Deck(table, random.Random(rng_seed))
        if generator.rng.getstate() == target:
            return 0  # created but never dealt
        for number in range(LEGACY_DECK_SEARCH):
            cards = generator.deal_deck()
            if (
                generator.rng.getstate() == target
                and generator.carry == saved.carry
                and cards == saved._cards
            ):
                return number * DECK_SIZE + min(saved._next, DECK_SIZE)
        log.warning(
            "snapshot rtp_decks: stream %s not found in its first %d decks; it starts again",
            name,
            LEGACY_DECK_SEARCH,
        )
        return 0
